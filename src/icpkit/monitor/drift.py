"""Drift: has the scored population moved, does the top tier still hold the wins, and which
segments is the profile missing (emerging) or over-rating (fading)?

Two populations are compared, each a file, a recorded run or a period of a dated file
(:class:`Side`). From their snapshots (counts alone):

* the **population stability index** of the fit score over ten bands, and of each
  criterion over its outcomes (the points it gives), with the bins behind each figure:
  below 0.10 stable, 0.10-0.25 watch, 0.25 or more shifted (:mod:`icpkit.discover.shift`);

and from the records of labelled inputs:

* per period (month or quarter of ``--date``): the win rate of each tier with its 95%
  (Wilson) interval, the share of the wins in the top tier, and the trend of that share;
* **emerging** and **fading** segments (:mod:`.segments`) among the current records;
* recommended actions, in words.

A figure that lacks data says so ("not enough data: ...") instead of a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..discover.backtest import wilson_interval
from ..discover.features import Labelled
from ..discover.shift import psi, psi_level
from ..errors import IcpError
from ..profile.model import Profile
from .segments import Segment, find, support
from .snapshot import POINTS_PREFIX, Snapshot, from_counts

#: Fewest records on each side for a stability index.
MIN_ROWS = 100
#: Fewest labelled records in a period for its win rates.
MIN_PERIOD_ROWS = 30
#: A change of the top tier's share of wins per period called a trend (with p < 0.05).
TREND_STEP = 0.02


@dataclass
class Records:
    """One input's scored records, as drift reads them (aligned arrays, one entry a record)."""

    where: str
    scores: np.ndarray
    tiers: np.ndarray
    points: dict[str, np.ndarray]
    labels: np.ndarray | None = None
    dates: np.ndarray | None = None  # datetime64[D]
    data: Labelled | None = None  # the attributes, with the labels

    def subset(self, mask: np.ndarray, where: str) -> Records:
        data = None
        if self.data is not None:
            d = self.data
            attrs = [_attr_subset(a, mask) for a in d.attributes]
            data = Labelled(d.label, d.labels[mask], attrs, d.notes, where, int(mask.sum()),
                            d.dates[mask] if d.dates is not None else None)
        return Records(where, self.scores[mask], self.tiers[mask], {k: v[mask] for k, v in self.points.items()},
                       self.labels[mask] if self.labels is not None else None,
                       self.dates[mask] if self.dates is not None else None, data)

    def snapshot(self, profile: Profile) -> Snapshot:
        rows = ({"fit_score": s, "tier": t, "n": 1, **{POINTS_PREFIX + k: v[i] for k, v in self.points.items()}}
                for i, (s, t) in enumerate(zip(self.scores, self.tiers, strict=True)))
        return from_counts(profile, rows)


def _attr_subset(a: Any, mask: np.ndarray) -> Any:
    values = a.values[mask] if isinstance(a.values, np.ndarray) else [v for v, m in zip(a.values, mask) if m]
    return replace(a, values=values)


@dataclass
class Side:
    """One population: its name, its snapshot, and its records when it was read from a file."""

    name: str
    snapshot: Snapshot
    records: Records | None = None


@dataclass
class Figure:
    """A stability index with its bins, or why there is none."""

    psi: float | None
    level: str | None
    bins: list[dict[str, Any]]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"psi": self.psi, "level": self.level, "bins": self.bins, "note": self.note}


@dataclass
class Drift:
    baseline: str
    current: str
    score: Figure
    attributes: dict[str, Figure]
    tiers_by_period: list[dict[str, Any]]
    trend: dict[str, Any] | None
    emerging: list[Segment]
    fading: list[Segment]
    actions: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "current": self.current, "psi": self.score.psi,
                "attributes": {k: f.psi for k, f in self.attributes.items()},
                "tiers_by_period": self.tiers_by_period,
                "emerging": [s.to_dict() for s in self.emerging], "fading": [s.to_dict() for s in self.fading],
                "score": self.score.to_dict(), "attribute_bins": {k: f.to_dict() for k, f in self.attributes.items()},
                "trend": self.trend, "actions": self.actions, "notes": self.notes}


def stability(base: dict[Any, int], cur: dict[Any, int], labels: dict[Any, str] | None = None) -> Figure:
    """The stability index of two distributions of counts over the same bins."""
    nb, nc = sum(base.values()), sum(cur.values())
    keys = list(dict.fromkeys([*base, *cur]))
    if isinstance(keys[0] if keys else None, float):
        keys.sort()
    bins = [{"bin": (labels or {}).get(k, _bin_name(k)), "baseline": int(base.get(k, 0)), "current": int(cur.get(k, 0)),
             "baseline_share": round(base.get(k, 0) / nb, 4) if nb else None,
             "current_share": round(cur.get(k, 0) / nc, 4) if nc else None} for k in keys]
    if min(nb, nc) < MIN_ROWS:
        return Figure(None, None, bins, f"not enough data: {min(nb, nc):,} records on one side, {MIN_ROWS} needed")
    e = np.array([base.get(k, 0) / nb for k in keys])
    a = np.array([cur.get(k, 0) / nc for k in keys])
    value = round(psi(e, a), 4)
    return Figure(value, psi_level(value), bins)


def _bin_name(k: Any) -> str:
    return f"{k:+g} points" if isinstance(k, float) else str(k)


#: The lengths of a period.
PERIODS = ("month", "quarter")


def check_every(every: str) -> str:
    if every not in PERIODS:
        raise IcpError(f"unknown period length '{every}'", hint="use month or quarter")
    return every


def period_of(days: np.ndarray, every: str) -> np.ndarray:
    """Each date's period: ``2026-03`` (month) or ``2026-Q1`` (quarter)."""
    months = days.astype("datetime64[M]")
    if every == "month":
        return np.datetime_as_string(months, unit="M")
    years = months.astype("datetime64[Y]").astype(int) + 1970
    quarters = (months.astype(int) % 12) // 3 + 1
    return np.array([f"{y}-Q{q}" for y, q in zip(years, quarters, strict=True)])


def tiers_by_period(records: Records, tier_order: list[str], every: str) -> tuple[list[dict[str, Any]], dict | None]:
    """Win rate by tier per period, the top tier's share of the wins, and its trend."""
    assert records.labels is not None and records.dates is not None
    periods = period_of(records.dates, every)
    out = []
    for p in sorted(set(periods.tolist())):
        rows = periods == p
        y = records.labels[rows]
        t = records.tiers[rows]
        entry: dict[str, Any] = {"period": p, "records": int(rows.sum()), "wins": int(y.sum())}
        if rows.sum() < MIN_PERIOD_ROWS:
            entry["note"] = f"not enough data: {int(rows.sum())} records, {MIN_PERIOD_ROWS} needed"
        tiers = []
        for name in tier_order:
            m = t == name
            n, w = int(m.sum()), int(y[m].sum())
            lo, hi = wilson_interval(w, n) if n else (None, None)
            tiers.append({"tier": name, "records": n, "wins": w, "win_rate": round(w / n, 4) if n else None,
                          "low": None if lo is None else round(lo, 4), "high": None if hi is None else round(hi, 4)})
        entry["tiers"] = tiers
        entry["top_share_of_wins"] = round(tiers[0]["wins"] / entry["wins"], 4) if entry["wins"] else None
        out.append(entry)
    return out, _trend([e for e in out if "note" not in e and e["top_share_of_wins"] is not None])


def _trend(periods: list[dict[str, Any]]) -> dict[str, Any] | None:
    if len(periods) < 3:
        return None
    from scipy.stats import linregress

    shares = np.array([e["top_share_of_wins"] for e in periods], dtype=float)
    fit = linregress(np.arange(len(shares), dtype=float), shares)
    direction = "flat"
    if fit.pvalue < 0.05 and abs(fit.slope) >= TREND_STEP:
        direction = "rising" if fit.slope > 0 else "falling"
    return {"slope_per_period": round(float(fit.slope), 4), "p_value": round(float(fit.pvalue), 4),
            "direction": direction, "periods": len(periods)}


def drift(profile: Profile, baseline: Side, current: Side, *, every: str = "month", alpha: float = 0.05,
          min_records: int | None = None) -> Drift:
    """Compare two populations scored by ``profile`` (see the module docstring)."""
    b, c = baseline.snapshot, current.snapshot
    notes: list[str] = []
    score = stability(b.score_bands(), c.score_bands())
    attributes = {}
    for crit in profile.criteria:
        if crit.key in b.points and crit.key in c.points:
            attributes[crit.key] = stability(b.points[crit.key], c.points[crit.key])
    periods: list[dict[str, Any]] = []
    trend = None
    emerging: list[Segment] = []
    fading: list[Segment] = []
    rec = current.records
    top = profile.tiers[0].name if profile.criteria else None
    if rec is None or rec.labels is None:
        notes.append(f"no win rates, emerging or fading segments: {current.name} has no labels "
                     "(give a file with --label)")
    elif len(np.unique(rec.labels)) < 2:
        notes.append(f"no win rates, emerging or fading segments: the label of {current.name} has one class "
                     f"(every record {'won' if rec.labels[0] == 1 else 'lost'})")
    else:
        if rec.dates is not None:
            periods, trend = tiers_by_period(_labelled_union(baseline, current), [t.name for t in profile.tiers],
                                             every)
        if rec.data is not None and top is not None:
            least = min_records or support(len(rec.labels))
            emerging, n_e = find(rec.data, rec.tiers, top, "emerging", min_support=least, alpha=alpha)
            fading, n_f = find(rec.data, rec.tiers, top, "fading", min_support=least, alpha=alpha)
            notes.append(f"segments: {n_e:,} groups tested below the top tier and {n_f:,} in it, each of at least "
                         f"{least:,} records; false-discovery rate {alpha:.0%} (Benjamini-Hochberg)")
    return Drift(baseline.name, current.name, score, attributes, periods, trend, emerging, fading,
                 actions(profile, score, attributes, periods, trend, emerging, fading), notes)


def _labelled_union(baseline: Side, current: Side) -> Records:
    """The dated, labelled records of both sides (the baseline's first), for the periods."""
    parts = [s.records for s in (baseline, current) if s.records is not None and s.records.labels is not None
             and s.records.dates is not None]
    if len(parts) == 2 and parts[0] is parts[1]:
        parts = parts[:1]
    if len(parts) == 1:
        return parts[0]
    a, c = parts
    return Records(c.where, np.concatenate([a.scores, c.scores]), np.concatenate([a.tiers, c.tiers]), {},
                   np.concatenate([a.labels, c.labels]), np.concatenate([a.dates, c.dates]))


def actions(profile: Profile, score: Figure, attributes: dict[str, Figure], periods: list[dict[str, Any]],
            trend: dict[str, Any] | None, emerging: list[Segment], fading: list[Segment]) -> list[str]:
    """What to do, in words, from the figures."""
    out = []
    if score.level == "shifted":
        out.append(f"The scored population shifted (stability index {score.psi:.2f}): check that the input is read as "
                   "before (a changed export or field mapping), then re-learn or re-discover on recent records.")
    elif score.level == "watch":
        out.append(f"The scored population moved somewhat (stability index {score.psi:.2f}): watch the next runs.")
    for name, f in attributes.items():
        if f.level == "shifted":
            out.append(f"Criterion {name}: the records' values moved (stability index {f.psi:.2f}); revisit its "
                       "levels and points.")
    if trend is not None and trend["direction"] == "falling":
        out.append(f"The top tier holds a falling share of the wins ({trend['slope_per_period']:+.0%} a period): "
                   "re-learn the profile, or lower the top tier's threshold if strong accounts sit below it.")
    last = next((p for p in reversed(periods) if "note" not in p), None)
    if last is not None and len(last["tiers"]) > 1:
        top, second = last["tiers"][0], last["tiers"][1]
        if top["win_rate"] is not None and second["win_rate"] is not None and top["win_rate"] <= second["win_rate"]:
            out.append(f"In {last['period']} the {top['tier']} tier won no more often than {second['tier']} "
                       f"({top['win_rate']:.0%} vs {second['win_rate']:.0%}): move the threshold or re-learn.")
    for s in emerging[:5]:
        out.append(f"Emerging: records with {s.attribute} = {s.value} below the top tier win {s.win_rate:.0%} of the "
                   f"time, against {s.tier_win_rate:.0%} for their tiers ({s.n:,} records): consider adding it to the "
                   "profile or raising its points.")
    for s in fading[:5]:
        out.append(f"Fading: top-tier records with {s.attribute} = {s.value} win {s.win_rate:.0%} of the time, "
                   f"against {s.tier_win_rate:.0%} for the tier ({s.n:,} records): consider lowering its points.")
    if not out:
        out.append("Nothing to change: the population is stable and no segment converts unlike its tier.")
    return out
