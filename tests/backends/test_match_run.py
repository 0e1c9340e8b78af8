"""``run_match`` on real DuckDB: files in, every lead out with its match, atomically; bad
inputs are errors that name the file and the column, and leave no output behind."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from icpkit.errors import DataError
from icpkit.match_run import OUTPUT_COLUMNS, MatchSummary, run_match

ACCOUNTS = """Company Domain Name,Company name,Country/Region,Industry
acme.com,"Acme, Inc.",United States,Software
https://www.acme.com/uk,Acme Europe Ltd,United Kingdom,Software
initech.io,Initech LLC,US,Consulting
globex.de,Globex GmbH,Germany,Manufacturing
globex.fr,Globex SA,France,Manufacturing
umbrella.com,Umbrella Pharmaceuticals Corporation,US,Pharma
,Nameless Ltd,GB,Other
"""

LEADS = """first_name,email,Company,website,country,note
Ann,Ann@UK.Acme.com,,,,=HYPERLINK("x")
Bob,bob@gmail.com,"ACME, INC",,US,
Cy,cy@yahoo.com,,https://www.initech.io/about,,
Dee,dee@gmail.com,Globex,,France,
Eve,eve@gmail.com,Globex,,,
Fay,fay@mailinator.com,Umbrela Pharmaceuticals Corp,,US,
Gus,gus@newco.com,Newco,,,
Hal,,,,,
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "leads.csv", LEADS), write(tmp_path / "accounts.csv", ACCOUNTS)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_lead_is_written_in_order_with_its_columns_and_its_match(files: tuple[Path, Path],
                                                                        tmp_path: Path) -> None:
    leads, accounts = files
    out = tmp_path / "out" / "matched.csv"
    summary = run_match(leads, accounts, out)
    rows = read_csv(out)
    assert list(rows[0]) == ["first_name", "email", "Company", "website", "country", "note", *OUTPUT_COLUMNS[1:]]
    assert [r["first_name"] for r in rows] == ["Ann", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal"]
    assert [(r["domain"], r["match_method"]) for r in rows] == [
        ("acme.com", "email_domain"), ("acme.com", "exact_name"), ("initech.io", "website"),
        ("globex.fr", "exact_name"), ("", ""), ("umbrella.com", "fuzzy_name"), ("", ""), ("", "")]
    assert rows[0]["email"] == "Ann@UK.Acme.com"  # the leads' own column, as given
    assert [float(r["confidence"]) for r in rows][:4] == [1.0, 0.9, 0.95, 0.85]
    assert rows[0]["note"] == "'=HYPERLINK(\"x\")"  # a formula is neutralised, as in every CSV icpkit writes
    assert isinstance(summary, MatchSummary)
    assert summary.to_dict() | {"seconds": 0} == {
        "ok": True, "leads": 8, "accounts": 6, "output": str(out), "seconds": 0,
        "methods": {"email_domain": 1, "website": 1, "exact_name": 2, "fuzzy_name": 1}, "unmatched": 3,
        "matched": 5, "free_mail": 4, "disposable": 1, "accounts_without_domain": 1,
        "renamed": {}}
    assert [p.name for p in out.parent.iterdir()] == ["matched.csv"]  # no temporary file left


def test_parquet_in_and_out_keeps_types(files: tuple[Path, Path], tmp_path: Path) -> None:
    leads = tmp_path / "leads.parquet"
    pq.write_table(pa.table({"email": ["a@acme.com", None, "c@gmail.com"], "company": [None, "Initech", None],
                             "score": [1.5, 2.5, None], "domain": ["x", "y", "z"]}), leads)
    out = tmp_path / "matched.parquet"
    run_match(leads, files[1], out)
    got = pq.read_table(out)
    assert got.column_names == ["email", "company", "score", "input_domain", *OUTPUT_COLUMNS[1:]]
    assert got.schema.field("score").type == pa.float64() and got.schema.field("confidence").type == pa.float64()
    assert got.column("domain").to_pylist() == ["acme.com", "initech.io", None]
    assert got.column("input_domain").to_pylist() == ["x", "y", "z"]


def test_frames_are_accepted_too(files: tuple[Path, Path], tmp_path: Path) -> None:
    leads = pa.table({"e-mail": ["a@acme.com"]})
    summary = run_match(leads, files[1], tmp_path / "m.csv")
    assert summary.methods["email_domain"] == 1 and read_csv(tmp_path / "m.csv")[0]["e-mail"] == "a@acme.com"


def test_leads_without_email_or_company_name_the_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    leads = write(tmp_path / "people.csv", "first_name,title\nAnn,CTO\n")
    out = write(tmp_path / "out.csv", "kept\n")
    with pytest.raises(DataError) as caught:
        run_match(leads, files[1], out)
    assert "neither an e-mail nor a company column" in caught.value.message
    assert "people.csv" in caught.value.where and "column 'email'" in caught.value.where
    assert "first_name, title" in caught.value.hint
    assert out.read_text() == "kept\n"  # what was there stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.csv", "leads.csv", "out.csv", "people.csv"]


def test_accounts_without_domain_name_the_file_and_the_column(files: tuple[Path, Path], tmp_path: Path) -> None:
    accounts = write(tmp_path / "companies.csv", "name,homepage\nAcme,https://acme.com\nInitech,initech.io\n")
    out = tmp_path / "out.csv"
    with pytest.raises(DataError) as caught:
        run_match(files[0], accounts, out)
    assert "no domain column" in caught.value.message
    assert caught.value.where == f"{accounts}, column 'domain'"
    assert "'homepage' looks like one" in caught.value.hint
    assert not out.exists()


def test_missing_or_unreadable_inputs_and_bad_outputs_are_errors_before_anything_is_written(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    leads, accounts = files
    with pytest.raises(DataError, match="file not found"):
        run_match(tmp_path / "nope.csv", accounts, tmp_path / "a.csv")
    with pytest.raises(DataError, match="cannot tell the format"):
        run_match(leads, accounts, tmp_path / "a.xlsx")
    with pytest.raises(DataError, match="directory"):
        run_match(leads, accounts, tmp_path)
    blocker = write(tmp_path / "file", "x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        run_match(leads, accounts, blocker / "a.csv")
    ragged = write(tmp_path / "ragged.csv", 'email,company\n"a@acme.com,Acme\n')
    with pytest.raises(DataError):
        run_match(ragged, accounts, tmp_path / "b.csv")
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "b.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_an_earlier_output_is_replaced_whole(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = write(tmp_path / "out.csv", "old,file\n1,2\n")
    run_match(files[0], files[1], out)
    assert len(read_csv(out)) == 8 and "old" not in out.read_text()


def test_hostile_and_empty_inputs(tmp_path: Path, files: tuple[Path, Path]) -> None:
    leads = write(tmp_path / "weird.csv", 'email,company\n"\u202eevil@acme.com",\n" , ","\x00"\n'
                  '"n/a","n/a"\nx@' + "a" * 300 + '.com,' + "Z" * 5000 + "\n")
    run_match(leads, files[1], tmp_path / "o.csv")
    rows = read_csv(tmp_path / "o.csv")
    assert [r["domain"] for r in rows] == ["acme.com", "", "", ""]  # the host is all that counts
    empty = write(tmp_path / "empty.csv", "email,company\n")
    summary = run_match(empty, files[1], tmp_path / "e.csv")
    assert summary.leads == 0 and read_csv(tmp_path / "e.csv") == []
    assert (tmp_path / "e.csv").read_text().splitlines() == ["email,company,domain,match_method,confidence"]
