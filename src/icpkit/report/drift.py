"""The drift report: has the scored population moved, does the top tier still hold the
wins, and which segments does the profile miss? One self-contained HTML page.

:func:`drift_report` renders :meth:`icpkit.monitor.drift.Drift.to_dict`: the headline
(stability index of the score and its reading, the trend of the top tier's share of the
wins), what to do, the score's distribution before and now with the bins of its stability
index, each criterion's stability index, win rate by tier per period, emerging and fading
segments, and notes. It shares the evidence reports' stylesheet, charts and number formats
(:mod:`icpkit.report.evidence`); a figure without enough data says so, never 0. The review
(:mod:`icpkit.report.review`) shows the same sections through :func:`_drift_doc` and the
macros of ``drift.html.j2``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..discover.shift import PSI_SHIFTED, PSI_WATCH, psi
from ..monitor.drift import TREND_STEP
from .compare import _p
from .evidence import (
    DASH,
    Bar,
    Scale,
    Series,
    _clip,
    _count,
    _fixed,
    _interval,
    _num,
    _pct,
    _pct_tick,
    bar_chart,
    histogram,
    line_chart,
    linear_upto,
    write_report,
)
from .profile_doc import _environment

__all__ = ["drift_report", "write_drift_report"]

#: A stability index's level in words, and the tone of its bar.
_LEVELS = {"stable": (f"stable (below {PSI_WATCH:.2f})", "main"),
           "watch": (f"watch ({PSI_WATCH:.2f}-{PSI_SHIFTED:.2f})", "lost"),
           "shifted": (f"shifted ({PSI_SHIFTED:.2f} or more)", "down")}
#: Tones of the tiers' lines, highest tier first (the top tier's share of wins is "share").
_TIER_TONES = ("main", "lost", "down", "muted")
#: The stability axis stops here; larger indexes run to its edge (their note gives the value).
_PSI_AXIS_MAX = 0.6


def _reading(f: dict[str, Any]) -> str:
    """A stability index's level in words, or why there is none."""
    if _num(f.get("psi")) is None:
        return str(f.get("note") or "not enough data")
    return _LEVELS.get(str(f.get("level")), (str(f.get("level", "")), ""))[0]


def _bins(bins: list[dict[str, Any]], measured: bool) -> list[dict[str, str]]:
    """The bins behind a stability index, with each one's part of it (when there is an index)."""
    rows = []
    for b in bins:
        e, a = _num(b.get("baseline_share")), _num(b.get("current_share"))
        rows.append({"bin": str(b.get("bin", "")), "baseline": _count(b.get("baseline")), "baseline_share": _pct(e),
                     "current": _count(b.get("current")), "current_share": _pct(a),
                     "change": DASH if e is None or a is None else f"{(a - e) * 100:+.1f} pts",
                     "part": _fixed(psi([e], [a]), 4) if measured and e is not None and a is not None else DASH})
    return rows


def _distribution_chart(bins: list[dict[str, Any]], names: tuple[str, str], what: str) -> Markup | None:
    """Grouped bars of the baseline's and the current shares per bin; None without shares."""
    base = [(i, v) for i, b in enumerate(bins) if (v := _num(b.get("baseline_share"))) is not None]
    cur = [(i, v) for i, b in enumerate(bins) if (v := _num(b.get("current_share"))) is not None]
    if not base and not cur:
        return None
    top = max([0.05, *(v for _, v in base + cur)])
    groups = [Series(f"Baseline: {_clip(names[0], 30)}", base, "muted"), Series(f"Current: {_clip(names[1], 30)}", cur)]
    return histogram([str(b.get("bin", "")) for b in bins], groups, linear_upto(top * 1.05), y_tick=_pct_tick,
                     x_label=what, y_label="Share of the records", title=f"{what}: baseline against current")


def _figure(f: dict[str, Any] | None, names: tuple[str, str], what: str) -> dict[str, Any]:
    f = f or {}
    bins, measured = list(f.get("bins") or []), _num(f.get("psi")) is not None
    return {"psi": _fixed(f.get("psi")) if measured else "n/a", "reading": _reading(f),
            "level": str(f.get("level") or ""), "chart": _distribution_chart(bins, names, what),
            "bins": _bins(bins, measured)}


def _criteria_chart(attribute_bins: dict[str, dict[str, Any]]) -> Markup | None:
    """Each criterion's stability index, with reference lines at the watch and shifted levels."""
    if not attribute_bins:
        return None
    bars = []
    for name, f in attribute_bins.items():
        v = _num(f.get("psi"))
        level = str(f.get("level") or "")
        bars.append(Bar(str(name), None, note="not enough data", tone="muted") if v is None
                    else Bar(str(name), v, note=f"{_fixed(v)} · {level}", tone=_LEVELS.get(level, ("", "main"))[1]))
    top = max([b.value for b in bars if b.value is not None], default=0.0)
    scale = linear_upto(min(max(PSI_SHIFTED * 1.2, top * 1.05), _PSI_AXIS_MAX))
    return bar_chart(bars, scale, origin=0.0, tick=lambda t: f"{t:.2f}", title="Stability index of each criterion",
                     refs=[(PSI_WATCH, f"watch {PSI_WATCH:.2f}"), (PSI_SHIFTED, f"shifted {PSI_SHIFTED:.2f}")])


def _criteria(attribute_bins: dict[str, dict[str, Any]], names: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"name": str(k), **_figure(f, names, f"Points of {k}")} for k, f in attribute_bins.items()]


def _tiers_chart(periods: list[dict[str, Any]]) -> Markup | None:
    """One line per tier's win rate across the periods with enough data, and the top
    tier's share of the wins."""
    if not periods:
        return None
    labels = [str(p.get("period", "")) for p in periods]
    usable = [i for i, p in enumerate(periods) if "note" not in p]
    tiers = [str(t.get("tier", "")) for t in periods[0].get("tiers") or []]
    series = []
    for k, tier in enumerate(tiers):
        pts = [(float(i), v) for i in usable for t in periods[i].get("tiers") or []
               if str(t.get("tier")) == tier and (v := _num(t.get("win_rate"))) is not None]
        if pts:
            series.append(Series(f"{tier} win rate", pts, _TIER_TONES[min(k, len(_TIER_TONES) - 1)]))
    share = [(float(i), v) for i in usable if (v := _num(periods[i].get("top_share_of_wins"))) is not None]
    if share:
        series.append(Series(f"{tiers[0] if tiers else 'top'} tier's share of wins", share, "share"))
    if not series:
        return None
    xs = Scale(0, len(labels) - 1) if len(labels) > 1 else Scale(-0.5, 0.5)

    def x_tick(t: float) -> str:
        return labels[round(t)] if abs(t - round(t)) < 1e-9 and 0 <= round(t) < len(labels) else ""

    return line_chart(series, xs, Scale(0, 1), x_tick=x_tick, y_tick=_pct_tick, x_label="Period",
                      y_label="Win rate / share of wins", title="Win rate by tier per period")


def _periods(periods: list[dict[str, Any]]) -> dict[str, Any]:
    tiers = [str(t.get("tier", "")) for t in (periods[0].get("tiers") if periods else None) or []]
    rows = []
    for p in periods:
        by_tier = {str(t.get("tier")): t for t in p.get("tiers") or []}
        cells = []
        for name in tiers:
            t = by_tier.get(name) or {}
            has = _num(t.get("win_rate")) is not None
            cells.append({"rate": _pct(t.get("win_rate")) if has else "no records",
                          "ci": _interval(t.get("low"), t.get("high"), _pct) if has else "",
                          "of": f"{_count(t.get('wins'))}/{_count(t.get('records'))}" if has else ""})
        rows.append({"period": str(p.get("period", "")), "records": _count(p.get("records")),
                     "wins": _count(p.get("wins")), "cells": cells, "share": _pct(p.get("top_share_of_wins")),
                     "note": str(p.get("note") or "")})
    return {"tiers": tiers, "rows": rows, "chart": _tiers_chart(periods)}


def _trend_text(trend: dict[str, Any] | None) -> str:
    if not trend:
        return ("No trend: it needs at least three periods with enough labelled records "
                "(and a dated, labelled input).")
    slope, direction = _num(trend.get("slope_per_period")), str(trend.get("direction", ""))
    change = DASH if slope is None else f"{slope * 100:+.1f} points a period"
    said = {"rising": "is rising", "falling": "is falling"}.get(direction, "holds steady")
    why = "" if direction in ("rising", "falling") else \
        f" (a trend needs p < 0.05 and at least {TREND_STEP * 100:.0f} points a period)"
    return (f"The top tier's share of the wins {said}: {change} over {_count(trend.get('periods'))} periods, "
            f"p = {_p(trend.get('p_value'))}{why}.")


def _segments(segments: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"attribute": str(s.get("attribute", "")), "value": str(s.get("value", "")), "n": _count(s.get("n")),
             "wins": _count(s.get("wins")), "win_rate": _pct(s.get("win_rate")),
             "tier_win_rate": _pct(s.get("tier_win_rate")), "q": _p(s.get("q_value"))} for s in segments]


def _headline(d: dict[str, Any], score: dict[str, Any], criteria: list[dict[str, Any]]) -> list[dict[str, str]]:
    measured = [c for c in criteria if c["psi"] != "n/a"]
    moved = [c["name"] for c in measured if c["level"] in ("watch", "shifted")]
    trend = d.get("trend") or {}
    slope = _num(trend.get("slope_per_period"))
    return [
        {"label": "Score stability index", "value": score["psi"], "hint": score["reading"]},
        {"label": "Criteria that moved", "value": f"{len(moved)} of {len(measured)}" if measured else "n/a",
         "hint": ", ".join(moved) if moved else "stability index 0.10 or more" if measured
         else "not enough data for any criterion"},
        {"label": "Top tier's share of wins", "value": str(trend.get("direction") or "n/a"),
         "hint": f"{slope * 100:+.1f} points a period, p = {_p(trend.get('p_value'))}" if slope is not None
         else "no trend: too few periods with enough data"},
        {"label": "Emerging / fading", "value": f"{len(d.get('emerging') or [])} / {len(d.get('fading') or [])}",
         "hint": "segments that convert unlike their tier"},
    ]


def _drift_doc(d: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    names = (str(d.get("baseline", "")), str(d.get("current", "")))
    score = _figure(d.get("score") or {"psi": d.get("psi")}, names, "Fit score band")
    criteria = _criteria(dict(d.get("attribute_bins") or {}), names)
    return {
        "title": title or f"Drift: {names[1]} against {names[0]}",
        "meta": [],
        "baseline": names[0], "current": names[1],
        "headline": _headline(d, score, criteria),
        "trend": _trend_text(d.get("trend")),
        "actions": [str(a) for a in d.get("actions") or []],
        "score": score,
        "criteria": criteria,
        "criteria_chart": _criteria_chart(dict(d.get("attribute_bins") or {})),
        "periods": _periods(list(d.get("tiers_by_period") or [])),
        "emerging": _segments(list(d.get("emerging") or [])),
        "fading": _segments(list(d.get("fading") or [])),
        "notes": [str(n) for n in d.get("notes") or []],
    }


def drift_report(drift: dict[str, Any], *, title: str | None = None) -> str:
    """A drift (:meth:`Drift.to_dict`) as a self-contained HTML page."""
    return _environment().get_template("drift.html.j2").render(doc=_drift_doc(drift, title))


def write_drift_report(drift: Any, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write the report of ``drift`` (a :class:`Drift`, or its dict) to ``path`` atomically."""
    return write_report(drift_report(drift.to_dict() if hasattr(drift, "to_dict") else drift, title=title), path)
