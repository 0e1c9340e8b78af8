"""Comparing two profiles without an engine: the paired test in `comparison`, its verdict in
words, and the comparison report (content, escaping, self-containment, charts)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from markupsafe import escape

from icpkit.discover.backtest import Labelled, comparison, paired_verdict
from icpkit.discover.stats import PairedTest, delong_paired
from icpkit.report.compare import compare_report
from icpkit.report.evidence import backtest_report
from tests.unit.test_evidence_report import (
    ESCAPED,
    HOSTILE,
    assert_escaped,
    assert_self_contained,
    assert_well_formed,
    real_backtest,
)

TIERS = ["high", "mid", "low"]


def labelled(scores: np.ndarray, won: np.ndarray, version: str) -> tuple[Any, Labelled]:
    """A profile stand-in and its :class:`Labelled` rows, as `labelled_counts` returns them."""
    tiers = np.where(scores >= 70, "high", np.where(scores >= 40, "mid", "low"))
    rows = pa.table({"_row": np.arange(1, len(scores) + 1), "tier": tiers, "fit_score": scores,
                     "_won": won.astype(np.int8)})
    counts = rows.group_by(["fit_score", "tier"]).aggregate([("_won", "count"), ("_won", "sum")])
    counts = counts.rename_columns(["fit_score", "tier", "n", "wins"])
    prof = SimpleNamespace(ordered_tiers=[SimpleNamespace(name=t) for t in TIERS], version_hash=version,
                           criteria=["fit"], intent=None, priority=None, population=None)
    return prof, Labelled(counts, len(scores), "won", None, rows)


def compared(seed: int = 0, n: int = 3000, b_noise: float = 0.0) -> Any:
    rng = np.random.default_rng(seed)
    quality = rng.random(n)
    won = (rng.random(n) < 0.05 + quality * 0.4).astype(int)
    a = np.round(quality * 10) * 10  # A: the signal, in 11 steps
    b = np.clip(a + np.round(rng.normal(0, b_noise, n) / 10) * 10, 0, 100) if b_noise else a.copy()
    pa_, da = labelled(a, won, "aaa")
    pb, db = labelled(b, won, "bbb")
    return comparison(pa_, pb, da, db), a, b, won


def test_comparison_runs_the_paired_test_on_the_rows() -> None:
    cmp, a, b, won = compared(b_noise=30.0)  # B is A blurred: it ranks worse
    test = delong_paired(a, b, won)
    assert cmp.auc_difference == pytest.approx(test.difference, abs=1e-12) and cmp.auc_difference < 0
    assert cmp.z == pytest.approx(test.z) and cmp.p_value == pytest.approx(test.p_value)
    assert (cmp.auc_difference_low, cmp.auc_difference_high) == pytest.approx((test.low, test.high))
    assert cmp.significant and cmp.p_value < 0.001
    assert cmp.verdict.startswith("A ranks better than B") and "significant at 5%" in cmp.verdict
    assert "not significant" not in cmp.verdict
    d = cmp.to_dict()
    for key in ("auc_difference", "auc_difference_low", "auc_difference_high", "z", "p_value", "significant",
                "verdict"):
        assert d[key] == getattr(cmp, key)
    assert d["a"]["auc_low"] < d["a"]["auc"] < d["a"]["auc_high"]


def test_the_same_profile_twice_ranks_alike() -> None:
    cmp, *_ = compared()
    assert cmp.auc_difference == 0 and cmp.p_value == 1.0 and not cmp.significant and cmp.changed == 0
    assert cmp.verdict.startswith("A and B rank alike")


@pytest.mark.parametrize(("diff", "p", "words"), [
    (0.029, 0.001, "B ranks better than A: AUC 0.781 vs 0.752, difference B - A +0.029 (95% CI +0.012 to +0.046), "
                   "p = 0.001: significant at 5%."),
    (0.029, 0.0002, "p < 0.001: significant"),
    (0.029, 0.2, "p = 0.200: not significant at 5%: the two rank alike on this history."),
    (-0.029, 0.2, "A ranks better than B: AUC 0.781 vs 0.752, difference B - A -0.029"),
])
def test_verdict_words(diff: float, p: float, words: str) -> None:
    auc_a, auc_b = (0.752, 0.781) if diff > 0 else (0.781, 0.752)
    test = PairedTest(auc_a, auc_b, diff, 1e-4, diff - 0.017, diff + 0.017, 2.0, p)
    assert words in paired_verdict(auc_a, auc_b, test)


def test_verdict_without_a_test() -> None:
    test = PairedTest(0.9, 0.8, -0.1, float("nan"), None, None, None, None)
    assert "cannot be told apart by a test" in paired_verdict(0.9, 0.8, test)


# ---------------------------------------------------------------- the report


def test_compare_report_content() -> None:
    cmp, *_ = compared(b_noise=30.0)
    page = compare_report(cmp.to_dict(), names=("current.yaml", "candidate.yaml"))
    assert_well_formed(page)
    assert_self_contained(page)
    assert page.count("<svg") == 3  # gains of both, win rate by tier of each
    assert "A: current.yaml" in page and "B: candidate.yaml" in page
    assert str(escape(cmp.verdict)) in page and ">significant<" in page
    assert f"{cmp.auc_difference:+.3f}" in page and "&lt; 0.001" in page  # the difference and its p-value
    a = cmp.a
    assert f"{a.auc_low:.3f} – {a.auc_high:.3f}" in page  # A's AUC interval
    assert f"{a.top_share_low * 100:.1f}% – {a.top_share_high * 100:.1f}%" in page
    assert "Tier moves" in page and "aaa" in page and "bbb" in page


def test_compare_report_escapes_names_and_says_when_there_is_no_test() -> None:
    cmp, *_ = compared()
    d = cmp.to_dict() | {"auc_difference_low": None, "auc_difference_high": None, "z": None, "p_value": None,
                         "significant": False, "verdict": f"no test {HOSTILE}"}
    d["moves"] = {HOSTILE: {"high": 3}}
    page = compare_report(d, names=(HOSTILE, "b.yaml"))
    assert_well_formed(page)
    assert_escaped(page)
    assert f"no test {ESCAPED}" in page and ">no test<" in page
    assert "Paired test of the AUCs" not in page  # no table of a test that was not made


def test_backtest_report_shows_the_intervals() -> None:
    result = real_backtest()
    page = backtest_report(result)
    assert f"95% CI {result['auc_low']:.3f} – {result['auc_high']:.3f}" in page
    checks = result["madkudu"]["checks"]
    assert f"{checks['top_recall']['low'] * 100:.1f}% – {checks['top_recall']['high'] * 100:.1f}%" in page
    assert "95% interval</th><th>Target" in page
    unbounded = result | {"top_bottom_ratio_low": 2.5, "top_bottom_ratio_high": None}
    unbounded["madkudu"] = {**result["madkudu"], "checks": {**checks, "top_bottom_ratio": {
        **checks["top_bottom_ratio"], "low": 2.5, "high": None}}}
    assert "×2.50 – ∞" in backtest_report(unbounded)
