"""Constrained binning: an attribute's values grouped the way a scorecard gives them points.

Two steps, so that every fold of a validation re-fits the grouping on its training rows
alone. :func:`fine` cuts an attribute into fine groups without looking at the label
(numbers at up to :data:`PREBINS` quantiles, each text value its own level, one feature per
frequent list item: present or not) and codes every row, -1 for missing. :func:`coarse`
then merges fine groups from the counts of rows and wins of the rows it is given:

* numbers: neighbouring bins are merged until each holds the minimum share of rows; then
  pooled (adjacent violators) until the win rate follows one shape: ascending, descending,
  a peak or a valley, whichever keeps the most information value (a peak or a valley must
  keep 10% more than the better one-way shape); then neighbours whose win rates do not
  differ significantly (a two-proportion test at :data:`ALPHA`) are merged, the least
  different pair first. Merging neighbours of a one-way or single-peaked sequence keeps its
  shape, so the result still has it;
* text: levels with fewer rows than the minimum are pooled as "other"; the groups are put
  in order of their weight of evidence and neighbours that do not differ significantly are
  merged (``Web`` and ``Ads`` become one level of the profile);
* a list item: present or absent, kept only when both hold the minimum share and differ
  significantly;
* "missing" (and "other") stay groups of their own when they hold the minimum share;
  a smaller one joins the group whose win rate is closest, so every group holds the
  minimum share and a profile gives it that group's points.

An attribute left with a single group carries no information and is dropped (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..profile.model import range_label
from .features import Attribute, Binned, Group, criterion_name, criterion_title

#: Numeric attributes are first cut at (up to) this many quantiles of all their values.
PREBINS = 20
#: Neighbouring groups whose win rates differ with a p-value above this are merged.
ALPHA = 0.05
#: Default minimum share of rows in every group.
MIN_SHARE = 0.05
#: At most this many items of a list attribute become features (the most frequent).
MAX_ITEMS = 30


@dataclass(frozen=True)
class Fine:
    """An attribute cut into fine groups, without the label: ``codes[row]`` is the row's
    group (0 .. ``size`` - 1) or -1 when the value is missing. Numbers: group ``i`` is
    ``[edges[i-1], edges[i])``; text: group ``i`` is the value ``keys[i]``; a list item:
    1 when the row's list has ``item``, 0 when not."""

    attribute: Attribute
    codes: np.ndarray
    size: int
    edges: tuple[float, ...] = ()
    keys: tuple[str, ...] = ()
    item: str | None = None

    @property
    def name(self) -> str:
        return criterion_name(self.attribute, self.item)

    @property
    def title(self) -> str:
        return criterion_title(self.attribute, self.item)

    def counts(self, y: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and wins per fine group of ``rows`` (default: all), missing first: index
        ``code + 1``."""
        codes = self.codes if rows is None else self.codes[rows]
        labels = y if rows is None else y[rows]
        n = np.bincount(codes + 1, minlength=self.size + 1).astype(float)
        w = np.bincount(codes + 1, weights=labels.astype(float), minlength=self.size + 1)
        return n, w


@dataclass(frozen=True)
class Bucket:
    """One group of a coarse grouping: how a profile writes it (``rules``, see
    :class:`~.features.Group`) and how it is shown."""

    label: str
    rules: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Coarse:
    """Fine groups merged: ``index[code + 1]`` is the bucket of a fine group (index 0:
    missing); ``shape`` says how a number's win rate moves across its bins."""

    fine: Fine
    index: np.ndarray
    buckets: tuple[Bucket, ...]
    shape: str = ""

    def codes(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The bucket of every row (of ``rows``); -1 for a row no bucket takes (a missing
        value or a rare text value where training had none)."""
        c = self.fine.codes if rows is None else self.fine.codes[rows]
        return self.index[c + 1]

    def counts(self, y: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and wins per bucket of ``rows`` (default: all)."""
        c = self.codes(rows)
        labels = y if rows is None else y[rows]
        keep = c >= 0
        k = len(self.buckets)
        return (np.bincount(c[keep], minlength=k).astype(float),
                np.bincount(c[keep], weights=labels[keep].astype(float), minlength=k))

    def binned(self) -> Binned:
        """The buckets as :class:`~.features.Binned` groups over every row (a profile's rules)."""
        codes = self.codes()
        groups = [Group(b.label, b.rules[0], codes == i, b.rules[1:]) for i, b in enumerate(self.buckets)]
        return Binned(self.fine.attribute, groups, self.fine.item)


def bin_attribute(attr: Attribute, support: int, *, monotone_labels: np.ndarray | None = None) -> list[Binned]:
    """The groups of ``attr`` for discovery, every group of at least ``support`` rows:
    without labels only the minimum support (numeric quantile bins merged, rare levels
    pooled); with ``monotone_labels`` numeric bins also follow one shape. No significance
    merging (discovery reports every group's evidence); a single group is kept."""
    labels = monotone_labels if monotone_labels is not None else np.zeros(len(attr.missing), dtype=np.int64)
    out = []
    for f in fine(attr, support):
        grouped = coarse(f, *f.counts(labels), support, alpha=None, shaped=monotone_labels is not None,
                         keep_single=True)
        assert grouped is not None
        out.append(grouped.binned())
    return out


# -- fine groups -----------------------------------------------------------------------


def fine(attr: Attribute, support: int) -> list[Fine]:
    """The fine groups of ``attr``; a list attribute gives one :class:`Fine` per item held
    by at least ``support`` rows (at most :data:`MAX_ITEMS`, the most frequent)."""
    if attr.kind == "number":
        return [_fine_numbers(attr)]
    if attr.kind == "text":
        x = attr.values
        missing = attr.missing
        keys, inverse = np.unique(x[~missing].astype(str), return_inverse=True)
        codes = np.full(len(x), -1, dtype=np.int64)
        codes[~missing] = inverse
        return [Fine(attr, codes, len(keys), keys=tuple(str(k) for k in keys))]
    counts: dict[str, int] = {}
    for items in attr.values:
        for it in items or ():
            counts[it] = counts.get(it, 0) + 1
    frequent = sorted((k for k, c in counts.items() if c >= support), key=lambda k: (-counts[k], k))[:MAX_ITEMS]
    missing = attr.missing
    out = []
    for item in frequent:
        has = np.fromiter((bool(items) and item in items for items in attr.values), dtype=bool, count=len(missing))
        out.append(Fine(attr, np.where(missing, -1, has.astype(np.int64)), 2, item=item))
    return out


def _fine_numbers(attr: Attribute) -> Fine:
    x = attr.values
    present = ~np.isnan(x)
    v = x[present]
    uniq = np.unique(v)
    if len(uniq) <= PREBINS:
        edges = uniq[1:].astype(float)
    else:
        qs = np.quantile(v, np.linspace(0, 1, PREBINS + 1)[1:-1], method="nearest")
        edges = np.unique(qs[qs > uniq[0]]).astype(float)
    below = uniq[np.searchsorted(uniq, edges, side="left") - 1]
    edges = np.array([_round_edge(lo, e) for lo, e in zip(below, edges, strict=True)])
    codes = np.where(present, np.searchsorted(edges, np.where(present, x, 0.0), side="right"), -1)
    return Fine(attr, codes.astype(np.int64), len(edges) + 1, edges=tuple(float(e) for e in edges))


def _round_edge(below: float, edge: float) -> float:
    """The roundest number in ``(below, edge]``: it splits the values the same way as
    ``edge`` (nothing lies between ``below`` and ``edge``) and reads better in a profile."""
    for digits in range(16):
        scale = 10.0 ** (math.floor(math.log10(abs(edge))) - digits) if edge else 1.0
        rounded = math.floor(edge / scale) * scale
        rounded = float(f"{rounded:.{max(0, -math.floor(math.log10(scale)))}f}") if scale < 1 else rounded
        if below < rounded <= edge:
            return rounded
    return float(edge)


# -- coarse groups ---------------------------------------------------------------------


def coarse(f: Fine, n: np.ndarray, w: np.ndarray, support: float, *, alpha: float | None = ALPHA,
           shaped: bool = True, keep_single: bool = False) -> Coarse | None:
    """Merge the fine groups of ``f`` from their counts (``n`` rows and ``w`` wins per
    fine group, missing first, as :meth:`Fine.counts` gives) so that every group holds at
    least ``support`` rows (see the module docstring). Without ``alpha`` no significance
    merging, without ``shaped`` no shape: only the minimum support. None when fewer than
    two groups remain, unless ``keep_single``."""
    if f.attribute.kind == "number":
        runs, shape = _number_runs(n[1:], w[1:], support, alpha, shaped)
        buckets = [[("bin", -math.inf if a == 0 else f.edges[a - 1], math.inf if b == f.size else f.edges[b - 1])]
                   for a, b in runs]
        members = [list(range(a + 1, b + 1)) for a, b in runs]
    elif f.item is not None:
        shape = ""
        buckets, members = [[("item", f.item)], [("no_item",)]], [[2], [1]]
        weak = min(n[2], n[1]) < support or (alpha is not None
                                              and rate_difference_p(n[2], w[2], n[1], w[1]) > alpha)
        if weak and not keep_single:
            return None
    else:
        shape = ""
        buckets, members = _level_groups(f, n, w, support, alpha)
    if n[0] > 0:
        if n[0] >= support or not buckets:
            buckets.append([("missing",)])
            members.append([0])
        else:
            _join_closest(buckets, members, n, w, [("missing",)], [0])
    if len(buckets) < 2 and not keep_single:
        return None
    index = np.full(f.size + 1, -1, dtype=np.int64)
    for i, m in enumerate(members):
        index[m] = i
    return Coarse(f, index, tuple(Bucket(_label(f, rules), tuple(rules)) for rules in buckets), shape)


def _number_runs(n: np.ndarray, w: np.ndarray, support: float, alpha: float | None,
                 shaped: bool) -> tuple[list[tuple[int, int]], str]:
    """Fine bins merged into runs ``[start, end)`` of fine-bin indexes, and their shape."""
    starts = list(range(len(n)))

    def totals(s: list[int]) -> tuple[np.ndarray, np.ndarray]:
        return np.add.reduceat(n, s), np.add.reduceat(w, s)

    gn, _ = totals(starts)
    while len(starts) > 1 and gn.min() < support:
        i = int(np.argmin(gn))
        if i == 0:
            drop = 1
        elif i == len(gn) - 1:
            drop = i
        else:
            drop = i if gn[i - 1] <= gn[i + 1] else i + 1
        del starts[drop]
        gn, _ = totals(starts)
    shape = ""
    if shaped and len(starts) > 1:
        gn, gw = totals(starts)
        kept, shape = _shape(gn, gw)
        starts = [starts[k] for k in kept]
    if alpha is not None:
        while len(starts) > 1:
            gn, gw = totals(starts)
            p = [rate_difference_p(gn[i], gw[i], gn[i + 1], gw[i + 1]) for i in range(len(starts) - 1)]
            j = int(np.argmax(p))
            if p[j] <= alpha:
                break
            del starts[j + 1]
    if len(starts) > 1:
        gn, gw = totals(starts)
        shape = _shape_of(gw / np.maximum(gn, 1))
    else:
        shape = "flat"
    ends = [*starts[1:], len(n)]
    return list(zip(starts, ends, strict=True)), shape


def _shape(n: np.ndarray, w: np.ndarray) -> tuple[list[int], str]:
    """The groups' first indexes after pooling adjacent violators into the best shape."""
    k = len(n)
    rising, falling = _pools(n, w, True), _pools(n, w, False)  # of every prefix, in one pass each
    best: tuple[float, list[int], str] = (-1.0, [], "")
    for groups, name in ((rising[-1], "ascending"), (falling[-1], "descending")):
        iv = information_value(*_grouped(n, w, groups))
        if iv > best[0]:
            best = (iv, groups, name)
    one_way = best[0]
    for turn in range(1, k - 1):
        for left, up_first, name in ((rising, True, "peak"), (falling, False, "valley")):
            groups = left[turn] + _pools(n, w, not up_first, start=turn + 1)[-1]
            iv = information_value(*_grouped(n, w, groups))
            if iv > max(best[0], one_way * 1.1):
                best = (iv, groups, name)
    return best[1], best[2]


def _pools(n: np.ndarray, w: np.ndarray, rising: bool, start: int = 0) -> list[list[int]]:
    """Pool adjacent violators over the bins from ``start`` on: for each bin ``b``, the
    first bin index of each pooled group of the bins ``start`` to ``b`` (the stack of the
    algorithm after ``b`` is the pooling of that prefix)."""
    starts: list[int] = []
    stats: list[list[float]] = []
    out = []
    for b in range(start, len(n)):
        starts.append(b)
        stats.append([n[b], w[b]])
        while len(stats) > 1:
            r_prev = stats[-2][1] / max(stats[-2][0], 1)
            r_last = stats[-1][1] / max(stats[-1][0], 1)
            if (r_last >= r_prev) if rising else (r_last <= r_prev):
                break
            stats[-2][0] += stats[-1][0]
            stats[-2][1] += stats[-1][1]
            stats.pop()
            starts.pop()
        out.append(list(starts))
    return out


def _shape_of(rates: np.ndarray) -> str:
    d = np.sign(np.diff(rates))
    d = d[d != 0]
    if len(d) == 0:
        return "flat"
    if np.all(d > 0):
        return "ascending"
    if np.all(d < 0):
        return "descending"
    return "peak" if d[0] > 0 else "valley"


def _grouped(n: np.ndarray, w: np.ndarray, starts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return np.add.reduceat(n, starts), np.add.reduceat(w, starts)


def _level_groups(f: Fine, n: np.ndarray, w: np.ndarray, support: float,
                  alpha: float | None) -> tuple[list[list[tuple[Any, ...]]], list[list[int]]]:
    """Text: frequent levels, "other" for the rest; merged by weight of evidence."""
    codes = np.arange(1, f.size + 1)
    frequent = codes[n[1:] >= support]
    rare = codes[(n[1:] < support) & (n[1:] > 0)]
    frequent = frequent[np.argsort(-n[frequent], kind="stable")]
    buckets: list[list[tuple[Any, ...]]] = [[("level", [f.keys[c - 1]])] for c in frequent]
    members: list[list[int]] = [[int(c)] for c in frequent]
    other_n = float(n[rare].sum())
    if other_n >= support or (other_n > 0 and not buckets):
        buckets.append([("other",)])
        members.append([int(c) for c in rare])
    elif other_n > 0:
        _join_closest(buckets, members, n, w, [("other",)], [int(c) for c in rare])
    if alpha is not None and len(buckets) > 1:
        total_n, total_w = float(n.sum()), float(w.sum())
        order = sorted(range(len(buckets)), key=lambda i: woe(n[members[i]].sum(), w[members[i]].sum(),
                                                              total_n, total_w))
        buckets, members = [buckets[i] for i in order], [members[i] for i in order]
        while len(buckets) > 1:
            gn = [n[m].sum() for m in members]
            gw = [w[m].sum() for m in members]
            p = [rate_difference_p(gn[i], gw[i], gn[i + 1], gw[i + 1]) for i in range(len(buckets) - 1)]
            j = int(np.argmax(p))
            if p[j] <= alpha:
                break
            buckets[j] = _merge_rules(buckets[j], buckets.pop(j + 1))
            members[j] = members[j] + members.pop(j + 1)
        order = sorted(range(len(buckets)), key=lambda i: -n[members[i]].sum())
        buckets, members = [buckets[i] for i in order], [members[i] for i in order]
    return buckets, members


def _merge_rules(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rules of two merged text groups: one level holding both's values, then the rest."""
    levels = [v for r in (*a, *b) if r[0] == "level" for v in r[1]]
    rest = [r for r in (*a, *b) if r[0] != "level"]
    return ([("level", levels)] if levels else []) + rest


def _join_closest(buckets: list[list[tuple[Any, ...]]], members: list[list[int]], n: np.ndarray, w: np.ndarray,
                  rules: list[tuple[Any, ...]], codes: list[int]) -> None:
    """Join a group too small to stand alone to the group whose win rate is closest."""
    rate = (w[codes].sum() + 0.5) / (n[codes].sum() + 1.0)
    closest = min(range(len(buckets)), key=lambda i: abs((w[members[i]].sum() + 0.5) / (n[members[i]].sum() + 1.0)
                                                         - rate))
    buckets[closest] = buckets[closest] + rules
    members[closest] = members[closest] + codes


def rate_difference_p(n1: float, w1: float, n2: float, w2: float) -> float:
    """Two-sided p-value of a difference between two win rates (pooled two-proportion
    z-test, the same as a 2x2 chi-square test without continuity correction)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    p = (w1 + w2) / (n1 + n2)
    var = p * (1 - p) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    return math.erfc(abs(w1 / n1 - w2 / n2) / math.sqrt(var) / math.sqrt(2))


def woe(n: float, w: float, total_n: float, total_w: float) -> float:
    """Weight of evidence of a group: log of its share of wins over its share of losses
    (half a record added to each count so an empty cell stays finite); positive when the
    group wins more often than the rest."""
    losses, total_l = n - w, total_n - total_w
    return math.log(((w + 0.5) / (total_w + 1.0)) / ((losses + 0.5) / (total_l + 1.0)))


def information_value(n: np.ndarray, w: np.ndarray) -> float:
    """Information value of groups with ``n`` rows and ``w`` wins each."""
    n1, n0 = w.sum() + 1.0, (n - w).sum() + 1.0
    sb, sr = (w + 0.5) / n1, (n - w + 0.5) / n0
    return float(np.sum((sb - sr) * np.log(sb / sr)))


def _label(f: Fine, rules: list[tuple[Any, ...]]) -> str:
    shown = f.attribute.display
    parts = []
    for r in rules:
        if r[0] == "bin":
            parts.append(range_label(r[1], r[2]))
        elif r[0] == "level":
            parts.append(", ".join(shown.get(v, v) for v in r[1]))
        elif r[0] == "item":
            parts.append(f"has {shown.get(r[1], r[1])}")
        else:
            parts.append({"no_item": "does not", "other": "other", "missing": "missing"}[r[0]])
    return parts[0] + (f" (and {', '.join(parts[1:])})" if len(parts) > 1 else "")
