"""`icp runs` and `icp drift` as a user runs them: recorded runs, files and periods compared,
an emerging segment found, and bad input refused with the place."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.cli.test_cli import SEED, icp

SEGMENT_KEYS = {"attribute", "value", "n", "wins", "win_rate", "tier_win_rate", "p_value", "q_value"}


def accounts(rng: np.random.Generator, n: int, *, start: str, months: int, planted: bool) -> pd.DataFrame:
    """Accounts in the seed rubric's columns, with a deal outcome and its date; with
    ``planted``, retail accounts (which the rubric scores low) win as often as the best."""
    industry = rng.choice(["Computer Software", "Internet", "Retail", "Banking", "Construction"], n)
    employees = rng.integers(5, 2000, n)
    country = rng.choice(["US", "CA", "GB", "DE", "FR"], n)
    tech = rng.choice(["Salesforce", "HubSpot", "Slack", ""], n)
    funding = np.where(rng.random(n) < 0.5, rng.integers(1, 700, n).astype(float), np.nan)
    good = np.isin(industry, ["Computer Software", "Internet"]) & (employees >= 50) & (employees <= 500)
    p = np.where(good, 0.45, 0.08)
    if planted:
        p = np.where(industry == "Retail", 0.5, p)
    won = rng.random(n) < p
    days = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, months * 30, n), unit="D")
    return pd.DataFrame({"domain": [f"a{i}-co.com" for i in range(n)], "industry": industry,
                         "employees": employees, "technologies": tech, "country": country,
                         "days_since_funding": funding, "won": np.where(won, "won", "lost"),
                         "closed_at": days.strftime("%Y-%m-%d")})


def test_runs_are_recorded_and_two_runs_compared(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    accounts(rng, 1500, start="2025-01-01", months=6, planted=False).to_csv(tmp_path / "q1.csv", index=False)
    later = accounts(rng, 1500, start="2025-07-01", months=6, planted=False)
    later["industry"] = np.where(rng.random(1500) < 0.8, "Retail", later["industry"])  # the market moved
    later.to_csv(tmp_path / "q3.csv", index=False)
    for name in ("q1", "q3"):
        done = icp("score", "-p", str(SEED), "-a", f"{name}.csv", "-o", f"{name}-scores.csv", "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    listed = icp("runs", cwd=tmp_path)
    assert listed.returncode == 0 and "q1.csv" in listed.stdout and "q3.csv" in listed.stdout
    runs = json.loads(icp("runs", "--json", "-", cwd=tmp_path).stdout)
    assert [(r["run_id"], r["rows"]) for r in runs] == [(1, 1500), (2, 1500)]
    done = icp("drift", "-p", str(SEED), "--baseline", "run:1", "--current", "run:2", "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)
    assert d["psi"] >= 0.10 and d["attributes"]["industry"] >= 0.25
    assert d["score"]["level"] in ("watch", "shifted") and any("industry" in a for a in d["actions"])
    assert d["tiers_by_period"] == [] and d["emerging"] == [] and "has no labels" in done.stderr
    missing = icp("drift", "-p", str(SEED), "--baseline", "run:1", "--current", "run:9", cwd=tmp_path)
    assert missing.returncode == 1 and "no run 9" in missing.stderr


def test_periods_of_a_dated_file_with_an_emerging_segment(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    history = pd.concat([accounts(rng, 2500, start="2025-01-01", months=6, planted=False),
                         accounts(rng, 2500, start="2025-07-01", months=6, planted=True)])
    history["domain"] = [f"a{i}-co.com" for i in range(len(history))]
    history.to_csv(tmp_path / "history.csv", index=False)
    done = icp("drift", "-p", str(SEED), "--baseline", "2025-01-01..2025-06-30", "--current",
               "2025-07-01..2025-12-31", "--data", "history.csv", "--label", "won", "--date", "closed_at",
               "--every", "quarter", "--json", "drift.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    d = json.loads((tmp_path / "drift.json").read_text())
    assert set(d) >= {"psi", "attributes", "tiers_by_period", "emerging", "fading"}
    assert [p["period"] for p in d["tiers_by_period"]] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert {t["tier"] for t in d["tiers_by_period"][0]["tiers"]} == {"high", "monitor", "disqualify"}
    top = d["emerging"][0]
    assert set(top) == SEGMENT_KEYS and top["attribute"] == "industry" and top["value"] == "Retail"
    assert top["win_rate"] > 2 * top["tier_win_rate"] and top["q_value"] <= 0.05
    assert "Emerging" in done.stdout and "Retail" in done.stdout


def test_bad_sides_are_refused_with_the_place(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    a = accounts(rng, 300, start="2025-01-01", months=3, planted=False)
    a.to_csv(tmp_path / "a.csv", index=False)
    a.drop(columns=["technologies"]).to_csv(tmp_path / "b.csv", index=False)
    done = icp("drift", "-p", str(SEED), "--baseline", "a.csv", "--current", "b.csv", cwd=tmp_path)
    assert done.returncode == 1 and "different columns" in done.stderr and "technologies" in done.stderr
    empty = icp("drift", "-p", str(SEED), "--baseline", "2025-01", "--current", "2030-Q1", "--data", "a.csv",
                "--date", "closed_at", cwd=tmp_path)
    assert empty.returncode == 1 and "dated in 2030-Q1" in empty.stderr and "2025-01" in empty.stderr
    a.assign(won="lost").to_csv(tmp_path / "c.csv", index=False)
    one = icp("drift", "-p", str(SEED), "--baseline", "a.csv", "--current", "c.csv", "--label", "won", cwd=tmp_path)
    assert one.returncode == 0 and "one class" in one.stderr
    nodata = icp("drift", "-p", str(SEED), "--baseline", "2025-Q1", "--current", "2025-Q2", cwd=tmp_path)
    assert nodata.returncode == 1 and "--data FILE --date COL" in nodata.stderr
    few = icp("drift", "-p", str(SEED), "--baseline", "2025-01-01..2025-01-05", "--current", "2025-02",
              "--data", "a.csv", "--date", "closed_at", "--json", "-", cwd=tmp_path)
    assert few.returncode == 0 and json.loads(few.stdout)["psi"] is None
    assert "not enough data" in json.loads(few.stdout)["score"]["note"]
