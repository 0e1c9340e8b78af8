"""DeLong's AUC variance and paired test, and the bootstrap intervals, against hand
computations, published values and brute force."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from icpkit.discover.backtest import auc, summarize
from icpkit.discover.stats import (
    Z95,
    bootstrap,
    delong,
    delong_paired,
    delong_paired_weighted,
    delong_weighted,
    interval,
    paired_counts,
    percentile_interval,
    placements,
    placements_weighted,
    tier_bootstrap,
    two_sided_p,
)

# -- a hand computation ----------------------------------------------------------------
#
# Wins score 4, 2, 2; losses score 3, 2, 1, 1.
# A win's placement: the share of the 4 losses below it, a tied loss counting one half:
#   win 4: 4/4 = 1;  win 2: (2 below + 0.5 tied) / 4 = 0.625 (twice).   Mean 2.25/3 = 0.75 = AUC.
# A loss's placement: the share of the 3 wins above it, a tied win counting one half:
#   loss 3: 1/3;  loss 2: (1 above + 0.5 * 2 tied) / 3 = 2/3;  losses 1: 3/3 = 1 (twice).   Mean 0.75.
# S10 = ((1 - .75)^2 + 2 (.625 - .75)^2) / (3 - 1) = 0.09375 / 2 = 3/64
# S01 = ((1/3 - 3/4)^2 + (2/3 - 3/4)^2 + 2 (1/4)^2) / (4 - 1) = (25 + 1 + 18)/144 / 3 = 11/108
# var = S10 / 3 + S01 / 4 = 1/64 + 11/432 = 71/1728
HAND_SCORES = [4, 2, 2, 3, 2, 1, 1]
HAND_LABELS = [1, 1, 1, 0, 0, 0, 0]
HAND_VARIANCE = Fraction(71, 1728)


def test_placements_of_the_hand_example() -> None:
    v_win, v_loss = placements(HAND_SCORES, HAND_LABELS)
    assert v_win.tolist() == [1.0, 0.625, 0.625]
    assert v_loss.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0], abs=1e-15)
    # from counts: per distinct score 1, 2, 3, 4 (ascending)
    wins, losses, w_val, l_val = placements_weighted([1, 2, 3, 4], [2, 3, 1, 1], [0, 2, 0, 1])
    assert wins.tolist() == [0, 2, 0, 1] and losses.tolist() == [2, 1, 1, 0]
    assert w_val[[1, 3]].tolist() == [0.625, 1.0]
    assert l_val[[0, 1, 2]].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3], abs=1e-15)


def test_delong_variance_of_the_hand_example() -> None:
    a, var = delong(HAND_SCORES, HAND_LABELS)
    assert a == 0.75 and var == pytest.approx(float(HAND_VARIANCE), abs=1e-15)
    a, var = delong_weighted([1, 2, 3, 4], [2, 3, 1, 1], [0, 2, 0, 1])
    assert a == 0.75 and var == pytest.approx(float(HAND_VARIANCE), abs=1e-15)
    low, high = interval(a, var)
    assert low == pytest.approx(0.75 - Z95 * math.sqrt(71 / 1728)) and high == 1.0  # clipped at 1


def test_hanley_mcneil_ct_ratings() -> None:
    """Hanley & McNeil (Radiology 1982), 109 CT images rated 1-5: AUC 0.893. Their standard
    error (0.032) is an approximation; DeLong's for these data is 0.0307, interval
    0.83295-0.95339 (as Stata's roctab reports for its `hanley` example data)."""
    normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    a, var = delong_weighted([1, 2, 3, 4, 5], np.add(normal, abnormal), abnormal)
    assert a == pytest.approx(0.8932, abs=5e-5)
    assert math.sqrt(var) == pytest.approx(0.0307, abs=5e-5)
    low, high = interval(a, var)
    assert low == pytest.approx(0.83295, abs=1e-5) and high == pytest.approx(0.95339, abs=1e-5)


# -- counts, rows and brute force agree ------------------------------------------------


def brute_placements(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos, neg = scores[labels == 1], scores[labels == 0]
    v_win = np.array([((n < p) + 0.5 * (n == p)).mean() for p in pos for n in [neg]])
    v_loss = np.array([((p > n) + 0.5 * (p == n)).mean() for n in neg for p in [pos]])
    return v_win, v_loss


def grouped(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and wins per score, each score split in two entries (as a score repeats once per tier)."""
    values = np.unique(scores)
    half = np.arange(len(scores)) % 2 == 0
    n = [((scores == v) & h).sum() for v in values for h in (half, ~half)]
    wins = [((scores == v) & h & (labels == 1)).sum() for v in values for h in (half, ~half)]
    return np.repeat(values, 2), np.array(n), np.array(wins)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_delong_from_counts_equals_per_row_and_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.choice([0, 12.5, 20, 33.33, 50, 66.67, 100], 400)  # few values: many ties
    labels = (rng.random(400) < 0.1 + scores / 150).astype(int)
    v_win, v_loss = brute_placements(scores, labels)
    expected = v_win.var(ddof=1) / len(v_win) + v_loss.var(ddof=1) / len(v_loss)
    rows_auc, rows_var = delong(scores, labels)
    counts_auc, counts_var = delong_weighted(*grouped(scores, labels))
    assert rows_auc == pytest.approx(auc(scores, labels), abs=1e-12)
    assert counts_auc == pytest.approx(rows_auc, abs=1e-12)
    assert rows_var == pytest.approx(expected, rel=1e-10)
    assert counts_var == pytest.approx(expected, rel=1e-10)
    assert np.allclose(placements(scores, labels)[0], v_win) and np.allclose(placements(scores, labels)[1], v_loss)


def brute_paired(a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """B's AUC minus A's and its variance by DeLong's covariance matrices, written out."""
    wa, la = brute_placements(a, labels)
    wb, lb = brute_placements(b, labels)
    s10, s01 = np.cov(np.vstack([wa, wb])), np.cov(np.vstack([la, lb]))
    cov = s10 / len(wa) + s01 / len(la)
    return wb.mean() - wa.mean(), cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_test_from_counts_equals_per_row_and_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 8, 500).astype(float) * 12.5
    b = np.clip(a + rng.choice([-12.5, 0, 0, 12.5], 500), 0, 100)  # correlated with A, many ties
    labels = (rng.random(500) < 0.1 + (a + b) / 300).astype(int)
    diff, var = brute_paired(a, b, labels)
    rows = delong_paired(a, b, labels)
    counts = delong_paired_weighted(*paired_counts(a, b, labels))
    for t in (rows, counts):
        assert t.difference == pytest.approx(diff, abs=1e-12)
        assert t.variance == pytest.approx(var, rel=1e-9)
        assert t.auc_a == pytest.approx(auc(a, labels), abs=1e-12)
        assert t.auc_b == pytest.approx(auc(b, labels), abs=1e-12)
        assert t.z == pytest.approx(diff / math.sqrt(var), rel=1e-9)
        assert t.p_value == pytest.approx(math.erfc(abs(diff) / math.sqrt(2 * var)), rel=1e-9)
        half = Z95 * math.sqrt(var)
        assert t.low == pytest.approx(diff - half) and t.high == pytest.approx(diff + half)


def test_paired_counts_add_up() -> None:
    sa, sb, n, wins = paired_counts([1, 1, 2, 2, 2], [5, 5, 5, 3, 5], [1, 0, 1, 1, 0])
    assert list(zip(sa.tolist(), sb.tolist(), n.tolist(), wins.tolist())) == [(1, 5, 2, 1), (2, 3, 1, 1), (2, 5, 2, 1)]


# -- what the test says ----------------------------------------------------------------


def test_the_same_scores_give_no_difference_and_p_1() -> None:
    rng = np.random.default_rng(5)
    s = rng.integers(0, 10, 300).astype(float)
    y = (rng.random(300) < s / 12).astype(int)
    for t in (delong_paired(s, s, y), delong_paired_weighted(*paired_counts(s, s, y))):
        assert t.difference == 0 and t.z == 0 and t.p_value == 1.0 and not t.significant
        assert (t.low, t.high) == (0.0, 0.0)


def test_a_clearly_better_score_is_significant() -> None:
    rng = np.random.default_rng(6)
    y = (rng.random(2000) < 0.3).astype(int)
    good = y * 2 + rng.normal(0, 1, 2000)  # separates wins from losses
    noise = rng.normal(0, 1, 2000)  # a coin toss
    t = delong_paired(noise, good, y)
    assert t.difference > 0.3 and t.p_value < 0.001 and t.significant and t.low > 0
    back = delong_paired(good, noise, y)  # the other way round: the same test, the sign flipped
    assert back.difference == pytest.approx(-t.difference) and back.p_value == pytest.approx(t.p_value)
    assert back.high < 0


def test_noise_against_noise_is_usually_not_significant() -> None:
    """Two coin tosses: at 5%, about one test in twenty is significant by chance."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(200):
        y = (rng.random(300) < 0.3).astype(int)
        hits += delong_paired(rng.integers(0, 5, 300), rng.integers(0, 5, 300), y).significant
    assert 2 <= hits <= 22


def test_interval_coverage_of_the_auc() -> None:
    """Over many samples from a known population, the 95% interval holds the true AUC about
    95% of the time. Scores 0-4, wins shifted up: the true AUC is computed exactly."""
    p_win = np.array([0.1, 0.15, 0.2, 0.25, 0.3])
    p_loss = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    true = sum(pw * pl * ((i > j) + 0.5 * (i == j)) for i, pw in enumerate(p_win) for j, pl in enumerate(p_loss))
    rng = np.random.default_rng(8)
    covered = 0
    for _ in range(400):
        w, lost = rng.multinomial(60, p_win), rng.multinomial(140, p_loss)
        a, var = delong_weighted(np.arange(5.0), w + lost, w)
        low, high = interval(a, var)
        covered += low <= true <= high
    assert 0.90 <= covered / 400 <= 0.99


def test_too_few_wins_or_losses_give_no_interval_and_no_test() -> None:
    a, var = delong([3, 1, 2], [1, 0, 0])  # one win
    assert a == 1.0 and math.isnan(var) and interval(a, var) == (None, None)
    t = delong_paired([3, 1, 2], [1, 3, 2], [1, 0, 0])
    assert t.difference == -1.0 and (t.low, t.high, t.z, t.p_value) == (None, None, None, None)
    assert not t.significant
    with pytest.raises(ValueError, match="both wins and losses"):
        delong([1, 2], [1, 1])


def test_two_sided_p() -> None:
    assert two_sided_p(0.0) == 1.0
    assert two_sided_p(1.959963984540054) == pytest.approx(0.05)
    assert two_sided_p(-2.5758293035489) == pytest.approx(0.01)


# -- the bootstrap ---------------------------------------------------------------------


def test_percentile_interval_keeps_infinity_and_leaves_out_the_undefined() -> None:
    v = np.r_[np.arange(1.0, 98.0), [np.inf] * 3]
    low, high, undefined = percentile_interval(v)
    assert low == 3.0 and high == math.inf and undefined == 0.0
    low, high, undefined = percentile_interval(np.r_[np.arange(1.0, 97.0), [np.nan] * 4])
    assert undefined == 0.04 and low is not None
    assert percentile_interval(np.r_[np.arange(1.0, 91.0), [np.nan] * 10]) == (None, None, 0.1)


def test_bootstrap_is_reproducible_and_holds_the_value() -> None:
    wins, rows = [120, 200, 30], [400, 2000, 1600]
    first, again = tier_bootstrap(wins, rows), tier_bootstrap(wins, rows)
    assert first == again
    values = {"top_share": 400 / 4000, "top_recall": 120 / 350, "top_bottom_ratio": (120 / 400) / (30 / 1600)}
    for name, value in values.items():
        low, high, undefined = first[name]
        assert low < value < high and undefined == 0.0
    assert tier_bootstrap(wins, rows, seed=1) != first  # the seed matters


def test_bootstrap_share_agrees_with_the_binomial() -> None:
    """The bootstrap interval of a share of 4,000 rows is close to the normal one."""
    low, high, _ = tier_bootstrap([120, 230], [1000, 3000], resamples=4000)["top_share"]
    se = math.sqrt(0.25 * 0.75 / 4000)
    assert low == pytest.approx(0.25 - 1.96 * se, abs=0.003) and high == pytest.approx(0.25 + 1.96 * se, abs=0.003)


def test_bootstrap_ratio_is_unbounded_when_the_bottom_tier_may_have_no_wins() -> None:
    found = tier_bootstrap([8, 5, 1], [10, 50, 100])  # one win at the bottom: often none in a resample
    low, high, undefined = found["top_bottom_ratio"]
    assert high == math.inf and 1 < low < 80 and undefined == 0.0


def test_bootstrap_of_an_empty_table() -> None:
    assert bootstrap([0, 0], {"x": lambda d: d[:, 0]}) == {"x": (None, None, 1.0)}


# -- in the backtest -------------------------------------------------------------------


def test_backtest_carries_the_intervals() -> None:
    rng = np.random.default_rng(9)
    scores = rng.choice([10.0, 40.0, 60.0, 90.0], 3000)
    labels = (rng.random(3000) < scores / 150).astype(int)
    tiers = np.where(scores >= 90, "high", np.where(scores >= 40, "mid", "low")).astype(object)
    bt = summarize(scores, labels, tiers, ["high", "mid", "low"], rows_total=3000, label="won", profile_version="x")
    a, var = delong(scores, labels)
    assert (bt.auc_low, bt.auc_high) == pytest.approx(interval(a, var), abs=1e-12)
    assert bt.auc_low < bt.auc < bt.auc_high
    checks = bt.madkudu["checks"]
    for name in ("top_share", "top_recall", "top_bottom_ratio"):
        low, high = getattr(bt, f"{name}_low"), getattr(bt, f"{name}_high")
        assert low < getattr(bt, name) < high
        assert (checks[name]["low"], checks[name]["high"]) == (low, high)
    assert bt.to_dict()["auc_low"] == bt.auc_low and bt.notes == []


def test_backtest_ratio_interval_without_an_upper_bound_is_said() -> None:
    scores = np.array([90] * 10 + [50] * 50 + [10] * 100, dtype=float)
    tiers = np.array(["high"] * 10 + ["mid"] * 50 + ["low"] * 100, dtype=object)
    labels = np.array([1] * 8 + [0] * 2 + [1] * 5 + [0] * 45 + [1] + [0] * 99)
    bt = summarize(scores, labels, tiers, ["high", "mid", "low"], rows_total=160, label="won", profile_version="x")
    assert bt.top_bottom_ratio == pytest.approx(80.0)
    assert bt.top_bottom_ratio_low is not None and bt.top_bottom_ratio_high is None
    assert any("no upper bound" in n for n in bt.notes)
    labels[-100] = 0  # no wins at the bottom: the ratio, and its interval, are undefined
    bt = summarize(scores, labels, tiers, ["high", "mid", "low"], rows_total=160, label="won", profile_version="x")
    assert bt.top_bottom_ratio is None and bt.top_bottom_ratio_low is None and bt.top_bottom_ratio_high is None
