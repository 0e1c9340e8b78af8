"""`icp tam` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from icpkit.demo.generate import generate_demo
from tests.cli.test_cli import icp

ROOT = Path(__file__).resolve().parents[2]


def test_tam_counts_tiers_and_warns(tmp_path: Path) -> None:
    demo = generate_demo(tmp_path / "crm", n_accounts=800, seed=5)
    profile = str(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
    run = icp("tam", "-p", profile, "-u", str(demo.accounts), "--json", "tam.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "tam.json").read_text())
    assert data["total"] == 800 and sum(data["tiers"].values()) == 800
    assert f"Top tier (high): {data['top']:,} companies" in run.stdout
    narrow = icp("tam", "-p", profile, "-u", str(demo.accounts), "--narrow", "100000", cwd=tmp_path)
    assert narrow.returncode == 0 and "too narrow" in narrow.stdout and "too narrow to fill" in narrow.stderr
