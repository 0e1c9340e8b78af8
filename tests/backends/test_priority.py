"""Priority on DuckDB: fit and intent blended by funnel stage, and tiers, routes and ABM tiers
decided by fit, intent or priority (``priority.tiers_on``). The numbers are worked out here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

import icpkit
from icpkit.profile.model import Profile

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)

# domain: (industry, lifecycle_stage, demo requests); fit is 100 for software, 50 for retail;
# each demo request earns 30 intent points (no decay).
ACCOUNTS = {
    "a.com": ("software", "Lead", 0),  # 80/20: priority 80
    "b.com": ("software", "opportunity", 0),  # 30/70: priority 30, a high fit waiting for signals
    "c.com": ("retail", " Opportunity ", 3),  # 30/70: 15 + 63 = 78
    "d.com": ("retail", None, 1),  # otherwise 50/50: 25 + 15 = 40
    "e.com": ("software", "churned", 3),  # otherwise 50/50: 50 + 45 = 95
    "rival.com": ("software", "opportunity", 3),  # 93, but disqualified: its forced tier, no ABM tier
}
PRIORITY = {"a.com": 80.0, "b.com": 30.0, "c.com": 78.0, "d.com": 40.0, "e.com": 95.0, "rival.com": 93.0}


def profile(tiers_on: str) -> Profile:
    return Profile.model_validate({
        "name": "p",
        "criteria": [{"field": "industry", "weight": 100, "levels": [
            {"values": ["software"], "points": 100}, {"values": ["retail"], "points": 50}], "otherwise": 0, "missing": 0}],
        "disqualifiers": [{"name": "rival", "when": {"field": "domain", "in": ["rival.com"]}, "reason": "a competitor"}],
        "intent": {"signals": [{"type": "demo_request", "points": 30}]},
        "priority": {"stages": [{"values": ["lead"], "fit": 80, "intent": 20},
                                {"values": ["Opportunity"], "fit": 3, "intent": 7}],
                     "otherwise": {"fit": 1, "intent": 1}, "tiers_on": tiers_on},
        "abm": {"tier": "high", "a": 1, "b": 1},
    })


def scores(tiers_on: str) -> dict[str, dict[str, Any]]:
    names = list(ACCOUNTS)
    accounts = pa.table({"domain": names, "industry": [ACCOUNTS[d][0] for d in names],
                         "lifecycle_stage": [ACCOUNTS[d][1] for d in names]})
    events = [(f"{d}-{i}", d, "demo_request", f"2026-01-{10 + i}T09:00:00Z")
              for d, (_, _, n) in ACCOUNTS.items() for i in range(n)]
    table = pa.table({k: [e[i] for e in events] for i, k in enumerate(("event_id", "domain", "type", "occurred_at"))})
    out = icpkit.score(profile(tiers_on), accounts, events=table, as_of=AS_OF).to_pylist()
    return {r["domain"]: r for r in out}


def test_priority_blends_fit_and_intent_by_stage() -> None:
    got = scores("fit")
    assert {d: r["priority"] for d, r in got.items()} == PRIORITY
    assert {d: r["intent_score"] for d, r in got.items()} == {d: 30.0 * n for d, (_, _, n) in ACCOUNTS.items()}


@pytest.mark.parametrize("tiers_on,tiers,abm", [
    # fit: the software accounts are high; ABM ranks a.com and e.com (tied at 100) by domain
    ("fit", {"a.com": "high", "b.com": "high", "c.com": "monitor", "d.com": "monitor", "e.com": "high"},
     {"a.com": "A", "b.com": "B", "e.com": "C"}),
    # priority: b.com waits for signals; ABM ranks by priority: e.com 95, a.com 80, c.com 78
    ("priority", {"a.com": "high", "b.com": "disqualify", "c.com": "high", "d.com": "monitor", "e.com": "high"},
     {"e.com": "A", "a.com": "B", "c.com": "C"}),
    # intent: only the accounts with 3 demo requests (90) are high; c.com and e.com tie, by domain
    ("intent", {"a.com": "disqualify", "b.com": "disqualify", "c.com": "high", "d.com": "disqualify",
                "e.com": "high"}, {"c.com": "A", "e.com": "B"}),
])
def test_tiers_routes_and_abm_tiers_follow_tiers_on(tiers_on: str, tiers: dict[str, str], abm: dict[str, str]) -> None:
    got = scores(tiers_on)
    routes = {"high": "ae_queue", "monitor": "nurture", "disqualify": "suppress"}
    assert got["rival.com"]["tier"] == "disqualify" and got["rival.com"]["disqualified_by"] == "rival"
    assert got["rival.com"]["abm_tier"] is None
    del got["rival.com"]
    assert {d: r["tier"] for d, r in got.items()} == tiers
    assert {d: r["route"] for d, r in got.items()} == {d: routes[t] for d, t in tiers.items()}
    assert {d: r["abm_tier"] for d, r in got.items() if r["abm_tier"] is not None} == abm
