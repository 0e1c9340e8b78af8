"""``icp enrich`` as a user runs it: the summary, the dry run, errors with their place, and
a run killed half-way that resumes without paying twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.backends.test_enrich import api_config
from tests.cli.test_cli import ICP, icp
from tests.files import write_csv
from tests.vendor_api import vendor_api


def test_enrich_prints_where_values_came_from_and_the_cost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDOR_TEST_KEY", "k")
    write_csv(tmp_path / "accounts.csv", ["domain"], [["ok-a.com"], ["missing-b.com"]])
    with vendor_api() as api:
        api_config(tmp_path, api.url, cost=0.5)
        dry = icp("enrich", "-a", "accounts.csv", "-c", "enrich.yaml", "--dry-run", "-w", "ws", cwd=tmp_path)
        assert dry.returncode == 0, dry.stderr
        assert "A run would cost at most 1" in dry.stdout and api.requests == []
        run = icp("enrich", "-a", "accounts.csv", "-c", "enrich.yaml", "-o", "out.csv", "-w", "ws", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "employees" in run.stdout and "vendor 1" in run.stdout and "Spent 1" in run.stdout
    assert (tmp_path / "out.csv").exists()


def test_a_configuration_error_names_its_line_and_exits_1(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ["domain"], [["acme.com"]])
    (tmp_path / "enrich.yaml").write_text("providers:\n  a: {type: table, source: c.csv, fields: {employees: e}}\n"
                                          "fields:\n  employees: [a]\nbudjet: 3\n", encoding="utf-8")
    run = icp("enrich", "-a", "accounts.csv", "-c", "enrich.yaml", "-o", "out.csv", cwd=tmp_path)
    assert run.returncode == 1
    assert "unknown key 'budjet'" in run.stderr and "line 5" in run.stderr and "budget" in run.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_killed_run_resumes_without_paying_twice(tmp_path: Path) -> None:
    domains = [f"ok-{i}.com" for i in range(12)]
    write_csv(tmp_path / "accounts.csv", ["domain"], [[d] for d in domains])
    with vendor_api() as api:
        api_config(tmp_path, api.url, extra="concurrency: 1")
        env = os.environ | {"VENDOR_TEST_KEY": "k"}
        proc = subprocess.Popen([ICP, "enrich", "-a", "accounts.csv", "-c", "enrich.yaml", "-o", "out.csv",
                                 "-w", "ws", "-q"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(api.requests) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        api.hang.set()  # the next answer never comes: the run is killed waiting for it
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        api.hang.clear()
        asked_before = api.counts()
        assert 5 <= sum(asked_before.values()) < len(domains)
        assert not (tmp_path / "out.csv").exists()  # nothing half-written
        again = subprocess.run([ICP, "enrich", "-a", "accounts.csv", "-c", "enrich.yaml", "-o", "out.csv",
                                "-w", "ws", "-q"], cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=120)
        assert again.returncode == 0, again.stderr
        counts = api.counts()
    # every domain asked once, except the one in flight when the run was killed (its answer never arrived)
    assert set(counts) == set(domains)
    assert sum(n - 1 for n in counts.values()) <= 1
