"""``icp backtest``: does a profile's fit score predict wins on labelled history?

The statistics (:func:`auc`, :func:`ks`, :func:`gains_table`, :func:`wilson_interval`,
:func:`tier_table`, :func:`calibration`, :func:`histogram`) are pure functions of numpy
arrays: ``scores`` are fit scores (0-100), ``labels`` are 1 (won) or 0 (lost). Each has a
``*_weighted`` twin that takes counts instead of rows (``scores``, ``n`` rows, ``wins`` of
them) and returns the same result for the rows the counts describe. :func:`icpkit.api.backtest`
scores a file with the same engine as ``icp score``, joins each row's label by its row
number, counts rows and wins per (fit score, tier) in the engine and computes every
statistic from those counts into a :class:`Backtest`.

Ties. Fit scores take few distinct values (one per combination of criteria outcomes), so
ties are the rule: AUC averages the ranks of tied scores (a tie counts one half), and the
gains table spreads the wins of a tie group that straddles a decile boundary evenly over
its rows (the expected result of breaking ties at random), so that the table never depends
on the order of the input rows. Wins per decile can therefore be fractional.

Uncertainty. The AUC comes with its 95% interval by DeLong's method, the top-tier figures
of the MadKudu bar with 95% bootstrap intervals of the table of wins and losses per tier,
and a comparison of two profiles with DeLong's paired test of their AUCs on the same rows
(:mod:`icpkit.discover.stats`); all of them from the same counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date as Date
from datetime import datetime
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import ibis
import ibis.expr.types as ir

from ..errors import DataError, IcpError, MissingColumnError, located, suggest
from .stats import delong_paired_weighted, delong_weighted, interval, paired_counts, tier_bootstrap

#: Label words read as a win (1) or a loss (0), after trimming and lower-casing.
TRUE_WORDS = ("1", "1.0", "true", "yes", "y", "won", "win", "t")
FALSE_WORDS = ("0", "0.0", "false", "no", "n", "lost", "loss", "f")
LABEL_HINT = "labels must be 1/0, true/false, yes/no, won/lost or y/n"

#: MadKudu's published bar for a predictive model, applied to the profile's highest tier.
MADKUDU_TOP_SHARE = (0.15, 0.35)
MADKUDU_TOP_RECALL = 0.60
MADKUDU_TOP_BOTTOM = 10.0


# -- statistics ------------------------------------------------------------------------


def _arrays(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(np.int8)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("scores and labels must be 1-d arrays of the same length")
    return s, y


def check_classes(labels: Any, what: str = "the labels") -> None:
    """Raise a :class:`DataError` unless ``labels`` has at least 2 rows and both classes."""
    y = np.asarray(labels)
    _check_counts(len(y), int(y.sum()), what)


def _check_counts(rows: int, wins: int, what: str = "the labels") -> None:
    """:func:`check_classes` for ``rows`` labelled rows of which ``wins`` were won."""
    if rows < 2:
        raise DataError(f"{what}: {rows} labelled row(s); a backtest needs at least 2",
                        hint="label more history, or move --split-at earlier")
    if wins == 0:
        raise DataError(f"{what}: no positives (every label is 0 / lost): one class only",
                        hint="a backtest compares wins with losses; include won accounts")
    if wins == rows:
        raise DataError(f"{what}: no negatives (every label is 1 / won): one class only",
                        hint="a backtest compares wins with losses; include lost accounts")


def _tie_groups(sorted_values: np.ndarray) -> np.ndarray:
    """Group id (0, 1, ...) of each value of a sorted array; equal values share a group."""
    if len(sorted_values) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1


def auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve: the probability that a random win outscores a random loss
    (ties count one half). Rank-based (Mann-Whitney U) with the ranks of ties averaged."""
    s, y = _arrays(scores, labels)
    check_classes(y)
    order = np.argsort(s, kind="mergesort")
    groups = _tie_groups(s[order])
    counts = np.bincount(groups)
    ends = np.cumsum(counts)  # 1-based rank of each group's last member
    mean_rank = ends - (counts - 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = mean_rank[groups]
    n1 = float(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def ks(scores: Any, labels: Any) -> float:
    """Kolmogorov-Smirnov statistic: the largest distance between the score distributions
    (CDFs) of wins and losses, 0 (no separation) to 1 (complete separation)."""
    s, y = _arrays(scores, labels)
    check_classes(y)
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    t = np.unique(s)
    cdf_pos = np.searchsorted(pos, t, side="right") / len(pos)
    cdf_neg = np.searchsorted(neg, t, side="right") / len(neg)
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


def gains_table(scores: Any, labels: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Rows sorted by score, highest first, cut into ``bins`` groups of (nearly) equal size.

    Per group: ``decile`` (1 = best), ``n``, ``min_score``, ``max_score``, ``wins``,
    ``win_rate``, ``cum_share_wins`` (share of all wins in this group and those above) and
    ``lift`` (group win rate / overall win rate). See the module docstring for ties.
    """
    s, y = _arrays(scores, labels)
    check_classes(y)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order].astype(float)
    groups = _tie_groups(s_sorted)
    expected = (np.bincount(groups, weights=y_sorted) / np.bincount(groups))[groups]
    total_wins, base = float(y.sum()), float(y.mean())
    out: list[dict[str, Any]] = []
    cum = 0.0
    for i, idx in enumerate(np.array_split(np.arange(len(s)), bins), start=1):
        if len(idx) == 0:
            continue
        wins = math.fsum(expected[idx])
        cum += wins
        rate = wins / len(idx)
        out.append({"decile": i, "n": int(len(idx)), "min_score": float(s_sorted[idx].min()),
                    "max_score": float(s_sorted[idx].max()), "wins": round(wins, 4), "win_rate": rate,
                    "cum_share_wins": cum / total_wins, "lift": rate / base})
    return out


def wilson_interval(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion ``wins / n`` (95% for ``z=1.96``).
    ``(0.0, 1.0)`` when ``n`` is 0: nothing is known."""
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def tier_table(tiers: Any, labels: Any, tier_order: Sequence[str]) -> list[dict[str, Any]]:
    """Per tier, in ``tier_order`` (highest first): ``tier``, ``n``, ``wins``, ``win_rate``
    (None when the tier is empty) and the 95% Wilson interval ``ci_low``, ``ci_high``."""
    t = np.asarray(tiers, dtype=object)
    y = np.asarray(labels).astype(np.int64)
    out = []
    for name in tier_order:
        mask = t == name
        n, wins = int(mask.sum()), int(y[mask].sum())
        low, high = wilson_interval(wins, n)
        out.append({"tier": name, "n": n, "wins": wins, "win_rate": wins / n if n else None,
                    "ci_low": low, "ci_high": high})
    return out


def calibration(scores: Any, labels: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Per score band of equal width on 0-100 (``0-10``, ..., ``90-100``; empty bands left
    out): ``band``, ``n``, ``predicted`` (mean score / 100) and ``observed`` (win rate).
    A fit score is not a probability; this shows how far it is from one."""
    s, y = _arrays(scores, labels)
    width = 100.0 / bins
    band = np.clip(np.floor(s / width), 0, bins - 1).astype(np.int64)
    n = np.bincount(band, minlength=bins)
    score_sum = [math.fsum(s[band == b]) for b in range(bins)]
    wins = np.bincount(band, weights=y.astype(float), minlength=bins)
    return [{"band": f"{b * width:g}-{(b + 1) * width:g}", "n": int(n[b]), "predicted": score_sum[b] / n[b] / 100.0,
             "observed": wins[b] / n[b]} for b in range(bins) if n[b]]


def histogram(scores: Any, labels: Any, width: float = 5.0) -> list[dict[str, Any]]:
    """Won and lost rows per score band of ``width`` points on 0-100; see :func:`histogram_weighted`."""
    s, y = _arrays(scores, labels)
    return histogram_weighted(s, np.ones(len(s), dtype=np.int64), y)


# -- the same statistics from counts ---------------------------------------------------
#
# Fit scores take few distinct values, so a backtest counts rows and wins per (fit score,
# tier) in the engine and computes every statistic from those counts. The functions below
# take aligned 1-d arrays: ``scores`` (repeats allowed), ``n`` (rows with that score) and
# ``wins`` (how many of them were won), and return what their per-row namesakes return for
# the rows the counts describe, to the last bit: sums of fractional values (wins spread
# over a tie, scores in a calibration band) are exact sums rounded once on both sides.


def _by_score(scores: Any, n: Any, wins: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct scores, ascending, with their rows and wins summed (scores of no rows dropped)."""
    s = np.asarray(scores, dtype=float)
    rows, won = np.asarray(n, dtype=np.int64), np.asarray(wins, dtype=np.int64)
    if not s.shape == rows.shape == won.shape or s.ndim != 1:
        raise ValueError("scores, n and wins must be 1-d arrays of the same length")
    if np.any(won < 0) or np.any(won > rows):
        raise ValueError("wins must be between 0 and n")
    values, inverse = np.unique(s, return_inverse=True)
    rows_by = np.bincount(inverse, rows, len(values)).astype(np.int64)
    won_by = np.bincount(inverse, won, len(values)).astype(np.int64)
    keep = rows_by > 0
    return values[keep], rows_by[keep], won_by[keep]


def _exact_dot(counts: np.ndarray, values: np.ndarray) -> float:
    """``sum(counts * values)`` rounded once: what :func:`math.fsum` gives for each value
    repeated its count times, so that sums from counts equal the per-row sums."""
    return float(sum((Fraction(float(v)) * int(k) for k, v in zip(counts, values)), Fraction(0)))


def auc_weighted(scores: Any, n: Any, wins: Any) -> float:
    """:func:`auc` from counts: a score's rows share the mean of their ranks."""
    _, rows, won = _by_score(scores, n, wins)
    _check_counts(int(rows.sum()), int(won.sum()))
    mean_rank = np.cumsum(rows) - (rows - 1) / 2.0
    n1 = float(won.sum())
    n0 = int(rows.sum()) - n1
    return float((float((won * mean_rank).sum()) - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def ks_weighted(scores: Any, n: Any, wins: Any) -> float:
    """:func:`ks` from counts."""
    _, rows, won = _by_score(scores, n, wins)
    n1 = int(won.sum())
    n0 = int(rows.sum()) - n1
    _check_counts(n0 + n1, n1)
    return float(np.max(np.abs(np.cumsum(won) / n1 - np.cumsum(rows - won) / n0)))


def gains_table_weighted(scores: Any, n: Any, wins: Any, bins: int = 10) -> list[dict[str, Any]]:
    """:func:`gains_table` from counts. Rows sorted by score, highest first, are cut where
    the per-row table cuts them; a score whose rows straddle a cut gives each side its
    share of the rows and the same share of the wins."""
    s, rows, won = (a[::-1] for a in _by_score(scores, n, wins))
    total, total_wins = int(rows.sum()), int(won.sum())
    _check_counts(total, total_wins)
    ends = np.cumsum(rows)  # position after each score's last row
    starts, rate = ends - rows, won / rows
    size, extra = divmod(total, bins)  # np.array_split: the first `extra` groups get one row more
    cuts = np.cumsum([0] + [size + 1] * extra + [size] * (bins - extra))
    base = total_wins / total
    out: list[dict[str, Any]] = []
    cum = 0.0
    for i in range(bins):
        lo, hi = int(cuts[i]), int(cuts[i + 1])
        if hi == lo:
            continue
        first, last = np.searchsorted(ends, lo, side="right"), np.searchsorted(starts, hi, side="left")
        overlap = np.minimum(ends[first:last], hi) - np.maximum(starts[first:last], lo)
        decile_wins = _exact_dot(overlap, rate[first:last])
        cum += decile_wins
        win_rate = decile_wins / (hi - lo)
        out.append({"decile": i + 1, "n": hi - lo, "min_score": float(s[last - 1]), "max_score": float(s[first]),
                    "wins": round(decile_wins, 4), "win_rate": win_rate, "cum_share_wins": cum / total_wins,
                    "lift": win_rate / base})
    return out


def tier_table_weighted(tiers: Any, n: Any, wins: Any, tier_order: Sequence[str]) -> list[dict[str, Any]]:
    """:func:`tier_table` from counts: ``tiers[i]`` has ``n[i]`` rows, ``wins[i]`` of them won."""
    t = np.asarray(tiers, dtype=object)
    rows, won = np.asarray(n, dtype=np.int64), np.asarray(wins, dtype=np.int64)
    out = []
    for name in tier_order:
        mask = t == name
        k, w = int(rows[mask].sum()), int(won[mask].sum())
        low, high = wilson_interval(w, k)
        out.append({"tier": name, "n": k, "wins": w, "win_rate": w / k if k else None, "ci_low": low, "ci_high": high})
    return out


def calibration_weighted(scores: Any, n: Any, wins: Any, bins: int = 10) -> list[dict[str, Any]]:
    """:func:`calibration` from counts."""
    s, rows, won = _by_score(scores, n, wins)
    width = 100.0 / bins
    band = np.clip(np.floor(s / width), 0, bins - 1).astype(np.int64)
    k = np.bincount(band, rows, bins).astype(np.int64)
    score_sum = [_exact_dot(rows[band == b], s[band == b]) for b in range(bins)]
    w = np.bincount(band, won, bins)
    return [{"band": f"{b * width:g}-{(b + 1) * width:g}", "n": int(k[b]), "predicted": score_sum[b] / k[b] / 100.0,
             "observed": w[b] / k[b]} for b in range(bins) if k[b]]


def histogram_weighted(scores: Any, n: Any, wins: Any, width: float = 5.0) -> list[dict[str, Any]]:
    """Won and lost rows per score band of ``width`` points on 0-100 (``0-5``, ..., ``95-100``),
    every band, empty ones too: ``band``, ``won``, ``lost``. A score on a band's lower
    edge counts in that band; 100 counts in the last."""
    s, rows, won = _by_score(scores, n, wins)
    bins = round(100.0 / width)
    band = np.clip(np.floor(s / width), 0, bins - 1).astype(np.int64)
    w = np.bincount(band, won, bins).astype(np.int64)
    lost = np.bincount(band, rows - won, bins).astype(np.int64)
    return [{"band": f"{b * width:g}-{(b + 1) * width:g}", "won": int(w[b]), "lost": int(lost[b])} for b in range(bins)]


# -- labels ----------------------------------------------------------------------------


def _as_text(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        try:
            values = pa.array(items, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            values = pa.array([None if v is None else str(v) for v in items], pa.string())
    if pa.types.is_floating(values.type):  # 1.0 -> "1", NaN -> missing
        values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def parse_labels(values: Any, *, rows: Any = None, where: str | None = None, column: str | None = None) -> np.ndarray:
    """Read outcome labels as a 0/1 ``int8`` array.

    Accepts 1/0, true/false, yes/no, won/lost, y/n, t/f (case-insensitive, trimmed), the
    numbers 1 and 0 and booleans. Anything else, or a missing (blank) label, raises a
    :class:`DataError` naming the first such value and its row: ``rows[i]`` when the row
    numbers are given, else ``i + 1``; ``where`` and ``column`` complete the location.
    """
    text = _as_text(values)
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    won = pc.fill_null(pc.is_in(norm, value_set=pa.array(TRUE_WORDS)), False).to_numpy(zero_copy_only=False)
    lost = pc.fill_null(pc.is_in(norm, value_set=pa.array(FALSE_WORDS)), False).to_numpy(zero_copy_only=False)
    bad = ~(won | lost)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = int(np.asarray(rows)[i]) if rows is not None else i + 1
        raise _label_error(text[i].as_py(), int(bad.sum()), located(where, row, column))
    return won.astype(np.int8)


def _label_error(raw: str | None, n_bad: int, where: str) -> DataError:
    """The error for a first bad label ``raw`` (as text) at ``where``, of ``n_bad`` in all."""
    more = f" ({n_bad} rows in all)" if n_bad > 1 else ""
    if raw is None or raw.strip() == "":
        return DataError(f"the label is missing{more}", where=where,
                         hint="every row needs an outcome; leave out rows that are still open")
    return DataError(f"the label '{raw}' is not a win/loss value{more}", where=where, hint=LABEL_HINT)


#: The characters ``pyarrow.compute.utf8_trim_whitespace`` trims, for the same trim in SQL.
_WHITESPACE = "".join(map(chr, [*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                                0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))
_TRIM_RE = f"^[{_WHITESPACE}]+|[{_WHITESPACE}]+$"


def label_value(col: ir.Value) -> ir.IntegerValue:
    """The engine's reading of a label column as :func:`parse_labels` reads it: 1 (won), 0
    (lost), or NULL (missing or not a label)."""
    dtype = col.type()
    if dtype.is_floating():  # NaN is missing, as in _as_text
        col = col.isnan().ifelse(ibis.null(dtype), col)
    text = col if dtype.is_string() else col.cast("string")
    # Trimming spaces alone is fast; the full trim, many times slower, is only run on what
    # that leaves unread (fed NULL otherwise: an engine may evaluate both branches).
    quick = text.strip().lower()
    slow = quick.isin([*TRUE_WORDS, *FALSE_WORDS]).ifelse(ibis.null("string"), text)
    full = slow.re_replace(_TRIM_RE, "").lower()
    return ibis.cases((quick.isin(TRUE_WORDS), 1), (quick.isin(FALSE_WORDS), 0), (full.isin(TRUE_WORDS), 1),
                      (full.isin(FALSE_WORDS), 0), else_=ibis.null("int8")).cast("int8")


def date_value(col: ir.Value) -> ir.DateValue:
    """A date column read as a date (its first 10 characters, ``YYYY-MM-DD``); NULL when it
    cannot be read."""
    text = col if col.type().is_string() else col.cast("string")
    return text.strip()[:10].try_cast("date")


# -- the backtest ----------------------------------------------------------------------


@dataclass
class Backtest:
    """The result of :func:`icpkit.api.backtest`; :meth:`to_dict` / :meth:`to_json` for output.

    ``top_tier`` is the profile's highest tier and ``bottom_tier`` its lowest. ``histogram``
    counts won and lost rows per 5-point score band (``0-5``, ..., ``95-100``, all 20).
    ``top_bottom_ratio`` is None when it is undefined (the bottom tier has no wins, or no
    rows); the MadKudu check on it then passes when the top tier has wins and the bottom
    tier has rows but no wins (an infinitely better top), and fails otherwise.

    Uncertainty (:mod:`icpkit.discover.stats`): ``auc_low``-``auc_high`` is the AUC's 95%
    interval by DeLong's method (None with fewer than 2 wins or 2 losses); the
    ``*_low``-``*_high`` of the top-tier figures are 95% bootstrap intervals, also given in
    their MadKudu checks as ``low`` and ``high``. A None ``top_bottom_ratio_high`` with a
    ``top_bottom_ratio_low`` means the interval has no upper bound (in over 2.5% of the
    resamples the bottom tier has no wins); both None mean it is undefined.
    """

    rows: int  # rows evaluated
    rows_total: int  # rows in the file
    wins: int
    base_rate: float
    auc: float
    auc_low: float | None
    auc_high: float | None
    ks: float
    tiers: list[dict[str, Any]]
    top_tier: str
    bottom_tier: str
    top_share: float
    top_share_low: float | None
    top_share_high: float | None
    top_recall: float
    top_recall_low: float | None
    top_recall_high: float | None
    top_bottom_ratio: float | None
    top_bottom_ratio_low: float | None
    top_bottom_ratio_high: float | None
    gains: list[dict[str, Any]]
    calibration: list[dict[str, Any]]
    histogram: list[dict[str, Any]]
    madkudu_pass: bool
    madkudu: dict[str, Any]
    label: str
    profile_version: str
    split: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: For a learned profile: how far these rows moved from its training population
    #: (:mod:`icpkit.discover.shift`), and the warnings in words.
    shift: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def summarize(scores: Any, labels: Any, tiers: Any, tier_order: Sequence[str], **meta: Any) -> Backtest:
    """Every statistic of a backtest from aligned arrays of fit scores, 0/1 labels and tiers."""
    s, y = _arrays(scores, labels)
    check_classes(y)
    rows = pa.table({"s": s, "t": pa.array(np.asarray(tiers, dtype=object)), "y": y})
    counts = rows.group_by(["s", "t"]).aggregate([("y", "count"), ("y", "sum")])
    return summarize_weighted(counts["s"], counts["t"].to_pylist(), counts["y_count"], counts["y_sum"], tier_order,
                              **meta)


def summarize_weighted(scores: Any, tiers: Any, n: Any, wins: Any, tier_order: Sequence[str],
                       **meta: Any) -> Backtest:
    """:func:`summarize` from counts: ``n[i]`` rows of fit score ``scores[i]`` and tier
    ``tiers[i]``, ``wins[i]`` of them won."""
    s, rows, won = np.asarray(scores, dtype=float), np.asarray(n, dtype=np.int64), np.asarray(wins, dtype=np.int64)
    total, total_wins = int(rows.sum()), int(won.sum())
    _check_counts(total, total_wins)
    table = tier_table_weighted(tiers, rows, won, tier_order)
    top, bottom = table[0], table[-1]
    top_share = top["n"] / total
    top_recall = top["wins"] / total_wins
    ratio = None
    if top["win_rate"] is not None and bottom["win_rate"]:
        ratio = top["win_rate"] / bottom["win_rate"]
    if ratio is not None:
        ratio_ok = ratio >= MADKUDU_TOP_BOTTOM
    else:
        ratio_ok = bool(top["wins"]) and bottom["n"] > 0 and bottom["wins"] == 0
    share_ok = MADKUDU_TOP_SHARE[0] <= top_share <= MADKUDU_TOP_SHARE[1]
    recall_ok = top_recall >= MADKUDU_TOP_RECALL
    bounds, notes = _top_intervals(table, ratio)
    madkudu = {
        "top_tier": top["tier"],
        "bottom_tier": bottom["tier"],
        "about": "MadKudu's published validation bar for a predictive model: the top tiers hold 15-35% "
                 "of records and at least 60% of conversions, and convert at least 10x better than the "
                 "bottom tier. icpkit counts the profile's highest tier as the top tiers.",
        "checks": {
            "top_share": {"value": top_share, "target": "15%-35% of records", "pass": share_ok,
                          **bounds["top_share"]},
            "top_recall": {"value": top_recall, "target": ">= 60% of wins", "pass": recall_ok,
                           **bounds["top_recall"]},
            "top_bottom_ratio": {"value": ratio, "target": ">= 10x the bottom tier's win rate", "pass": ratio_ok,
                                 **bounds["top_bottom_ratio"]},
        },
    }
    area = auc_weighted(s, rows, won)
    auc_low, auc_high = auc_interval(s, rows, won, area)
    meta["notes"] = [*meta.get("notes", []), *notes]
    return Backtest(
        rows=total, wins=total_wins, base_rate=total_wins / total, auc=area, auc_low=auc_low, auc_high=auc_high,
        ks=ks_weighted(s, rows, won), tiers=table, top_tier=top["tier"], bottom_tier=bottom["tier"],
        top_share=top_share, top_share_low=bounds["top_share"]["low"], top_share_high=bounds["top_share"]["high"],
        top_recall=top_recall, top_recall_low=bounds["top_recall"]["low"],
        top_recall_high=bounds["top_recall"]["high"], top_bottom_ratio=ratio,
        top_bottom_ratio_low=bounds["top_bottom_ratio"]["low"],
        top_bottom_ratio_high=bounds["top_bottom_ratio"]["high"],
        gains=gains_table_weighted(s, rows, won), calibration=calibration_weighted(s, rows, won),
        histogram=histogram_weighted(s, rows, won), madkudu_pass=share_ok and recall_ok and ratio_ok, madkudu=madkudu,
        **meta,
    )


def auc_interval(scores: Any, n: Any, wins: Any, area: float) -> tuple[float | None, float | None]:
    """The 95% interval of the AUC ``area`` of the rows the counts describe, by DeLong's
    method; (None, None) with fewer than 2 wins or 2 losses."""
    return interval(area, delong_weighted(scores, n, wins)[1])


def _top_intervals(table: list[dict[str, Any]], ratio: float | None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """95% bootstrap intervals (``low``, ``high``) of the top-tier figures from the tier
    table, and a note for each interval that has no upper bound or cannot be given."""
    found = tier_bootstrap([t["wins"] for t in table], [t["n"] for t in table])
    bounds: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    words = {"top_share": "the top tier's share of rows", "top_recall": "the top tier's share of wins",
             "top_bottom_ratio": "the top/bottom win-rate ratio"}
    for name, (low, high, undefined) in found.items():
        if name == "top_bottom_ratio" and ratio is None:
            low = high = None  # the figure itself is undefined
        elif low is None:
            notes.append(f"{words[name].capitalize()} has no 95% interval: it is undefined in {undefined:.0%} of the "
                         "bootstrap resamples (too few rows or wins in a tier).")
        elif high is not None and math.isinf(high):
            low = None if math.isinf(low) else low
            high = None
            notes.append(f"The 95% interval of {words[name]} has no upper bound: in over 2.5% of the bootstrap "
                         "resamples the bottom tier has no wins.")
        bounds[name] = {"low": low, "high": high}
    return bounds, notes


def _column(columns: list[str], wanted: str, what: str, where: str) -> str:
    """The input column ``wanted`` (exact, else the one equal ignoring case), or a
    MissingColumnError with a "did you mean"."""
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.strip().lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    hint = suggest(wanted, columns, "the columns are: " + ", ".join(columns))
    raise MissingColumnError(f"no {what} column '{wanted}'", where=where, hint=hint)


def _split_date(split_at: str) -> Date:
    try:
        return Date.fromisoformat(split_at.strip()[:10])
    except ValueError:
        raise IcpError(f"--split-at '{split_at}' is not a date", hint="write it as YYYY-MM-DD") from None


def check_as_of(prof: Any, as_of: datetime | None) -> None:
    """A backtest of a profile with intent or triggers must say when the outcomes were unknown."""
    if (prof.intent is not None or prof.triggers) and as_of is None:
        raise IcpError("a backtest of a profile with intent or triggers needs --as-of",
                       hint="the moment the outcomes were still unknown, so that no later event leaks in")


def check_split(date: str | None, split_at: str | None) -> Date | None:
    """The split date (None without one); ``date`` and ``split_at`` go together."""
    if (date is None) != (split_at is None):
        raise IcpError("--date and --split-at go together",
                       hint="give both to evaluate only rows dated on or after the split, or neither")
    return _split_date(split_at) if split_at is not None else None


def summary_of(prof: Any, data: Labelled) -> Backtest:
    """Every statistic of a backtest from the counts of :func:`labelled_counts`."""
    from .shift import shift

    c = data.counts
    result = summarize_weighted(c["fit_score"], c["tier"].to_pylist(), c["n"], c["wins"],
                                [t.name for t in prof.ordered_tiers], rows_total=data.rows_total,
                                label=data.label_col, profile_version=prof.version_hash, split=data.split)
    if measured_score(prof) == "fit_score":
        scores: dict[float, int] = {}
        for score, n in zip(c["fit_score"].to_pylist(), c["n"].to_pylist(), strict=True):
            scores[score] = scores.get(score, 0) + n
        moved, note = shift(prof, scores, {t["tier"]: t["n"] for t in result.tiers}, min_rows=1)
        result.shift = moved.to_dict() if moved is not None else None
        result.warnings = ([note] if note else []) + (moved.warnings if moved is not None else [])
    return result


def measured_score(prof: Any) -> str:
    """The score a profile's tiers use, which a backtest measures."""
    if not prof.criteria:
        return "intent_score"
    if prof.priority is not None and prof.priority.tiers_on != "fit":
        return "priority" if prof.priority.tiers_on == "priority" else "intent_score"
    return "fit_score"


@dataclass(frozen=True)
class Labelled:
    """A labelled file, scored: ``counts`` holds rows (``n``) and wins per (``fit_score``,
    ``tier``); ``rows``, when asked for, each row's ``_row``, ``tier``, measured score
    (``fit_score``) and label (``_won``, 1 or 0) in input order."""

    counts: pa.Table
    rows_total: int
    label_col: str
    split: dict[str, Any] | None
    rows: pa.Table | None = None


def labelled_counts(backend: Any, prof: Any, scored: Any, label: str, date: str | None, cutoff: Date | None, *,
                    keep_rows: bool = False) -> Labelled:
    """Rows and wins per (measured score, tier) of the scored rows (``scored``, a run's
    :class:`~icpkit.run.Scored`), each row's label joined by its row number and counted in
    the engine; with ``cutoff`` only the rows of ``date`` on or after it."""
    from ..scoring.plan import ROW, tier_by_score

    where = scored.loaded.label
    raw = scored.loaded.raw
    columns = [c for c in raw.columns if c != ROW]
    label_col = _column(columns, label, "label", where)
    measured = measured_score(prof)
    if measured == "fit_score" and not prof.intent and scored.plan is not None:
        s = scored.plan.fit_scores()  # the narrow path: no reasons, no points
    else:
        f = scored.final
        s = f.select(ROW, fit_score=f[measured], tier=f.tier if prof.criteria else tier_by_score(prof, f[measured]))
    r = raw.select(_r=raw[ROW], _won=label_value(raw[label_col]),
                   **({"_date": date_value(raw[_column(columns, date or "", "date", where)])} if cutoff else {}))
    rows = s.join(r, s[ROW] == r._r).select(ROW, "fit_score", "tier", *[c for c in r.columns if c != "_r"])
    rows_total = backend.scalar(raw.count())
    if cutoff is not None:
        date_col = _column(columns, date or "", "date", where)
        bad = raw.filter(date_value(raw[date_col]).isnull())
        first = backend.to_arrow(bad.order_by(ROW).limit(1).select(ROW, v=bad[date_col].cast("string"))).to_pylist()
        if first:
            row, value = first[0][ROW], first[0]["v"]
            msg = "the date is missing" if value is None or not value.strip() else f"cannot read '{value}' as a date"
            raise DataError(msg, where=located(where, row, date_col), hint="write dates as YYYY-MM-DD")
        rows = rows.filter(rows._date >= ibis.literal(cutoff, type="date"))
    if keep_rows:
        rows = backend.materialize("icp_labelled", rows)
    per = rows.group_by(["fit_score", "tier"]).aggregate(
        n=rows.count(), wins=rows._won.sum().fill_null(0).cast("int64"), bad=rows._won.isnull().sum(),
        first_bad=rows[ROW].min(where=rows._won.isnull()))
    counts = backend.to_arrow(per.order_by(["fit_score", "tier"]))
    n_bad = pc.sum(counts["bad"]).as_py() or 0
    if n_bad:
        row = pc.min(counts["first_bad"]).as_py()
        value = backend.to_arrow(raw.filter(raw[ROW] == row).select(label_col)).column(0)
        raise _label_error(_as_text(value)[0].as_py(), n_bad, located(where, row, label_col))
    per_row = backend.to_arrow(rows.select(ROW, "tier", "fit_score", "_won").order_by(ROW)) if keep_rows else None
    n = pc.sum(counts["n"]).as_py() or 0
    split = None
    if cutoff is not None:
        split = {"date_column": date, "split_at": cutoff.isoformat(), "rows_before": rows_total - n}
        what = f"{label_col} on or after {cutoff.isoformat()}"
    else:
        what = f"column '{label_col}'"
    _check_counts(n, pc.sum(counts["wins"]).as_py() or 0, what)
    return Labelled(counts.select(["fit_score", "tier", "n", "wins"]), rows_total, label_col, split, per_row)


@dataclass
class Comparison:
    """Two profiles backtested on the same history, how records move between tiers, and
    DeLong's paired test of their AUCs on those rows (:func:`~icpkit.discover.stats.delong_paired_weighted`):
    ``auc_difference`` is B's AUC minus A's, ``auc_difference_low``-``auc_difference_high``
    its 95% interval, ``z`` and ``p_value`` (two-sided) the test of no difference;
    ``verdict`` says it in words. The interval, ``z`` and ``p_value`` are None when the test
    cannot be made (fewer than 2 wins or 2 losses)."""

    a: Backtest
    b: Backtest
    moves: dict[str, dict[str, int]]  # tier under A -> tier under B -> records
    changed: int  # records whose tier differs
    auc_difference: float
    auc_difference_low: float | None
    auc_difference_high: float | None
    z: float | None
    p_value: float | None
    significant: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "moves": self.moves, "changed": self.changed,
                "auc_difference": self.auc_difference, "auc_difference_low": self.auc_difference_low,
                "auc_difference_high": self.auc_difference_high, "z": self.z, "p_value": self.p_value,
                "significant": self.significant, "verdict": self.verdict}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=float) + "\n"


def comparison(pa_: Any, pb: Any, da: Labelled, db: Labelled) -> Comparison:
    """Two profiles' backtests on the same labelled rows (``keep_rows``), the tier changes,
    and the paired test of their AUCs."""
    assert da.rows is not None and db.rows is not None
    if da.rows.column("_row") != db.rows.column("_row"):
        raise IcpError("the two profiles did not score the same rows", hint="compare them on one file")
    ta = da.rows.column("tier").to_pylist()
    tb = db.rows.column("tier").to_pylist()
    moves: dict[str, dict[str, int]] = {}
    for x, y in zip(ta, tb):
        moves.setdefault(x, {}).setdefault(y, 0)
        moves[x][y] += 1
    changed = sum(n for x, row in moves.items() for y, n in row.items() if x != y)
    a, b = summary_of(pa_, da), summary_of(pb, db)
    won = da.rows.column("_won").to_numpy(zero_copy_only=False)
    test = delong_paired_weighted(*paired_counts(da.rows.column("fit_score").to_numpy(zero_copy_only=False),
                                                 db.rows.column("fit_score").to_numpy(zero_copy_only=False), won))
    return Comparison(a, b, moves, changed, auc_difference=test.difference, auc_difference_low=test.low,
                      auc_difference_high=test.high, z=test.z, p_value=test.p_value, significant=test.significant,
                      verdict=paired_verdict(a.auc, b.auc, test))


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def paired_verdict(auc_a: float, auc_b: float, test: Any) -> str:
    """The paired test (:class:`~icpkit.discover.stats.PairedTest`) of B against A in words:
    which profile ranks better and whether the difference is significant at 5%."""
    diff = test.difference
    figures = f"AUC {auc_b:.3f} vs {auc_a:.3f}, difference {diff:+.3f}"
    if test.p_value is None:
        return (f"B and A cannot be told apart by a test: {figures}; the difference has no variance estimate "
                "(a test needs at least 2 wins and 2 losses).")
    if test.z is None:
        return f"{'B' if diff > 0 else 'A'} ranks better than {'A' if diff > 0 else 'B'} on every row: {figures}."
    if diff == 0:
        return f"A and B rank alike: AUC {auc_a:.3f} both, no difference ({_p_text(test.p_value)})."
    better, worse = ("B", "A") if diff > 0 else ("A", "B")
    auc_better, auc_worse = (auc_b, auc_a) if diff > 0 else (auc_a, auc_b)
    text = (f"{better} ranks better than {worse}: AUC {auc_better:.3f} vs {auc_worse:.3f}, difference B - A "
            f"{diff:+.3f} (95% CI {test.low:+.3f} to {test.high:+.3f}), {_p_text(test.p_value)}: ")
    if test.significant:
        return text + "significant at 5%."
    return text + "not significant at 5%: the two rank alike on this history."
