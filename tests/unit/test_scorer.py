"""The one-record Scorer without a database: what it reads, what it refuses, and its numbers
against the independent pure-Python evaluators (tests/oracle.py, tests/oracle_intent.py).
Agreement with bulk scoring is held in tests/backends/test_scorer_parity.py."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icpkit.errors import DataError, IcpError, MissingColumnError
from icpkit.intent.record import event_rows
from icpkit.io.record import from_micros
from icpkit.profile.load import load_profile
from icpkit.profile.model import Profile
from icpkit.scoring.record import Scorer
from tests.backends.test_intent import ACCOUNTS, scenarios
from tests.backends.test_personas import CONTACTS, EVENTS
from tests.backends.test_personas import PROFILE as PERSONAS
from tests.oracle import score_record
from tests.oracle_intent import AccountIntent, intent_scores

ROOT = Path(__file__).resolve().parents[2]
SEED = load_profile(ROOT / "examples" / "seed-rubric.yaml")
INTENT = load_profile(ROOT / "examples" / "intent.yaml")
AS_OF = datetime(2026, 1, 31, tzinfo=UTC)
WHEN = datetime(2026, 2, 1, 9, 0)
RECORD = {"domain": "acme.com", "industry": "Internet", "employees": 120, "technologies": ["Salesforce"],
          "country": "US", "days_since_funding": 30}


def scorer(profile: Profile | dict[str, Any] = SEED) -> Scorer:
    return Scorer(profile if isinstance(profile, Profile) else Profile.model_validate({"name": "t", **profile}))


def error(profile: Profile, record: dict[str, Any], **kw: Any) -> IcpError:
    with pytest.raises(IcpError) as caught:
        scorer(profile).score(record, **kw)
    return caught.value


# -- what it returns ----------------------------------------------------------------------

def test_the_columns_of_bulk_scoring() -> None:
    out = scorer().score(RECORD, scored_at=WHEN)
    assert list(out) == ["domain", "fit_score", "tier", "abm_tier", "route", "disqualified_by", "reasons",
                         "points_industry", "points_employees", "points_technologies", "points_country",
                         "points_days_since_funding", "profile_version", "scored_at"]
    assert out["fit_score"] == 100.0 and out["tier"] == "high" and out["route"] == "ae_queue"
    assert out["abm_tier"] is None  # ABM tiers rank a population: bulk runs only
    assert out["profile_version"] == SEED.version_hash and out["scored_at"] == WHEN
    assert out["reasons"] == "industry: internet (+25); days_since_funding: funded in the last 90 days (+20); " \
                             "employees: in 50-500 (+20)"


def test_explain_adds_a_reason_per_criterion() -> None:
    out = scorer().score(RECORD | {"country": "Atlantis"}, explain=True)
    assert out["reason_country"] == "country: other value (0)"
    assert out["reason_technologies"] == "technologies: has Salesforce (+20)"


def test_a_path_names_the_profile() -> None:
    assert Scorer(ROOT / "examples" / "seed-rubric.yaml").score(RECORD)["fit_score"] == 100.0


def test_messy_values_read_as_bulk_reads_them() -> None:
    out = scorer().score({"Company Domain Name": "HTTPS://www.Acme.com/about", "Company name": "\u00a0Acme ",
                          "Industry": " COMPUTER SOFTWARE ", "Number of Employees": "10,001+",
                          "Tech Stack": "Slack; hubspot ,", "Country/Region": "United Kingdom",
                          "days_since_funding": "n/a"})
    assert out["domain"] == "acme.com" and out["name"] == "Acme"
    assert (out["points_industry"], out["points_employees"], out["points_technologies"], out["points_country"],
            out["points_days_since_funding"]) == (25.0, 0.0, 10.0, 7.0, 0.0)
    assert scorer().score(RECORD | {"employees": "51-200"})["points_employees"] == 20.0  # 125.5
    assert scorer().score(RECORD | {"employees": "625.01"})["points_employees"] == 0.0


@pytest.mark.parametrize("technologies,points", [("", 5.0), (";", 5.0), ([], 5.0), (None, 5.0), (["", None], 5.0),
                                                 ("HubSpot", 10.0), (["SALESFORCE", "x"], 20.0), (" salesforce ;", 20.0)])
def test_lists(technologies: Any, points: float) -> None:
    assert scorer().score(RECORD | {"technologies": technologies})["points_technologies"] == points


def test_a_none_value_is_missing_and_earns_the_missing_points() -> None:
    out = scorer().score({k: None for k in RECORD} | {"domain": "acme.com"})
    assert out["fit_score"] == 5.0 and out["reasons"] == "technologies: missing (+5)"


def test_the_profile_columns_mapping() -> None:
    profile = SEED.model_copy(update={"columns": {"employees": "Headcount (FTE)"}})
    record = {k: v for k, v in RECORD.items() if k != "employees"} | {"Headcount (FTE)": "1.2k"}
    assert Scorer(profile).score(record)["points_employees"] == 0.0
    with pytest.raises(MissingColumnError, match="names the column 'Headcount"):
        Scorer(profile).score(RECORD)


def test_records_without_a_domain_are_keyed_by_position() -> None:
    rows = [{k: v for k, v in RECORD.items() if k != "domain"}] * 3
    assert [r["row"] for r in scorer().score_many(rows)] == [1, 2, 3]
    assert "domain" not in scorer().score(rows[0])


def test_duplicate_domains_are_scored_each_on_its_own() -> None:
    out = scorer().score_many([RECORD, RECORD | {"industry": "retail"}])
    assert [r["fit_score"] for r in out] == [100.0, 75.0]


def test_disqualifiers_adjustments_and_clamping() -> None:
    demo = load_profile(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
    out = Scorer(demo).score(RECORD | {"employees": "5", "business_model": "Agency"})
    assert out["tier"] == "disqualify" and out["disqualified_by"] == "too_small"
    assert out["points_agency"] == -15.0
    assert out["reasons"].startswith("disqualified: fewer than 10 employees") and out["reasons"].endswith(
        "agencies churn within a year (-15)")
    low = scorer({"criteria": [{"field": "industry", "weight": 10, "levels": [{"values": ["x"], "points": 1}]}],
                  "adjustments": [{"name": "minus", "when": {"field": "industry", "eq": "x"}, "points": -40}]})
    assert low.score({"industry": "x"})["fit_score"] == 0.0


# -- what it refuses ----------------------------------------------------------------------

@pytest.mark.parametrize("field,value,message", [
    ("employees", "abc", "cannot read 'abc' as a number"),
    ("employees", True, "cannot read 'true' as a number"),
    ("days_since_funding", "1e400", "cannot read '1e400' as a number"),
    ("domain", "not a domain", "'not a domain' is not a domain name"),
    ("domain", "acme", "'acme' is not a domain name"),
    ("domain", None, "the domain is missing"),
    ("domain", "n/a", "the domain is missing"),
])
def test_unreadable_values_name_the_column_and_the_value(field: str, value: Any, message: str) -> None:
    exc = error(SEED, RECORD | {field: value})
    assert isinstance(exc, DataError) and exc.message == message
    assert exc.where == f"record, row 1, column '{field}'"


def test_every_bad_value_of_a_record_is_listed() -> None:
    exc = error(SEED, RECORD | {"domain": "http://", "employees": "many"})
    assert exc.message == "3 bad values in the record"
    assert [p.message for p in exc.errors] == ["'http://' is not a domain name", "cannot read 'many' as a number",
                                               "the domain is missing"]


def test_a_bad_record_of_a_batch_names_its_row() -> None:
    with pytest.raises(DataError) as caught:
        scorer().score_many([RECORD, RECORD | {"employees": "abc"}])
    assert caught.value.where == "record, row 2, column 'employees'"


def test_a_field_the_record_lacks_is_a_missing_column() -> None:
    exc = error(SEED, {k: v for k, v in RECORD.items() if k != "employees"} | {"employes": 5})
    assert isinstance(exc, MissingColumnError)
    assert exc.message == "the input has no column 'employees' (did you mean 'employes'?)"


def test_not_a_record() -> None:
    with pytest.raises(DataError, match="a record is a mapping"):
        scorer().score(["acme.com"])  # type: ignore[arg-type]


def test_intent_and_triggers_need_a_domain() -> None:
    assert "keyed by domain" in error(INTENT, {"name": "x"}).message
    triggers = Profile.model_validate({"name": "t", "triggers": [{"type": "funding_round"}], "criteria": [
        {"field": "days_since_funding_round", "weight": 1, "bins": [{"lte": 90, "points": 1}]}]})
    assert isinstance(error(triggers, {"name": "x"}), MissingColumnError)


@pytest.mark.parametrize("event,message,column", [
    ({"type": "demo_request", "occurred_at": "yesterday", "domain": "acme.com"},
     "cannot read 'yesterday' as a timestamp (write ISO 8601, e.g. 2026-01-31T09:30:00Z)", "occurred_at"),
    ({"type": " ", "occurred_at": "2026-01-30", "domain": "acme.com"}, "the event type is missing", "type"),
    ({"type": "Demo_Request", "occurred_at": "2026-01-30", "domain": None}, "the event has neither a domain nor an e-mail",
     "domain"),
])
def test_bad_events_it_reads_are_errors(event: dict[str, Any], message: str, column: str) -> None:
    good = {"type": "demo_request", "occurred_at": "2026-01-30", "domain": "acme.com"}
    exc = error(INTENT, {"domain": "acme.com"}, events=[good, event, event | {"event_id": "x"}], as_of=AS_OF)
    assert exc.message == message + " (2 rows in all)"
    assert exc.where == f"events, row 2, column '{column}'"


def test_events_it_does_not_read_are_not_checked() -> None:
    events = [{"type": "blog_view", "occurred_at": "not a date", "domain": "acme.com"},  # a type it does not use
              {"type": "demo_request", "occurred_at": "2026-02-10", "domain": None},  # after the as-of instant
              {"type": "demo_request", "occurred_at": "2026-01-31", "domain": "acme.com"}]
    assert scorer(INTENT).score({"domain": "acme.com"}, events=events, as_of=AS_OF)["intent_score"] == 30.0


def test_events_without_their_columns() -> None:
    exc = error(INTENT, {"domain": "acme.com"}, events=[{"kind": "demo_request", "when": "2026-01-30"}], as_of=AS_OF)
    assert isinstance(exc, MissingColumnError) and "no 'type' and no 'occurred_at'" in exc.message


# -- intent ------------------------------------------------------------------------------

def test_intent_without_events_is_zero() -> None:
    out = scorer(INTENT).score({"domain": "acme.com", "name": "Acme"}, scored_at=WHEN)
    assert list(out) == ["domain", "name", "intent_score", "buying_group", "buying_group_people", "intent_reasons",
                         "profile_version", "scored_at"]
    assert (out["intent_score"], out["buying_group"], out["buying_group_people"], out["intent_reasons"]) == \
        (0.0, False, 0, None)


def test_intent_of_the_example() -> None:
    at = "2026-01-30T12:00:00Z"
    events = [{"email": f"{p}@acme.com", "type": "security_doc_view", "occurred_at": at, "event_id": p}
              for p in ("ann", "bob", "carl")]
    events += [{"domain": "https://www.ACME.com/", "type": "Pricing_Page_View", "occurred_at": at}] * 2  # one event
    events += [{"domain": "other.com", "type": "demo_request", "occurred_at": at}]
    out = scorer(INTENT).score({"domain": "acme.com"}, events=events, as_of=AS_OF)
    w = 0.5 ** (0.5 / 14)  # half a day old
    assert out["buying_group"] is True and out["buying_group_people"] == 3
    assert out["intent_reasons"] == f"3 people viewed security docs or asked for a demo in the last 14 days (+20); " \
                                    f"security_doc_view x3 (+{round(15 * w, 1)}); pricing_page_view x1 (+{round(10 * w, 1)})"


def test_as_of_defaults_to_scored_at_and_takes_text_and_dates() -> None:
    events = [{"domain": "acme.com", "type": "demo_request", "occurred_at": "2026-01-31T00:00:00Z"}]
    s = scorer(INTENT)
    assert s.score({"domain": "acme.com"}, events=events, scored_at=datetime(2026, 1, 30))["intent_score"] == 0.0
    assert s.score({"domain": "acme.com"}, events=events, as_of="2026-01-31")["intent_score"] == 30.0
    assert s.score({"domain": "acme.com"}, events=events, as_of=date(2026, 1, 31))["intent_score"] == 30.0
    plus1 = datetime(2026, 1, 31, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # 23:30 UTC on the 30th
    assert s.score({"domain": "acme.com"}, events=events, as_of=plus1)["intent_score"] == 0.0
    with pytest.raises(IcpError, match="as an instant"):
        s.score({"domain": "acme.com"}, as_of="soon")


# -- against the independent evaluators -----------------------------------------------------

FIT_RECORD = st.fixed_dictionaries({
    "industry": st.one_of(st.none(), st.sampled_from(["computer software", "internet", "retail", "banking",
                                                     "information technology and services"])),
    "employees": st.one_of(st.none(), st.sampled_from([37.49, 37.5, 50.0, 500.0, 500.01, 625.0, 625.01]),
                           st.floats(min_value=-10, max_value=2000, allow_nan=False)),
    "technologies": st.one_of(st.none(), st.lists(st.sampled_from(["salesforce", "hubspot", "slack"]), max_size=3)),
    "country": st.one_of(st.none(), st.sampled_from(["US", "CA", "GB", "IE", "AU", "DE", "FR"])),
    "days_since_funding": st.one_of(st.none(), st.sampled_from([90.0, 90.5, 91.0, 365.0, 365.01]),
                                    st.floats(min_value=-10, max_value=1000, allow_nan=False)),
    "business_model": st.one_of(st.none(), st.sampled_from(["saas", "agency", "services"])),
})


@settings(max_examples=200, deadline=None)
@given(st.lists(FIT_RECORD, min_size=1, max_size=20))
def test_fit_agrees_with_the_reference_evaluator(records: list[dict[str, Any]]) -> None:
    for profile in (SEED, load_profile(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")):
        s = Scorer(profile)
        for rec in records:
            want = score_record(profile, rec)
            got = s.score({"domain": "d.example", **rec})
            assert {k: got[k] for k in want} == want


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_intent_agrees_with_the_reference_evaluator(data: st.DataObject) -> None:
    profile, as_of, events, bad = data.draw(scenarios())
    s = Scorer(profile)
    try:
        got = s.score_many([{"domain": d} for d in ACCOUNTS], events=events, as_of=as_of)
    except DataError:
        assert bad
        return
    expected = intent_scores(profile.intent, events, as_of)  # type: ignore[arg-type]
    for row in got:
        exp = expected.get(row["domain"], AccountIntent())
        if exp.near_rounding_edge():
            assert abs(row["intent_score"] - exp.score) <= 0.0100001
        else:
            assert row["intent_score"] == exp.score, (row, exp)
        assert row["buying_group"] == exp.buying_group
        if exp.buying_group:
            assert row["buying_group_people"] == exp.people


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_events_as_the_server_stores_them_score_as_the_events_given(data: st.DataObject) -> None:
    """The server hands its stored events over as tuples, read without checking them again
    (``events_stored``): the same scores as the events themselves, in the same order."""
    profile, as_of, events, _ = data.draw(scenarios())
    try:
        rows = event_rows(events)
    except DataError:
        return
    first: dict[str, dict[str, Any]] = {}
    for r in rows:  # stored once per id, the first copy
        first.setdefault(r["event_id"], r)
    stored = sorted(first.values(), key=lambda r: (-r["occurred_at"], r["event_id"]))  # as the store reads them
    given = [{**r, "occurred_at": from_micros(r["occurred_at"])} for r in stored]
    records = [{"domain": d} for d in ACCOUNTS]
    s = Scorer(profile)
    want = s.score_many(records, events=given, as_of=as_of, scored_at=as_of)
    tuples = [(r["domain"], r["email"], r["type"], r["occurred_at"]) for r in given]
    assert s.score_many(records, events=tuples, as_of=as_of, scored_at=as_of, events_stored=True) == want


def test_importing_the_scorer_loads_no_engine() -> None:
    code = ("import sys, icpkit; icpkit.Scorer; "
            "print(sorted(m for m in ('duckdb', 'ibis', 'pyarrow', 'sqlglot') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- personas -----------------------------------------------------------------------------

def test_personas_and_the_committee_as_worked_out_for_bulk() -> None:
    s = Scorer(PERSONAS)
    contacts, events = CONTACTS.to_pylist(), EVENTS.to_pylist()
    got = {r["domain"]: r for r in s.score_many([{"domain": d} for d in ("a.com", "b.com", "c.com")],
                                                events=events, contacts=contacts, as_of=AS_OF)}
    assert got["a.com"]["personas"] == "economic_buyer*, champion, technical_evaluator"
    assert (got["a.com"]["intent_score"], got["a.com"]["intent_reasons"]) == (10.0, "engaged economic_buyer (+10)")
    assert got["b.com"]["intent_reasons"] == "engaged economic_buyer (+10); demo_request x1 (+30)"
    assert (got["a.com"]["committee_coverage"], got["a.com"]["committee_engaged"]) == (1.0, 0.33)
    assert (got["c.com"]["personas"], got["c.com"]["committee_coverage"]) == (None, 0.0)


def test_contacts_without_the_columns_the_personas_read() -> None:
    with pytest.raises(MissingColumnError, match="uses column 'department'"):
        Scorer(PERSONAS).score({"domain": "a.com"}, contacts=[{"email": "ann@a.com", "title": "VP Sales"}])
    with pytest.raises(MissingColumnError, match="no 'email' column"):
        Scorer(PERSONAS).score({"domain": "a.com"}, contacts=[{"mail": "ann@a.com", "title": "x", "department": "y"}])
