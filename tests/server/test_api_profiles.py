"""A profile's life on the server: draft, validate, preview, publish, roll back, diff."""

from __future__ import annotations

from tests.server.conftest import Live
from tests.server.test_api_auth import error_of
from tests.server.test_api_scoring import ACME, SEED

# The seed rubric with the high tier's bar raised from 70 to 90: ACME (80) drops to "monitor".
STRICT = SEED.read_text().replace("{name: high, min: 70", "{name: high, min: 90")
OTHER = dict(ACME, domain="other.io", industry="Retail", employees="5", technologies="", country="France")


def scores(c) -> dict[str, tuple[float, str]]:
    return {a["domain"]: (a["fit_score"], a["tier"]) for a in c.get("/v1/accounts").json()["accounts"]}


def test_publish_and_rollback_change_scores_only_when_asked(api: Live) -> None:
    assert STRICT != SEED.read_text()
    with api.client(api.admin) as c:
        v1 = c.post("/v1/profiles", json={"yaml": SEED.read_text()}).json()["version"]
        assert c.post(f"/v1/profiles/{v1}/publish").json()["version"] == v1
        assert c.post("/v1/score", json={"accounts": [ACME, OTHER]}).status_code == 200
        before = scores(c)
        assert before["acme.com"] == (80.0, "high")

        draft = c.post("/v1/profiles", json={"yaml": STRICT})
        assert draft.status_code == 201
        v2 = draft.json()["version"]
        assert draft.json()["status"] == "draft" and not draft.json()["active"]
        assert scores(c) == before  # a draft changes nothing

        preview = c.get(f"/v1/profiles/{v2}/preview").json()
        assert preview["accounts"] == 2 and preview["tier_changes"] == 1
        assert preview["changes"] == [{"domain": "acme.com", "from_tier": "high", "to_tier": "monitor",
                                       "from_score": 80.0, "to_score": 80.0}]
        assert preview["tiers"]["monitor"] >= 1 and sum(preview["histogram"]["counts"]) == 2
        assert scores(c) == before  # nor does a preview

        diff = c.get("/v1/profiles/diff", params={"from": v1, "to": v2}).json()
        assert [ch["text"] for ch in diff["changes"]] == ["tiers[high].min: 70 -> 90"]

        published = c.post(f"/v1/profiles/{v2}/publish").json()
        assert published == {"version": v2, "action": "publish", "rescored": 2, "tier_changes": 1}
        assert scores(c)["acme.com"] == (80.0, "monitor")
        error_of(c.post(f"/v1/profiles/{v2}/publish"), 409)  # already active

        assert c.post(f"/v1/profiles/{v1}/rollback").json()["action"] == "rollback"
        assert scores(c) == before
        history = c.get("/v1/accounts/acme.com").json()["tier_history"]
        assert [(h["from_tier"], h["to_tier"], h["published_version"]) for h in history] == [
            (None, "high", v1), ("high", "monitor", v2), ("monitor", "high", v1)]

        listed = c.get("/v1/profiles").json()
        assert listed["active"] == v1
        assert [(p["version"], p["action"]) for p in listed["publications"]] == [(v1, "publish"), (v2, "publish"),
                                                                                 (v1, "rollback")]
        assert all(p["by_key"] for p in listed["publications"])
        assert c.get(f"/v1/profiles/{v2}").json()["yaml"] == STRICT


def test_an_invalid_profile_is_refused_with_its_place_and_not_stored(api: Live) -> None:
    bad = SEED.read_text().replace("weight: 25", "wieght: 25", 1)
    with api.client(api.admin) as c:
        body = error_of(c.post("/v1/profiles", json={"yaml": bad}), 422)
        assert "wieght" in str(body) and "line" in body["errors"][0]["where"]
        body = error_of(c.post("/v1/profiles/validate", json={"yaml": bad}), 422)
        assert c.post("/v1/profiles/validate", json={"yaml": SEED.read_text()}).json()["ok"] is True
        error_of(c.post("/v1/profiles", json={}), 422)
        error_of(c.post("/v1/profiles", json={"yaml": "a: &a [*a]"}), 422)
        assert c.get("/v1/profiles").json()["profiles"] == []


def test_a_profile_as_json_is_the_same_profile(api: Live) -> None:
    with api.client(api.admin) as c:
        r = c.post("/v1/profiles", json={"profile": {"name": "Tiny", "criteria": [
            {"field": "employees", "weight": 10, "bins": [{"gte": 50, "points": 10}]}]}})
        assert r.status_code == 201, r.text


def test_a_huge_profile_is_refused(api: Live) -> None:
    with api.client(api.admin) as c:
        body = error_of(c.post("/v1/profiles", json={"yaml": SEED.read_text() + "#" * 300_000}), 422)
        assert "larger than" in body["error"]


def test_unknown_versions_are_404_and_rollback_needs_a_published_one(api: Live) -> None:
    with api.client(api.admin) as c:
        error_of(c.post("/v1/profiles/7/publish"), 404)
        error_of(c.get("/v1/profiles/7"), 404)
        v = c.post("/v1/profiles", json={"yaml": SEED.read_text()}).json()["version"]
        assert "never published" in error_of(c.post(f"/v1/profiles/{v}/rollback"), 409)["error"]


def test_a_profile_sent_as_yaml_text(api: Live) -> None:
    with api.client(api.admin) as c:
        r = c.post("/v1/profiles", content=SEED.read_bytes(), headers={"Content-Type": "application/yaml"})
        assert r.status_code == 201, r.text
        assert c.get(f"/v1/profiles/{r.json()['version']}").json()["yaml"] == SEED.read_text()
        error_of(c.post("/v1/profiles", content=b"\xff\xfe", headers={"Content-Type": "text/yaml"}), 422)
        error_of(c.post("/v1/profiles", content=b"name: [", headers={"Content-Type": "application/json"}), 422)
        error_of(c.post("/v1/profiles", json=["a"]), 422)
        error_of(c.post("/v1/profiles", json={"yaml": 5}), 422)
