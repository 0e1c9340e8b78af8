"""Emerging and fading segments: groups of records that convert unlike their tier.

**Emerging** (the ICP the profile is missing): among the records *below* the top tier, an
attribute value (or a pair of values of two attributes) whose records win significantly
more often than their tiers do. Each record is expected to win at its tier's win rate
(``(wins + 0.5) / (records + 1)``, so that a tier without wins does not make any win a
miracle); a group's expected rate is the mean over its records, and the one-sided exact
binomial test asks whether its wins are above it.

**Fading**: among the records *in* the top tier, a value whose records win significantly
less often than the top tier does.

Values: a text attribute's values (and "missing"), a number's quintiles, a list's items.
Only groups of at least ``min_support`` records are tested (default :func:`support`: 30
records or 1% of them); pairs only of values that have that support on their own, and a
pair is reported only when neither of its values is reported alone. The p-values of every
tested group are corrected together with the Benjamini-Hochberg procedure (the false-
discovery rate), and the groups with a q-value of at most ``alpha`` are reported, the
strongest first.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import binomtest

from ..discover.binning import _round_edge
from ..discover.features import Attribute, Labelled
from ..profile.model import range_label

#: Quantile groups of a number.
NUMBER_GROUPS = 5
#: Attributes whose values are paired (the ones with the most supported values first).
MAX_PAIRED = 12
#: The most values of one attribute tested (the most frequent).
MAX_VALUES = 50
#: Fewest records of a tested group, by default (or 1% of the records, if more).
MIN_SUPPORT = 30


def support(rows: int) -> int:
    """The default minimum support of a segment among ``rows`` records."""
    return max(MIN_SUPPORT, -(-rows // 100))


@dataclass(frozen=True)
class Segment:
    """A group that converts unlike its tier(s)."""

    attribute: str
    value: str
    n: int
    wins: int
    win_rate: float
    tier_win_rate: float
    p_value: float
    q_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Group:
    attribute: str
    value: str
    mask: np.ndarray


def groups(attr: Attribute, within: np.ndarray, min_support: int) -> list[_Group]:
    """The values of ``attr`` with at least ``min_support`` records among ``within``."""
    out: list[_Group] = []
    if attr.kind == "number":
        x = attr.values
        present = ~np.isnan(x)
        v = x[present & within]
        if len(v):
            qs = np.unique(np.quantile(v, np.linspace(0, 1, NUMBER_GROUPS + 1)[1:-1], method="nearest"))
            uniq = np.unique(v)
            edges = [e for e in qs if e > uniq[0]]
            below = [uniq[np.searchsorted(uniq, e, side="left") - 1] for e in edges]
            edges = sorted({_round_edge(lo, e) for lo, e in zip(below, edges, strict=True)})
            bounds = [-np.inf, *edges, np.inf]
            for lo, hi in itertools.pairwise(bounds):
                out.append(_Group(attr.header, range_label(lo, hi), present & (x >= lo) & (x < hi)))
        out.append(_Group(attr.header, "missing", ~present))
    elif attr.kind == "text":
        values = attr.values
        present = ~attr.missing
        keys, counts = np.unique(values[present & within].astype(str), return_counts=True)
        for k in keys[np.argsort(-counts, kind="stable")][:MAX_VALUES]:
            out.append(_Group(attr.header, str(attr.display.get(k, k)), present & (values == k)))
        out.append(_Group(attr.header, "missing", ~present))
    else:
        counts: dict[str, int] = {}
        for i in np.flatnonzero(within):
            for it in attr.values[i] or ():
                counts[it] = counts.get(it, 0) + 1
        for it in sorted(counts, key=lambda k: -counts[k])[:MAX_VALUES]:
            has = np.fromiter((bool(items) and it in items for items in attr.values), dtype=bool,
                              count=len(attr.values))
            out.append(_Group(attr.header, f"has {attr.display.get(it, it)}", has))
    return [g for g in out if int((g.mask & within).sum()) >= min_support]


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """The q-values (BH-adjusted p-values) of ``p``."""
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def find(data: Labelled, tiers: np.ndarray, top: str, kind: Literal["emerging", "fading"], *, min_support: int,
         alpha: float = 0.05, pairs: bool = True) -> tuple[list[Segment], int]:
    """The emerging or fading segments of labelled records in their tiers (see the module
    docstring), and how many groups were tested."""
    y = data.labels.astype(float)
    in_top = tiers == top
    within = ~in_top if kind == "emerging" else in_top
    if not within.any():
        return [], 0
    expected = np.empty(len(y))
    for t in np.unique(tiers):
        rows = tiers == t
        expected[rows] = (y[rows].sum() + 0.5) / (rows.sum() + 1)
    single = {a.header: groups(a, within, min_support) for a in data.attributes}
    tested: list[tuple[str, str, np.ndarray]] = [(g.attribute, g.value, g.mask & within)
                                                 for gs in single.values() for g in gs]
    if pairs:
        paired = sorted(single, key=lambda h: -len(single[h]))[:MAX_PAIRED]
        for a, b in itertools.combinations(paired, 2):
            for ga in single[a]:
                for gb in single[b]:
                    mask = ga.mask & gb.mask & within
                    if int(mask.sum()) >= min_support:
                        tested.append((f"{a} & {b}", f"{ga.value} & {gb.value}", mask))
    rows: list[tuple[str, str, int, int, float, float]] = []
    pvals = []
    side = "greater" if kind == "emerging" else "less"
    for attribute, value, mask in tested:
        n, wins = int(mask.sum()), int(y[mask].sum())
        rate = float(expected[mask].mean())
        pvals.append(binomtest(wins, n, min(max(rate, 1e-9), 1 - 1e-9), alternative=side).pvalue)
        rows.append((attribute, value, n, wins, wins / n, rate))
    q = benjamini_hochberg(np.asarray(pvals, dtype=float))
    found = [Segment(a, v, n, w, round(r, 4), round(e, 4), float(p), round(float(qq), 6))
             for (a, v, n, w, r, e), p, qq in zip(rows, pvals, q, strict=True) if qq <= alpha]
    # A pair holding a value found on its own says nothing more: only the value is reported.
    alone = {(s.attribute, s.value) for s in found if " & " not in s.attribute}
    found = [s for s in found if " & " not in s.attribute or not any(
        (a, v) in alone for a, v in zip(s.attribute.split(" & "), s.value.split(" & "), strict=False))]
    found.sort(key=lambda s: (s.q_value, -abs(s.win_rate - s.tier_win_rate)))
    return found, len(tested)
