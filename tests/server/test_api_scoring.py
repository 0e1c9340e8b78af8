"""POST /v1/score and the accounts it stores, on a real server, on both stores."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import icpkit
from icpkit.demo.generate import generate_demo
from tests.server.conftest import ROOT, SEED, Live

DEMO_PROFILE = ROOT / "src" / "icpkit" / "demo" / "profile.yaml"
ACME = {"domain": "https://www.Acme.com/", "industry": "Internet", "employees": "51-200",
        "technologies": "Salesforce; Slack", "country": "United States", "days_since_funding": None}


def publish(live: Live, profile: Path) -> int:
    with live.client(live.admin) as c:
        version = c.post("/v1/profiles", json={"yaml": profile.read_text()}).json()["version"]
        assert c.post(f"/v1/profiles/{version}/publish").status_code == 200
    return int(version)


def test_scores_are_those_of_bulk_scoring(api: Live, tmp_path: Path) -> None:
    """Every field of every demo account, sent in CRM-export form, is what `icp score` gives."""
    files = generate_demo(tmp_path / "demo", n_accounts=300)
    with open(files.accounts, newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    publish(api, DEMO_PROFILE)
    with api.client(api.writer) as c:
        results = []
        for start in range(0, len(records), 100):
            r = c.post("/v1/score", json={"accounts": records[start:start + 100]})
            assert r.status_code == 200, r.text
            results += r.json()["results"]
    bulk = icpkit.score(DEMO_PROFILE, files.accounts).to_pylist()
    assert len(results) == len(bulk) == 300
    for one, many in zip(results, bulk):
        for key, value in many.items():
            if key in ("abm_tier", "scored_at"):
                continue
            assert one[key] == value, (key, one, many)
    with api.client(api.reader) as c:
        stored = c.get("/v1/accounts", params={"limit": 1000}).json()["accounts"]
    assert sorted((a["domain"], a["fit_score"], a["tier"]) for a in stored) == \
        sorted((b["domain"], b["fit_score"], b["tier"]) for b in bulk)


def test_one_record_scored_stored_and_listed(api: Live) -> None:
    publish(api, SEED)
    with api.client(api.writer) as c:
        r = c.post("/v1/score", json={"accounts": [ACME]})
        assert r.status_code == 200, r.text
        (result,) = r.json()["results"]
        assert result["domain"] == "acme.com" and result["fit_score"] == 80.0 and result["tier"] == "high"
        assert result["route"] == "ae_queue" and "industry" in result["reasons"]
        assert result["abm_tier"] == "A"  # the best of the stored high-tier accounts
        detail = c.get("/v1/accounts/ACME.com").json()
        assert detail["fit_score"] == 80.0 and detail["record"] == ACME
        assert [(h["from_tier"], h["to_tier"]) for h in detail["tier_history"]] == [(None, "high")]
        # a new account twice in one request: stored once, as its last record has it
        twice = [dict(ACME, domain="twice.io", employees="5"), dict(ACME, domain="twice.io")]
        assert [r["fit_score"] for r in c.post("/v1/score", json={"accounts": twice}).json()["results"]] == [60.0, 80.0]
        detail = c.get("/v1/accounts/twice.io").json()
        assert detail["fit_score"] == 80.0 and detail["record"]["employees"] == "51-200"
        assert [(h["from_tier"], h["to_tier"]) for h in detail["tier_history"]] == [(None, "monitor"), ("monitor", "high")]


def test_store_false_scores_without_storing(api: Live) -> None:
    publish(api, SEED)
    with api.client(api.reader) as c:
        r = c.post("/v1/score?store=false", json={"accounts": [ACME]})
        assert r.status_code == 200 and r.json()["results"][0]["fit_score"] == 80.0
        assert c.get("/v1/accounts").json()["accounts"] == []
        assert c.get("/v1/accounts/acme.com").status_code == 404


@pytest.mark.parametrize("body, status, where", [
    ({"accounts": [{**ACME, "employees": "lots"}]}, 422, "record, row 1, column 'employees'"),
    ({"accounts": [{"domain": "x.com"}]}, 422, "record"),
    ({"accounts": ACME}, 422, "body.accounts"),
    ({"accounts": [ACME], "extra": 1}, 422, "body.extra"),
])
def test_bad_accounts_are_refused_with_the_place(api: Live, body: dict, status: int, where: str) -> None:
    publish(api, SEED)
    with api.client(api.writer) as c:
        r = c.post("/v1/score", json=body)
        assert r.status_code == status
        err = r.json()
        assert err["ok"] is False and err["status"] == status and err["error"]
        assert any(e["where"] == where for e in err["errors"]), err
        assert c.get("/v1/accounts").json()["accounts"] == []  # nothing stored


def test_scoring_before_any_profile_is_published_says_what_to_do(api: Live) -> None:
    with api.client(api.writer) as c:
        r = c.post("/v1/score", json={"accounts": [ACME]})
    assert r.status_code == 409 and "no profile is published" in r.json()["error"]
