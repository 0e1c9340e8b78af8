"""The PostgreSQL backend on a real server: reading, writing, errors, and the plans giving
exactly what DuckDB gives (and the one-record oracle) on the same data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icpkit.backends import connect
from icpkit.backends.base import ROW, TableName
from icpkit.backends.postgres import PostgresBackend
from icpkit.errors import DataError, MissingColumnError, WorkspaceError
from icpkit.io.canonical import canonical_plan
from icpkit.profile.load import load_profile
from icpkit.profile.model import Profile
from icpkit.scoring.plan import ScoringPlan, build_plan
from tests.backends.test_scoring_oracle import SCHEMA, SEED, profiles, record
from tests.oracle import abm_tiers, score_record
from tests.sql import test_values as corpus

pytestmark = pytest.mark.postgres  # the server: tests/pg.py (fixtures pg_url, pg_schema from tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_profile(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
AT = datetime(2026, 1, 31, 12, 0, 0)
EXAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def pg(pg_schema: tuple[str, str]) -> Iterator[PostgresBackend]:
    backend = connect(pg_schema[1])
    assert isinstance(backend, PostgresBackend)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def shared(pg_url: str) -> Iterator[PostgresBackend]:
    """One connection for the property tests (temporary tables only)."""
    backend = PostgresBackend(pg_url)
    try:
        yield backend
    finally:
        backend.close()


@lru_cache(maxsize=64)
def _duckdb_sql(op: Any) -> str:
    return str(ibis.to_sql(op.to_expr(), dialect="duckdb"))


def duckdb_sql(expr: ir.Expr) -> str:
    """ibis's DuckDB SQL of ``expr`` (the same expression, drawn again, compiles once)."""
    return _duckdb_sql(expr.op())


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    return table.sort_by(ROW).to_pylist() if ROW in table.column_names else table.to_pylist()


# ----------------------------------------------------------------------------- reading


def test_csv_is_read_as_text_with_its_data_row(pg: PostgresBackend, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes('\ufeffDomain;Employees;Notes\nacme.com;1,200;"a;b"\nfoo.io;;""\n\nbar.org;7;"two\nlines"\n'
                     .encode())
    t = pg.read(path, "icp_raw")
    assert t.columns == (ROW, "Domain", "Employees", "Notes")
    assert all(dtype.is_string() for name, dtype in t.schema().items() if name != ROW)
    assert rows_of(pg.to_arrow(t)) == [
        {ROW: 1, "Domain": "acme.com", "Employees": "1,200", "Notes": "a;b"},
        {ROW: 2, "Domain": "foo.io", "Employees": None, "Notes": None},  # empty, quoted or not: NULL
        {ROW: 3, "Domain": "bar.org", "Employees": "7", "Notes": "two\nlines"},
    ]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_csv_encodings(pg: PostgresBackend, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("domain,name\nmünchen.de,Café Zoë\n".encode(encoding))
    assert rows_of(pg.to_arrow(pg.read(path, "icp_raw"))) == [{ROW: 1, "domain": "münchen.de", "name": "Café Zoë"}]


def test_a_bad_csv_line_fails_with_its_line_or_is_skipped(pg: PostgresBackend, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("domain,employees\na.com,1\nb.com,2,3\nc.com\nd.com,4\n")
    with pytest.raises(DataError) as err:
        pg.read(path, "icp_raw")
    assert err.value.where == f"{path}, line 3" and "expected 2 fields, found 3" in err.value.message
    t = pg.read(path, "icp_raw", on_error="skip")
    assert [(r[ROW], r["domain"]) for r in rows_of(pg.to_arrow(t))] == [(1, "a.com"), (4, "d.com")]
    rejects = pg.read_rejects("icp_raw")
    assert [(r.line, r.column, r.text) for r in rejects] == [(3, "", "b.com,2,3"), (4, "employees", "c.com")]


def test_parquet_and_arrow_keep_their_types(pg: PostgresBackend, tmp_path: Path) -> None:
    data = pa.table({
        "s": pa.array(["x", None, ""], pa.string()),
        "i": pa.array([1, None, -3], pa.int32()),
        "f": pa.array([0.1, None, float("inf")], pa.float32()),
        "b": pa.array([True, None, False]),
        "ts": pa.array([datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC), None, datetime(1999, 12, 31)],
                       pa.timestamp("us", tz="Europe/Paris")),
        "d": pa.array([date(2026, 1, 31), None, date(1970, 1, 1)]),
        "tags": pa.array([["A", None, 'q"uote\\'], None, []], pa.list_(pa.string())),
        "cat": pa.array(["u", "v", "u"]).dictionary_encode(),
    })
    path = tmp_path / "in.parquet"
    pq.write_table(data, path)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for source in (path, data):
        got = pg.to_arrow(pg.read(source, "icp_raw"))
        assert got.column_names == [ROW, *data.column_names]
        assert got[ROW].to_pylist() == [1, 2, 3]
        assert got.schema.field("i").type == pa.int64() and got.schema.field("f").type == pa.float64()
        assert got.schema.field("ts").type == pa.timestamp("us") and got.schema.field("d").type == pa.date32()
        # The same values as DuckDB's (float32 widened exactly; zoned times in UTC, without the zone).
        ref = con.sql("SELECT s, i, CAST(f AS DOUBLE) AS f, b, CAST(CAST(ts AS TIMESTAMPTZ) AS TIMESTAMP) AS ts, "
                      "d, tags, cat FROM data").to_arrow_table()
        assert got.drop([ROW]).to_pylist() == ref.to_pylist()


def test_a_table_is_read_as_a_view_with_row_numbers(pg: PostgresBackend, pg_schema: tuple[str, str]) -> None:
    schema = pg_schema[0]
    pg.con.execute(f"CREATE TABLE {schema}.accounts (domain text, employees numeric(10, 2), tags varchar(20)[], "
                   "seen timestamptz)")
    pg.con.execute(f"INSERT INTO {schema}.accounts VALUES ('a.com', 12.5, '{{x,y}}', '2026-01-01 10:00+02'), "
                   "('b.com', NULL, NULL, NULL)")
    for name in ("accounts", f"{schema}.accounts"):
        t = pg.read(TableName(name), "icp_raw")
        assert dict(t.schema().items())["tags"].is_array()
        got = rows_of(pg.to_arrow(t))
        assert [r[ROW] for r in got] == [1, 2]
        assert got[0]["tags"] == ["x", "y"] and got[0]["seen"] == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        assert float(got[0]["employees"]) == 12.5


def test_a_missing_table_lists_those_that_exist(pg: PostgresBackend, pg_schema: tuple[str, str]) -> None:
    schema = pg_schema[0]
    pg.con.execute(f"CREATE TABLE {schema}.accounts (domain text)")
    pg.con.execute(f"CREATE VIEW {schema}.won AS SELECT * FROM {schema}.accounts")
    with pytest.raises(DataError) as err:
        pg.read(TableName(f"{schema}.acounts"), "icp_raw")
    assert f"'{schema}.acounts'" in err.value.message
    assert "accounts" in err.value.hint and "won" in err.value.hint
    with pytest.raises(DataError):
        pg.read(TableName("no_such_table"), "icp_raw")


# ------------------------------------------------------------------------------ steps


def test_view_materialize_delete_and_scalar(pg: PostgresBackend) -> None:
    t = pg.read(pa.table({"x": [3, 1, 2]}), "icp_raw")
    v = pg.view("doubled", t.mutate(y=t.x * 2))
    m = pg.materialize("kept", v.filter(v.y > 2))
    assert pg.scalar(m.count()) == 2
    pg.delete_rows("kept", m.filter(m.x == 3).select(ROW))
    assert pg.to_arrow(m.select("x", "y")).to_pylist() == [{"x": 2, "y": 4}]
    again = pg.materialize("kept", m.mutate(z=m.y + 1))  # replaces the table, reading the old one
    assert pg.to_arrow(again.select("z")).to_pylist() == [{"z": 5}]


def test_results_have_duckdbs_arrow_types(pg: PostgresBackend) -> None:
    t = ibis.table({"x": "int64"}, name="icp_raw")
    pg.read(pa.table({"x": [1, None]}), "icp_raw")
    expr = t.select(d=t.x.cast("float64") / 3, i=t.x * 2, s=t.x.cast("string"), b=t.x > 0,
                    ts=ibis.literal(datetime(2026, 1, 31, 12, 0, 0, 250000), type="timestamp"),
                    l=ibis.array([t.x.cast("string"), ibis.literal("a")]), n=ibis.array([t.x, t.x]),
                    dt=ibis.literal(date(2026, 1, 31)))
    got = pg.to_arrow(expr)
    con = duckdb.connect()
    con.register("icp_raw", pa.table({"x": pa.array([1, None], pa.int64())}))
    want = con.sql(ibis.to_sql(expr, dialect="duckdb")).to_arrow_table()
    assert got.schema == want.schema
    assert got.to_pylist() == want.to_pylist()
    # ibis writes an empty array literal untyped (DuckDB types it list<null>): typed here.
    empty = pg.to_arrow(t.select(e=ibis.literal([], type="array<string>")))
    assert empty.schema.field("e").type == pa.list_(pa.field("l", pa.string())) and empty["e"].to_pylist() == [[], []]


# --------------------------------------------------------------------- plans vs DuckDB


def duckdb_plan(plan: ScoringPlan, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The plan's steps, summaries and result on DuckDB, from ibis's DuckDB SQL."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for name, table in tables.items():
        con.register(f"{name}_in", table)
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_in")
    for step in plan.steps[:-1]:
        con.execute(f"CREATE TEMP TABLE {step.name} AS {duckdb_sql(step.expr)}")
    run = lambda e: con.sql(duckdb_sql(e)).to_arrow_table()  # noqa: E731
    return {"final": run(plan.expr), "tiers": run(plan.tier_counts()), "top": run(plan.top(7)),
            "fit": run(plan.fit_scores())}


def postgres_plan(pg: PostgresBackend, plan: ScoringPlan) -> dict[str, pa.Table]:
    for step in plan.steps[:-1]:
        pg.materialize(step.name, step.expr)
    return {"final": pg.to_arrow(plan.expr), "tiers": pg.to_arrow(plan.tier_counts()), "top": pg.to_arrow(plan.top(7)),
            "fit": pg.to_arrow(plan.fit_scores())}


def assert_same(got: dict[str, pa.Table], want: dict[str, pa.Table]) -> None:
    for part in want:
        g, w = got[part], want[part]
        assert g.column_names == w.column_names, part
        if part in ("final", "fit"):
            g, w = g.sort_by(ROW), w.sort_by(ROW)
        elif part == "tiers":  # ordered by each tier's best score: tiers tie when a disqualifier forces one
            g, w = g.sort_by("tier"), w.sort_by("tier")
        assert g.to_pylist() == w.to_pylist(), part


def with_row(table: pa.Table) -> pa.Table:
    return table.add_column(0, ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))


def score_both(pg: PostgresBackend, profile: Profile, accounts: pa.Table) -> dict[str, pa.Table]:
    plan = build_plan(profile, pg.read(accounts, "icp_accounts"), scored_at=AT)
    got = postgres_plan(pg, plan)
    assert_same(got, duckdb_plan(plan, {"icp_accounts": with_row(accounts)}))
    return got


@EXAMPLES
@given(st.one_of(st.just(SEED), profiles()), st.lists(record, min_size=1, max_size=60))
def test_scoring_matches_duckdb_and_the_oracle(shared: PostgresBackend, profile: Profile,
                                               records: list[dict[str, Any]]) -> None:
    rows = [{"domain": f"d{i}.example", **r} for i, r in enumerate(records)]
    got = score_both(shared, profile, pa.Table.from_pylist(rows, schema=SCHEMA))
    expected = [score_record(profile, r) | {"domain": f"d{i}.example"} for i, r in enumerate(records)]
    abm = abm_tiers(profile, expected)
    by_domain = {r["domain"]: r for r in got["final"].to_pylist()}
    for exp in expected:
        row = by_domain[exp["domain"]]
        assert {k: row[k] for k in exp} == exp
        assert row["abm_tier"] == abm[exp["domain"]]


def test_typed_accounts_canonical_and_scored_like_duckdb(shared: PostgresBackend) -> None:
    from icpkit.demo.canonical import generate_accounts_table

    accounts = generate_accounts_table(1500, seed=11)
    raw = shared.read(accounts, "icp_raw")
    for profile in (SEED, DEMO):
        canon = canonical_plan(raw, profile).expr
        got = shared.to_arrow(canon)
        con = duckdb.connect()
        con.register("icp_raw", with_row(accounts))
        want = con.sql(duckdb_sql(canon)).to_arrow_table()
        assert got.sort_by(ROW).to_pylist() == want.sort_by(ROW).to_pylist()
        keep = [c for c in canon.columns if not c.startswith("_bad")]
        plan = build_plan(profile, shared.view("icp_canon", canon.select(*keep)), scored_at=AT)
        want_tables = {"icp_raw": with_row(accounts), "icp_canon": want.select(keep)}
        assert_same(postgres_plan(shared, plan), duckdb_plan(plan, want_tables))


MESSY = {
    "domain": [r for r, _ in corpus.DOMAINS] + ["Acme.com", "acme.com"],
    "industry": ["Computer Software", " internet ", "n/a", "", "Marketing and Advertising", "CAFÉ", "retail"],
    "employees": [r for r, _ in corpus.NUMBERS] + list(corpus.UNPARSEABLE) + ["", "50", "37.5", "625"],
    "technologies": ["Salesforce; HubSpot", " hubspot ", ";", "", "n/a", "Slack, Zoom", "SALESFORCE"],
    "country": [r for r, _ in corpus.COUNTRIES] + ["Narnia", "", "U.S.A."],
    "days_since_funding": ["90", "91", "365.5", "", "-", "12 days", "1e3"],
    "business_model": ["Agency", "saas", " AGENCY ", "", None],
}
messy_record = st.fixed_dictionaries({k: st.one_of(st.none(), st.sampled_from(v)) for k, v in MESSY.items()})


@settings(EXAMPLES, max_examples=5)
@given(st.lists(messy_record, min_size=1, max_size=80))
def test_a_csv_is_canonicalised_and_scored_like_duckdb(shared: PostgresBackend,
                                                       tmp_path_factory: pytest.TempPathFactory,
                                                       records: list[dict[str, Any]]) -> None:
    text = pa.Table.from_pylist(records, schema=pa.schema([(k, pa.string()) for k in MESSY]))
    path = tmp_path_factory.mktemp("csv") / "accounts.csv"
    pacsv.write_csv(text, path)
    raw = shared.read(path, "icp_raw")
    con = duckdb.connect()
    con.register("icp_raw", with_row(shared.to_arrow(raw).drop([ROW])))
    for profile in (SEED, DEMO):
        canon = canonical_plan(raw, profile).expr
        done = shared.materialize("icp_canon_all", canon)
        got = shared.to_arrow(done)
        want = con.sql(duckdb_sql(canon)).to_arrow_table()
        assert got.sort_by(ROW).to_pylist() == want.sort_by(ROW).to_pylist()
        # Accounts are keyed by domain: the first row of each (a run sets the others aside).
        firsts = pc.is_in(want[ROW], pa.array(want.group_by("domain").aggregate([(ROW, "min")])[f"{ROW}_min"]))
        want_accounts = want.filter(pc.and_(firsts, pc.is_valid(want["domain"])))
        keep = [c for c in canon.columns if not c.startswith("_bad")]
        accounts = shared.view("icp_canon", done.filter(done[ROW].isin(want_accounts[ROW].to_pylist())).select(*keep))
        plan = build_plan(profile, accounts, scored_at=AT)
        want_accounts = want_accounts.select(keep)
        assert_same(postgres_plan(shared, plan), duckdb_plan(plan, {"icp_canon": want_accounts}))


# ----------------------------------------------------------------------------- writing


def test_writing_a_table_is_atomic(pg: PostgresBackend, pg_schema: tuple[str, str]) -> None:
    schema = pg_schema[0]
    t = pg.read(pa.table({"domain": ["a.com", "b.com"], "employees": ["10", "x"]}), "icp_raw")
    target = TableName(f"{schema}.scores")
    assert pg.write(t.filter(t.employees == "10"), target).startswith("table")
    with pytest.raises(DataError) as err:
        pg.write(t.select("domain", n=t.employees.cast("float64")), target)
    assert 'invalid input syntax for type double precision: "x"' in err.value.message
    assert pg.to_arrow(pg.read(target, "check").drop(ROW)).to_pylist() == [{"domain": "a.com", "employees": "10"}]
    tables = pg.con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                            (schema,)).fetchall()
    assert tables == [("scores",)]
    pg.write(t.select("domain"), target)  # replaced, with other columns
    assert pg.to_arrow(pg.read(target, "check").drop(ROW)).to_pylist() == [{"domain": "a.com"}, {"domain": "b.com"}]


def test_writing_files_is_atomic_and_csv_is_neutralised(pg: PostgresBackend, tmp_path: Path) -> None:
    t = pg.read(pa.table({"domain": ["a.com", "b.com"], "note": ["=HYPERLINK(1)", "fine"], "n": [1.5, None],
                          "ok": [True, None], "tags": [["x", "y"], None]}), "icp_raw").drop(ROW)
    csv_out, pq_out, js_out = tmp_path / "o.csv", tmp_path / "o.parquet", tmp_path / "o.jsonl"
    for out in (csv_out, pq_out, js_out):
        assert pg.write(t, out) == str(out)
    assert csv_out.read_text().splitlines() == ["domain,note,n,ok,tags", "a.com,'=HYPERLINK(1),1.5,true,\"[x, y]\"",
                                                "b.com,fine,,,"]
    assert pq.read_table(pq_out).to_pylist() == pg.to_arrow(t).to_pylist()
    assert [json.loads(line) for line in js_out.read_text().splitlines()] == [
        {"domain": "a.com", "note": "=HYPERLINK(1)", "n": 1.5, "ok": True, "tags": ["x", "y"]},
        {"domain": "b.com", "note": "fine", "n": None, "ok": None, "tags": None}]
    before = {p: p.read_bytes() for p in (csv_out, pq_out, js_out)}
    bad = t.select("domain", x=t.note.cast("float64"))
    for out in before:
        with pytest.raises(DataError):
            pg.write(bad, out)
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "o.jsonl", "o.parquet"]


def test_append_adds_only_new_keys(pg: PostgresBackend, pg_schema: tuple[str, str]) -> None:
    target = TableName(f"{pg_schema[0]}.events")
    assert not pg.has_table(target)
    first = pg.read(pa.table({"id": ["a", "b"], "n": [1, 2]}), "batch").drop(ROW)
    assert pg.append(target, first, key="id") == 2
    assert pg.has_table(target) and pg.has_table(TableName("events"))
    second = pg.read(pa.table({"id": ["b", "c"], "n": [20, 3]}), "batch").drop(ROW)
    assert pg.append(target, second, key="id") == 1
    got = pg.to_arrow(pg.read(target, "check").drop(ROW)).sort_by("id").to_pylist()
    assert got == [{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "c", "n": 3}]


# ------------------------------------------------------------------------------ errors


def test_a_wrong_password_or_host_is_named_without_the_password(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        hba = con.execute("SHOW hba_file").fetchone()[0]  # type: ignore[index]
        rules = Path(hba).read_text()
        if "icp_pw" not in rules:  # the role must give a password (the test server trusts everyone else)
            Path(hba).write_text("local all icp_pw scram-sha-256\nhost all icp_pw all scram-sha-256\n" + rules)
            con.execute("SELECT pg_reload_conf()")
        con.execute("DROP ROLE IF EXISTS icp_pw")
        con.execute("CREATE ROLE icp_pw LOGIN PASSWORD 'right-one'")
    wrong = pg_url.replace("postgresql://postgres:@", "postgresql://icp_pw:Sekr3t-pw@", 1).replace(
        "postgresql://postgres@", "postgresql://icp_pw:Sekr3t-pw@", 1)
    assert "Sekr3t-pw" in wrong
    with pytest.raises(WorkspaceError) as err:
        PostgresBackend(wrong)
    text = str(err.value) + repr(err.value)
    assert "password authentication failed" in text and "Sekr3t-pw" not in text
    assert "/postgres" in err.value.message and "password" in err.value.hint
    with pytest.raises(WorkspaceError) as err:
        PostgresBackend("postgresql://me:Sekr3t-pw@127.0.0.1:1/crm?connect_timeout=3")
    assert "127.0.0.1:1/crm" in err.value.message and "Sekr3t-pw" not in str(err.value) + repr(err.value)


def test_a_missing_column_and_a_wrong_type_are_data_errors(pg: PostgresBackend, pg_schema: tuple[str, str]) -> None:
    schema = pg_schema[0]
    pg.con.execute(f"CREATE TABLE {schema}.accounts (domain text, employees text)")
    pg.con.execute(f"INSERT INTO {schema}.accounts VALUES ('a.com', 'many')")
    t = pg.read(TableName("accounts"), "icp_raw")
    with pytest.raises(DataError) as err:
        pg.to_arrow(t.select(n=t.employees.cast("float64")))
    assert err.value.message == 'invalid input syntax for type double precision: "many"'
    # The profile reads text as it comes: the value is flagged, not an error.
    profile = Profile.model_validate({"name": "size", "criteria": [
        {"field": "employees", "weight": 10, "range": {"min": 50, "max": 500}}]})
    canon = canonical_plan(t, profile).expr
    assert pg.to_arrow(canon.select("employees", "_bad_employees")).to_pylist() == [
        {"employees": None, "_bad_employees": True}]
    pg.con.execute(f"ALTER TABLE {schema}.accounts DROP COLUMN employees CASCADE")
    pg.read(TableName("accounts"), "icp_raw2")
    stale = ibis.table({"domain": "string", "employees": "string"}, name="icp_raw2")
    with pytest.raises(MissingColumnError) as missing:
        pg.to_arrow(stale.select("employees"))
    assert missing.value.message == "no column 'employees'"
