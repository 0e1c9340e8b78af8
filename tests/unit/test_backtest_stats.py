"""The backtest statistics against known values and brute force."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icpkit.discover.backtest import (
    auc,
    auc_weighted,
    calibration,
    calibration_weighted,
    gains_table,
    gains_table_weighted,
    histogram,
    histogram_weighted,
    ks,
    ks_weighted,
    parse_labels,
    summarize,
    tier_table,
    tier_table_weighted,
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


# -- the statistics from counts equal the per-row ones ---------------------------------

TIERS = ["high", "mid", "low"]
#: Fit scores as a rubric produces them: few values, some not exact in binary (33.33).
SCORES = [0.0, 5.0, 12.5, 20.0, 33.33, 40.0, 57.5, 66.67, 70.0, 95.0, 100.0]


def counts(scores: np.ndarray, labels: np.ndarray, tiers: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows and wins per (score, tier), as the engine counts them: a score repeats once per tier."""
    t = pa.table({"s": scores, "t": tiers.tolist(), "y": labels})
    g = t.group_by(["s", "t"]).aggregate([("y", "count"), ("y", "sum")])
    return (g["s"].to_numpy(), np.array(g["t"].to_pylist(), dtype=object), g["y_count"].to_numpy(),
            g["y_sum"].to_numpy())


def assert_weighted_equal_per_row(scores: np.ndarray, labels: np.ndarray, tiers: np.ndarray) -> None:
    s, t, n, wins = counts(scores, labels, tiers)
    assert auc_weighted(s, n, wins) == auc(scores, labels)
    assert ks_weighted(s, n, wins) == ks(scores, labels)
    assert gains_table_weighted(s, n, wins) == gains_table(scores, labels)
    assert gains_table_weighted(s, n, wins, bins=7) == gains_table(scores, labels, bins=7)
    assert tier_table_weighted(t, n, wins, TIERS) == tier_table(tiers, labels, TIERS)
    assert calibration_weighted(s, n, wins) == calibration(scores, labels)
    assert histogram_weighted(s, n, wins) == histogram(scores, labels)


@pytest.mark.parametrize(("seed", "rows"), [(0, 1000), (1, 1003), (2, 20_001), (3, 7), (4, 12), (5, 100_000)])
def test_weighted_statistics_equal_the_per_row_ones(seed: int, rows: int) -> None:
    """Exactly equal (==, not approx), with many ties straddling the decile boundaries."""
    rng = np.random.default_rng(seed)
    scores = rng.choice(SCORES, rows)
    labels = (rng.random(rows) < 0.05 + scores / 130).astype(np.int8)
    labels[:2] = [0, 1]  # both classes, even in 7 rows
    tiers = np.where(scores >= 70, "high", np.where(scores >= 40, "mid", "low")).astype(object)
    assert_weighted_equal_per_row(scores, labels, tiers)


def test_weighted_statistics_with_continuous_scores() -> None:
    rng = np.random.default_rng(6)
    scores = np.round(rng.random(5000) * 100, 2)
    labels = (rng.random(5000) < scores / 100).astype(np.int8)
    assert_weighted_equal_per_row(scores, labels, rng.choice(TIERS, 5000).astype(object))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SCORES), st.booleans(), st.sampled_from(TIERS)), min_size=2, max_size=80))
def test_weighted_statistics_equal_the_per_row_ones_on_any_rows(rows: list[tuple[float, bool, str]]) -> None:
    scores = np.array([r[0] for r in rows])
    labels = np.array([r[1] for r in rows], dtype=np.int8)
    if labels.min() == labels.max():
        labels[0] = 1 - labels[0]
    assert_weighted_equal_per_row(scores, labels, np.array([r[2] for r in rows], dtype=object))


def test_weighted_statistics_accept_repeated_scores_and_empty_entries() -> None:
    # 50 appears twice (two tiers) and 10 has no rows: as if 4 rows scored 50 (3 won), 2 scored 20
    s, n, wins = [50.0, 10.0, 50.0, 20.0], [3, 0, 1, 2], [2, 0, 1, 0]
    per_row_s, per_row_y = [50, 50, 50, 50, 20, 20], [1, 1, 0, 1, 0, 0]
    assert auc_weighted(s, n, wins) == auc(per_row_s, per_row_y) == pytest.approx(7.5 / 9)  # 3 ties of 9 pairs
    assert gains_table_weighted(s, n, wins, bins=4) == gains_table(per_row_s, per_row_y, bins=4)
    with pytest.raises(ValueError, match="between 0 and n"):
        auc_weighted([1.0], [2], [3])
    with pytest.raises(DataError, match="no positives"):
        ks_weighted([1.0, 2.0], [4, 5], [0, 0])


def test_histogram_counts_add_up() -> None:
    rng = np.random.default_rng(7)
    scores = rng.choice([*SCORES, 4.99, 5.0, 99.99], 5000)
    labels = (rng.random(5000) < 0.3).astype(np.int8)
    hist = histogram(scores, labels)
    assert [h["band"] for h in hist] == [f"{b}-{b + 5}" for b in range(0, 100, 5)]
    assert sum(h["won"] for h in hist) == labels.sum()
    assert sum(h["won"] + h["lost"] for h in hist) == 5000
    for h in hist:
        low, high = map(float, h["band"].split("-"))
        inside = (scores >= low) & ((scores < high) | (high == 100))
        assert (h["won"], h["lost"]) == (labels[inside].sum(), (1 - labels[inside]).sum())
    tiers = rng.choice(TIERS, 5000).astype(object)
    assert summarize(scores, labels, tiers, TIERS, rows_total=5000, label="won", profile_version="x").histogram == hist
