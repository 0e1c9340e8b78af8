"""The small-input path (``icpkit.small``): a small CSV file scored in-process writes the same
bytes, and returns the same run, as the engine (``backend="duckdb"`` forces it); anything
it does not take (a bad value, a duplicate domain, a ragged row, a large file...) goes to
the engine before anything is written, so errors and rejects are the engine's."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icpkit
import icpkit.small
from icpkit.api import ScoreRun
from icpkit.errors import IcpError
from icpkit.io.small_csv import csv_cell
from icpkit.profile.load import load_profile, parse_profile
from icpkit.profile.model import Profile
from icpkit.workspace import Workspace
from tests.backends.test_scoring_oracle import SEED, profiles
from tests.strategies import raw_accounts

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_profile(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
AT = datetime(2026, 2, 1, 8, 30, 15, 120000, tzinfo=UTC)
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


@pytest.fixture()
def took(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each run's small path scored (True) or handed the run to the engine (False)."""
    calls: list[bool] = []
    real = icpkit.small.score_small

    def spy(*args: Any, **kw: Any) -> Any:
        result = real(*args, **kw)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(icpkit.small, "score_small", spy)
    return calls


def both(tmp_path: Path, profile: Profile, data: bytes, *, on_error: str = "fail",
         top: int = 5) -> tuple[ScoreRun, bytes]:
    """Score ``data`` (a CSV file's bytes) on the default path and on the engine: the same
    output bytes, the same run (but its seconds), the same record of the run."""
    result = agree(tmp_path, profile, data, on_error=on_error, top=top)
    assert not isinstance(result, IcpError), result
    return result


def agree(tmp_path: Path, profile: Profile, data: bytes, *, on_error: str = "fail",
          top: int = 5) -> tuple[ScoreRun, bytes] | IcpError:
    """:func:`both`, or the same error from both (and no output), which is returned."""
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes(data)
    results: list[tuple[ScoreRun, bytes, dict[str, Any]] | IcpError] = []
    for i, backend in enumerate([None, "duckdb"]):
        out = tmp_path / f"out{i}" / "scores.csv"
        ws = Workspace(tmp_path / f"ws{i}")
        try:
            run = icpkit.score_to(profile, accounts, out, backend=backend, scored_at=AT, workspace=ws,
                                  on_error=on_error, top=top)  # type: ignore[arg-type]
        except IcpError as exc:
            assert not out.exists()
            results.append(exc)
            continue
        results.append((run, out.read_bytes(), ws.settings()["last_run"]))
    fast, engine = results
    if isinstance(fast, IcpError) or isinstance(engine, IcpError):
        assert type(fast) is type(engine), (fast, engine)
        assert isinstance(fast, IcpError) and isinstance(engine, IcpError)
        assert (fast.message, fast.where, fast.hint) == (engine.message, engine.where, engine.hint)
        assert [(p.message, p.where) for p in fast.errors] == [(p.message, p.where) for p in engine.errors]
        return fast
    assert fast[1] == engine[1]
    for f in fields(ScoreRun):
        if f.name == "seconds":
            continue
        a, b = getattr(fast[0], f.name), getattr(engine[0], f.name)
        if f.name in ("output", "rejects_file") and a is not None and b is not None:
            a, b = Path(a).relative_to(tmp_path / "out0"), Path(b).relative_to(tmp_path / "out1")
        elif f.name == "rejects":
            a, b = a.rows, b.rows
        assert a == b, (f.name, a, b)
        if f.name == "tiers":  # highest tier first (ties on the best score in the profile's order)
            assert list(a) == list(b), f.name
    assert {k: v for k, v in fast[2].items() if k != "output"} == {k: v for k, v in engine[2].items() if k != "output"}
    return fast[0], fast[1]


def same_error(tmp_path: Path, profile: Profile, data: bytes, **kw: Any) -> IcpError:
    """The default path and the engine stop with the same error, and write nothing."""
    error = agree(tmp_path, profile, data, **kw)
    assert isinstance(error, IcpError), "no error"
    return error


def csv_bytes(rows: list[list[Any]], *, delimiter: str = ",", terminator: str = "\n", encoding: str = "utf-8",
              bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=terminator).writerows(
        [["" if v is None else v for v in r] for r in rows])
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode(encoding)


SEED_HEADER = ["domain", "name", "industry", "employees", "technologies", "country", "days_since_funding"]


def seed_rows(*rows: tuple[Any, ...]) -> list[list[Any]]:
    return [SEED_HEADER, *[list(r) for r in rows]]


HOSTILE = seed_rows(
    ("acme.com", "=1+1", "Computer Software", "120", "Salesforce;Slack", "United States", "30"),
    ("https://www.Beta.io/x", '+SUM(A1) "quoted", with comma', "internet", "1.5k", "", "US", "n/a"),
    ("gamma.co.uk", "-5", "n/a", "51-200", "HubSpot", "GB", "200"),
    ("delta.dev", "@cmd", "  Internet ", "$2.5M", "salesforce, hubspot", "Deutschland", "-"),
    ("jane@epsilon.fr", "Épsilon ünïcode 中国", "INTERNET", "~45", " ; ", "ca", "91"),
    ("zeta.io", None, None, None, None, None, None),
    ("eta.io", "line\tTab", "marketing and advertising", "10,001+", "Salesforce", "Ireland", "365.5"),
    ("theta.io", "", "information technology and services", "over 50", "hub spot", "AU", "0"),
)


# -- the same bytes ----------------------------------------------------------------------------

def test_hostile_values(tmp_path: Path, took: list[bool]) -> None:
    run, out = both(tmp_path, SEED, csv_bytes(HOSTILE))
    assert took == [True]
    text = out.decode()
    assert "\"'+SUM(A1) \"\"quoted\"\", with comma\"" in text and ",'=1+1," in text and ",'-5," in text
    assert run.rows == 8 and run.tiers and len(run.top) == 5


@pytest.mark.parametrize("dialect", [
    {"delimiter": ";"}, {"delimiter": "\t"}, {"delimiter": "|"}, {"terminator": "\r\n"}, {"bom": True},
    {"encoding": "latin-1"}, {"encoding": "latin-1", "delimiter": ";", "terminator": "\r\n"},
])
def test_dialects(tmp_path: Path, took: list[bool], dialect: dict[str, Any]) -> None:
    latin = dialect.get("encoding") == "latin-1"
    rows = [[v.encode("latin-1", "replace").decode("latin-1") if latin and v else v for v in r] for r in HOSTILE]
    both(tmp_path, SEED, csv_bytes(rows, **dialect))
    assert took == [True]


def test_a_crm_export_without_a_final_line_end(tmp_path: Path, took: list[bool]) -> None:
    data = ("Company name,Company Domain Name,Industry,Number of Employees,Country/Region,Tech Stack,"
            "days_since_funding\n"
            "Acme,acme.com,Computer Software,120,United States,Salesforce,30\n"
            "Beta,beta.io,Retail,8,DE,,").encode()
    run, _ = both(tmp_path, SEED, data)
    assert took == [True] and run.crm_source == "hubspot"


def test_abm_tiers_with_ties_at_the_cut(tmp_path: Path, took: list[bool]) -> None:
    profile = parse_profile("name: x\ncriteria: [{field: industry, weight: 10, levels: [{values: [banking], points: 10},"
                            " {values: [retail], points: 8}]}]\n"
                            "tiers: [{name: high, min: 50, route: ae}, {name: low, min: 0, route: no}]\n"
                            "abm: {tier: high, a: 2, b: 2}\n"
                            "disqualifiers: [{name: no, when: {field: domain, eq: d3.com}, reason: nope}]\n")
    rows = [["domain", "industry"]] + [[f"d{i}.com", "banking" if i % 3 else "retail"] for i in range(9, 0, -1)]
    _, out = both(tmp_path, profile, csv_bytes(rows))
    assert took == [True]
    tiers = {line.split(",")[0]: line.split(",")[3] for line in out.decode().splitlines()[1:]}
    assert sorted(d for d, t in tiers.items() if t == "A") == ["d1.com", "d2.com"]


def test_rows_without_domains_are_keyed_by_row(tmp_path: Path, took: list[bool]) -> None:
    rows = [["industry", "employees"], ["internet", "120"], ["internet", "120"], ["retail", None]]
    run, _ = both(tmp_path, SEED.model_copy(update={"criteria": SEED.criteria[:2]}), csv_bytes(rows))
    assert took == [True] and [r["row"] for r in run.top] == [1, 2, 3]


def test_no_reasons_and_no_abm(tmp_path: Path, took: list[bool]) -> None:
    profile = parse_profile("name: x\ncriteria: [{field: employees, weight: 10, range: {min: 50, max: 60}}]\n"
                            "abm: null\n")
    both(tmp_path, profile, csv_bytes([["domain", "employees"], ["a.com", "5"], ["b.com", "55"]]))
    assert took == [True]


@SLOW
@given(st.sampled_from([SEED, DEMO]) | profiles(), raw_accounts(max_size=25, keyed=True), st.data())
def test_generated_accounts(tmp_path_factory: pytest.TempPathFactory, profile: Profile,
                            accounts: tuple[list[dict[str, Any]], Any], data: st.DataObject) -> None:
    records, _ = accounts
    header = list(records[0])
    rows = [header] + [[None if r[h] is None else str(r[h]) for h in header] for r in records]
    dialect = data.draw(st.fixed_dictionaries({"delimiter": st.sampled_from([",", ";", "\t", "|"]),
                                               "terminator": st.sampled_from(["\n", "\r\n"]),
                                               "bom": st.booleans()}))
    agree(tmp_path_factory.mktemp("gen"), profile, csv_bytes(rows, **dialect), top=data.draw(st.integers(0, 6)))


# -- anything else goes to the engine ------------------------------------------------------------

@pytest.mark.parametrize("rows,message", [
    (seed_rows(("a.com", "A", "internet", "twelve", "", "US", "")), "cannot read 'twelve' as a number"),
    (seed_rows(("a.com", "A", "internet", "1", "", "US", ""), ("b.com", "B", "", "", "", "", "soon")), "'soon'"),
    (seed_rows(("a.com", "A", "", "", "", "", ""), ("https://www.A.com/", "B", "", "", "", "", "")), "appears 2 times"),
    (seed_rows(("a.com", "A", "", "", "", "", ""), (None, "B", "", "", "", "", "")), "the domain is missing"),
    (seed_rows(("not a domain", "A", "", "", "", "", "")), "is not a domain name"),
    ([["domain", "industri"], ["a.com", "internet"]], "did you mean"),
])
def test_bad_inputs_give_the_engines_error(tmp_path: Path, took: list[bool], rows: list[list[Any]],
                                           message: str) -> None:
    error = same_error(tmp_path, SEED, csv_bytes(rows))
    assert message in str(error) and "accounts.csv" in str(error)
    assert took == [False]


def test_a_ragged_row_gives_the_engines_error(tmp_path: Path, took: list[bool]) -> None:
    profile = SEED.model_copy(update={"criteria": SEED.criteria[:1]})
    error = same_error(tmp_path, profile, b"domain,industry\na.com,internet\nb.com,internet,extra\n")
    assert "accounts.csv" in str(error) and "Line: 3" in str(error)
    assert took == [False]


@pytest.mark.parametrize("data", [
    b"domain,industry\na.com,internet\nb.com,internet,extra\nc.com,retail\n",
    b"domain,industry\na.com,internet\nb.com,twelve employees\nbad domain,x\n",
])
def test_skip_writes_the_engines_rejects(tmp_path: Path, took: list[bool], data: bytes) -> None:
    profile = SEED.model_copy(update={"criteria": SEED.criteria[:1]})
    both(tmp_path, profile, data, on_error="skip")
    assert took == [False]
    assert (tmp_path / "out0" / "scores.csv.rejects.csv").read_bytes() == \
        (tmp_path / "out1" / "scores.csv.rejects.csv").read_bytes()


@pytest.mark.parametrize("data", [
    b'domain,industry\na.com,"multi\nline"\n',  # a line break in a quoted field
    b'domain,industry\na.com, "internet"\n',  # a quote inside an unquoted field
    b'domain,industry\na.com,"internet" \n',  # text after a closing quote
    b"domain,industry\na.com,internet\r\nb.com,retail\n",  # mixed line ends
    b"domain,industry\na.com,internet\n\nb.com,retail\n",  # an empty line
    b"domain,industry\na.com,caf\x85\n",  # a Latin-1 byte the engine refuses
    b"domain,industry\na.com,inter\x00net\n",  # NUL
    b"domain,industry\n",  # no rows
    b'domain,country\na.com,Atlantis\n',  # an unrecognised country: the engine words the warning
    b"\xff\xfed\x00,\x00i\x00\n\x00a\x00.\x00c\x00o\x00m\x00,\x00x\x00\n\x00",  # UTF-16
])
def test_unusual_files_go_to_the_engine(tmp_path: Path, took: list[bool], data: bytes) -> None:
    profile = SEED.model_copy(update={"criteria": [c for c in SEED.criteria if c.field in ("industry", "country")]})
    agree(tmp_path, profile, data)
    assert set(took) == {False}


def test_tiers_tied_on_their_best_score_are_listed_in_the_profiles_order(tmp_path: Path, took: list[bool]) -> None:
    profile = parse_profile("name: x\ncriteria: [{field: industry, weight: 10, levels: [{values: [retail], points: 10}]}]\n"
                            "tiers: [{name: low, min: 0, route: no}, {name: high, min: 50, route: ae}]\n"
                            "disqualifiers: [{name: no, when: {field: domain, eq: b.com}, reason: nope}]\n")
    run, _ = both(tmp_path, profile, b"domain,industry\na.com,retail\nb.com,retail\n")
    assert list(run.tiers) == ["high", "low"]
    assert took == [True]  # the small path scored it (the engine ran too, for the comparison)


def test_large_files_and_other_outputs_go_to_the_engine(tmp_path: Path, took: list[bool]) -> None:
    profile = SEED.model_copy(update={"criteria": SEED.criteria[:1]})
    many = csv_bytes([["domain", "industry"]] + [[f"d{i}.com", "internet"] for i in range(icpkit.small.MAX_ROWS + 1)])
    wide = csv_bytes([["domain", "industry"]] + [[f"d{i}.com", "x" * 400] for i in range(1400)])
    assert len(wide) > icpkit.small.MAX_BYTES
    for i, data in enumerate([many, wide]):
        (tmp_path / f"{i}.csv").write_bytes(data)
        run = icpkit.score_to(profile, tmp_path / f"{i}.csv", tmp_path / f"o{i}.csv")
        assert run.rows == data.count(b"\n") - 1
    small = tmp_path / "s.csv"
    small.write_bytes(b"domain,industry\na.com,internet\n")
    for out in ("o.parquet", "o.jsonl"):
        icpkit.score_to(profile, small, tmp_path / out)
    icpkit.score_to(profile, small, "scores", workspace=Workspace(tmp_path / "ws"))
    assert took == [False] * 5


# -- the CSV writer is DuckDB's -------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), st.text(st.sampled_from(list(',"#;|\t\n\r =+-@\'\\aé\u00a0'))),
                          st.floats(allow_nan=False, allow_infinity=False),
                          st.integers(-2**63, 2**63 - 1),
                          st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))),
                min_size=1, max_size=8))
def test_cells_are_written_as_duckdb_writes_them(values: list[Any]) -> None:
    values = [v.replace("\x00", "") if isinstance(v, str) else v for v in values]
    con = duckdb.connect()
    try:
        cols = ", ".join(f"c{i}" for i in range(len(values)))
        con.execute(f"CREATE TABLE t ({', '.join(f'c{i} {_type(v)}' for i, v in enumerate(values))})")
        con.execute(f"INSERT INTO t VALUES ({', '.join('?' for _ in values)})", values)
        safe = ", ".join(f"CASE WHEN regexp_matches(c{i}, '^[=+\\-@\\t\\r]') THEN '''' || c{i} ELSE c{i} END"
                         if isinstance(v, str) else f"c{i}" for i, v in enumerate(values))
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"icp-cells-{os.getpid()}.csv"
        con.execute(f"COPY (SELECT {safe} FROM t) TO '{path}' (FORMAT csv, HEADER false)")
        expected = path.read_bytes().decode()
        path.unlink()
    finally:
        con.close()
    assert expected == ",".join(map(csv_cell, values)) + "\n", cols


def _type(v: Any) -> str:
    return {str: "VARCHAR", float: "DOUBLE", int: "BIGINT", datetime: "TIMESTAMP"}.get(type(v), "VARCHAR")


# -- no engine is loaded ---------------------------------------------------------------------------

def test_the_command_scores_a_small_file_without_loading_an_engine(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(csv_bytes(HOSTILE))
    code = ("import sys, json; from icpkit.cli import main; "
            "code = main(sys.argv[1:]); "
            "print(json.dumps([code, [m for m in ('duckdb', 'ibis', 'sqlglot', 'pyarrow') if m in sys.modules]]))")
    runs = []
    for extra in ([], ["--backend", "duckdb"]):
        args = ["score", "-p", str(ROOT / "examples" / "seed-rubric.yaml"), "-a", "a.csv", "-o", "s.csv", "-q", *extra]
        env = {k: v for k, v in os.environ.items() if k not in ("ICP_DATABASE_URL", "ICP_WORKSPACE")}
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True,
                              check=True, env=env)
        runs.append(json.loads(done.stdout.splitlines()[-1]))
    assert runs[0] == [0, []]
    assert runs[1][0] == 0 and "duckdb" in runs[1][1]
