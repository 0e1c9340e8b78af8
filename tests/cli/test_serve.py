"""`icp keys` and `icp serve` as a user runs them: real processes, a real port; a server
killed with SIGKILL in the middle of a batch keeps that batch whole or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import ICP, ROOT, SEED, icp
from tests.server.conftest import free_port
from tests.server.receiver import Receiver

INTENT = ROOT / "examples" / "intent.yaml"


def serve(workspace: Path, port: int, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environ = os.environ | {"NO_COLOR": "1"} | (env or {})
    environ.pop("ICP_WORKSPACE", None)
    proc = subprocess.Popen([ICP, "serve", "--workspace", str(workspace), "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"icp serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("icp serve did not answer")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1]


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    made = icp("keys", "create", "--scope", "write", "--name", "form handler", "--workspace", "ws", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("icp_") and "not shown again" in made.stderr
    key_id = key.split("_")[1]
    listed = icp("keys", "list", "--workspace", "ws", cwd=tmp_path)
    assert key_id in listed.stdout and "form handler" in listed.stdout and key not in listed.stdout
    assert icp("keys", "revoke", key_id, "--workspace", "ws", cwd=tmp_path).returncode == 0
    again = icp("keys", "revoke", key_id, "--workspace", "ws", cwd=tmp_path)
    assert again.returncode == 1 and "no active key" in again.stderr
    bad = icp("keys", "create", "--scope", "root", "--workspace", "ws", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown scope" in bad.stderr


def test_serve_publishes_the_profile_and_scores(tmp_path: Path) -> None:
    key = icp("keys", "create", "--scope", "admin", "--workspace", "ws", cwd=tmp_path).stdout.strip().splitlines()[-1]
    port = free_port()
    proc = serve(tmp_path / "ws", port, "--profile", str(SEED))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as c:
            r = c.post("/v1/score", json={"accounts": [{"domain": "acme.com", "industry": "Internet",
                                                        "employees": 120, "technologies": ["Salesforce"],
                                                        "country": "US", "days_since_funding": 30}]})
            assert r.status_code == 200 and r.json()["results"][0]["fit_score"] == 100.0
            assert c.get("/openapi.json").json()["info"]["title"] == "icpkit"
    finally:
        err = stop(proc)
    assert "Published" in err and "version 1" in err
    proc = serve(tmp_path / "ws", port, "--profile", str(INTENT))  # a profile is active: not published again
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as c:
            assert c.get("/v1/profiles").json()["active"] == 1
            assert c.get("/v1/accounts/acme.com").json()["fit_score"] == 100.0
    finally:
        stop(proc)


def test_serve_refuses_a_misspelt_setting(tmp_path: Path) -> None:
    env = os.environ | {"ICP_MAX_BODY_BYTE": "10"}
    run = subprocess.run([ICP, "serve", "--workspace", "ws"], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=60)
    assert run.returncode == 1 and "ICP_MAX_BODY_BYTE" in run.stderr and "ICP_MAX_BODY_BYTES" in run.stderr


@pytest.mark.slow
def test_a_batch_survives_sigkill_whole_or_not_at_all(tmp_path: Path) -> None:
    key = icp("keys", "create", "--scope", "admin", "--workspace", "ws", cwd=tmp_path).stdout.strip().splitlines()[-1]
    port = free_port()
    auth = {"Authorization": f"Bearer {key}"}
    big = {"ICP_MAX_RECORDS": "50000"}
    proc = serve(tmp_path / "ws", port, "--profile", str(INTENT), env=big)
    batch = [{"event_id": f"k{i}", "domain": f"a{i % 500}.com", "type": "pricing_page_view",
              "occurred_at": "2026-11-30T10:00:00Z"} for i in range(50000)]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=60) as c:
            for start in range(0, 500, 250):
                c.post("/v1/score", json={"accounts": [{"domain": f"a{i}.com"} for i in range(start, start + 250)]})
            began = time.monotonic()  # a batch like it, timed: the kill comes half-way through the next
            warm = [dict(e, event_id="w" + e["event_id"]) for e in batch]
            assert c.post("/v1/events", json={"events": warm}).json()["added"] == 50000
            took = time.monotonic() - began

        def send() -> None:
            try:
                httpx.post(f"http://127.0.0.1:{port}/v1/events", json={"events": batch}, headers=auth, timeout=60)
            except httpx.HTTPError:
                pass

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(took / 2)  # the batch is being read and stored
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        sender.join(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = serve(tmp_path / "ws", port, env=big)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=120) as c:
            again = c.post("/v1/events", json={"events": batch}).json()  # a client retrying after the crash
            assert again["added"] in (0, 50000)  # the killed batch was stored whole or not at all
            deadline = time.monotonic() + 60  # and the accounts it touched are rescored, after the restart too
            while c.get("/v1/accounts/a7.com").json()["rescore_pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert c.get("/v1/accounts/a7.com").json()["result"]["intent_score"] > 0
    finally:
        stop(proc)


def test_an_alert_owed_when_killed_is_delivered_after_the_restart(tmp_path: Path) -> None:
    key = icp("keys", "create", "--scope", "admin", "--workspace", "ws", cwd=tmp_path).stdout.strip().splitlines()[-1]
    port, hook_port = free_port(), free_port()
    env = {"ICP_WEBHOOK_ALLOW_PRIVATE": "1", "ICP_WEBHOOK_BACKOFF_S": "0.2", "ICP_WEBHOOK_POLL_S": "0.1"}
    auth = {"Authorization": f"Bearer {key}"}
    proc = serve(tmp_path / "ws", port, "--profile", str(SEED), env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth) as c:
            hook = c.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{hook_port}/hook",
                                                "kinds": ["new_high_fit"]}).json()
            c.post("/v1/score", json={"accounts": [{"domain": "acme.com", "industry": "Internet", "employees": 120,
                                                    "technologies": ["Salesforce"], "country": "US",
                                                    "days_since_funding": 30}]})
            time.sleep(1.0)  # nobody listens yet: the delivery fails and waits for its next attempt
            (owed,) = c.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries").json()["deliveries"]
            assert owed["attempts"] >= 1 and owed["delivered_at"] is None and owed["last_error"].startswith("connect")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with Receiver(port=hook_port) as rx:
        proc = serve(tmp_path / "ws", port, env=env)
        try:
            got = rx.wait_for(1, timeout_s=20)
        finally:
            stop(proc)
    assert [d["body"]["event_id"] for d in got] == [owed["event_id"]]
    assert got[0]["body"]["account"]["domain"] == "acme.com"
