"""`icp backtest` on the demo CRM: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from icpkit.demo.generate import generate_demo

ROOT = Path(__file__).resolve().parents[2]
ICP = shutil.which("icp", path=str(Path(sys.executable).parent)) or "icp"
PROFILE = ROOT / "src" / "icpkit" / "demo" / "profile.yaml"

# A domain the way the demo export writes it (https://www.x.com, X.COM, x.com/) -> x.com
DOMAIN = "regexp_replace(regexp_replace(lower(trim(a.\"Company Domain Name\")), '^https?://(www\\.)?', ''), '/.*$', '')"


def icp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ICP_WORKSPACE", None)
    return subprocess.run([ICP, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo accounts (HubSpot headers) plus `won`: the outcome of each account's latest
    closed deal (won 1, lost 0), and `closed_at`, its date; accounts without one dropped."""
    tmp = tmp_path_factory.mktemp("backtest")
    demo = generate_demo(tmp / "demo", n_accounts=1500, seed=7)
    out = tmp / "labelled.csv"
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            WITH latest AS (
                SELECT domain, arg_max(outcome, closed_at) AS outcome, max(closed_at) AS closed_at
                FROM read_csv('{demo.deals}', all_varchar=true)
                WHERE outcome IN ('won', 'lost') GROUP BY domain)
            SELECT a.*, CASE l.outcome WHEN 'won' THEN 1 ELSE 0 END AS won, l.closed_at
            FROM read_csv('{demo.accounts}', all_varchar=true) a JOIN latest l ON l.domain = {DOMAIN}
            ORDER BY a."Record ID"
        ) TO '{out}' (HEADER)""")
    con.close()
    return out


def _edit_labels(src: Path, dst: Path, value: str | None = None, *, at: int | None = None) -> Path:
    """``src`` with the `won` column set to ``value`` on data row ``at`` (1-based), or on every row."""
    con = duckdb.connect()
    row = "true" if at is None else f"_n = {at}"
    con.execute(f"""
        COPY (SELECT * EXCLUDE (won, _n), CASE WHEN {row} THEN '{value}' ELSE won END AS won
              FROM (SELECT *, row_number() OVER () AS _n FROM read_csv('{src}', all_varchar=true)))
        TO '{dst}' (HEADER)""")
    con.close()
    return dst


def test_backtest_on_the_demo_crm(tmp_path: Path, labelled: Path) -> None:
    run = icp("backtest", "-p", str(PROFILE), "-d", str(labelled), "-l", "won", "--json", "out.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for text in ("AUC", "KS", "Win rate by tier", "95% interval", "Gains by decile", "MadKudu validation bar:"):
        assert text in run.stdout
    result = json.loads((tmp_path / "out.json").read_text())
    for key in ("auc", "ks", "tiers", "top_share", "top_recall", "top_bottom_ratio", "gains", "calibration",
                "madkudu_pass", "madkudu"):
        assert key in result
    assert result["auc"] > 0.65 and 0 < result["ks"] <= 1
    tiers = result["tiers"]
    assert [t["tier"] for t in tiers] == ["high", "monitor", "disqualify"]
    assert tiers[0]["win_rate"] > tiers[-1]["win_rate"]
    assert all(t["ci_low"] <= t["win_rate"] <= t["ci_high"] for t in tiers)
    assert sum(t["n"] for t in tiers) == result["rows"] == result["rows_total"]
    assert len(result["gains"]) == 10 and result["gains"][-1]["cum_share_wins"] == pytest.approx(1.0)
    assert set(result["madkudu"]["checks"]) == {"top_share", "top_recall", "top_bottom_ratio"}
    assert not list(tmp_path.glob(".*.tmp"))
    # uncertainty: DeLong's interval of the AUC, bootstrap intervals of the MadKudu figures
    assert result["auc_low"] < result["auc"] < result["auc_high"] and result["auc_high"] - result["auc_low"] < 0.2
    assert f"AUC {result['auc']:.3f} (95% CI {result['auc_low']:.3f}-{result['auc_high']:.3f})" in run.stdout
    for name, c in result["madkudu"]["checks"].items():
        assert c["low"] < c["value"] < c["high"]
        assert (result[f"{name}_low"], result[f"{name}_high"]) == (c["low"], c["high"])
    share = result["madkudu"]["checks"]["top_share"]
    assert f"top share: {share['value']:.1%} (95% CI {share['low']:.1%}-{share['high']:.1%}; target" in run.stdout


def test_backtest_out_of_sample(tmp_path: Path, labelled: Path) -> None:
    full = icp("backtest", "-p", str(PROFILE), "-d", str(labelled), "-l", "won", "--json", "all.json", cwd=tmp_path)
    split = icp("backtest", "-p", str(PROFILE), "-d", str(labelled), "-l", "won", "--date", "closed_at",
                "--split-at", "2025-07-01", "--json", "oos.json", cwd=tmp_path)
    assert full.returncode == 0 and split.returncode == 0, split.stderr
    everything, later = (json.loads((tmp_path / f).read_text()) for f in ("all.json", "oos.json"))
    assert 0 < later["rows"] < everything["rows"]
    assert later["split"]["rows_before"] == everything["rows"] - later["rows"]
    assert "on or after 2025-07-01" in " ".join(split.stdout.split())


def test_a_bad_label_exits_1_naming_the_row(tmp_path: Path, labelled: Path) -> None:
    bad = _edit_labels(labelled, tmp_path / "bad.csv", "maybe", at=7)
    run = icp("backtest", "-p", str(PROFILE), "-d", str(bad), "-l", "won", cwd=tmp_path)
    assert run.returncode == 1
    message = " ".join(run.stderr.split())
    assert "row 7" in message and "'maybe'" in message and "column 'won'" in message


def test_all_losses_exit_1_with_one_class(tmp_path: Path, labelled: Path) -> None:
    zeros = _edit_labels(labelled, tmp_path / "zeros.csv", "0")
    run = icp("backtest", "-p", str(PROFILE), "-d", str(zeros), "-l", "won", cwd=tmp_path)
    assert run.returncode == 1
    assert "no positives" in run.stderr and "one class" in run.stderr


def test_a_missing_label_column_suggests_the_nearest(tmp_path: Path, labelled: Path) -> None:
    run = icp("backtest", "-p", str(PROFILE), "-d", str(labelled), "-l", "wonn", cwd=tmp_path)
    assert run.returncode == 1
    assert "no label column 'wonn'" in run.stderr and "did you mean 'won'" in run.stderr


def test_split_needs_both_options_and_a_date(tmp_path: Path, labelled: Path) -> None:
    run = icp("backtest", "-p", str(PROFILE), "-d", str(labelled), "-l", "won", "--split-at", "2025-07-01", cwd=tmp_path)
    assert run.returncode == 1 and "--date and --split-at go together" in run.stderr
    run = icp("backtest", "-p", str(PROFILE), "-d", str(labelled), "-l", "won", "--date", "closed_at",
              "--split-at", "July", cwd=tmp_path)
    assert run.returncode == 1 and "not a date" in run.stderr


def test_compare_two_profiles_on_the_same_history(tmp_path: Path, labelled: Path) -> None:
    seed = ROOT / "examples" / "seed-rubric.yaml"
    run = icp("compare", str(PROFILE), str(seed), "-d", str(labelled), "-l", "won", "--json", "cmp.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "cmp.json").read_text())
    assert result["a"]["rows"] == result["b"]["rows"]
    moves = result["moves"]
    assert sum(n for row in moves.values() for n in row.values()) == result["a"]["rows"]
    assert result["changed"] == sum(n for x, row in moves.items() for y, n in row.items() if x != y) > 0
    assert f"{result['changed']:,} of {result['a']['rows']:,} records change tier" in run.stdout
    same = icp("compare", str(PROFILE), str(PROFILE), "-d", str(labelled), "-l", "won", cwd=tmp_path)
    assert same.returncode == 0 and " 0 of " in same.stdout
    said = " ".join(same.stdout.split())
    assert "Paired DeLong test of the AUCs (z = 0.00): A and B rank alike" in said
    assert "no difference (p = 1.000)" in said


def test_compare_tests_the_difference_of_the_aucs(tmp_path: Path, labelled: Path) -> None:
    seed = ROOT / "examples" / "seed-rubric.yaml"
    run = icp("compare", str(PROFILE), str(seed), "-d", str(labelled), "-l", "won", "--json", "cmp.json",
              "--html", "cmp.html", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "cmp.json").read_text())
    a, b = result["a"], result["b"]
    diff = result["auc_difference"]
    assert diff == pytest.approx(b["auc"] - a["auc"], abs=1e-12)
    assert result["auc_difference_low"] < diff < result["auc_difference_high"]
    assert 0 < result["p_value"] <= 1 and result["significant"] == (result["p_value"] < 0.05)
    assert result["z"] == pytest.approx(diff / ((result["auc_difference_high"] - diff) / 1.959963984540054))
    better = "B ranks better than A" if diff > 0 else "A ranks better than B"
    verdict = result["verdict"]
    assert verdict.startswith(better) and f"difference B - A {diff:+.3f}" in verdict
    assert verdict.endswith("significant at 5%." if result["significant"] else "rank alike on this history.")
    text = " ".join(run.stdout.split())
    assert verdict in text and "Paired DeLong test of the AUCs" in text
    assert f"{a['auc']:.3f} ({a['auc_low']:.3f}-{a['auc_high']:.3f})" in text  # A's AUC with its interval
    assert "Wrote cmp.html" in text
    page = (tmp_path / "cmp.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 3
    assert verdict.split(":")[0] in page and "Tier moves" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert not list(tmp_path.glob(".*.tmp"))
