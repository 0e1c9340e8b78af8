"""Personas and the buying committee on DuckDB: contacts matched to personas, engaged by any
event of theirs in the committee's window, their points added to intent, and the committee's
coverage. The numbers are worked out here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

import icpkit
from icpkit.profile.model import Profile

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)

PROFILE = Profile.model_validate({
    "name": "p",
    "intent": {"signals": [{"type": "demo_request", "points": 30}]},
    "personas": [
        {"name": "economic_buyer", "when": {"field": "title", "contains_any": ["vp sales", "chief revenue"]},
         "points": 10},
        {"name": "champion", "when": {"field": "title", "contains_any": ["revops"]}, "points": 5},
        {"name": "technical_evaluator", "when": {"field": "department", "eq": "it"}},
    ],
    "committee": {"roles": ["economic_buyer", "champion", "technical_evaluator"], "engaged_days": 30},
})

CONTACTS = pa.table({
    "email": ["ann@a.com", "Bob@A.com", "cy@a.com", "dee@b.com", "eve@gmail.com"],
    "title": ["VP Sales", "RevOps Manager", "Engineer", "Chief Revenue Officer", "VP Sales"],
    "department": ["sales", "ops", " IT ", None, "sales"],
})

EVENTS = pa.table({
    "event_id": ["1", "2", "3", "4", "5"],
    "email": ["ANN@a.com", "bob@a.com", "dee@b.com", "cy@a.com", "eve@gmail.com"],
    "type": ["blog_view", "blog_view", "demo_request", "blog_view", "demo_request"],
    "occurred_at": ["2026-01-20T10:00:00Z",  # any event makes a person engaged
                    "2025-12-01T10:00:00Z",  # more than 30 days before: not engaged
                    "2026-01-30T10:00:00Z",
                    "2026-02-02T10:00:00Z",  # after the as-of instant
                    "2026-01-30T10:00:00Z"],  # free mail: no account
})


def scores() -> dict[str, dict[str, Any]]:
    accounts = pa.table({"domain": ["a.com", "b.com", "c.com"]})
    out = icpkit.score(PROFILE, accounts, events=EVENTS, contacts=CONTACTS, as_of=AS_OF).to_pylist()
    return {r["domain"]: r for r in out}


def test_personas_present_and_engaged_and_their_points() -> None:
    got = scores()
    assert got["a.com"]["personas"] == "economic_buyer*, champion, technical_evaluator"
    assert got["a.com"]["intent_score"] == 10.0
    assert got["a.com"]["intent_reasons"] == "engaged economic_buyer (+10)"
    assert got["b.com"]["personas"] == "economic_buyer*"
    assert got["b.com"]["intent_score"] == 40.0
    assert got["b.com"]["intent_reasons"] == "engaged economic_buyer (+10); demo_request x1 (+30)"
    assert got["c.com"]["personas"] is None and got["c.com"]["intent_score"] == 0.0
    assert all(isinstance(r["intent_score"], float) for r in got.values())


def test_committee_coverage_and_engagement() -> None:
    got = scores()
    assert (got["a.com"]["committee_coverage"], got["a.com"]["committee_engaged"]) == (1.0, 0.33)
    assert (got["b.com"]["committee_coverage"], got["b.com"]["committee_engaged"]) == (0.33, 0.33)
    assert (got["c.com"]["committee_coverage"], got["c.com"]["committee_engaged"]) == (0.0, 0.0)
