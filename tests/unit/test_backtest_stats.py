"""The backtest statistics against known values and brute force."""

from __future__ import annotations

import numpy as np
import pytest

from icpkit.discover.backtest import (
    auc,
    calibration,
    gains_table,
    ks,
    parse_labels,
    summarize,
    tier_table,
    wilson_interval,
)
from icpkit.errors import DataError


def brute_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    total = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return total / (len(pos) * len(neg))


def test_auc_perfect_reversed_and_tied() -> None:
    y = np.array([0, 0, 1, 1])
    assert auc([1, 2, 3, 4], y) == 1.0
    assert auc([4, 3, 2, 1], y) == 0.0
    assert auc([5, 5, 5, 5], y) == 0.5
    assert auc([1, 2, 2, 3], y) == pytest.approx(7 / 8)  # the tied pair counts one half


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_equals_pairwise_count_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 12, 300).astype(float)  # many ties
    labels = (rng.random(300) < 0.2 + scores / 30).astype(int)
    assert auc(scores, labels) == pytest.approx(brute_auc(scores, labels), abs=1e-12)


def test_ks_known_cases() -> None:
    assert ks([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert ks([1, 1, 1, 1], [0, 1, 0, 1]) == 0.0
    # negatives 1,2,3 ; positives 2,3,4: CDFs differ by at most 1/3
    assert ks([1, 2, 3, 2, 3, 4], [0, 0, 0, 1, 1, 1]) == pytest.approx(1 / 3)


def test_wilson_interval_textbook_value() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490, abs=1e-3) and high == pytest.approx(0.943, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0 < high < 0.2


def test_gains_table_lift_and_cumulative_share() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 100, 1003).astype(float)
    labels = (rng.random(1003) < scores / 150).astype(int)
    g = gains_table(scores, labels)
    assert [r["decile"] for r in g] == list(range(1, 11))
    assert sum(r["n"] for r in g) == 1003
    assert sum(r["wins"] for r in g) == pytest.approx(labels.sum())
    assert sum(r["lift"] * r["n"] for r in g) / 1003 == pytest.approx(1.0)
    assert g[-1]["cum_share_wins"] == pytest.approx(1.0)
    assert g[0]["min_score"] >= g[1]["max_score"]
    assert g[0]["lift"] > 1 > g[-1]["lift"]


def test_gains_table_does_not_depend_on_row_order_within_ties() -> None:
    scores = np.array([50.0] * 10 + [10.0] * 10)
    labels = np.array([1] * 5 + [0] * 5 + [0] * 10)
    flipped = np.array([0] * 5 + [1] * 5 + [0] * 10)
    assert gains_table(scores, labels) == gains_table(scores, flipped)
    assert gains_table(scores, labels)[0]["wins"] == pytest.approx(1.0)  # half of each tied pair's wins


def test_tier_table_and_calibration() -> None:
    tiers = np.array(["high", "high", "low", "low", "low"], dtype=object)
    t = tier_table(tiers, [1, 0, 0, 0, 1], ["high", "mid", "low"])
    assert [r["tier"] for r in t] == ["high", "mid", "low"]
    assert (t[0]["n"], t[0]["wins"], t[0]["win_rate"]) == (2, 1, 0.5)
    assert (t[0]["ci_low"], t[0]["ci_high"]) == wilson_interval(1, 2)
    assert (t[2]["n"], t[2]["wins"]) == (3, 1)
    assert t[1]["n"] == 0 and t[1]["win_rate"] is None
    cal = calibration([5, 15, 100, 95], [0, 0, 1, 0])
    assert [c["band"] for c in cal] == ["0-10", "10-20", "90-100"]
    assert cal[-1]["n"] == 2 and cal[-1]["predicted"] == pytest.approx(0.975) and cal[-1]["observed"] == 0.5


def test_summarize_madkudu_bar() -> None:
    # top tier: 25% of rows, 80% of wins, 80% win rate vs 0% at the bottom
    scores = np.array([90] * 5 + [50] * 5 + [10] * 10, dtype=float)
    tiers = np.array(["high"] * 5 + ["mid"] * 5 + ["low"] * 10, dtype=object)
    labels = np.array([1, 1, 1, 1, 0] + [1, 0, 0, 0, 0] + [0] * 10)
    bt = summarize(scores, labels, tiers, ["high", "mid", "low"], rows_total=20, label="won",
                   profile_version="x")
    assert bt.top_share == 0.25 and bt.top_recall == 0.8
    assert bt.top_bottom_ratio is None and bt.madkudu_pass
    assert all(c["pass"] for c in bt.madkudu["checks"].values())
    labels[10] = 1  # one win at the bottom: 80% vs 10% = 8x < 10x
    bt = summarize(scores, labels, tiers, ["high", "mid", "low"], rows_total=20, label="won", profile_version="x")
    assert bt.top_bottom_ratio == pytest.approx(8.0) and not bt.madkudu_pass
    assert not bt.madkudu["checks"]["top_bottom_ratio"]["pass"]


def test_parse_labels_accepts_the_usual_spellings() -> None:
    words = [" Yes", "no", "TRUE", "false", "won", "Lost", "y", "N", "1", "0", "1.0"]
    assert parse_labels(words).tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    assert parse_labels([True, False]).tolist() == [1, 0]
    assert parse_labels(np.array([1, 0, 1])).tolist() == [1, 0, 1]
    assert parse_labels([1.0, 0.0]).tolist() == [1, 0]


@pytest.mark.parametrize(("values", "message", "row"), [
    (["yes", "no", "maybe", "2"], "'maybe'", "row 3"),
    (["1", None, "0"], "missing", "row 2"),
    (["1", "  ", "0"], "missing", "row 2"),
    ([1, 2], "'2'", "row 2"),
    ([1.0, float("nan")], "missing", "row 2"),
])
def test_parse_labels_names_the_first_bad_value_and_row(values: list, message: str, row: str) -> None:
    with pytest.raises(DataError) as exc:
        parse_labels(values)
    assert message in str(exc.value) and row in str(exc.value)


def test_parse_labels_uses_the_given_row_numbers() -> None:
    with pytest.raises(DataError, match=r"f.csv, row 42, column 'won'"):
        parse_labels(["1", "maybe"], rows=[41, 42], where="f.csv", column="won")


@pytest.mark.parametrize(("labels", "message"), [
    ([0, 0, 0], "no positives"), ([1, 1], "one class only"), ([1], "at least 2"),
])
def test_degenerate_labels_are_data_errors(labels: list, message: str) -> None:
    with pytest.raises(DataError, match=message):
        auc(np.arange(len(labels)), labels)
