"""The one-record Scorer agrees exactly with bulk scoring on DuckDB: the same raw records
(messy strings, CRM headers, native types) scored in one ``icpkit.score`` call and one by
one through :class:`icpkit.Scorer` give every column the same value (floats exactly), except
``abm_tier``, which needs the population and is None for one record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icpkit
from icpkit.errors import DataError
from icpkit.profile.load import load_profile
from icpkit.profile.model import Profile
from tests.backends.test_intent import ACCOUNTS, AS_OF, DAY, EXAMPLE, events_table, render, scenarios
from tests.backends.test_personas import PROFILE as PERSONAS
from tests.backends.test_scoring_oracle import SEED, profiles
from tests.strategies import raw_accounts

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_profile(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
SCORED_AT = datetime(2026, 2, 1, 8, 30, 15, 123456, tzinfo=UTC)
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def same(bulk: list[dict[str, Any]], one: list[dict[str, Any]]) -> None:
    """Every column of every row equal, of the same type; ``abm_tier`` None for one record."""
    assert len(bulk) == len(one)
    for b, o in zip(bulk, one):
        assert o.pop("abm_tier", None) is None
        b.pop("abm_tier", None)
        assert list(o) == list(b), (list(o), list(b))
        for key, value in b.items():
            assert o[key] == value and type(o[key]) is type(value), (key, value, o[key], b, o)


def both(profile: Profile, rows: list[dict[str, Any]], table: pa.Table, *, events: list[dict[str, Any]] | None = None,
         contacts: list[dict[str, Any]] | None = None, as_of: datetime | None = None, explain: bool = False) -> None:
    kw: dict[str, Any] = {"scored_at": SCORED_AT, "as_of": as_of, "explain": explain}
    bulk = icpkit.score(profile, table, events=None if events is None else events_table(events),
                        contacts=None if contacts is None else text_table(contacts), **kw).to_pylist()
    scorer = icpkit.Scorer(profile)
    one = [scorer.score(r, events=events, contacts=contacts, **kw) for r in rows]
    for i, o in enumerate(one, 1):
        if "row" in o:  # one record is row 1; in a batch, its position (as bulk numbers rows)
            assert o["row"] == 1
            o["row"] = i
    same(bulk, one)
    same(bulk, scorer.score_many(rows, events=events, contacts=contacts, **kw))


def text_table(rows: list[dict[str, Any]]) -> pa.Table:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({k: pa.array([r.get(k) for r in rows], pa.string()) for k in keys})


# -- fit ------------------------------------------------------------------------------------

@SLOW
@given(raw_accounts(), st.booleans())
def test_seed_rubric(accounts: tuple[list[dict[str, Any]], pa.Table], explain: bool) -> None:
    both(SEED, *accounts, explain=explain)


@SLOW
@given(raw_accounts(), st.booleans())
def test_demo_profile(accounts: tuple[list[dict[str, Any]], pa.Table], explain: bool) -> None:
    both(DEMO, *accounts, explain=explain)


@SLOW
@given(profiles(), raw_accounts(max_size=15), st.booleans())
def test_random_profiles(profile: Profile, accounts: tuple[list[dict[str, Any]], pa.Table], explain: bool) -> None:
    both(profile, *accounts, explain=explain)


# -- intent ---------------------------------------------------------------------------------

def with_fit(profile: Profile) -> Profile:
    return Profile.model_validate(profile.model_dump(by_alias=True, exclude_defaults=True) | {
        "criteria": [{"field": "industry", "weight": 10, "levels": [{"values": ["software"], "points": 10}]},
                     {"field": "employees", "weight": 5, "range": {"min": 50, "max": 500}}]})


@SLOW
@given(scenarios(), st.booleans(), st.data())
def test_intent(case: tuple[Profile, datetime, list[dict[str, Any]], bool], fit: bool, data: st.DataObject) -> None:
    profile, as_of, events, bad = case
    if fit:
        profile = with_fit(profile)
    rows, table = data.draw(raw_accounts(domains=ACCOUNTS, keyed=True))
    if bad:  # bulk stops at the first bad event it reads (of those it reads): the Scorer says the same
        try:
            icpkit.score(profile, table, events=events_table(events), as_of=as_of, scored_at=SCORED_AT)
        except DataError as bulk:
            with pytest.raises(DataError) as one:
                icpkit.Scorer(profile).score(rows[0], events=events, as_of=as_of, scored_at=SCORED_AT)
            assert one.value.message == bulk.message
            assert one.value.where.split(", ", 1)[1] == bulk.where.split(", ", 1)[1]
            return
    both(profile, rows, table, events=events, as_of=as_of)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["acme.com", "beta.io", "gamma.co.uk"]),
                          st.sampled_from(["pricing_page_view", "demo_request", "security_doc_view",
                                           "careers_page_view", "webinar"]),
                          st.sampled_from(["ann", "bob", "Carl", "dora", "eve"]),
                          st.sampled_from([-14 * DAY, 0]) | st.integers(-30 * DAY, DAY), st.integers(0, 4)),
                max_size=60), st.data())
def test_intent_example(events: list[tuple[str, str, str, int, int]], data: st.DataObject) -> None:
    rows = [{"event_id": f"e{i}", "email": f"{p}@{d}", "type": t, "occurred_at": render(AS_OF + timedelta(seconds=s), f)}
            for i, (d, t, p, s, f) in enumerate(events)]
    accounts = data.draw(raw_accounts(domains=["acme.com", "beta.io", "gamma.co.uk", "quiet.org"], keyed=True))
    both(EXAMPLE, *accounts, events=rows, as_of=AS_OF)


# -- personas, committee and priority ---------------------------------------------------------

TITLES = ["VP Sales", "vp sales ", "Chief Revenue Officer", "RevOps Manager", "Engineer", "IT admin", None, "n/a",
          "Head of Revenue Operations"]
DEPARTMENTS = ["sales", "ops", " IT ", "it", None, "marketing", "-"]
PEOPLE = ["ann", "bob", "cy", "dee", "eve"]
DOMAINS = ["a.com", "b.com", "c.com"]


def priority_profile(tiers_on: str, committee: bool) -> Profile:
    data = PERSONAS.model_dump(by_alias=True, exclude_defaults=True)
    if not committee:
        data.pop("committee", None)
    return Profile.model_validate(data | {
        "criteria": [{"field": "industry", "weight": 100, "levels": [
            {"values": ["software"], "points": 100}, {"values": ["retail"], "points": 50}]}],
        "intent": {"signals": [{"type": "demo_request", "points": 30}, {"type": "pricing_page_view", "points": 7.5,
                                                                        "decay": {"half_life_days": 7}}],
                   "buying_group": {"types": ["demo_request"], "min_people": 2, "window_days": 10, "points": 12.5,
                                    "people_per_1000_employees": 3}},
        "priority": {"stages": [{"values": ["lead"], "fit": 80, "intent": 20},
                                {"values": ["Opportunity"], "fit": 3, "intent": 7}],
                     "otherwise": {"fit": 1, "intent": 1}, "tiers_on": tiers_on},
        "disqualifiers": [{"name": "rival", "when": {"field": "domain", "in": ["c.com"]}, "reason": "a competitor"}],
    })


@st.composite
def committee_case(draw: st.DrawFn) -> tuple[Profile, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    profile = priority_profile(draw(st.sampled_from(["fit", "intent", "priority"])), draw(st.booleans()))
    contacts = []
    for person in draw(st.lists(st.sampled_from(PEOPLE), max_size=5, unique=True)):
        for domain in draw(st.lists(st.sampled_from([*DOMAINS, "gmail.com"]), min_size=1, max_size=2, unique=True)):
            contact = {"email": f"{draw(st.sampled_from([person, person.upper()]))}@{domain}",
                       "title": draw(st.sampled_from(TITLES)), "department": draw(st.sampled_from(DEPARTMENTS))}
            if draw(st.integers(0, 4)) == 0:
                contact["domain"] = draw(st.sampled_from(DOMAINS))  # the given domain wins over the e-mail's
            contacts.append(contact)
    events = []
    for i in range(draw(st.integers(0, 25))):
        who = draw(st.sampled_from(PEOPLE))
        at = AS_OF + timedelta(seconds=draw(st.sampled_from([-30 * DAY, -30 * DAY - 1, -10 * DAY, 0, 1])
                                            | st.integers(-40 * DAY, DAY)))
        events.append({"event_id": f"e{i}", "email": f"{who}@{draw(st.sampled_from([*DOMAINS, 'gmail.com']))}",
                       "type": draw(st.sampled_from(["demo_request", "pricing_page_view", "blog_view"])),
                       "occurred_at": render(at, draw(st.integers(0, 4))), "domain": None})
    accounts = {"domain": DOMAINS, "industry": [draw(st.sampled_from(["software", "retail", None])) for _ in DOMAINS],
                "lifecycle_stage": [draw(st.sampled_from(["Lead", " opportunity ", "churned", None])) for _ in DOMAINS],
                "employees": [draw(st.sampled_from([None, "100", "1,000", "5k"])) for _ in DOMAINS]}
    rows = [dict(zip(accounts, values)) for values in zip(*accounts.values())]
    return profile, rows, contacts, events


@SLOW
@given(committee_case())
def test_personas_committee_and_priority(case: tuple[Profile, list[dict[str, Any]], list[dict[str, Any]],
                                                     list[dict[str, Any]]]) -> None:
    profile, rows, contacts, events = case
    table = pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))
    contacts.append({"email": "nobody@nowhere.org", "title": None, "department": None})  # a table has columns
    both(profile, rows, table, events=events, contacts=contacts, as_of=AS_OF)


# -- triggers -------------------------------------------------------------------------------

TRIGGERS = Profile.model_validate({
    "name": "t",
    "triggers": [{"type": "funding_round", "window_days": 365}, {"type": "Exec Hire", "name": "hire"}],
    "criteria": [
        {"field": "days_since_funding_round", "weight": 20, "bins": [{"lte": 90, "points": 20}, {"lte": 365, "points": 10}],
         "missing": 2},
        {"field": "funding_round_count_365d", "weight": 10, "bins": [{"gte": 2, "points": 10}, {"gte": 1, "points": 4}]},
        {"field": "industry", "weight": 10, "levels": [{"values": ["software"], "points": 10}]},
    ],
    "adjustments": [{"name": "new_exec", "when": {"field": "days_since_hire", "lt": 30.5}, "points": 5}],
})


@SLOW
@given(st.lists(st.tuples(st.sampled_from(["acme.com", "beta.io", "ACME.com"]),
                          st.sampled_from(["funding_round", "Funding_Round", "exec hire", "blog_view"]),
                          st.sampled_from([0, -90 * DAY, -365 * DAY, -365 * DAY - 1]) | st.integers(-800 * DAY, DAY),
                          st.integers(0, 4)), max_size=20), st.data())
def test_triggers(events: list[tuple[str, str, int, int]], data: st.DataObject) -> None:
    rows = [{"event_id": None, "domain": d, "email": None, "type": t,
             "occurred_at": render(AS_OF + timedelta(seconds=s, microseconds=s % 7), f)}
            for d, t, s, f in events]
    accounts = data.draw(raw_accounts(domains=["acme.com", "beta.io", "gamma.co.uk"], keyed=True))
    both(TRIGGERS, *accounts, events=rows, as_of=AS_OF)


# -- bad values: the same error ----------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("employees", "abc"), ("employees", "1,2,3"), ("employees", "12.5.3"), ("days_since_funding", "soon"),
    ("domain", "not a domain"), ("domain", "acme"), ("domain", "http://"), ("domain", None), ("domain", " n/a "),
])
def test_bad_values_raise_the_bulk_error(field: str, value: Any) -> None:
    record = {"domain": "acme.com", "industry": "internet", "employees": "120", "technologies": "salesforce",
              "country": "US", "days_since_funding": "30"} | {field: value}
    table = pa.Table.from_pylist([record], schema=pa.schema([(k, pa.string()) for k in record]))
    with pytest.raises(DataError) as bulk:
        icpkit.score(SEED, table)
    with pytest.raises(DataError) as one:
        icpkit.Scorer(SEED).score(record)
    assert [p.message for p in one.value.errors] == [p.message for p in bulk.value.errors]
    assert [p.where.split(", ", 1)[1] for p in one.value.errors] == [p.where.split(", ", 1)[1] for p in bulk.value.errors]


def test_a_missing_column_raises_the_bulk_error() -> None:
    record = {"domain": "acme.com", "industry": "internet", "employes": "120", "technologies": "salesforce"}
    table = pa.Table.from_pylist([record], schema=pa.schema([(k, pa.string()) for k in record]))
    with pytest.raises(DataError) as bulk:
        icpkit.score(SEED, table)
    with pytest.raises(DataError) as one:
        icpkit.Scorer(SEED).score(record)
    assert type(one.value) is type(bulk.value)
    assert one.value.message == bulk.value.message
    assert one.value.hint == bulk.value.hint


def test_a_one_row_run_and_one_record_agree_without_a_domain() -> None:
    rows = [{"industry": "Internet", "employees": "51-200", "technologies": "Salesforce", "country": "USA",
             "days_since_funding": "89.5"}]
    table = pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))
    both(SEED, rows, table, explain=True)
