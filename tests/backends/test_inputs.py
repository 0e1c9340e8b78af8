"""Reading accounts into DuckDB: formats, CRM headers, messy values, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import icpkit
from icpkit.errors import DataError, DuplicateKeyError, MissingColumnError
from icpkit.profile.load import parse_profile

ROOT = Path(__file__).resolve().parents[2]
SEED = icpkit.load_profile(ROOT / "examples" / "seed-rubric.yaml")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


SEED_COLUMNS = ["industry", "employees", "technologies", "country", "days_since_funding"]


def seed_file(path: Path, header: str, *rows: str) -> Path:
    """A CSV with ``header`` and ``rows``, plus empty columns for the rest of the seed rubric's fields."""
    extra = [c for c in SEED_COLUMNS if c not in header.lower().split(",")]  # "Industry" is "industry"
    pad = "," * len(extra)
    lines = [header + "".join("," + c for c in extra)] + [r + pad for r in rows]
    return write(path, "\n".join(lines) + "\n")


def by_domain(table: pa.Table) -> dict[str, dict]:
    return {r["domain"]: r for r in table.to_pylist()}


# Adversarial rows for the seed rubric, with the points the rubric's text gives by hand:
# industry 25/12/0, employees 20 (50-500) / 10 (37.5 <= e < 50 or 500 < e <= 625) / 0,
# technologies 20 Salesforce / 10 HubSpot / 5 neither, empty or missing, country 15 US CA /
# 7 GB IE AU / 0, days_since_funding 20 (<= 90) / 10 (91-365) / 0.
SEED_CASES = [
    # domain, industry, employees, technologies, country, days, expected score, tier
    ("a.com", " Computer Software ", "50", "Salesforce;HubSpot", "US", "90", 100, "high"),
    ("b.com", "INTERNET", "500", " hubspot ", "ca", "91", 80, "high"),
    ("c.com", "Information Technology and Services", "37.5", "", "GB", "365", 44, "monitor"),
    ("d.com", "marketing and advertising", "49.99", "", " ie ", "366", 34, "disqualify"),
    ("e.com", "retail", "625", "Slack", "AU", "", 22, "disqualify"),
    ("f.com", "", "625.01", "", "DE", "0", 25, "disqualify"),
    ("g.com", "computer software", "37.49", "salesforce", "United States", "365.5", 60, "monitor"),
    ("h.com", "internet", "500.01", "SALESFORCE", "Canada", "90.5", 70, "high"),
    ("i.com", "Internet", "1,200", "HubSpot; Salesforce", "U.S.", "90.0", 80, "high"),
    ("j.com", "internet", "51-200", "", "usa", "45", 85, "high"),
    ("k.com", "computer software", "10001+", "salesforce", "United Kingdom", "200", 62, "monitor"),
    ("l.com", "n/a", "", "", "", "", 5, "disqualify"),
    ("m.com", "internet", "100", "", "DE", "30", 70, "high"),
    ("n.com", "information technology and services", "200", "Salesforce", "GB", "100", 69, "monitor"),
    ("o.com", "retail", "100", "", "US", "", 40, "monitor"),
    ("p.com", "marketing and advertising", "1000", "Salesforce", "IE", "", 39, "disqualify"),
]


def seed_csv(path: Path) -> Path:
    lines = ["domain,industry,employees,technologies,country,days_since_funding"]
    for d, ind, emp, tech, country, days, *_ in SEED_CASES:
        lines.append(",".join(f'"{v}"' for v in (d, ind, emp, tech, country, days)))
    return write(path, "\n".join(lines) + "\n")


def test_seed_rubric_scores_adversarial_rows_as_the_text_says(tmp_path: Path) -> None:
    got = by_domain(icpkit.score(SEED, seed_csv(tmp_path / "accounts.csv")))
    routes = {"high": "ae_queue", "monitor": "nurture", "disqualify": "suppress"}
    for d, *_, score, tier in SEED_CASES:
        assert (got[d]["fit_score"], got[d]["tier"], got[d]["route"]) == (score, tier, routes[tier]), d


def test_seed_rubric_command_writes_the_promised_columns(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    run = icpkit.score_to(SEED, seed_csv(tmp_path / "accounts.csv"), out, workspace=icpkit.api.Workspace(tmp_path / "ws"))
    table = pd.read_csv(out)
    assert {"domain", "fit_score", "tier", "route", "abm_tier", "reasons", "profile_version", "scored_at"} <= set(table)
    assert run.rows == len(SEED_CASES) == len(table)
    assert run.tiers == {"high": 6, "monitor": 5, "disqualify": 5}


def test_reasons_name_the_largest_contributions(tmp_path: Path) -> None:
    got = by_domain(icpkit.score(SEED, seed_csv(tmp_path / "a.csv")))
    assert got["a.com"]["reasons"] == ("industry: computer software (+25); days_since_funding: funded in the last "
                                       "90 days (+20); employees: in 50-500 (+20)")
    assert got["l.com"]["reasons"] == "technologies: missing (+5)"


def test_crm_exports_are_recognised(tmp_path: Path) -> None:
    hubspot = write(tmp_path / "hubspot.csv",
                    "Record ID,Company name,Company Domain Name,Industry,Number of Employees,Country/Region,"
                    "Technologies,days_since_funding\n"
                    '1,Acme,https://www.Acme.com/about,Computer Software,"1,200",United States,Salesforce,10\n')
    salesforce = write(tmp_path / "sf.csv",
                       "Account Name,Website,Industry,NumberOfEmployees,BillingCountry,Technologies,days_since_funding\n"
                       "Acme,acme.com,Internet,120,USA,HubSpot,100\n")
    apollo = write(tmp_path / "apollo.csv",
                   "Company,Website,Industry,# Employees,Company Country,Technologies,days_since_funding\n"
                   'Acme,http://acme.com,Internet,51-200,Canada,"Salesforce, Slack",400\n')
    assert by_domain(icpkit.score(SEED, hubspot))["acme.com"]["fit_score"] == 25 + 0 + 20 + 15 + 20
    assert by_domain(icpkit.score(SEED, salesforce))["acme.com"]["fit_score"] == 25 + 20 + 10 + 15 + 10
    assert by_domain(icpkit.score(SEED, apollo))["acme.com"]["fit_score"] == 25 + 20 + 20 + 15 + 0


def test_explicit_mapping_in_the_profile_wins(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "seed-rubric.yaml").read_text()
    profile = parse_profile(text.replace("criteria:", "columns:\n  domain: Alt Site\n  days_since_funding: Funded Days Ago\n"
                                         "criteria:", 1))
    data = seed_file(tmp_path / "a.csv", "Website,Alt Site,Industry,Funded Days Ago", "wrong.com,right.com,Internet,5")
    got = by_domain(icpkit.score(profile, data))
    assert list(got) == ["right.com"] and got["right.com"]["points_days_since_funding"] == 20


@pytest.mark.parametrize("encoding,bom,delim", [
    ("utf-8", b"\xef\xbb\xbf", ";"), ("latin-1", b"", ","), ("utf-16", b"", "\t"), ("utf-8", b"", "|"),
])
def test_csv_dialects_are_detected(tmp_path: Path, encoding: str, bom: bytes, delim: str) -> None:
    rows = [["domain", "industry", "country", "employees"], ["café.example", "Internet", "Österreich", "1.200"],
            ["b.example", "Computer Software", "US", "120"]]
    text = "\n".join(delim.join(r) for r in rows) + "\n"
    path = tmp_path / "a.csv"
    path.write_bytes(bom + text.encode(encoding))
    one = parse_profile("name: x\ncriteria: [{field: industry, weight: 1, levels: [{values: [internet], points: 1}]}]")
    got = by_domain(icpkit.score(one, path))
    assert got["café.example"]["fit_score"] == 100
    assert got["b.example"]["fit_score"] == 0


def test_parquet_jsonl_and_dataframes(tmp_path: Path) -> None:
    table = pa.table({"domain": ["A.com", "b.com"], "industry": ["internet", None], "employees": [100, None],
                      "technologies": [["Salesforce"], []], "country": ["us", "GB"],
                      "days_since_funding": [float("nan"), 10.0]})
    pq.write_table(table, tmp_path / "a.parquet")
    with (tmp_path / "a.jsonl").open("w") as f:
        for r in table.to_pylist():
            f.write(json.dumps({k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}) + "\n")
    expected = {"a.com": 25 + 20 + 20 + 15 + 0, "b.com": 0 + 0 + 5 + 7 + 20}
    for source in (tmp_path / "a.parquet", tmp_path / "a.jsonl", table):
        got = by_domain(icpkit.score(SEED, source))
        assert {d: r["fit_score"] for d, r in got.items()} == expected
    pdf = icpkit.score(SEED, table.to_pandas())
    assert isinstance(pdf, pd.DataFrame) and dict(zip(pdf.domain, pdf.fit_score)) == expected
    pldf = icpkit.score(SEED, pl.from_arrow(table))
    assert isinstance(pldf, pl.DataFrame) and dict(zip(pldf["domain"], pldf["fit_score"])) == expected


# -- bad input ------------------------------------------------------------------------------

def test_bad_number_names_file_row_and_column(tmp_path: Path) -> None:
    path = seed_file(tmp_path / "a.csv", "domain,employees", "a.com,12", "b.com,twelve", "c.com,5")
    with pytest.raises(DataError) as info:
        icpkit.score(SEED, path)
    text = str(info.value)
    assert "a.csv, row 2, column 'employees'" in text and "twelve" in text


def test_skip_sets_bad_rows_aside_in_a_rejects_file(tmp_path: Path) -> None:
    path = seed_file(tmp_path / "a.csv", "domain,employees", "a.com,12", "b.com,twelve", "not a domain,5", ",7", "a.com,9")
    out = tmp_path / "scores.csv"
    run = icpkit.score_to(SEED, path, out, on_error="skip", workspace=icpkit.api.Workspace(tmp_path / "ws"))
    assert run.rows == 1 and pd.read_csv(out).domain.tolist() == ["a.com"]
    rejects = pd.read_csv(run.rejects_file)
    assert sorted(rejects.row.tolist()) == [2, 3, 4, 5]
    assert any("duplicate domain" in r for r in rejects.reason)


def test_duplicate_domains_are_reported_with_rows(tmp_path: Path) -> None:
    path = seed_file(tmp_path / "a.csv", "domain", "acme.com", "b.com", "https://www.ACME.com/x")
    with pytest.raises(DuplicateKeyError) as info:
        icpkit.score(SEED, path)
    assert "acme.com" in str(info.value) and "rows 1, 3" in str(info.value)


def test_missing_column_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "domain,industri\na.com,internet\n")
    with pytest.raises(MissingColumnError) as info:
        icpkit.score(SEED, path)
    assert "industry" in str(info.value) and "did you mean 'industri'" in str(info.value)


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "domain,industry\na.com,internet\nb.com,internet,extra\nc.com,x\n")
    with pytest.raises(DataError) as info:
        icpkit.score(SEED.model_copy(update={"criteria": SEED.criteria[:1]}), path)
    assert "a.csv" in str(info.value) and "Line: 3" in str(info.value)
    got = icpkit.score(SEED.model_copy(update={"criteria": SEED.criteria[:1]}), path, on_error="skip")
    assert sorted(got.column("domain").to_pylist()) == ["a.com", "c.com"]


def test_failed_run_keeps_the_earlier_output(tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    ws = icpkit.api.Workspace(tmp_path / "ws")
    icpkit.score_to(SEED, seed_csv(tmp_path / "good.csv"), out, workspace=ws)
    before = out.read_bytes()
    bad = seed_file(tmp_path / "bad.csv", "domain,employees", "a.com,lots")
    with pytest.raises(DataError):
        icpkit.score_to(SEED, bad, out, workspace=ws)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_csv_output_is_neutralised_against_formulas(tmp_path: Path) -> None:
    path = seed_file(tmp_path / "a.csv", "domain,name,industry", 'a.com,"=HYPERLINK(""http://x"")",internet',
                     "b.com,@SUM(A1),retail")
    out = tmp_path / "scores.csv"
    icpkit.score_to(SEED, path, out, workspace=icpkit.api.Workspace(tmp_path / "ws"))
    names = pd.read_csv(out).set_index("domain")["name"]
    assert names["a.com"].startswith("'=") and names["b.com"] == "'@SUM(A1)"


def test_empty_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        icpkit.score(SEED, write(tmp_path / "a.csv", ""))
    with pytest.raises(DataError, match="suffix"):
        icpkit.score(SEED, write(tmp_path / "a.xlsx", "x"))
    with pytest.raises(DataError, match="not found"):
        icpkit.score(SEED, tmp_path / "missing.csv")


def test_profile_may_name_countries(tmp_path: Path) -> None:
    profile = parse_profile("name: x\ncriteria:\n  - field: country\n    weight: 10\n    levels:\n"
                            "      - {values: [United States, Canada], points: 10}\n"
                            "adjustments:\n  - {name: uk, when: {field: country, eq: United Kingdom}, points: -5}\n")
    data = write(tmp_path / "a.csv", "domain,country\na.com,USA\nb.com,ca\nc.com,GB\n")
    got = {d: r["fit_score"] for d, r in by_domain(icpkit.score(profile, data)).items()}
    assert got == {"a.com": 100, "b.com": 100, "c.com": 0}


def test_wrong_types_in_json_lines_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    rows = [{"domain": "a.com", "employees": 120}, {"domain": "b.com", "employees": "lots"}]
    path.write_text("\n".join(json.dumps(r | {c: None for c in SEED_COLUMNS if c not in r}) for r in rows) + "\n")
    with pytest.raises(DataError) as info:
        icpkit.score(SEED, path)
    assert "a.jsonl, row 2, column 'employees'" in str(info.value) and "lots" in str(info.value)


def test_hostile_headers_and_values_are_data_not_sql(tmp_path: Path) -> None:
    header = 'domain,"we\'ird ""col"";--",industry'
    path = seed_file(tmp_path / "a.csv", header, "a.com,\"x'); DROP TABLE t;--\",internet")
    text = (ROOT / "examples" / "seed-rubric.yaml").read_text()
    profile = parse_profile(text.replace("criteria:", "columns:\n  name: 'we''ird \"col\";--'\ncriteria:", 1))
    got = by_domain(icpkit.score(profile, path))
    assert got["a.com"]["name"] == "x'); DROP TABLE t;--"
    assert got["a.com"]["points_industry"] == 25


def test_failed_run_keeps_the_earlier_workspace_table(tmp_path: Path) -> None:
    ws = icpkit.api.Workspace(tmp_path / "ws")
    icpkit.score_to(SEED, seed_csv(tmp_path / "good.csv"), "scores", workspace=ws)
    with pytest.raises(DataError):
        icpkit.score_to(SEED, seed_file(tmp_path / "bad.csv", "domain,employees", "a.com,lots"), "scores", workspace=ws)
    import duckdb

    con = duckdb.connect(str(ws.database), read_only=True)
    assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == len(SEED_CASES)
    con.close()
    with pytest.raises(icpkit.IcpError, match="reserved"):
        icpkit.score_to(SEED, seed_csv(tmp_path / "good.csv"), "icp_rows", workspace=ws)


# -- reading files honestly (issue 10) ---------------------------------------------------------

CRUNCHBASE = ROOT.parent / "shared" / "data" / "crunchbase_2013"
COUNTRY = parse_profile("name: x\ncriteria: [{field: country, weight: 10, levels: [{values: [AT], points: 10}]}]")


def test_a_mac_roman_file_with_bare_cr_line_ends_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes("domain,name,country\rcondenast.com,Condé Nast,Österreich\rmiasole.com,MiaSolé,US\r"
                     .encode("mac_roman"))
    out = tmp_path / "scores.csv"
    run = icpkit.score_to(COUNTRY, path, out, backend="duckdb", workspace=icpkit.api.Workspace(tmp_path / "ws"))
    got = pd.read_csv(out).set_index("domain")
    assert got.loc["condenast.com", "name"] == "Condé Nast" and got.loc["condenast.com", "fit_score"] == 100
    assert any("read as Mac Roman" in w for w in run.warnings)


@pytest.mark.skipif(not CRUNCHBASE.exists(), reason="the shared real datasets are not present")
def test_the_crunchbase_2013_export_scores(tmp_path: Path) -> None:
    profile = parse_profile("name: cb\ncriteria: [{field: category_code, weight: 10, "
                            "levels: [{values: [software], points: 10}]}]")
    out = tmp_path / "scores.csv"
    run = icpkit.score_to(profile, CRUNCHBASE / "crunchbase-companies.csv", out,
                          workspace=icpkit.api.Workspace(tmp_path / "ws"))
    assert run.rows == 17_727 and run.tiers["high"] == 2_688  # software companies, per SOURCE.md
    assert "MiaSolé" in set(pd.read_csv(out)["name"])


@pytest.mark.parametrize("backend", [None, "duckdb"])  # the small-file path and the engine
def test_one_bad_byte_keeps_the_file_utf8_and_names_the_cell(tmp_path: Path, backend: str | None) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("domain,name,country\nsg.fr,Société Générale,Österreich\nx.com,Bad \xff byte,US\n"
                     .encode("utf-8").replace("\xff".encode(), b"\xff"))
    out = tmp_path / "scores.csv"
    run = icpkit.score_to(COUNTRY, path, out, backend=backend, workspace=icpkit.api.Workspace(tmp_path / "ws"))
    got = pd.read_csv(out).set_index("domain")
    assert got.loc["sg.fr", "name"] == "Société Générale"  # not SociÃ©tÃ©
    assert got.loc["sg.fr", "fit_score"] == 100  # Österreich is still Austria
    assert [w for w in run.warnings if "row 2, column 'name'" in w and "not valid UTF-8" in w]


def test_repeated_headers_are_an_error_naming_both(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "domain,Industry,employees,industry\na.com,internet,10,retail\n")
    with pytest.raises(DataError) as info:
        icpkit.score(SEED, path)
    assert "column 2 'Industry' and column 4 'industry' have the same name" in str(info.value)


@pytest.mark.parametrize("backend", [None, "duckdb"])
def test_no_domain_column_is_a_warning_naming_the_column_that_looks_like_one(tmp_path: Path,
                                                                             backend: str | None) -> None:
    path = write(tmp_path / "a.csv",
                 "website_x,name,industry\nacme.com,Acme,internet\nhttps://www.beta.io/,Beta,retail\n")
    one = SEED.model_copy(update={"criteria": SEED.criteria[:1]})
    run = icpkit.score_to(one, path, tmp_path / "scores.csv", backend=backend,
                          workspace=icpkit.api.Workspace(tmp_path / "ws"))
    assert [w for w in run.warnings if "no domain column" in w and "'website_x'" in w]


def test_missing_domains_hint_at_skip(tmp_path: Path) -> None:
    path = seed_file(tmp_path / "a.csv", "domain,industry", "a.com,internet", ",retail", "c.com,internet")
    with pytest.raises(DataError) as info:
        icpkit.score(SEED, path)
    assert "row 2, column 'domain'" in str(info.value) and "--on-error skip" in str(info.value)


def test_a_json_line_that_does_not_parse_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    good = [json.dumps({"domain": f"d{i}.com", "industry": "internet"}) for i in range(3)]
    path.write_text("\n".join([good[0], "", good[1], '{"domain": "x.com", "industry": oops}', good[2]]) + "\n")
    with pytest.raises(DataError) as info:
        icpkit.score(SEED.model_copy(update={"criteria": SEED.criteria[:1]}), path)
    assert info.value.where == f"{path}, line 4" and "not valid JSON" in str(info.value)
