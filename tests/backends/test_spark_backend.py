"""The Spark backend on a real local Spark (``tests/spark.py``): reading every kind of source
with its row numbers, the scoring and intent plans giving what DuckDB and the reference
evaluators give, atomic writes, and errors that name the file, table or column.

DuckDB here is a plain ``duckdb`` connection running ``ibis.to_sql(expr, dialect="duckdb")``,
so the comparison holds the plans to one meaning on both engines, whatever the DuckDB
backend does around them. Spark jobs cost 0.1-1 s each: the generated tests draw few but
large examples, each scored in one pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icpkit.backends.base import ROW, TableName, unbound
from icpkit.errors import DataError
from icpkit.intent.events import canonical_contacts, canonical_events, event_columns
from icpkit.intent.plan import blend, intent_plan, persona_plan, trigger_plan
from icpkit.io.canonical import canonical_plan
from icpkit.profile.load import load_profile
from icpkit.profile.model import Profile
from icpkit.scoring.plan import build_plan
from tests.backends.test_scoring_oracle import SCHEMA, profiles, record
from tests.oracle import abm_tiers, score_record
from tests.oracle_intent import AccountIntent, intent_scores
from tests.strategies import raw_accounts

pytestmark = pytest.mark.spark  # the fixtures (tests/spark.py) come through tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]
SEED = load_profile(ROOT / "examples" / "seed-rubric.yaml")
INTENT = load_profile(ROOT / "examples" / "intent.yaml")
AT = datetime(2026, 1, 31, 12, 0, 0)
AS_OF = datetime(2026, 1, 31, tzinfo=UTC)
FEW = settings(max_examples=2, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])


class Duck:
    """The plans on a plain DuckDB connection: the same three calls as a backend."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone='UTC'")

    def read(self, table: pa.Table, name: str) -> ir.Table:
        numbered = table.add_column(0, ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))
        self.con.register(name, numbered)
        return unbound(name, numbered.schema)

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {ibis.to_sql(expr, dialect='duckdb')}")
        return unbound(name, self.con.sql(f"SELECT * FROM {name} LIMIT 0").to_arrow_table().schema)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        return self.con.sql(str(ibis.to_sql(expr, dialect="duckdb"))).to_arrow_table()


def rows_of(table: pa.Table, key: str = ROW) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda r: (r[key] is None, r[key]))


#: Raw sums of floats, which engines add in different orders (the scores made of them are
#: rounded, and compared exactly).
SUMS = {"intent_points"}


def same_rows(spark_out: pa.Table, duck_out: pa.Table, key: str) -> None:
    """Equal columns and equal values (floats exactly, but for raw sums), row by row."""
    assert spark_out.column_names == duck_out.column_names
    got, want = rows_of(spark_out, key), rows_of(duck_out, key)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for c in SUMS & set(g):
            assert g[c] == pytest.approx(w[c], rel=1e-12, abs=1e-12), (c, g, w)
            g[c] = w[c]
        assert g == w, {c: (g[c], w[c]) for c in g if g[c] != w[c]}


# -- reading -------------------------------------------------------------------------------

def test_each_source_kind_is_read_with_its_row_number(spark: Any, tmp_path: Path) -> None:
    n = 600  # several partitions for the files: row numbers must still run 1..n in file order
    spark.spark.conf.set("spark.sql.files.maxPartitionBytes", "2000")
    try:
        data = pa.table({"i": pa.array(range(n), pa.int64()), "s": [f"v{i}" if i % 7 else None for i in range(n)]})
        pq.write_table(data, tmp_path / "a.parquet", row_group_size=50)
        with open(tmp_path / "a.jsonl", "w") as f:
            for r in data.to_pylist():
                f.write(json.dumps(r) + "\n")
        (tmp_path / "a.csv").write_text(
            "i;s;note\n" + "".join(f'{i};{"" if i % 7 == 0 else f"v{i}"};"two\nlines; ""quoted"""\n'
                                   for i in range(n)), encoding="utf-8")
        spark.spark.createDataFrame(data.to_pandas()).write.saveAsTable("acc_source")
        for source in (tmp_path / "a.parquet", tmp_path / "a.jsonl", tmp_path / "a.csv", data,
                       TableName("acc_source")):
            t = spark.read(source, "src")
            assert t.columns[0] == ROW and list(t.columns[1:3]) == ["i", "s"], source
            out = spark.to_arrow(t.order_by(ROW))
            assert out[ROW].to_pylist() == list(range(1, n + 1)), source
            if isinstance(source, TableName):  # a table's rows come in scan order
                out = out.sort_by("i")
            assert [int(x) for x in out["i"].to_pylist()] == list(range(n)), source
            assert out["s"].to_pylist()[:8] == [None, "v1", "v2", "v3", "v4", "v5", "v6", None], source
        assert spark.to_arrow(spark.read(tmp_path / "a.csv", "src"))["note"][0].as_py() == 'two\nlines; "quoted"'
    finally:
        spark.spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.spark.sql("DROP TABLE IF EXISTS acc_source")


def test_csv_is_read_as_text_in_its_dialect_and_bad_records_skipped(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("domain|employees|name\nacme.com|0012|Café\nbeta.io|3|x|extra\ngamma.co|7|z\n".encode("latin-1"))
    t = spark.read(path, "src", on_error="skip")
    assert dict(t.schema().items()) == {ROW: ibis.dtype("int64"), "domain": ibis.dtype("string"),
                                        "employees": ibis.dtype("string"), "name": ibis.dtype("string")}
    assert spark.to_arrow(t.order_by(ROW)).to_pylist() == [
        {ROW: 1, "domain": "acme.com", "employees": "0012", "name": "Café"},
        {ROW: 3, "domain": "gamma.co", "employees": "7", "name": "z"}]
    rejects = spark.read_rejects("src")
    assert [(r.line, r.text) for r in rejects] == [(3, "beta.io|3|x|extra")]
    with pytest.raises(DataError, match="latin.csv"):
        spark.to_arrow(spark.read(path, "src"))  # on_error="fail": the malformed record stops the run


def test_missing_files_tables_and_columns_are_data_errors(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        spark.read(tmp_path / "nope.parquet", "src")
    spark.spark.sql("CREATE TABLE IF NOT EXISTS some_table (x INT) USING parquet")
    try:
        with pytest.raises(DataError, match="no table 'nope'") as err:
            spark.read(TableName("nope"), "src")
        assert "some_table" in err.value.hint
    finally:
        spark.spark.sql("DROP TABLE IF EXISTS some_table")
    path = tmp_path / "gone.parquet"
    pq.write_table(pa.table({"x": ["1", "2", "oops"]}), path)
    t = spark.read(path, "src")
    with pytest.raises(DataError, match="gone.parquet") as err:  # a value Spark cannot cast (ANSI)
        spark.to_arrow(t.select(y=t.x.cast("int64")))
    assert "oops" in err.value.message
    other = unbound("src", ibis.schema({ROW: "int64", "x": "string", "missing": "string"}))
    with pytest.raises(DataError, match="missing"):
        spark.to_arrow(other.select("missing"))
    path.unlink()
    with pytest.raises(DataError, match="gone.parquet"):  # the file went away before the plan ran
        spark.to_arrow(t)


def test_a_materialized_step_is_not_recomputed_and_rows_can_be_deleted(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"x": list(range(10))}), path)
    t = spark.read(path, "src")
    step = spark.materialize("step", t.mutate(y=t.x * 2))
    path.unlink()  # a recomputation would fail now
    spark.delete_rows("step", step.filter(step.x >= 7))
    assert spark.to_arrow(step.order_by(ROW))["y"].to_pylist() == [0, 2, 4, 6, 8, 10, 12]
    assert spark.scalar(step.y.sum()) == 42


# -- scoring -------------------------------------------------------------------------------

def score(engine: Any, profile: Profile, raw: pa.Table, canonical: bool = True) -> pa.Table:
    """canonical_plan over the raw input, then build_plan's steps materialised, the result."""
    accounts = engine.read(raw, "acc_raw")
    if canonical:
        accounts = engine.materialize("icp_accounts", canonical_plan(accounts, profile).expr)
    plan = build_plan(profile, accounts, scored_at=AT)
    for step in plan.steps[:-1]:
        engine.materialize(step.name, step.expr)
    return engine.to_arrow(plan.expr)


@FEW
@given(st.one_of(st.just(SEED), profiles()), raw_accounts(min_size=120, max_size=200))
def test_scoring_raw_accounts_gives_what_duckdb_gives(spark: Any, profile: Profile,
                                                      drawn: tuple[list[dict[str, Any]], pa.Table]) -> None:
    _, raw = drawn
    try:
        canonical_plan(unbound("raw", raw.schema).mutate(**{ROW: ibis.literal(1)}), profile)
    except DataError:  # the drawn headers lack a field this profile uses
        profile = SEED.model_copy(update={"columns": {}})
    same_rows(score(spark, profile, raw), score(Duck(), profile, raw), ROW)


@FEW
@given(st.one_of(st.just(SEED), profiles()), st.lists(record, min_size=150, max_size=250))
def test_scoring_matches_the_reference_evaluator(spark: Any, profile: Profile, records: list[dict[str, Any]]) -> None:
    rows = [{"domain": f"d{i}.example", **r} for i, r in enumerate(records)]
    out = {r["domain"]: r for r in score(spark, profile, pa.Table.from_pylist(rows, schema=SCHEMA),
                                         canonical=False).to_pylist()}
    expected = [score_record(profile, r) | {"domain": f"d{i}.example"} for i, r in enumerate(records)]
    abm = abm_tiers(profile, expected)
    for exp in expected:
        row = out[exp["domain"]]
        assert {k: row[k] for k in exp} == exp
        assert row["abm_tier"] == abm[exp["domain"]]


# -- intent --------------------------------------------------------------------------------

PRICING, DEMO, SECURITY, CAREERS = "pricing_page_view", "demo_request", "security_doc_view", "careers_page_view"
EVENT_KEYS = ("event_id", "domain", "email", "type", "occurred_at")


def ev(type_: str, at: str, id: str | None = None, domain: str | None = None,
       email: str | None = None) -> dict[str, Any]:
    return {"event_id": id, "domain": domain, "email": email, "type": type_, "occurred_at": at}


def adversarial_events() -> list[dict[str, Any]]:
    """The hard cases of tests/backends/test_intent.py, one account each, in one table."""
    rows = [ev(PRICING, at, f"a{i}", "day.com") for i, at in enumerate(
        ["2026-01-29T23:59:59Z", "2026-01-29 23:59:59", "2026-01-30T00:59:59+01:00", "2026-01-29T23:59:59.000Z"])]
    rows += [ev(PRICING, "2026-01-30T00:00:00Z", f"b{i}", "day.com") for i in range(3)]
    rows += [ev(PRICING, "2026-01-29T23:00:00Z", f"c{i}", "off.com") for i in range(3)]
    rows += [ev(PRICING, "2026-01-30T00:30:00+01:00", "c9", "off.com"),
             ev(PRICING, "2026-01-29T23:30:00-01:00", "d9", "off2.com")]
    rows += [ev(PRICING, "2026-01-30T00:10:00Z", f"d{i}", "off2.com") for i in range(3)]
    rows += [ev(PRICING, f"2026-01-28T{h:02d}:00:00Z", f"p{h}", "five.com") for h in (13, 9, 12, 10, 11)]
    rows += [ev(PRICING, "2026-01-28T10:00:00Z", i, "tie.com") for i in ("t9", "t1")]
    rows += [ev(PRICING, "2026-01-28T08:00:00Z", i, "tie.com") for i in ("t5", "t7")]
    rows += [ev(PRICING, f"2026-01-30T{h:02d}:{m:02d}:00.25Z", f"{h}-{m}", "big.com") for h in range(5)
             for m in (0, 10, 20, 30, 40, 50)]  # a large cap (profile 2); fractional seconds
    rows += [ev(DEMO, "2026-01-31T00:00:01Z", "late", "fut.com"), ev(PRICING, "2026-01-31T00:00:00Z", "now", "fut.com"),
             ev(SECURITY, "2026-01-31T00:30:00+01:00", "before", "fut.com")]
    at = "2026-01-30T12:00:00.5Z"
    rows += [ev(DEMO, at, "g1", email="dora@gmail.com"), ev(SECURITY, at, "f1", email="ann@fm.com"),
             ev(SECURITY, at, "f2", email="bob@FM.com"), ev(SECURITY, at, "f3", email="carl@gmail.com"),
             ev(SECURITY, at, "h1", email="ann@fm2.com"), ev(SECURITY, at, "h2", email="bob@fm2.com"),
             ev(SECURITY, at, "h3", email="carl@gmail.com", domain="fm2.com"),
             ev(DEMO, at, "o1", email="eve@other.com", domain="https://www.FM3.com/about"),
             ev(DEMO, at, "noat", email="no-at-sign")]
    rows += [ev(DEMO, at, "x1", "dup.com"), ev(DEMO, at, "x1", "dup.com"), ev(" Demo_Request ", at, "x2", "ACME.com"),
             ev(SECURITY, at, email="dan@nid.com"), ev(SECURITY, at, email="DAN@nid.com ")]
    rows += [ev(SECURITY, e, f"w{i}", email=f"{p}@edge.com") for i, (p, e) in enumerate(
        [("ann", "2026-01-17T01:00:00+01:00"), ("bob", "2026-01-31"), ("carl", "2026-01-20T00:00:00Z")])]
    rows += [ev(CAREERS, "2026-01-30T23:00:00Z", f"k{i}", email=f"p{i}@careers.com") for i in range(2)]
    rows += [ev(DEMO, "2026-01-30T23:00:00Z", f"m{i}", email=f"{p}@many.com") for i, p in enumerate("abcde")]
    rows += [ev(DEMO, "not a date", "bad1", "bad.com"), ev(DEMO, at, "bad1", "bad.com"), ev(" ", at, "bad2", "bad.com")]
    return rows


CAPPED = {"signals": [{"type": PRICING, "points": 2.5, "cap_per_day": 20, "cap_per_window": 12},
                     {"type": DEMO, "points": 30, "cap_per_window": 1, "decay": {"half_life_days": 3}},
                     {"type": SECURITY.upper(), "points": -7.5}],
          "decay": {"lifespan_days": 45}, "window_days": 14,
          "buying_group": {"types": [SECURITY, DEMO], "min_people": 2, "window_days": 7, "points": 12.5}}
#: The example; caps per window and a large cap per day with a window and linear decay; and
#: the same with a buying group normalised by company size.
INTENTS = {"example": INTENT, "capped": Profile.model_validate({"name": "capped", "intent": CAPPED}),
           "sized": Profile.model_validate({"name": "sized", "intent": CAPPED | {"buying_group": {
               **CAPPED["buying_group"], "people_per_1000_employees": 2}}})}  # type: ignore[dict-item]


def events_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table({k: pa.array([r.get(k) for r in rows], pa.string()) for k in EVENT_KEYS})


def read_events(engine: Any, rows: list[dict[str, Any]]) -> ir.Table:
    """The events as the plans read them: canonical, each id's first copy, bad ones left out."""
    raw = engine.read(events_table(rows), "ev_raw")
    e = canonical_events(raw, event_columns(list(EVENT_KEYS), "events"))
    e = e.mutate(_copy=ibis.row_number().over(group_by=e.event_id, order_by=e[ROW]))
    e = e.filter((e._copy == 0) & ~(e._bad_occurred_at | e._bad_occurred_year | e._bad_type | e._bad_who))
    return engine.materialize("icp_events", e.drop("_copy", "_bad_occurred_at", "_bad_occurred_year", "_bad_type",
                                                   "_bad_who"))


def sizes(engine: Any) -> ir.Table:
    return engine.read(pa.table({"domain": ["fm.com", "many.com", "fm2.com"], "employees": [999.0, 2600.0, None]}),
                       "sizes")


@pytest.mark.parametrize("which", list(INTENTS))
def test_intent_on_the_hard_cases_gives_what_duckdb_and_the_reference_give(spark: Any, which: str) -> None:
    intent = INTENTS[which].intent
    assert intent is not None and intent.buying_group is not None
    rows = adversarial_events()
    outs = []
    for engine in (spark, Duck()):
        events = read_events(engine, rows)
        outs.append(engine.to_arrow(intent_plan(intent, events, AS_OF, sizes=sizes(engine))))
    same_rows(*outs, key="domain")
    got = {r["domain"]: r for r in outs[0].to_pylist()}
    if which == "sized":  # 2 people at 999 employees need 2; at 2,600, 6 (5 are not enough); unknown size: 2
        assert [got[d]["buying_group"] for d in ("fm.com", "many.com", "fm2.com")] == [True, False, True]
        return
    reference = intent_scores(intent, rows, AS_OF)
    assert reference["many.com"].buying_group
    for domain in set(got) | set(reference):
        o = reference.get(domain, AccountIntent())
        r = got.get(domain, {"intent_score": 0.0, "buying_group": False})
        assert (r["intent_score"], r["buying_group"]) == (o.score, o.buying_group), domain


def test_personas_triggers_and_priority_give_what_duckdb_gives(spark: Any) -> None:
    profile = Profile.model_validate({
        "name": "all", "criteria": [
            {"field": "industry", "weight": 50, "levels": [{"values": ["software"], "points": 50}]},
            {"field": "days_since_funding", "weight": 50, "bins": [{"lte": 30, "points": 50}, {"lte": 90, "points": 20}]}],
        "triggers": [{"type": "Funding_Round", "name": "funding", "window_days": 60}],
        "intent": {"signals": [{"type": DEMO, "points": 30}, {"type": PRICING, "points": 10, "cap_per_day": 2}],
                   "decay": {"half_life_days": 14}},
        "personas": [{"name": "buyer", "when": {"field": "title", "contains_any": ["vp sales", "chief revenue"]},
                      "points": 10},
                     {"name": "champion", "when": {"field": "title", "contains_any": ["revops"]}, "points": 5},
                     {"name": "tech", "when": {"field": "department", "eq": "it"}}],
        "committee": {"roles": ["buyer", "champion", "tech"], "engaged_days": 30},
        "priority": {"stages": [{"values": ["lead"], "fit": 80, "intent": 20}], "tiers_on": "priority"},
        "abm": {"tier": "high", "a": 1, "b": 1},
    })
    accounts = pa.table({"domain": ["a.com", "b.com", "c.com", "d.com", "e.com"],
                         "industry": ["Software", "retail", "software", None, "software"],
                         "lifecycle_stage": ["Lead", "opportunity", " LEAD ", None, "customer"]})
    contacts = pa.table({"Email": ["ann@a.com", "Bob@A.com", "cy@a.com", "dee@b.com", "eve@gmail.com", "zed@c.com"],
                         "Job Title": ["VP Sales", "RevOps Manager", "Engineer", "Chief Revenue Officer", "VP Sales",
                                       "Intern"],  # zed: no persona
                         "department": ["sales", "ops", " IT ", None, "sales", "sales"]})
    rows = [ev("funding_round", "2026-01-10T00:00:00Z", "f1", "a.com"), ev("Funding_Round", "2025-12-01", "f2", "b.com"),
            ev("funding_round", "2025-06-01T10:00:00.5Z", "f3", "b.com"), ev(DEMO, "2026-01-30T10:00:00Z", "d1", "b.com"),
            ev("blog_view", "2026-01-20T10:00:00Z", "v1", email="ANN@a.com"),
            ev(PRICING, "2026-01-29T09:00:00Z", "p1", "c.com"), ev(PRICING, "2026-01-29T10:00:00Z", "p2", "c.com"),
            ev(PRICING, "2026-01-29T11:00:00Z", "p3", "c.com"), ev(DEMO, "2026-01-30T10:00:00Z", "d2", email="dee@b.com"),
            ev(DEMO, "2026-02-02T10:00:00Z", "d3", "e.com")]
    outs = []
    for engine in (spark, Duck()):
        events = read_events(engine, rows)
        features = engine.materialize("icp_triggers", trigger_plan(profile.triggers, events, AS_OF))
        raw = engine.read(accounts, "acc_raw")
        a = engine.materialize("icp_accounts", canonical_plan(raw, profile, features=features).expr)
        plan = build_plan(profile, a, scored_at=AT)
        for step in plan.steps[:-1]:
            engine.materialize(step.name, step.expr)
        people = engine.materialize("icp_contacts", canonical_contacts(engine.read(contacts, "contacts_raw"), "c"))
        intent = engine.materialize("icp_intent", intent_plan(profile.intent, events, AS_OF))  # type: ignore[arg-type]
        personas = engine.materialize("icp_personas", persona_plan(profile, people, events, AS_OF))
        outs.append(engine.to_arrow(blend(profile, plan.expr, intent, a, personas)))
    same_rows(*outs, key="domain")
    got = {r["domain"]: r for r in outs[0].to_pylist()}
    assert got["a.com"]["personas"] == "buyer*, champion, tech" and got["a.com"]["committee_coverage"] == 1.0
    assert got["b.com"]["intent_reasons"].startswith("engaged buyer (+10); demo_request x2 (+")


# -- writing -------------------------------------------------------------------------------

def test_writes_are_atomic_and_csv_is_neutralised(spark: Any, tmp_path: Path) -> None:
    t = spark.read(pa.table({"name": ["=HYPERLINK(1)", "plain", "-3", None], "n": ["1", "2", "x", "4"],
                             "tags": [["a", "b"], [], None, ["c"]]}), "src")
    out = t.select(ROW, "name", "tags", at=ibis.literal(AT, type="timestamp"))
    csv_path, jsonl, parquet = tmp_path / "o.csv", tmp_path / "o.jsonl", tmp_path / "o.parquet"
    assert spark.write(out, csv_path) == str(csv_path)
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "_row,name,tags,at" and len(lines) == 5
    assert sorted(lines[1:])[0].startswith("1,'=HYPERLINK(1),a;b,2026-01-31 12:00:00")
    spark.write(out, jsonl)
    first = sorted((json.loads(x) for x in jsonl.read_text().splitlines()), key=lambda r: r[ROW])
    assert first[3] == {ROW: 4, "name": None, "tags": ["c"], "at": "2026-01-31 12:00:00"}
    spark.write(out, parquet)
    back = pq.read_table(parquet)
    assert back.num_rows == 4 and back.schema.field("at").type == pa.timestamp("us")
    assert back.column("at")[0].as_py() == AT
    bad = t.select(ROW, n=t.n.cast("int64"))  # "x" cannot be cast: the write fails part way
    for target in (csv_path, jsonl, parquet):
        before = target.read_bytes()
        with pytest.raises(DataError):
            spark.write(bad, target)
        assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "o.jsonl", "o.parquet"]  # no leftovers
    folder = tmp_path / "parts.parquet"
    folder.mkdir()
    spark.write(out, folder)  # an existing directory is replaced by a directory of part files
    assert pq.read_table(folder).num_rows == 4


def test_parquet_in_input_order_is_written_without_a_sort_when_the_rows_come_in_order(
        spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import icpkit.backends.spark_files as backend

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"k": [f"d{i:05d}" for i in range(30_000)], "n": list(range(30_000))}), src,
                   row_group_size=1_000)
    in_order: list[bool] = []
    check = backend.parts_in_row_order
    monkeypatch.setattr(backend, "parts_in_row_order", lambda parts: (lambda r: (in_order.append(r is not None), r)[1])(
        check(parts)))
    want = [f"d{i:05d}" for i in range(30_000)]
    out = tmp_path / "out.parquet"
    spark.spark.conf.set("spark.sql.files.maxPartitionBytes", "32k")  # several partitions, several part files
    try:
        t = spark.read(src, "src")
        big = spark.materialize("big", t.select(ROW, "k", "n"))
        small = spark.materialize("small", t.filter(t.n % 1000 == 0).select("n", tag=ibis.literal("x")))
        joined = big.left_join(small, "n").select(ROW, "k", "n", "tag")  # the small side is broadcast
        spark.write(joined.order_by(ROW).select("k", "n", "tag"), out)
        back = pq.read_table(out)
        assert back.column_names == ["k", "n", "tag"] and back.column("k").to_pylist() == want
        assert in_order == [True]  # the parts were in order: no sort
        assert back.column("tag").to_pylist()[:2] == ["x", None]
        # Rows that do not come in order (the frame sorted the other way): sorted by Spark.
        backwards = spark.materialize("backwards", big.order_by(ibis.desc(ROW)))
        spark.write(backwards.order_by(ROW).select("k"), out)
        assert pq.read_table(out).column("k").to_pylist() == want
        assert in_order == [True, False]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]  # no leftovers
        # Nothing to write: an empty file with the columns.
        spark.write(big.filter(big.n < 0).order_by(ROW).select("k", "n"), out)
        empty = pq.read_table(out)
        assert empty.num_rows == 0 and empty.column_names == ["k", "n"]
    finally:
        spark.spark.conf.unset("spark.sql.files.maxPartitionBytes")


def test_tables_are_swapped_in_only_when_complete(spark: Any) -> None:
    t = spark.read(pa.table({"k": ["a", "b"], "n": ["1", "x"]}), "src")
    target = TableName("scores_out")
    try:
        assert spark.write(t.select("k", n=ibis.literal(1)), target) == "table 'scores_out'"
        with pytest.raises(DataError):
            spark.write(t.select("k", n=t.n.cast("int64")), target)
        assert sorted(spark.spark.table("scores_out").collect()) == [("a", 1), ("b", 1)]
        assert spark.append(target, t.select("k", n=ibis.literal(2)).union(
            t.select(k=ibis.literal("c"), n=ibis.literal(3)).limit(1)), key="k") == 1
        assert spark.has_table(target) and spark.spark.table("scores_out").count() == 3
        assert not any(x.name.startswith("scores_out__") for x in spark.spark.catalog.listTables())
    finally:
        spark.spark.sql("DROP TABLE IF EXISTS scores_out")


@pytest.mark.parametrize("blocked,message", [("pyspark", "pip install icpkit\\[spark\\]"), ("java", "Java 17")])
def test_missing_pyspark_or_java_is_a_dependency_error(blocked: str, message: str, tmp_path: Path) -> None:
    """In a fresh process (no Spark running): PySpark not importable, or no Java anywhere."""
    code = ("import sys\n"
            + ("sys.modules['pyspark'] = None\n" if blocked == "pyspark" else "")
            + "from icpkit.backends import connect\nfrom icpkit.errors import DependencyError\n"
              "try:\n    connect('spark')\nexcept DependencyError as exc:\n    print(exc)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    if blocked == "java":
        env.pop("JAVA_HOME", None)
        env["PATH"] = str(tmp_path)  # no java on it
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert re.search(message, done.stdout), done.stdout + done.stderr


@pytest.mark.parametrize("zone", [timezone(timedelta(hours=1)), UTC])
def test_timestamp_columns_with_a_zone_are_instants(spark: Any, zone: timezone) -> None:
    at = datetime(2026, 1, 30, 0, 30, tzinfo=zone)
    table = pa.table({"at": pa.array([at], pa.timestamp("ns", tz="+01:00" if zone is not UTC else "UTC"))})
    t = spark.read(table, "src")
    assert spark.to_arrow(t)["at"][0].as_py() == at.astimezone(UTC).replace(tzinfo=None)
