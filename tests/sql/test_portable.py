"""Every plan compiles for every engine, and none holds a DuckDB-only function.

Plans are pure ibis expressions over unbound tables; one definition must compile with
``ibis.to_sql`` for DuckDB, PostgreSQL, Spark ("pyspark"), Snowflake and BigQuery. A
DuckDB-only function is a bug: it enters a plan as a builtin UDF (``strlen``, ``min(x, n)``...)
or shows in another dialect's SQL under its DuckDB name. No database is needed; compiling
for Spark needs PySpark importable (skipped without it, unless ``ICP_REQUIRE_ENGINES=1``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pytest

from icpkit.intent.events import canonical_contacts, canonical_events, event_columns, given_ids, is_needed, \
    needed_rows
from icpkit.intent.plan import blend, intent_plan, needed_events, persona_plan, trigger_plan
from icpkit.io.canonical import canonical_plan
from icpkit.profile.load import load_profile
from icpkit.profile.model import Profile
from icpkit.scoring.plan import build_plan

ROOT = Path(__file__).resolve().parents[2]
SEED = load_profile(ROOT / "examples" / "seed-rubric.yaml")
DEMO = load_profile(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
AS_OF = datetime(2026, 1, 31, 12, tzinfo=UTC)
DIALECTS = ["duckdb", "postgres", "pyspark", "snowflake", "bigquery"]

#: Functions DuckDB has under these names and the other engines do not (as ibis writes them
#: for DuckDB: a plan that reaches another dialect with one of them was written for DuckDB).
DUCKDB_ONLY = ("STRLEN", "ARRAY_EXTRACT", "LIST_EXTRACT", "LIST_SLICE", "LIST_SORT", "LIST_APPLY", "LIST_FILTER",
               "LIST_HAS_ANY", "LIST_CONTAINS", "LIST_INDEXOF", "LIST_VALUE", "LIST_BOOL_OR", "LIST_AGGREGATE",
               "STRUCT_PACK", "EPOCH", "EPOCH_MS", "STRPTIME", "REGEXP_FULL_MATCH", "STRING_SPLIT_REGEX",
               "DATE_DIFF\\('")

EVENTS_RAW = ibis.table({"_row": "int64", "event_id": "string", "domain": "string", "email": "string",
                         "type": "string", "occurred_at": "string", "properties": "string"}, name="icp_events_raw")
EVENTS_TYPED = ibis.table({"_row": "int64", "id": "int64", "E-mail": "string", "Event Type": "string",
                           "timestamp": "timestamp('UTC')"}, name="icp_events_raw")
EVENTS = ibis.table({"_row": "int64", "event_id": "string", "domain": "string", "email": "string", "type": "string",
                     "occurred_at": "timestamp", "free_mail": "boolean"}, name="icp_events")
CONTACTS_RAW = ibis.table({"_row": "int64", "Email": "string", "Company Domain": "string", "Job Title": "string",
                           "department": "string", "seniority": "int64"}, name="icp_contacts_raw")
CONTACTS = ibis.table({"email": "string", "domain": "string", "title": "string", "seniority": "string",
                       "department": "string"}, name="icp_contacts")
ACCOUNTS_TEXT = ibis.table({"_row": "int64", "Website": "string", "Company name": "string", "industry": "string",
                            "employees": "string", "technologies": "string", "country": "string",
                            "days_since_funding": "string", "business_model": "string",
                            "lifecycle_stage": "string"}, name="icp_raw")
ACCOUNTS_TYPED = ibis.table({"_row": "int64", "domain": "string", "industry": "string", "employees": "int64",
                             "technologies": "array<string>", "country": "string", "days_since_funding": "float64",
                             "business_model": "null"}, name="icp_raw")

#: Every option of an intent section (each one changes the plan).
INTENT_OPTIONS = {
    "example": {"decay": {"half_life_days": 14}, "signals": [
        {"type": "pricing_page_view", "points": 10, "cap_per_day": 3}, {"type": "demo_request", "points": 30},
        {"type": "careers_page_view", "points": -15}],
        "buying_group": {"types": ["demo_request"], "min_people": 3, "window_days": 14, "points": 20,
                         "label": "asked for a demo"}},
    "every option": {"decay": {"lifespan_days": 45}, "window_days": 30.5, "signals": [
        {"type": "Pricing_Page_View", "points": 2.5, "cap_per_day": 40, "cap_per_window": 12},
        {"type": "demo_request", "points": 30, "cap_per_window": 1, "decay": {"half_life_days": 3}},
        {"type": "webinar", "points": 5, "cap_per_day": 1}],
        "buying_group": {"types": ["demo_request", "webinar"], "min_people": 2, "window_days": 7.25,
                         "points": -12.5, "people_per_1000_employees": 2}},
    "no decay, no group": {"signals": [{"type": "x", "points": 1}]},
}


def full_profile(tiers_on: str = "priority", personas: bool = True) -> Profile:
    """The seed rubric with triggers, intent, personas, a committee and a priority section."""
    data = SEED.model_dump(exclude_none=True, by_alias=True)
    data.update({
        "triggers": [{"type": "funding_round", "name": "funding", "window_days": 90}, {"type": "Exec_Hire"}],
        "intent": INTENT_OPTIONS["every option"],
        "priority": {"stages": [{"values": ["Lead"], "fit": 80, "intent": 20},
                                {"values": ["opportunity", "sql"], "fit": 3, "intent": 7}],
                     "otherwise": {"fit": 1, "intent": 1}, "tiers_on": tiers_on},
    })
    if personas:
        data["personas"] = [{"name": "buyer", "when": {"field": "title", "contains_any": ["vp", "chief"]}, "points": 10},
                            {"name": "tech", "when": {"field": "department", "in": ["it", "engineering"]}}]
        data["committee"] = {"roles": ["buyer", "tech"], "engaged_days": 21}
    return Profile.model_validate(data)


def named(expr: ir.Table, name: str) -> ir.Table:
    """The table a backend makes of ``expr`` (a view or a materialised step), as later plans read it."""
    return ibis.table(expr.schema(), name=name)


def _plans() -> dict[str, ir.Expr]:
    out: dict[str, ir.Expr] = {}
    for name, profile in (("seed", SEED), ("demo", DEMO)):
        plan = build_plan(profile, named(canonical_plan(ACCOUNTS_TEXT, profile).expr, "icp_accounts"), scored_at=AS_OF)
        for step in plan.steps:
            out[f"build_plan {name}: {step.name}"] = step.expr
        out[f"build_plan {name}: tier_counts"] = plan.tier_counts()
        out[f"build_plan {name}: top"] = plan.top(25)
        out[f"build_plan {name}: fit_scores"] = plan.fit_scores()
    out["build_plan explain, no domain"] = build_plan(
        SEED, named(canonical_plan(ACCOUNTS_TEXT.drop("Website"), SEED).expr, "icp_accounts"), explain=True,
        scored_at=AS_OF).expr
    out["canonical_plan text"] = canonical_plan(ACCOUNTS_TEXT, SEED).expr
    out["canonical_plan typed"] = canonical_plan(ACCOUNTS_TYPED, SEED).expr
    profile = full_profile()
    features = trigger_plan(profile.triggers, EVENTS, AS_OF)
    out["canonical_plan with trigger features"] = canonical_plan(ACCOUNTS_TEXT, profile, features=features).expr

    for label, raw in (("text", EVENTS_RAW), ("typed", EVENTS_TYPED)):
        cols = event_columns([c for c in raw.columns if c != "_row"], "events")
        out[f"canonical_events {label}"] = canonical_events(raw, cols)
        out[f"given_ids {label}"] = given_ids(raw, cols)
        for which, prof in (("types", SEED.model_copy(update={"intent": profile.intent})), ("any type", profile)):
            needed = needed_events(prof, AS_OF)
            out[f"needed_rows {label}, {which}"] = raw.filter(needed_rows(raw, cols, needed))
            out[f"is_needed {which}"] = EVENTS.filter(is_needed(EVENTS, needed))
    no_ids = EVENTS_RAW.drop("event_id")
    out["given_ids without ids"] = given_ids(no_ids, event_columns([c for c in no_ids.columns if c != "_row"], "e"))
    out["canonical_contacts"] = canonical_contacts(CONTACTS_RAW, "contacts")

    sizes = ibis.table({"domain": "string", "employees": "float64"}, name="icp_accounts")
    only = ibis.table({"domain": "string"}, name="icp_batch")
    for name, section in INTENT_OPTIONS.items():
        intent = Profile.model_validate({"name": "i", "intent": section}).intent
        assert intent is not None
        out[f"intent_plan {name}"] = intent_plan(intent, EVENTS, AS_OF, sizes=sizes)
        out[f"intent_plan {name}, only"] = intent_plan(intent, EVENTS, AS_OF, only=only)
    out["persona_plan"] = persona_plan(profile, CONTACTS, EVENTS, AS_OF)
    out["trigger_plan"] = features

    scored = ibis.table({"_row": "int64", "domain": "string", "fit_score": "float64", "tier": "string",
                         "abm_tier": "string", "route": "string", "disqualified_by": "string", "reasons": "string",
                         "profile_version": "string", "scored_at": "timestamp"}, name="icp_scored")
    accounts = named(canonical_plan(ACCOUNTS_TEXT, profile, features=features).expr, "icp_accounts")
    intent = intent_plan(profile.intent, EVENTS, AS_OF)  # type: ignore[arg-type]
    personas = persona_plan(profile, CONTACTS, EVENTS, AS_OF)
    for tiers_on in ("fit", "intent", "priority"):
        out[f"blend tiers_on={tiers_on}"] = blend(full_profile(tiers_on), scored, intent, accounts, personas)
    out["blend without personas or priority"] = blend(
        full_profile(personas=False).model_copy(update={"priority": None}), scored, intent, accounts)
    return out


@cache
def plans() -> dict[str, ir.Expr]:
    return _plans()


def compile_for(dialect: str) -> Callable[[ir.Expr], str]:
    if dialect == "pyspark":
        if importlib.util.find_spec("pyspark") is None:
            if os.environ.get("ICP_REQUIRE_ENGINES") == "1":
                pytest.fail("compiling for Spark needs PySpark (ICP_REQUIRE_ENGINES=1)")
            pytest.skip("PySpark is not installed (pip install icpkit[spark])")
        ibis.pyspark  # noqa: B018 (registers the options ibis's Spark compiler reads)
    return lambda expr: str(ibis.to_sql(expr, dialect=dialect))


def test_the_plans_hold_no_builtin_functions() -> None:
    """A builtin UDF names an engine's own function: the plan would run on that engine only."""
    for name, expr in plans().items():
        udfs = expr.op().find((ops.ScalarUDF, ops.AggUDF, ops.AnalyticVectorizedUDF, ops.ElementWiseVectorizedUDF,
                               ops.ReductionVectorizedUDF))
        assert not udfs, (name, [type(u).__name__ for u in udfs])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_plan_compiles_for_every_engine(dialect: str) -> None:
    to_sql = compile_for(dialect)
    duckdb_only = re.compile(r"\b(" + "|".join(DUCKDB_ONLY) + r")\(", re.IGNORECASE)
    failed = {}
    for name, expr in plans().items():
        try:
            sql = to_sql(expr)
        except Exception as exc:  # noqa: BLE001 (every plan is tried; all failures are listed)
            failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        if dialect != "duckdb" and (found := duckdb_only.findall(sql)):
            failed[name] = f"DuckDB-only functions: {sorted(set(found))}"
    assert not failed, failed
