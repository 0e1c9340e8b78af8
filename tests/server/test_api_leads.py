"""POST /v1/leads: an inbound person matched to a stored account, scored, given personas and
a route; and the ABM tiers of stored accounts."""

from __future__ import annotations

from pathlib import Path

from tests.server.conftest import Live
from tests.server.test_api_scoring import ACME, SEED, publish

PERSONAS = """
intent:
  signals:
    - {type: demo_request, points: 30}
personas:
  - {name: economic_buyer, when: {field: title, contains_any: [vp sales, chief revenue]}, points: 10}
  - {name: technical_evaluator, when: {field: department, eq: it}}
"""


def test_leads_are_matched_scored_and_routed(api: Live, tmp_path: Path) -> None:
    profile = tmp_path / "leads.yaml"
    profile.write_text(SEED.read_text() + PERSONAS)
    publish(api, profile)
    with api.client(api.writer) as c:
        c.post("/v1/score", json={"accounts": [dict(ACME, name="Acme  Corp"), dict(ACME, domain="beta.io", name="Beta")]})
        leads = [
            {"email": "Ann@ACME.com", "title": "VP Sales EMEA", "department": "IT"},
            {"email": "bob@gmail.com", "company": "acme corp", "title": "Engineer"},
            {"email": "cy@gmail.com", "company": "Acme", "title": "Engineer"},
            {"email": "gus@gmail.com", "company": "Acme Rockets", "title": "Engineer"},
            {"email": "dee@yahoo.com", "website": "https://www.beta.io/contact"},
            {"email": "eve@newco.com", "industry": "Internet", "employees": "120", "technologies": "Salesforce",
             "country": "US", "days_since_funding": 30},
            {"email": "fay@other.org", "title": "CEO"},
        ]
        r = c.post("/v1/leads", json={"leads": leads})
        assert r.status_code == 200, r.text
        got = r.json()["results"]
    assert [(g["email"], g["domain"], g["match_method"], g["scored_from"]) for g in got] == [
        ("ann@acme.com", "acme.com", "email_domain", "account"),
        ("bob@gmail.com", "acme.com", "exact_name", "account"),     # exact name, case and spaces aside
        ("cy@gmail.com", "acme.com", "exact_name", "account"),      # the legal suffix aside
        ("gus@gmail.com", None, None, None),                         # free mail, another company: no match
        ("dee@yahoo.com", "beta.io", "website", "account"),
        ("eve@newco.com", None, None, "lead"),                       # unknown company, scored on its fields
        ("fay@other.org", None, None, None),
    ]
    assert [g["match_confidence"] for g in got] == [1.0, 0.9, 0.9, 0.0, 0.95, 0.0, 0.0]
    assert got[0]["personas"] == ["economic_buyer", "technical_evaluator"] and got[1]["personas"] == []
    assert (got[0]["fit_score"], got[0]["tier"], got[0]["route"], got[0]["abm_tier"]) == (80.0, "high", "ae_queue",
                                                                                          "A")
    assert (got[5]["fit_score"], got[5]["tier"], got[5]["route"]) == (100.0, "high", "ae_queue")
    assert got[6]["route"] is None and "do not score" in got[6]["unscored"]
    assert api.service.store.account("newco.com") is None  # a lead stores no account


def test_abm_tiers_rank_the_stored_high_tier_accounts(api: Live, tmp_path: Path) -> None:
    profile = tmp_path / "abm.yaml"
    profile.write_text(SEED.read_text() + "abm: {a: 2, b: 1}\n")
    publish(api, profile)
    accounts = [dict(ACME, domain=f"a{i}.com", days_since_funding=d) for i, d in enumerate([10, 200, None, 10, 200])]
    with api.client(api.writer) as c:
        results = c.post("/v1/score", json={"accounts": accounts}).json()["results"]
        # a0 and a3: 100 points (ties broken by domain); a1, a4: 90; a2: 80
        assert {r["domain"]: r["abm_tier"] for r in results} == {"a0.com": "A", "a1.com": "B", "a2.com": "C",
                                                                  "a3.com": "A", "a4.com": "C"}
        for tier, domains in (("A", ["a0.com", "a3.com"]), ("B", ["a1.com"]), ("C", ["a2.com", "a4.com"])):
            listed = c.get("/v1/accounts", params={"abm_tier": tier}).json()["accounts"]
            assert [a["domain"] for a in listed] == domains and {a["abm_tier"] for a in listed} == {tier}
        assert c.get("/v1/accounts/a1.com").json()["abm_tier"] == "B"

        def abm_tiers() -> dict[str, str]:
            return {a["domain"]: a["abm_tier"] for a in c.get("/v1/accounts").json()["accounts"]}

        # a0 falls to 80 points: a1 joins a3 in A, a4 moves up to B
        fallen = c.post("/v1/score", json={"accounts": [dict(accounts[0], days_since_funding=None)]}).json()
        assert fallen["results"][0]["abm_tier"] == "C"
        assert abm_tiers() == {"a0.com": "C", "a1.com": "A", "a2.com": "C", "a3.com": "A", "a4.com": "B"}
        # a new best account ties a3 at 100 and comes after it by domain
        new = c.post("/v1/score", json={"accounts": [dict(ACME, domain="a5.com", days_since_funding=10)]}).json()
        assert new["results"][0]["abm_tier"] == "A"
        assert abm_tiers() == {"a0.com": "C", "a1.com": "B", "a2.com": "C", "a3.com": "A", "a4.com": "C",
                               "a5.com": "A"}


def test_filters_and_cursor_pages(api: Live) -> None:
    publish(api, SEED)
    accounts = [dict(ACME, domain=f"d{i:02d}.com", employees=str(10 + i * 30)) for i in range(25)]
    with api.client(api.writer) as c:
        c.post("/v1/score", json={"accounts": accounts})
        seen, cursor = [], None
        while True:
            page = c.get("/v1/accounts", params={"limit": 7} | ({"cursor": cursor} if cursor else {})).json()
            seen += [a["domain"] for a in page["accounts"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(a["domain"] for a in accounts)
        high = c.get("/v1/accounts", params={"tier": "high"}).json()["accounts"]
        assert high and all(a["tier"] == "high" for a in high)
        mid = c.get("/v1/accounts", params={"min_score": 70, "max_score": 75}).json()["accounts"]
        assert mid and all(70 <= a["fit_score"] <= 75 for a in mid)
        routed = c.get("/v1/accounts", params={"route": "nurture"}).json()["accounts"]
        assert all(a["route"] == "nurture" for a in routed)
        assert c.get("/v1/accounts", params={"changed_since": "2999-01-01T00:00:00Z"}).json()["accounts"] == []
        assert len(c.get("/v1/accounts", params={"changed_since": "2000-01-01T00:00:00+02:00"}).json()["accounts"]) \
            == 25


def test_the_matching_index_follows_new_and_renamed_accounts_but_not_rescores(api: Live) -> None:
    """Leads are matched by an index of the stored accounts, built once: a stream of
    events rescoring them (or a CRM sync storing them unchanged) does not build it again,
    a new account or a new name does, at once."""
    publish(api, SEED)
    reads = []
    records = api.service.store.account_records
    api.service.store.account_records = lambda *a: reads.append(1) or records(*a)  # type: ignore[method-assign]

    def matched(c, company: str) -> str | None:
        r = c.post("/v1/leads", json={"leads": [{"email": "x@gmail.com", "company": company}]})
        assert r.status_code == 200, r.text
        return r.json()["results"][0]["domain"]

    with api.client(api.writer) as c:
        c.post("/v1/score", json={"accounts": [dict(ACME, name="Acme Corp")]})
        assert matched(c, "Acme Corp") == "acme.com" and len(reads) == 1
        for _ in range(3):  # stored again, same name and country
            assert c.post("/v1/score", json={"accounts": [dict(ACME, name="Acme Corp", employees="201-500")]}
                          ).status_code == 200
            assert matched(c, "Acme Corp") == "acme.com"
        assert len(reads) == 1
        c.post("/v1/score", json={"accounts": [dict(ACME, domain="globex.com", name="Globex")]})
        assert matched(c, "Globex") == "globex.com" and len(reads) == 2
        c.post("/v1/score", json={"accounts": [dict(ACME, name="Acme Rockets")]})
        assert matched(c, "Acme Rockets") == "acme.com" and matched(c, "Acme Corp") is None and len(reads) == 3
