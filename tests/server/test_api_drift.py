"""The server's drift watch: a baseline kept at publication, checks against it, alerts when
the score's stability crosses a band or an emerging segment appears."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.server.conftest import Live
from tests.server.receiver import Receiver
from tests.server.test_api_alerts import FAST
from tests.server.test_api_scoring import ACME, SEED, publish


def accounts(n: int, start: int, *, good: bool, rng: np.random.Generator) -> list[dict]:
    out = []
    for i in range(start, start + n):
        industry = "Internet" if good else str(rng.choice(["Retail", "Banking", "Construction"]))
        out.append(dict(ACME, domain=f"a{i}-co.com", industry=industry, employees=int(rng.integers(60, 400)),
                        country=str(rng.choice(["US", "CA", "FR"]))))
    return out


@pytest.mark.parametrize("api_settings", [FAST | {"drift_every_s": 0}])
def test_a_population_that_moves_raises_a_drift_alert(api: Live) -> None:
    rng = np.random.default_rng(0)
    with api.client(api.admin) as c, Receiver() as rx:
        c.post("/v1/webhooks", json={"url": rx.url, "kinds": ["drift"]})
        publish(api, SEED)  # no account yet: too few for a baseline
        c.post("/v1/score", json={"accounts": accounts(300, 0, good=True, rng=rng)})
        kept = c.post("/v1/drift/check").json()
        assert kept["psi"] is None and "baseline" in kept["note"]  # the baseline: 300 good accounts
        first = c.post("/v1/drift/check").json()
        assert first["checked"] and first["level"] == "stable" and first["alerts"] == [] and first["rows"] == 300
        for start in range(300, 900, 300):  # then 600 poor ones arrive
            c.post("/v1/score", json={"accounts": accounts(300, start, good=False, rng=rng)})
        moved = c.post("/v1/drift/check").json()
        assert moved["level"] == "shifted" and moved["psi"] >= 0.25 and moved["alerts"] == ["drift"]
        again = c.post("/v1/drift/check").json()
        assert again["level"] == "shifted" and again["alerts"] == []  # no new crossing, no new alert
        got = rx.wait_for(1)
        assert [(d["body"]["kind"], d["body"]["level"], d["body"]["previous_level"]) for d in got] == [
            ("drift", "shifted", "stable")]
        listed = c.get("/v1/drift").json()["checks"]
        assert [x["kind"] for x in listed] == ["check", "check", "check", "check", "baseline", "baseline"]


@pytest.mark.parametrize("api_settings", [FAST | {"drift_every_s": 0, "drift_label": "won"}])
def test_an_emerging_segment_among_stored_outcomes_is_an_alert(api: Live) -> None:
    rng = np.random.default_rng(1)
    publish(api, SEED)
    records = []
    for i in range(1200):
        industry = str(rng.choice(["Internet", "Retail", "Banking", "Construction"]))
        good = industry == "Internet"
        segment = str(rng.choice(["plg", "sales-led"]))
        p = 0.4 if good else (0.45 if segment == "plg" else 0.05)  # product-led companies win, whatever their tier
        records.append(dict(ACME, domain=f"b{i}-co.com", industry=industry, motion=segment,
                            won="won" if rng.random() < p else "lost"))
    with api.client(api.admin) as c, Receiver() as rx:
        c.post("/v1/webhooks", json={"url": rx.url, "kinds": ["emerging_segment"]})
        for start in range(0, 1200, 400):
            assert c.post("/v1/score", json={"accounts": records[start:start + 400]}).status_code == 200
        result = c.post("/v1/drift/check").json()
        assert result["emerging"] and result["emerging"][0]["attribute"] == "motion"
        assert result["emerging"][0]["value"] == "plg" and "emerging_segment" in result["alerts"]
        assert "emerging_segment" not in c.post("/v1/drift/check").json()["alerts"]  # seen already
        got = rx.wait_for(1)
        assert got[0]["body"]["segment"]["value"] == "plg"


@pytest.mark.parametrize("api_settings", [FAST | {"drift_every_s": 0.3}])
def test_the_watch_runs_on_its_schedule(api: Live) -> None:
    publish(api, SEED)
    with api.client(api.writer) as c:
        c.post("/v1/score", json={"accounts": [ACME]})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            checks = c.get("/v1/drift").json()["checks"]
            if sum(x["kind"] == "check" for x in checks) >= 2:
                break
            time.sleep(0.1)
        assert sum(x["kind"] == "check" for x in checks) >= 2
        assert all(x["level"] in (None, "stable") or x["psi"] is None for x in checks)
