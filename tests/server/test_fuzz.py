"""A schema-driven fuzz of the API (schemathesis): every operation of the OpenAPI document,
sent with the admin key to a real server over each store, must answer without a server
error, and every error must have the one shape ``{"ok": false, "error", "errors", "status"}``
with ``status`` the HTTP status.

Two tests:

* ``test_fuzz``: schemathesis's phases for each operation (the coverage cases it derives from
  the schema, then ``FUZZ.max_examples`` generated ones, positive and negative), derandomised
  so that every run sends the same requests;
* ``test_edge_values``: each query and path parameter and each top-level text property of a
  body, in turn, set to the edge values of its type (NUL and control characters, the ends of
  the date range with an offset, integers past 64 bits...), which random generation seldom
  reaches; every failure is listed at once.

The server holds data first, so the operations do real work: two profile versions (the
seed rubric and the intent example, both published, the intent one active), three scored
accounts and three events.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

import requests  # noqa: E402  (a dependency of schemathesis)
from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.server.conftest import ROOT, SEED, Live  # noqa: E402
from tests.server.test_api_scoring import ACME, publish  # noqa: E402

INTENT = ROOT / "examples" / "intent.yaml"

#: Generated examples per operation (each also gets schemathesis's coverage cases, not counted
#: here). Derandomised: the examples depend only on the schema and on the source of
#: ``test_fuzz`` (its docstring included: editing it draws other examples).
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink])

ACCOUNTS = [ACME,
            {**ACME, "domain": "globex.io", "industry": "Computer Software", "employees": 300,
             "technologies": "HubSpot", "country": "CA", "days_since_funding": 30},
            {**ACME, "domain": "initech.co.uk", "industry": "Marketing and Advertising", "employees": "11-50",
             "technologies": "", "country": "GB"}]
EVENTS = [{"event_id": "e1", "type": "pricing_page_view", "occurred_at": "2026-01-20T10:00:00Z", "domain": "acme.com"},
          {"event_id": "e2", "type": "demo_request", "occurred_at": "2026-01-21T10:00:00+02:00",
           "email": "ann@globex.io"},
          {"event_id": "e3", "type": "security_doc_view", "occurred_at": "2026-01-22", "domain": "initech.co.uk",
           "email": "bob@initech.co.uk"}]

ERROR_KEYS = {"ok", "error", "errors", "status"}


@pytest.fixture
def api_settings() -> dict[str, Any]:
    """No rate limit: the fuzz sends faster than the default 100 requests a second."""
    return {"rate_limit_per_s": 1e9}


def seed(live: Live) -> None:
    """Profiles 1 (the seed rubric) and 2 (intent, active), scored accounts and events."""
    publish(live, SEED)
    with live.client(live.admin) as c:
        r = c.post("/v1/score", json={"accounts": ACCOUNTS})
        assert r.status_code == 200, r.text
        r = c.post("/v1/profiles", json={"yaml": INTENT.read_text()})
        assert r.status_code == 201 and r.json()["version"] == 2, r.text
        assert c.post("/v1/profiles/2/publish").status_code == 200
        r = c.post("/v1/events", json={"events": EVENTS})
        assert r.status_code == 200 and r.json()["added"] == 3, r.text


def _app_schema() -> dict[str, Any]:
    """The OpenAPI document of the app with the default settings (over a scratch store:
    the app is only built, never run)."""
    from icpkit.server.app import create_app
    from icpkit.server.serve import open_service
    from icpkit.server.settings import Settings
    from icpkit.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp, open_service(Workspace(Path(tmp) / "ws"), Settings()) as service:
        return create_app(service).openapi()


# The operations are collected from the app's document: schemathesis's fixture-loaded schemas
# (schemathesis.pytest.from_fixture) rely on a pytest internal (Node._nodeid) that pytest 9.2
# removed. Each test checks first that the live server serves this very document.
SCHEMA = _app_schema()
schema = schemathesis.openapi.from_dict(SCHEMA, config=schemathesis.Config())
# The test sends the admin key with every request; naming the header here keeps it out of
# what is generated (the generated 'authorization' parameter would replace the key).
schema.config.update(headers={"Authorization": "Bearer (the admin key, sent by the test)"})


@pytest.fixture
def fuzzed(api: Live) -> Iterator[tuple[Live, requests.Session]]:
    """The live server, holding data, and a session to it."""
    seed(api)
    with requests.Session() as session:
        assert session.get(f"{api.url}/openapi.json").json() == SCHEMA
        yield api, session


def error_shape(ctx: Any, response: Any, case: Any) -> None:
    """A 4xx or 5xx answer is ``{"ok": false, "error": str, "errors": [problem...], "status": int}``
    with ``status`` the HTTP status, each problem ``{"where", "message", "hint"}`` (text)."""
    if response.status_code < 400:
        return None
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]!r}"
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), f"an error that is not JSON: {where}"
    try:
        body = json.loads(response.text)
    except ValueError:
        raise AssertionError(f"an error whose body is not JSON: {where}") from None
    assert isinstance(body, dict) and ERROR_KEYS <= set(body), f"an error without {sorted(ERROR_KEYS)}: {where}"
    assert body["ok"] is False, f"'ok' is not false: {where}"
    assert isinstance(body["error"], str) and body["error"], f"'error' is not a message: {where}"
    assert isinstance(body["status"], int) and not isinstance(body["status"], bool) \
        and body["status"] == response.status_code, f"'status' is not the HTTP status: {where}"
    assert isinstance(body["errors"], list) and body["errors"], f"'errors' is not a list of problems: {where}"
    for problem in body["errors"]:
        assert isinstance(problem, dict) and all(isinstance(problem.get(k), str)
                                                 for k in ("where", "message", "hint")), \
            f"a problem that is not {{where, message, hint}}: {where}"
    return None


CHECKS = [not_a_server_error, error_shape]


@schema.parametrize()
@FUZZ
def test_fuzz(case: Any, fuzzed: tuple[Live, requests.Session]) -> None:
    """One operation (see the test's id), its coverage and generated cases, on a fresh server."""
    live, session = fuzzed
    case.call_and_validate(base_url=live.url, session=session, headers={"Authorization": f"Bearer {live.admin}"},
                           timeout=30, checks=CHECKS)


# ------------------------------------------------------------------------------ edge values

EDGE_TEXT = ["", " ", "\x00", "a\x00b", "\x07", "\x0c", "\x7f", "\u2028", "\ufeff", "é.com", "%", "'", "*",
             "x" * 300]
EDGE_TIME = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
             "9999-12-31T23:59:59.999999Z", "2026-01-01T00:00:00+14:00"]
EDGE_INT = [0, -1, 2**31, 2**63 - 1, 2**63, 2**64]
EDGE_NUMBER = [0, -0.0, 1e-300, 100, 1e308, "NaN", "Infinity"]


def _branches(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a (FastAPI) schema: itself, or its ``anyOf`` branches."""
    return [b for b in spec.get("anyOf", [spec]) if b.get("type") != "null"]


def _edges(spec: dict[str, Any]) -> list[Any]:
    """The edge values of the schema's types (text, date-time, integer, number)."""
    out: list[Any] = []
    for b in _branches(spec):
        kind = b.get("type")
        if kind == "string":
            out += EDGE_TIME if b.get("format") == "date-time" else EDGE_TEXT
        elif kind == "integer":
            out += EDGE_INT
        elif kind == "number":
            out += EDGE_NUMBER
    return out


def _benign(spec: dict[str, Any]) -> Any:
    """A plain valid value of the schema's type, for the parameters not at their edge."""
    first = (_branches(spec) or [{}])[0]
    if first.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    plain = {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
    return plain.get(first.get("type"))


def _short(value: Any) -> str:
    """``repr(value)``, a long one cut."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(value)} characters)"


def _body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    spec = content["schema"]
    ref = spec.get("$ref")
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else spec


def edge_cases() -> Iterator[tuple[str, Any]]:
    """(what is at its edge, the case): one parameter or body property at a time, the
    required others at a plain value."""
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            op = schema[path][method.upper()]
            params = [p for p in operation.get("parameters", []) if p["in"] in ("query", "path")]
            base = {"query": {p["name"]: _benign(p["schema"]) for p in params
                              if p["in"] == "query" and p.get("required")},
                    "path_parameters": {p["name"]: _benign(p["schema"]) for p in params if p["in"] == "path"}}
            body = _body_schema(operation)
            base_body = None if body is None else \
                {k: _benign(v) for k, v in body.get("properties", {}).items() if k in body.get("required", [])}
            extra = {} if body is None else {"body": base_body, "media_type": "application/json"}
            for p in params:
                container = "query" if p["in"] == "query" else "path_parameters"
                for value in _edges(p["schema"]):
                    yield (f"{method.upper()} {path} {p['in']} {p['name']}={_short(value)}",
                           op.Case(**{**base, container: {**base[container], p["name"]: value}}, **extra))
            for name, spec in (body or {}).get("properties", {}).items():
                for value in _edges(spec):
                    yield (f"{method.upper()} {path} body {name}={_short(value)}",
                           op.Case(**base, body={**(base_body or {}), name: value}, media_type="application/json"))


def test_edge_values(fuzzed: tuple[Live, requests.Session]) -> None:
    """Every edge case in turn, on the same server; all the failures are listed together."""
    live, session = fuzzed
    failures = []
    cases = list(edge_cases())
    assert len(cases) > 100
    for label, case in cases:
        response = case.call(base_url=live.url, session=session, headers={"Authorization": f"Bearer {live.admin}"},
                             timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup):
            failures.append(f"{label} -> {response.status_code} {response.text[:300]}")
    assert not failures, f"{len(failures)} of {len(cases)} edge cases failed:\n" + "\n".join(failures)
