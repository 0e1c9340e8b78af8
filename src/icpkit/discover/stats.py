"""How sure a backtest's figures are: DeLong's interval of an AUC, DeLong's paired test of
two AUCs measured on the same rows, and bootstrap intervals of the top-tier figures.

Pure numpy functions, as in :mod:`icpkit.discover.backtest`: ``scores`` are scores,
``labels`` 1 (won) or 0 (lost); each ``*_weighted`` twin takes counts instead of rows
(``n`` rows of that score, ``wins`` of them won) and returns the same result for the rows
the counts describe.

DeLong (DeLong, DeLong and Clarke-Pearson, Biometrics 1988). Each win gets a placement
value: the share of losses it outscores, a tie counting one half; each loss the share of
wins that outscore it. Both average to the AUC, and the AUC's variance is
``var(V_win) / n1 + var(V_loss) / n0`` (sample variances over the n1 wins and the n0
losses). Ties are the rule for fit scores and are counted exactly, so a score's wins all
share one placement value and the counts per score are enough. Two scores on the same rows
give each row two placement values; the variance of the difference of the two AUCs is the
same formula on the differences of the placement values, which keeps the correlation of
the two scores (the paired test). Intervals are the AUC ± 1.96 standard errors, clipped to
0-1; the p-value is two-sided, from the normal distribution.

The bootstrap (:func:`tier_bootstrap`) resamples a table of counts (wins and losses per
tier) multinomially with a fixed seed and takes the 2.5th and 97.5th percentiles of each
figure over the resamples, so the same counts always give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The standard normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054
#: Bootstrap resamples and seed: the intervals are reproducible to the last digit.
RESAMPLES = 2000
SEED = 20251

# -- DeLong ---------------------------------------------------------------------------


def _classes(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("scores and labels must be 1-d arrays of the same length")
    won = y.astype(bool)
    if won.all() or not won.any():
        raise ValueError("DeLong's variance needs both wins and losses")
    return s, won


def placements(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each row's DeLong placement value, per row: for a win, the share of losses it
    outscores (ties one half); for a loss, the share of wins that outscore it. Returns the
    wins' values and the losses' values, each in row order."""
    s, won = _classes(scores, labels)
    pos, neg = np.sort(s[won]), np.sort(s[~won])
    sp, sn = s[won], s[~won]
    below = np.searchsorted(neg, sp, side="left")
    tied = np.searchsorted(neg, sp, side="right") - below
    v_win = (below + 0.5 * tied) / len(neg)
    above = len(pos) - np.searchsorted(pos, sn, side="right")
    tied = np.searchsorted(pos, sn, side="right") - np.searchsorted(pos, sn, side="left")
    v_loss = (above + 0.5 * tied) / len(pos)
    return v_win, v_loss


def _counts(scores: Any, n: Any, wins: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct scores, ascending, with their wins and losses summed, and each entry's
    index among them."""
    s = np.asarray(scores, dtype=float)
    rows, won = np.asarray(n, dtype=np.int64), np.asarray(wins, dtype=np.int64)
    if not s.shape == rows.shape == won.shape or s.ndim != 1:
        raise ValueError("scores, n and wins must be 1-d arrays of the same length")
    if np.any(won < 0) or np.any(won > rows):
        raise ValueError("wins must be between 0 and n")
    values, inverse = np.unique(s, return_inverse=True)
    w = np.bincount(inverse, won, len(values))
    lost = np.bincount(inverse, rows - won, len(values))
    if w.sum() == 0 or lost.sum() == 0:
        raise ValueError("DeLong's variance needs both wins and losses")
    return values, w, lost, inverse


def placements_weighted(scores: Any, n: Any, wins: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`placements` from counts: per distinct score (ascending) its wins, its losses,
    the placement value of a win with that score and that of a loss with it."""
    _, w, lost, _ = _counts(scores, n, wins)
    return w, lost, *_placement_values(w, lost)


def _placement_values(w: np.ndarray, lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n1, n0 = w.sum(), lost.sum()
    v_win = (np.cumsum(lost) - lost + 0.5 * lost) / n0  # losses below the score, and half the tied ones
    v_loss = (n1 - np.cumsum(w) + 0.5 * w) / n1  # wins above the score, and half the tied ones
    return v_win, v_loss


def _variance(values: np.ndarray, weights: np.ndarray, mean: float) -> float:
    """The sample variance of ``values`` each repeated ``weights`` times (NaN for fewer than 2)."""
    total = float(weights.sum())
    if total < 2:
        return math.nan
    return float((weights * (values - mean) ** 2).sum() / (total - 1))


def delong(scores: Any, labels: Any) -> tuple[float, float]:
    """The AUC and DeLong's estimate of its variance (NaN with fewer than 2 wins or 2 losses)."""
    v_win, v_loss = placements(scores, labels)
    a = float(v_win.mean())
    n1, n0 = len(v_win), len(v_loss)
    if n1 < 2 or n0 < 2:
        return a, math.nan
    return a, float(v_win.var(ddof=1) / n1 + v_loss.var(ddof=1) / n0)


def delong_weighted(scores: Any, n: Any, wins: Any) -> tuple[float, float]:
    """:func:`delong` from counts."""
    w, lost, v_win, v_loss = placements_weighted(scores, n, wins)
    n1, n0 = float(w.sum()), float(lost.sum())
    a = float((w * v_win).sum() / n1)
    return a, _variance(v_win, w, a) / n1 + _variance(v_loss, lost, a) / n0


def interval(estimate: float, variance: float, lo: float = 0.0, hi: float = 1.0,
             z: float = Z95) -> tuple[float | None, float | None]:
    """``estimate ± z`` standard errors, clipped to ``lo``-``hi``; (None, None) when the
    variance is unknown (NaN)."""
    if not math.isfinite(variance):
        return None, None
    half = z * math.sqrt(max(variance, 0.0))
    return max(lo, estimate - half), min(hi, estimate + half)


def two_sided_p(z: float) -> float:
    """The two-sided p-value of a standard normal statistic ``z``."""
    return math.erfc(abs(z) / math.sqrt(2.0))


@dataclass(frozen=True)
class PairedTest:
    """DeLong's test of two AUCs on the same rows: ``difference`` is ``auc_b - auc_a``,
    ``low``-``high`` its 95% interval, ``z`` and ``p_value`` the test of no difference.
    The interval, ``z`` and ``p_value`` are None when the variance is unknown (fewer than 2
    wins or 2 losses); ``z`` is None, and ``p_value`` 0, when the two differ by the same
    amount on every row (a difference with no variance)."""

    auc_a: float
    auc_b: float
    difference: float
    variance: float
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        """The difference is significant at 5% (two-sided)."""
        return self.p_value is not None and self.p_value < 0.05


def _paired(a: float, b: float, d_win: np.ndarray, w: np.ndarray, d_loss: np.ndarray, lost: np.ndarray) -> PairedTest:
    diff = b - a
    n1, n0 = float(w.sum()), float(lost.sum())
    var = _variance(d_win, w, diff) / n1 + _variance(d_loss, lost, diff) / n0
    low, high = interval(diff, var, -1.0, 1.0)
    if not math.isfinite(var):
        return PairedTest(a, b, diff, var, None, None, None, None)
    if var <= 1e-30:  # the two placements differ by a constant: no spread at all
        return PairedTest(a, b, diff, 0.0, diff, diff, 0.0 if diff == 0 else None, 1.0 if diff == 0 else 0.0)
    z = diff / math.sqrt(var)
    return PairedTest(a, b, diff, var, low, high, z, two_sided_p(z))


def delong_paired(scores_a: Any, scores_b: Any, labels: Any) -> PairedTest:
    """DeLong's paired test of score B against score A, both measured on the same rows
    (``scores_a[i]`` and ``scores_b[i]`` belong to the row labelled ``labels[i]``)."""
    wa, la = placements(scores_a, labels)
    wb, lb = placements(scores_b, labels)
    d_win, d_loss = wb - wa, lb - la
    return _paired(float(wa.mean()), float(wb.mean()), d_win, np.ones(len(d_win)), d_loss, np.ones(len(d_loss)))


def delong_paired_weighted(scores_a: Any, scores_b: Any, n: Any, wins: Any) -> PairedTest:
    """:func:`delong_paired` from counts: ``n[i]`` rows scored ``scores_a[i]`` by A and
    ``scores_b[i]`` by B, ``wins[i]`` of them won (a combination may repeat)."""
    rows, won = np.asarray(n, dtype=np.int64), np.asarray(wins, dtype=np.int64)
    _, wa, la, ia = _counts(scores_a, rows, won)
    _, wb, lb, ib = _counts(scores_b, rows, won)
    va_win, va_loss = _placement_values(wa, la)
    vb_win, vb_loss = _placement_values(wb, lb)
    n1 = float(won.sum())
    a = float((wa * va_win).sum() / n1)
    b = float((wb * vb_win).sum() / n1)
    return _paired(a, b, vb_win[ib] - va_win[ia], won.astype(float), vb_loss[ib] - va_loss[ia],
                   (rows - won).astype(float))


def paired_counts(scores_a: Any, scores_b: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows and wins per combination of (score A, score B) that occurs, for
    :func:`delong_paired_weighted`: fit scores take few values, so a million rows are a
    few thousand combinations (sorted by score A, then score B)."""
    va, ia = np.unique(np.asarray(scores_a, dtype=float), return_inverse=True)
    vb, ib = np.unique(np.asarray(scores_b, dtype=float), return_inverse=True)
    y = np.asarray(labels).astype(np.int64)
    if not len(ia) == len(ib) == len(y):
        raise ValueError("scores_a, scores_b and labels must have the same length")
    key = ia.astype(np.int64) * len(vb) + ib
    combos, where = np.unique(key, return_inverse=True)
    n = np.bincount(where, minlength=len(combos))
    wins = np.bincount(where, y, len(combos)).astype(np.int64)
    return va[combos // len(vb)], vb[combos % len(vb)], n, wins


# -- the bootstrap --------------------------------------------------------------------


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float | None, float | None, float]:
    """The central ``level`` percentile interval of bootstrap ``values`` (infinities kept:
    an infinite bound is returned as such), and the share of values that are undefined
    (NaN), which are left out; (None, None, share) when they are more than ``1 - level``."""
    v = np.asarray(values, dtype=float)
    bad = np.isnan(v)
    share = float(bad.mean()) if len(v) else 1.0
    if share > 1 - level or share == 1.0:
        return None, None, share
    tail = (1 - level) / 2
    low, high = np.quantile(v[~bad], [tail, 1 - tail], method="inverted_cdf")  # order statistics: inf stays inf
    return float(low), float(high), share


def bootstrap(cells: Any, statistics: dict[str, Callable[[np.ndarray], np.ndarray]], *, resamples: int = RESAMPLES,
              seed: int = SEED, level: float = 0.95) -> dict[str, tuple[float | None, float | None, float]]:
    """Percentile intervals of ``statistics`` of a table of counts ``cells``: the table is
    drawn again ``resamples`` times from a multinomial with its own total and shares, and
    each statistic maps the resampled tables (one per row of a 2-d array) to one value each.
    Per statistic: low, high and the share of undefined resamples (:func:`percentile_interval`)."""
    counts = np.asarray(cells, dtype=np.int64)
    total = int(counts.sum())
    if total <= 0:
        return {name: (None, None, 1.0) for name in statistics}
    draws = np.random.default_rng(seed).multinomial(total, counts / total, size=resamples)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, stat in statistics.items():
            out[name] = percentile_interval(stat(draws), level)
    return out


def tier_bootstrap(wins: Any, rows: Any, **options: Any) -> dict[str, tuple[float | None, float | None, float]]:
    """Bootstrap intervals of the top-tier figures of a table of ``wins`` and ``rows`` per
    tier, highest tier first: ``top_share`` (the top tier's share of rows), ``top_recall``
    (its share of wins) and ``top_bottom_ratio`` (its win rate over the bottom tier's;
    infinite in a resample where the bottom tier has no wins and the top tier has some,
    undefined where a tier has no rows or neither has wins)."""
    w, r = np.asarray(wins, dtype=np.int64), np.asarray(rows, dtype=np.int64)
    k = len(w)
    cells = np.column_stack([w, r - w]).ravel()  # wins and losses of each tier, in tier order

    def won(d: np.ndarray) -> np.ndarray:
        return d[:, 0::2]

    def rows_of(d: np.ndarray) -> np.ndarray:
        return d[:, 0::2] + d[:, 1::2]

    stats = {
        "top_share": lambda d: rows_of(d)[:, 0] / d.sum(axis=1),
        "top_recall": lambda d: won(d)[:, 0] / won(d).sum(axis=1),
        "top_bottom_ratio": lambda d: (won(d)[:, 0] / rows_of(d)[:, 0]) / (won(d)[:, k - 1] / rows_of(d)[:, k - 1]),
    }
    return bootstrap(cells, stats, **options)
