"""Keys, scopes and limits on a real server: who may do what, and what a refusal says."""

from __future__ import annotations

import time

import pytest

from icpkit.server.app import HEALTH_TTL_S
from tests.server.conftest import Live
from tests.server.test_api_scoring import ACME, SEED, publish


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status and body["error"] and body["errors"]
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer icp_nope_nope"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer"}])
def test_no_key_or_a_wrong_one_is_401(api: Live, headers: dict[str, str]) -> None:
    with api.client(**headers) as c:
        for method, path in (("GET", "/v1/accounts"), ("POST", "/v1/score"), ("GET", "/v1/profiles")):
            r = c.request(method, path, json={"accounts": [ACME]} if method == "POST" else None)
            error_of(r, 401)
            assert r.headers["www-authenticate"] == "Bearer"


def test_a_key_with_the_right_id_but_another_secret_is_refused(api: Live) -> None:
    forged = api.reader.rsplit("_", 1)[0] + "_" + "x" * 32
    with api.client(forged) as c:
        error_of(c.get("/v1/accounts"), 401)


def test_scopes_nest_read_write_admin(api: Live) -> None:
    publish(api, SEED)
    with api.client(api.reader) as c:
        assert c.get("/v1/accounts").status_code == 200
        assert "write" in error_of(c.post("/v1/score", json={"accounts": [ACME]}), 403)["error"]
        error_of(c.post("/v1/events", json={"events": []}), 403)
        error_of(c.post("/v1/profiles", json={"yaml": SEED.read_text()}), 403)
    with api.client(api.writer) as c:
        assert c.post("/v1/score", json={"accounts": [ACME]}).status_code == 200
        assert c.post("/v1/profiles", json={"yaml": SEED.read_text()}).status_code == 201
        assert "admin" in error_of(c.post("/v1/profiles/2/publish"), 403)["error"]
    with api.client(api.admin) as c:
        assert c.post("/v1/profiles/2/publish").status_code == 200


def test_a_revoked_key_stops_working(api: Live) -> None:
    key, key_id = api.service.create_key("read")
    with api.client(key) as c:
        assert c.get("/v1/accounts").status_code == 200
        api.service.revoke_key(key_id)
        error_of(c.get("/v1/accounts"), 401)
    listed = {k["key_id"]: k for k in api.service.list_keys()}
    assert listed[key_id]["revoked_at"] is not None and "key_hash" not in listed[key_id]


def test_keys_are_stored_hashed(api: Live) -> None:
    stored = api.service.store.keys()
    assert len(stored) == 3
    for row in stored:
        assert len(row["key_hash"]) == 64 and all(row["key_hash"] not in k for k in (api.admin, api.writer, api.reader))


@pytest.mark.parametrize("api_settings", [{"max_body_bytes": 2000}])
def test_a_body_over_the_limit_is_413_and_nothing_is_stored(api: Live) -> None:
    publish(api, SEED)
    big = [dict(ACME, domain=f"a{i}.com") for i in range(40)]
    with api.client(api.writer) as c:
        error_of(c.post("/v1/score", json={"accounts": big}), 413)
        # the same without a Content-Length: streamed in chunks
        chunks = (b'{"accounts": [' + b",".join(b'{"domain": "a%d.com"}' % i for i in range(200)) + b"]}",)
        error_of(c.post("/v1/score", content=iter(chunks), headers={"content-type": "application/json"}), 413)
        assert c.get("/v1/accounts").json()["accounts"] == []


@pytest.mark.parametrize("api_settings", [{"max_records": 5}])
def test_too_many_records_in_one_request_is_refused(api: Live) -> None:
    publish(api, SEED)
    with api.client(api.writer) as c:
        body = error_of(c.post("/v1/score", json={"accounts": [dict(ACME, domain=f"a{i}.com") for i in range(6)]}),
                        422)
        assert "at most 5" in body["error"] and body["errors"][0]["where"] == "accounts"


@pytest.mark.parametrize("api_settings", [{"rate_limit_per_s": 2.0}])
def test_the_rate_limit_is_per_key_with_retry_after(api: Live) -> None:
    with api.client(api.reader) as c:
        codes = [c.get("/v1/profiles").status_code for _ in range(8)]
        assert codes[:4] == [200] * 4 and 429 in codes
        r = c.get("/v1/profiles")
        error_of(r, 429)
        assert int(r.headers["retry-after"]) >= 1
    with api.client(api.writer) as c:  # another key has its own allowance
        assert c.get("/v1/profiles").status_code == 200


def test_health_needs_no_key_and_reads_the_store_at_most_once_a_fifth_of_a_second(api: Live) -> None:
    reads = []
    count = api.service.store.pending_count
    api.service.store.pending_count = lambda: reads.append(1) or count()  # type: ignore[method-assign]
    with api.client() as c:
        started = time.monotonic()
        answers = [c.get("/v1/health") for _ in range(200)]
        took = time.monotonic() - started
        assert {a.status_code for a in answers} == {200} and answers[-1].json()["rescore_pending"] == 0
        assert len(reads) <= took / HEALTH_TTL_S + 1, (len(reads), took)
        version = publish(api, SEED)
        time.sleep(HEALTH_TTL_S)
        assert c.get("/v1/health").json()["active_profile"] == version  # and it follows the store


def test_an_idempotency_key_replays_the_first_response(api: Live) -> None:
    publish(api, SEED)
    events = {"events": [{"event_id": "e1", "domain": "acme.com", "type": "demo_request",
                          "occurred_at": "2026-11-01T10:00:00Z"}]}
    with api.client(api.writer, **{"Idempotency-Key": "k-1"}) as c:
        first = c.post("/v1/events", json=events)
        again = c.post("/v1/events", json=events)
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json() and first.json()["added"] == 1
        assert again.headers["idempotent-replayed"] == "true"
        error_of(c.post("/v1/score", json={"accounts": [ACME]}), 400)  # same key, another request
    with api.client(api.writer) as c:  # without the header, a repeat is a new request
        assert c.post("/v1/events", json=events).json()["added"] == 0


def test_unknown_routes_and_methods_have_the_error_shape(api: Live) -> None:
    with api.client(api.reader) as c:
        error_of(c.get("/v1/nothing"), 404)
        error_of(c.delete("/v1/accounts"), 405)
        error_of(c.get("/v1/accounts", params={"limit": 0}), 422)
        error_of(c.get("/v1/accounts", params={"min_score": "high"}), 422)


@pytest.mark.parametrize("path, body", [
    ("/v1/events", '{"events": [{"event_id": "x\\u0000", "domain": "acme.com", "type": "demo_request", '
                   '"occurred_at": "2026-11-01T10:00:00Z"}]}'),
    ("/v1/events", '{"events": [{"event_id": "\\ud800", "domain": "acme.com", "type": "demo_request", '
                   '"occurred_at": "2026-11-01T10:00:00Z"}]}'),
    ("/v1/score", '{"accounts": [{"domain": "a\\u0000.com"}]}'),
    ("/v1/score", '{"accounts": [{"domain": "\\udc80.com"}]}'),
    ("/v1/leads", '{"leads": [{"email": "a@b\\u0000.com"}]}'),
    ("/v1/profiles/validate", '{"yaml": "\\ud800"}'),
    ("/v1/profiles", '{"yaml": "name: x\\u000c"}'),
])
def test_nul_characters_and_lone_surrogates_are_refused_on_every_store(api: Live, path: str, body: str) -> None:
    publish(api, SEED.parent / "intent.yaml")
    with api.client(api.admin, **{"Content-Type": "application/json"}) as c:
        error_of(c.post(path, content=body.encode()), 422)
