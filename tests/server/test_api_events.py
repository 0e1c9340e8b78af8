"""POST /v1/events: stored once per event id, the accounts they touch rescored, nothing lost
with eight writers at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import icpkit
from icpkit.server.serve import open_service, publish_at_start
from icpkit.server.settings import Settings
from icpkit.workspace import Workspace
from tests.server.conftest import ROOT, Live
from tests.server.test_api_auth import error_of
from tests.server.test_api_scoring import publish

INTENT = ROOT / "examples" / "intent.yaml"
#: Two days ago: within the example's 14-day buying-group window of the scoring time.
RECENT = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(i: int, domain: str, kind: str, when: str = RECENT, person: int | None = None) -> dict:
    who = {"email": f"p{person}@{domain}"} if person is not None else {"domain": domain}
    return {"event_id": f"e{i}", "type": kind, "occurred_at": when, **who}


def settled(c, domain: str, timeout_s: float = 15.0) -> dict:
    """The account once the server has rescored it after new events."""
    deadline = time.monotonic() + timeout_s
    while True:
        account = c.get(f"/v1/accounts/{domain}").json()
        if not account["rescore_pending"] or time.monotonic() > deadline:
            return account
        time.sleep(0.02)


def test_events_rescore_the_accounts_they_touch_exactly_as_the_scorer(api: Live) -> None:
    publish(api, INTENT)
    accounts = [{"domain": "acme.com"}, {"domain": "globex.com"}]
    events = [event(1, "acme.com", "pricing_page_view"), event(2, "acme.com", "demo_request", person=1),
              event(3, "acme.com", "security_doc_view", person=2), event(4, "acme.com", "security_doc_view", person=3),
              event(5, "initech.com", "demo_request")]
    with api.client(api.writer) as c:
        assert c.post("/v1/score", json={"accounts": accounts}).status_code == 200
        r = c.post("/v1/events", json={"events": events})
        assert r.status_code == 200, r.text
        assert r.json() == {"received": 5, "added": 5, "duplicates": 0, "rescoring": 1}  # initech is not stored
        acme = settled(c, "acme.com")
        assert c.get("/v1/accounts/globex.com").json()["result"]["intent_score"] == 0
        assert c.get("/v1/health").json()["rescore_pending"] == 0  # the backlog, for monitoring
    at = datetime.fromisoformat(acme["result"]["scored_at"])
    expected = icpkit.Scorer(INTENT).score({"domain": "acme.com"}, events=events, as_of=at, scored_at=at)
    for key in ("intent_score", "buying_group", "buying_group_people", "intent_reasons"):
        assert acme["result"][key] == expected[key], key
    assert acme["result"]["buying_group"] is True
    assert [e["event_id"] for e in acme["recent_events"]] == ["e1", "e2", "e3", "e4"]


def test_an_event_id_is_stored_once(api: Live) -> None:
    publish(api, INTENT)
    with api.client(api.writer) as c:
        first = c.post("/v1/events", json={"events": [event(1, "acme.com", "demo_request"),
                                                      event(1, "acme.com", "pricing_page_view")]}).json()
        again = c.post("/v1/events", json={"events": [event(1, "acme.com", "careers_page_view"),
                                                      event(2, "acme.com", "demo_request")]}).json()
    assert (first["added"], first["duplicates"], again["added"], again["duplicates"]) == (1, 1, 1, 1)
    stored = api.service.store.events(["acme.com"])
    assert sorted((e["event_id"], e["type"]) for e in stored) == [("e1", "demo_request"), ("e2", "demo_request")]


def test_a_bad_event_is_refused_with_its_place_and_the_batch_is_not_stored(api: Live) -> None:
    publish(api, INTENT)
    events = [event(1, "acme.com", "demo_request"), event(2, "acme.com", "demo_request", when="yesterday")]
    with api.client(api.writer) as c:
        body = error_of(c.post("/v1/events", json={"events": events}), 422)
    assert "row 2" in body["errors"][0]["where"] and "occurred_at" in body["errors"][0]["where"]
    assert api.service.store.events(["acme.com"]) == []


def test_eight_writers_at_once_lose_nothing(api: Live) -> None:
    publish(api, INTENT)
    with api.client(api.writer) as c:
        c.post("/v1/score", json={"accounts": [{"domain": f"a{i}.com"} for i in range(20)]})
    failures: list[str] = []

    def write(w: int) -> None:
        with api.client(api.writer) as c:
            for b in range(5):
                batch = [{"event_id": f"w{w}-b{b}-{i}", "domain": f"a{i % 20}.com", "type": "pricing_page_view",
                          "occurred_at": "2026-11-20T10:00:00Z"} for i in range(40)]
                r = c.post("/v1/events", json={"events": batch})
                if r.status_code != 200 or r.json()["added"] != 40:
                    failures.append(r.text)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    stored = api.service.store.events([f"a{i}.com" for i in range(20)])
    assert len(stored) == len({e["event_id"] for e in stored}) == 8 * 5 * 40


def test_events_stored_while_their_account_is_scored_are_scored_in_the_next_round(
        store_settings: tuple[Workspace, dict[str, Any]]) -> None:
    """The rescoring leaves the store free while it scores (event batches are not held up
    by it), so an event may be stored meanwhile: its account's mark then stays, and the
    next round scores it."""
    workspace, values = store_settings
    first, later = event(1, "acme.com", "pricing_page_view"), event(2, "acme.com", "demo_request", person=1)
    with open_service(workspace, Settings(**values)) as service:  # (no server: no rescoring thread)
        publish_at_start(service, INTENT)
        service.score([{"domain": "acme.com"}])
        service.add_events([first])
        scorer = service.active()
        score_many = scorer.score_many

        def scoring_while_an_event_arrives(*args: Any, **kwargs: Any) -> Any:
            del scorer.score_many  # once
            writer = threading.Thread(target=service.add_events, args=([later],))
            writer.start()
            writer.join(timeout=20)
            assert not writer.is_alive(), "the event waited for the rescoring"
            return score_many(*args, **kwargs)

        scorer.score_many = scoring_while_an_event_arrives  # type: ignore[method-assign]
        assert service.rescore_pending() == 1
        assert service.store.is_pending("acme.com")
        assert service.rescore_pending() == 1
        assert not service.store.is_pending("acme.com") and service.rescore_pending() == 0
        result = service.account("acme.com")["result"]
    at = datetime.fromisoformat(result["scored_at"])
    expected = icpkit.Scorer(INTENT).score({"domain": "acme.com"}, events=[first, later], as_of=at, scored_at=at)
    assert result["intent_score"] == expected["intent_score"]
    assert expected["intent_score"] != icpkit.Scorer(INTENT).score(
        {"domain": "acme.com"}, events=[first], as_of=at, scored_at=at)["intent_score"]
