"""Server parts that need no server: settings, outbound addresses, profile diffs, alerts."""

from __future__ import annotations

import pytest

from icpkit.errors import DataError, IcpError
from icpkit.profile.diff import profile_diff
from icpkit.profile.model import Profile
from icpkit.server.alerts import detect, sign
from icpkit.server.outbound import check_url
from icpkit.server.settings import Settings


def test_settings_from_the_environment() -> None:
    s = Settings.from_env({"ICP_MAX_RECORDS": "10", "ICP_WEBHOOK_TIMEOUT_S": "2.5", "ICP_WEBHOOK_ALLOW_PRIVATE": "1",
                           "ICP_DATABASE_URL": "postgresql://u@h/db", "ICP_LOCK_TIMEOUT_S": "3", "HOME": "/x"})
    assert (s.max_records, s.webhook_timeout_s, s.webhook_allow_private, s.database_url) == (
        10, 2.5, True, "postgresql://u@h/db")
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize("env, words", [
    ({"ICP_MAX_RECORD": "10"}, ["unknown setting ICP_MAX_RECORD", "ICP_MAX_RECORDS"]),
    ({"ICP_MAX_RECORDS": "ten"}, ["ICP_MAX_RECORDS must be a positive whole number"]),
    ({"ICP_MAX_RECORDS": "2.5"}, ["ICP_MAX_RECORDS must be a positive whole number"]),
    ({"ICP_RATE_LIMIT_PER_S": "0"}, ["ICP_RATE_LIMIT_PER_S must be a positive number"]),
    ({"ICP_WEBHOOK_ALLOW_PRIVATE": "yes"}, ["ICP_WEBHOOK_ALLOW_PRIVATE must be 0 or 1"]),
])
def test_bad_settings_name_the_variable(env: dict[str, str], words: list[str]) -> None:
    with pytest.raises(IcpError) as caught:
        Settings.from_env(env)
    assert all(w in str(caught.value) for w in words)


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://10.1.2.3/x", "http://192.168.0.1/", "http://[::1]/",
                                 "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest", "http://0.0.0.0/",
                                 "http://224.0.0.1/", "http://[fe80::1]/", "http://localhost:8080/x",
                                 "http://100.64.0.1/"])
def test_private_loopback_link_local_and_multicast_addresses_are_refused(url: str) -> None:
    with pytest.raises(DataError) as caught:
        check_url(url)
    assert "not a public address" in str(caught.value)
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "http:///x", "javascript:alert(1)",
                                 "http://user:pw@93.184.216.34/", "http://[::1/"])
def test_only_http_urls_with_a_host_and_no_password(url: str) -> None:
    with pytest.raises(DataError):
        check_url(url, allow_private=True)


def test_a_public_address_is_allowed() -> None:
    assert check_url("https://93.184.216.34:8443/hook") == "https://93.184.216.34:8443/hook"


def test_the_diff_of_two_profiles_in_words() -> None:
    a = Profile.model_validate({"name": "a", "criteria": [
        {"field": "employees", "weight": 10, "bins": [{"gte": 50, "points": 10}]},
        {"field": "country", "weight": 5, "levels": [{"values": ["US"], "points": 5}]}]})
    b = Profile.model_validate({"name": "a", "criteria": [
        {"field": "employees", "weight": 20, "bins": [{"gte": 50, "points": 20}]},
        {"field": "industry", "weight": 5, "levels": [{"values": ["internet"], "points": 5}]}],
        "tiers": [{"name": "high", "min": 60, "route": "ae_queue"}, {"name": "rest", "min": 0, "route": "nurture"}]})
    texts = [c.text for c in profile_diff(a, b)]
    assert "criteria[employees].weight: 10 -> 20" in texts
    assert any(t.startswith("criteria[country]: removed") for t in texts)
    assert any(t.startswith("criteria[industry]: added") for t in texts)
    assert "tiers[high].min: 70 -> 60" in texts and any(t.startswith("tiers[monitor]: removed") for t in texts)
    assert profile_diff(a, a) == []


def test_alerts_raised_by_a_rescoring() -> None:
    p = Profile.model_validate({"name": "p", "criteria": [{"field": "employees", "weight": 10,
                                                            "bins": [{"gte": 50, "points": 10}]}]})
    before = {"up.com": {"tier": "disqualify", "result": {}}, "same.com": {"tier": "high", "result": {}},
              "down.com": {"tier": "high", "result": {}}}
    results = [{"domain": d, "tier": t} for d, t in (("up.com", "monitor"), ("same.com", "high"),
                                                     ("down.com", "monitor"), ("new.com", "high"), ("low.com", "monitor"))]
    raised = [(kind, payload["account"]["domain"]) for kind, payload in detect(p, before, results)]
    assert raised == [("tier_upgrade", "up.com"), ("new_high_fit", "new.com")]


def test_the_signature_is_hmac_sha256_of_time_and_body() -> None:
    # echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    assert sign("s3cret", b'{"a":1}', 1700000000) == (
        "t=1700000000,v1=" + __import__("hmac").new(b"s3cret", b'1700000000.{"a":1}', "sha256").hexdigest())
