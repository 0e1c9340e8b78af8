"""Alerts: webhooks for tier upgrades, new high-fit accounts and buying-group spikes,
signed, retried, delivered once, surviving a restart."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from icpkit.server.serve import open_service
from icpkit.server.settings import Settings
from tests.server.conftest import Live, start
from tests.server.receiver import Receiver
from tests.server.test_api_auth import error_of
from tests.server.test_api_events import INTENT, RECENT
from tests.server.test_api_scoring import ACME, SEED, publish

FAST = {"webhook_allow_private": True, "webhook_backoff_s": 0.05, "webhook_poll_s": 0.05}
LOW = dict(ACME, domain="low.com", industry="Retail", technologies="", country="France")  # 25 points: disqualify


def verify(secret: str, delivery: dict) -> bool:
    fields = dict(part.split("=", 1) for part in delivery["headers"]["x-icp-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + delivery["raw"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(fields["v1"], expected)


@pytest.mark.parametrize("api_settings", [FAST])
def test_tier_upgrades_and_new_high_fit_accounts_arrive_signed_and_once(api: Live) -> None:
    publish(api, SEED)
    with Receiver() as rx, api.client(api.admin) as c:
        hook = c.post("/v1/webhooks", json={"url": rx.url, "kinds": ["tier_upgrade", "new_high_fit"]}).json()
        c.post("/v1/score", json={"accounts": [ACME, LOW]})          # acme: new and high; low: new, not high
        c.post("/v1/score", json={"accounts": [ACME]})               # no change: no alert
        c.post("/v1/score", json={"accounts": [dict(LOW, industry="Internet", employees="100")]})  # up to monitor
        got = rx.wait_for(2)
        assert [(d["body"]["kind"], d["body"]["account"]["domain"]) for d in got] == [
            ("new_high_fit", "acme.com"), ("tier_upgrade", "low.com")]
        assert got[1]["body"]["previous_tier"] == "disqualify" and got[1]["body"]["account"]["tier"] == "monitor"
        assert all(verify(hook["secret"], d) for d in got)
        assert not verify("another secret", got[0])
        assert [d["headers"]["x-icp-event-id"] for d in got] == [d["body"]["event_id"] for d in got]
        listed = c.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries").json()["deliveries"]
        assert len(listed) == 2 and all(d["delivered_at"] and d["attempts"] == 1 for d in listed)
        assert "secret" not in str(c.get("/v1/webhooks").json())


@pytest.mark.parametrize("api_settings", [FAST])
def test_a_buying_group_spike_is_an_alert(api: Live) -> None:
    publish(api, INTENT)
    with Receiver() as rx, api.client(api.admin) as c:
        c.post("/v1/webhooks", json={"url": rx.url, "kinds": ["buying_group_spike"]})
        c.post("/v1/score", json={"accounts": [{"domain": "acme.com"}]})
        people = [{"event_id": f"e{i}", "email": f"p{i}@acme.com", "type": "security_doc_view",
                   "occurred_at": RECENT} for i in range(3)]
        c.post("/v1/events", json={"events": people[:2]})
        assert rx.wait_for(1, timeout_s=1) == []  # two people: not yet a buying group
        c.post("/v1/events", json={"events": people[2:]})
        c.post("/v1/events", json={"events": [dict(people[0], event_id="e9")]})  # still lit: no new alert
        got = rx.wait_for(1)
        assert [(d["body"]["kind"], d["body"]["people"]) for d in got] == [("buying_group_spike", 3)]


@pytest.mark.parametrize("api_settings", [FAST])
def test_a_refusing_receiver_gets_it_after_retries(api: Live) -> None:
    publish(api, SEED)
    with Receiver(fail_first=3) as rx, api.client(api.admin) as c:
        hook = c.post("/v1/webhooks", json={"url": rx.url, "kinds": ["new_high_fit"]}).json()
        c.post("/v1/score", json={"accounts": [ACME]})
        got = rx.wait_for(1)
        assert len(got) == 1 and rx.refused == 3
        (delivery,) = c.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries").json()["deliveries"]
        assert delivery["attempts"] == 4 and delivery["delivered_at"] and delivery["last_error"] is None


@pytest.mark.parametrize("api_settings", [FAST | {"webhook_max_attempts": 2}])
def test_delivery_gives_up_after_the_last_attempt(api: Live) -> None:
    publish(api, SEED)
    with Receiver(fail_first=10) as rx, api.client(api.admin) as c:
        hook = c.post("/v1/webhooks", json={"url": rx.url, "kinds": ["new_high_fit"]}).json()
        c.post("/v1/score", json={"accounts": [ACME]})
        rx.wait_for(1, timeout_s=1.5)
        (delivery,) = c.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries").json()["deliveries"]
        assert rx.refused == 2 and delivery["failed_at"] and delivery["last_error"] == "HTTP 503"


def test_pending_alerts_are_delivered_after_a_restart(store_settings) -> None:
    workspace, values = store_settings
    settings = Settings(**(values | FAST))
    with Receiver() as rx:
        with open_service(workspace, settings) as service:  # no server running: nothing is delivered
            version = service.create_profile(SEED.read_text(), "test")["version"]
            service.publish(version, "test")
            service.create_webhook(rx.url, ["new_high_fit"], "test")
            service.score([ACME, dict(ACME, domain="beta.io")])
        assert rx.received == []
        with open_service(workspace, settings) as service:
            url, server, thread = start(service)
            try:
                got = rx.wait_for(2)
            finally:
                server.should_exit = True
                thread.join(10)
        assert sorted(d["body"]["account"]["domain"] for d in got) == ["acme.com", "beta.io"]
        assert len({d["body"]["event_id"] for d in got}) == 2


def test_webhooks_to_private_addresses_are_refused_by_default(api: Live) -> None:
    with api.client(api.admin) as c:
        for url in ("http://127.0.0.1:9/x", "http://10.0.0.1/x", "http://[::1]/x", "http://169.254.169.254/latest",
                    "http://localhost/x", "ftp://example.com/x", "http://user:pw@example.com/x"):
            error_of(c.post("/v1/webhooks", json={"url": url, "kinds": ["new_high_fit"]}), 422)
        error_of(c.post("/v1/webhooks", json={"url": "https://example.com/x", "kinds": ["tier_downgrade"]}), 422)
    with api.client(api.writer) as c:
        error_of(c.post("/v1/webhooks", json={"url": "https://example.com/x", "kinds": ["new_high_fit"]}), 403)
