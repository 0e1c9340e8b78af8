"""Evidence reports: a backtest or a discovery result as one self-contained HTML page.

:func:`backtest_report` renders :meth:`icpkit.discover.backtest.Backtest.to_dict`;
:func:`discover_report` renders the result of attribute discovery (best accounts against
the rest). Each page is a Jinja2 template with autoescape on (every string from the input
is escaped), its CSS inline, and its charts inline SVG drawn here (:func:`bar_chart`,
:func:`line_chart`, :func:`histogram`), whose text is escaped as it is written. Nothing is
fetched: no scripts, fonts, images or links to load. :func:`write_report` writes a page
atomically.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from .profile_doc import _environment

__all__ = ["Bar", "Scale", "Series", "backtest_report", "bar_chart", "discover_report", "histogram",
           "line_chart", "write_report"]

# ---------------------------------------------------------------- numbers in words

DASH = "—"


def _num(x: Any) -> float | None:
    """``x`` as a float; None when missing, not a number or NaN (infinities are kept)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _pct(x: Any, digits: int = 1) -> str:
    v = _num(x)
    return DASH if v is None or math.isinf(v) else f"{v * 100:.{digits}f}%"


def _fixed(x: Any, digits: int = 3) -> str:
    v = _num(x)
    return DASH if v is None else "∞" if v == math.inf else f"{v:.{digits}f}"


def _times(x: Any) -> str:
    """A ratio such as a lift: ×2.31, ×12.4, ∞."""
    v = _num(x)
    if v is None:
        return DASH
    if math.isinf(v):
        return "∞" if v > 0 else DASH
    return f"×{v:.1f}" if v >= 10 else f"×{v:.2f}"


def _count(x: Any) -> str:
    """A count: 1,234; fractional counts (spread ties) keep one decimal."""
    v = _num(x)
    if v is None:
        return DASH
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _interval(low: Any, high: Any, fmt: Callable[[Any], str]) -> str:
    return DASH if _num(low) is None or _num(high) is None else f"{fmt(low)} – {fmt(high)}"


# ---------------------------------------------------------------- SVG charts

WIDTH = 640  # every chart is drawn on a 640-unit-wide canvas and scaled to the page


@dataclass(frozen=True)
class Scale:
    """An axis from ``lo`` to ``hi``, linear or logarithmic; values outside are clamped."""

    lo: float
    hi: float
    log: bool = False

    def frac(self, v: float) -> float:
        """Where ``v`` sits on the axis: 0 at ``lo``, 1 at ``hi`` (0 and ∞ go to the edges)."""
        if self.log:
            t = (math.log(max(v, self.lo)) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        else:
            t = (v - self.lo) / (self.hi - self.lo)
        return min(1.0, max(0.0, t))

    def ticks(self) -> list[float]:
        if self.log:  # powers of two: ×0.25, ×0.5, ×1, ×2, ...
            k0, k1 = math.ceil(math.log2(self.lo) - 1e-9), math.floor(math.log2(self.hi) + 1e-9)
            step = 1 if k1 - k0 <= 8 else 2
            return [2.0**k for k in range(k0, k1 + 1) if k % step == 0]
        step = _nice_step(self.hi - self.lo)
        first = math.ceil(self.lo / step - 1e-9)
        return [i * step for i in range(first, math.floor(self.hi / step + 1e-9) + 1)]


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target if span > 0 else 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag * (1 + 1e-9))


def linear_upto(top: float, floor: float = 0.0) -> Scale:
    """A linear scale from ``floor`` to ``top`` rounded up to a nice tick."""
    top = max(top, floor + 1e-9)
    step = _nice_step(top - floor)
    return Scale(floor, math.ceil(top / step - 1e-9) * step)


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart: a bar from the origin to ``value`` (none when
    None), an optional interval ``low``-``high`` drawn as a whisker, and a note at the end."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""
    tone: str = "main"  # main, up, down, muted, lost


@dataclass(frozen=True)
class Series:
    """One line of a line chart, or one group of bars of a histogram."""

    name: str
    points: Sequence[tuple[float, float]]
    tone: str = "main"
    dashed: bool = False


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, s: str, cls: str = "", anchor: str = "start", full: str | None = None) -> str:
    tip = f"<title>{escape(full)}</title>" if full is not None and full != s else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" class="{cls}" text-anchor="{anchor}" dy="0.35em">'
            f"{tip}{escape(s)}</text>")


def _line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" class="{cls}"/>'


def _svg(height: float, title: str, body: Iterable[str]) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {_f(height)}" role="img" aria-label="{escape(title)}" '
                  f'><title>{escape(title)}</title>{"".join(body)}</svg>')


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def bar_chart(bars: Sequence[Bar], scale: Scale, *, origin: float, tick: Callable[[float], str],
              ref: float | None = None, ref_label: str = "", title: str = "",
              refs: Sequence[tuple[float, str]] = ()) -> Markup:
    """Horizontal bars from ``origin`` (0 on a linear scale, 1 for lifts on a log scale)
    with optional interval whiskers and dashed reference lines: at ``ref`` (labelled
    ``ref_label``) and at each ``(value, label)`` of ``refs``."""
    label_w, note_w, row_h, top, bottom = 170.0, 124.0, 22.0, 22.0, 22.0
    x0, x1 = label_w, WIDTH - note_w
    height = top + row_h * len(bars) + bottom
    axis_y = top + row_h * len(bars)

    def x(v: float) -> float:
        return x0 + (x1 - x0) * scale.frac(v)

    out = []
    for t in scale.ticks():
        out += [_line(x(t), top - 4, x(t), axis_y, "grid"), _text(x(t), axis_y + 11, tick(t), "tick", "middle")]
    out.append(_line(x0, axis_y, x1, axis_y, "axis"))
    for i, b in enumerate(bars):
        cy = top + row_h * i + row_h / 2
        out.append(_text(x0 - 8, cy, _clip(b.label, 25), "label", "end", full=b.label))
        if b.value is not None:
            a, c = sorted((x(origin), x(b.value)))
            out.append(f'<rect x="{_f(a)}" y="{_f(cy - row_h * 0.3)}" width="{_f(max(c - a, 1.5))}" '
                       f'height="{_f(row_h * 0.6)}" class="bar {b.tone}"><title>{escape(b.label)}: '
                       f"{escape(b.note)}</title></rect>")
        if b.low is not None and b.high is not None:
            lo, hi = x(b.low), x(b.high)
            out += [_line(lo, cy, hi, cy, "whisker"), _line(lo, cy - 5, lo, cy + 5, "whisker"),
                    _line(hi, cy - 5, hi, cy + 5, "whisker")]
        out.append(_text(x1 + 8, cy, b.note, "note"))
    for value, label in [*([(ref, ref_label)] if ref is not None else []), *refs]:
        out += [_line(x(value), top - 6, x(value), axis_y, "ref"),
                _text(x(value), top - 13, label, "reflabel", "middle")]
    return _svg(height, title, out)


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for s in series:
        out += [f'<rect x="{_f(x)}" y="{_f(y - 5)}" width="14" height="10" class="key {s.tone}"/>',
                _text(x + 19, y, s.name, "legend")]
        x += 30 + 6.2 * len(s.name)
    return out


def _frame(xs: Scale | None, ys: Scale, x_tick: Callable[[float], str], y_tick: Callable[[float], str],
           box: tuple[float, float, float, float], x_label: str, y_label: str) -> list[str]:
    """Grid lines, tick labels and axis titles of a chart whose plot area is ``box`` (x0, y0, x1, y1);
    no vertical grid when ``xs`` is None."""
    x0, y0, x1, y1 = box
    out = []
    for t in ys.ticks():
        y = y1 - (y1 - y0) * ys.frac(t)
        out += [_line(x0, y, x1, y, "grid"), _text(x0 - 6, y, y_tick(t), "tick", "end")]
    for t in xs.ticks() if xs is not None else []:
        x = x0 + (x1 - x0) * xs.frac(t)
        out += [_line(x, y0, x, y1, "grid"), _text(x, y1 + 11, x_tick(t), "tick", "middle")]
    out += [_line(x0, y1, x1, y1, "axis"), _line(x0, y0, x0, y1, "axis"),
            _text((x0 + x1) / 2, y1 + 27, x_label, "axislabel", "middle"),
            f'<text transform="translate(12 {_f((y0 + y1) / 2)}) rotate(-90)" class="axislabel" '
            f'text-anchor="middle" dy="0.35em">{escape(y_label)}</text>']
    return out


def line_chart(series: Sequence[Series], xs: Scale, ys: Scale, *, x_tick: Callable[[float], str],
               y_tick: Callable[[float], str], x_label: str, y_label: str, title: str = "") -> Markup:
    """Lines through points; dashed series (such as a diagonal for random) have no markers."""
    box = (58.0, 30.0, WIDTH - 16.0, 262.0)
    x0, y0, x1, y1 = box

    def at(p: tuple[float, float]) -> tuple[float, float]:
        return x0 + (x1 - x0) * xs.frac(p[0]), y1 - (y1 - y0) * ys.frac(p[1])

    out = _frame(xs, ys, x_tick, y_tick, box, x_label, y_label)
    for s in series:
        pts = [at(p) for p in s.points]
        cls = f"line {s.tone}" + (" dashed" if s.dashed else "")
        out.append(f'<polyline points="{" ".join(f"{_f(a)},{_f(b)}" for a, b in pts)}" class="{cls}"/>')
        if not s.dashed:
            out += [f'<circle cx="{_f(a)}" cy="{_f(b)}" r="3" class="dot {s.tone}"><title>{escape(s.name)}: '
                    f"{escape(x_tick(p[0]))}, {escape(y_tick(p[1]))}</title></circle>"
                    for (a, b), p in zip(pts, s.points)]
    out += _legend(series, x0 + 8, 12)
    return _svg(y1 + 40, title, out)


def histogram(bands: Sequence[str], groups: Sequence[Series], ys: Scale, *, y_tick: Callable[[float], str],
              x_label: str, y_label: str, title: str = "") -> Markup:
    """Grouped vertical bars: per band, one bar per group; ``points`` of a group are
    (band index, height)."""
    box = (58.0, 30.0, WIDTH - 16.0, 232.0)
    x0, y0, x1, y1 = box
    slot = (x1 - x0) / max(len(bands), 1)
    bar_w = slot * 0.8 / max(len(groups), 1)
    out = _frame(None, ys, str, y_tick, box, x_label, y_label)
    every = math.ceil(len(bands) / 12) if bands else 1
    for i, band in enumerate(bands):
        if i % every == 0:
            out.append(_text(x0 + slot * (i + 0.5), y1 + 11, band, "tick", "middle"))
    for g, s in enumerate(groups):
        for i, v in s.points:
            top = y1 - (y1 - y0) * ys.frac(v)
            left = x0 + slot * (int(i) + 0.1) + bar_w * g
            out.append(f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(bar_w)}" height="{_f(y1 - top)}" '
                       f'class="bar {s.tone}"><title>{escape(s.name)}, {escape(bands[int(i)])}: '
                       f"{escape(y_tick(v))}</title></rect>")
    out += _legend(groups, x0 + 8, 12)
    return _svg(y1 + 40, title, out)


def _pct_tick(t: float) -> str:
    return f"{t * 100:.0f}%" if abs(t * 100 - round(t * 100)) < 1e-9 else f"{t * 100:.1f}%"


def _times_tick(t: float) -> str:
    return f"×{t:g}"


def _log_tick(t: float) -> str:
    """A power of two on a log axis: ×4, ×1, ×1/4 (rather than ×0.25)."""
    return f"×1/{1 / t:g}" if 0 < t < 1 else f"×{t:g}"


# ---------------------------------------------------------------- backtest

_CHECKS = {
    "top_share": "Top tier's share of records",
    "top_recall": "Top tier's share of wins",
    "top_bottom_ratio": "Top tier's win rate against the bottom tier's",
}


def _check_value(name: str, v: Any) -> str:
    if name == "top_bottom_ratio":
        return DASH + " (undefined)" if _num(v) is None else _times(v)
    return _pct(v) if name in ("top_share", "top_recall") else _fixed(v)


def _check_interval(name: str, c: dict[str, Any]) -> str:
    """A check's 95% bootstrap interval; a ratio's with a lower bound only runs to ∞."""
    fmt = _times if name == "top_bottom_ratio" else _pct if name in ("top_share", "top_recall") else _fixed
    if name == "top_bottom_ratio" and _num(c.get("low")) is not None and _num(c.get("high")) is None:
        return f"{fmt(c.get('low'))} – ∞"
    return _interval(c.get("low"), c.get("high"), fmt)


def _ci_hint(low: Any, high: Any, fmt: Callable[[Any], str], hint: str) -> str:
    """``hint`` after the figure's 95% interval, when there is one."""
    shown = _interval(low, high, fmt)
    return hint if shown == DASH else f"95% CI {shown} · {hint}"


def _split_text(split: dict[str, Any]) -> str:
    if {"date_column", "split_at"} <= split.keys():
        before = split.get("rows_before")
        left = f"; {_count(before)} earlier rows were left out" if before is not None else ""
        return (f"Out-of-sample test: only rows whose {split['date_column']} is on or after "
                f"{split['split_at']} are evaluated{left}.")
    return "Split: " + ", ".join(f"{k} = {v}" for k, v in split.items())


def _histogram_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Won and lost per score band: ``histogram`` when given, else from ``calibration``."""
    if result.get("histogram"):
        return [{"band": str(h.get("band", "")), "won": int(h.get("won") or 0), "lost": int(h.get("lost") or 0)}
                for h in result["histogram"]]
    out = []
    for c in result.get("calibration") or []:
        n, observed = int(c["n"]), _num(c.get("observed")) or 0.0
        won = round(observed * n)
        out.append({"band": str(c["band"]), "won": won, "lost": n - won})
    return out


def _gains_chart(gains: list[dict[str, Any]]) -> Markup:
    total = sum(g["n"] for g in gains) or 1
    cum, points = 0, [(0.0, 0.0)]
    for g in gains:
        cum += g["n"]
        points.append((cum / total, float(g["cum_share_wins"])))
    return line_chart([Series("Profile", points), Series("Random", [(0.0, 0.0), (1.0, 1.0)], "muted", dashed=True)],
                      Scale(0, 1), Scale(0, 1), x_tick=_pct_tick, y_tick=_pct_tick,
                      x_label="Share of records, highest scores first", y_label="Share of all wins",
                      title="Cumulative gains: share of wins against share of records")


def _decile_label(g: dict[str, Any]) -> str:
    lo, hi = _num(g.get("min_score")), _num(g.get("max_score"))
    scores = f" · scores {round(lo, 1):g}-{round(hi, 1):g}" if lo is not None and hi is not None else ""
    return f"Decile {g['decile']}{scores}"


def _lift_chart(gains: list[dict[str, Any]]) -> Markup:
    lifts = [v for g in gains if (v := _num(g.get("lift"))) is not None and math.isfinite(v)]
    bars = [Bar(_decile_label(g), lift, note=f"{_times(lift)} · {_pct(g.get('win_rate'))}",
                tone="muted" if lift is None else "up" if lift >= 1 else "down")
            for g in gains for lift in [_num(g.get("lift"))]]
    return bar_chart(bars, linear_upto(max([1.2, *lifts]) * 1.05), origin=0, tick=_times_tick, ref=1.0,
                     ref_label="random (×1)", title="Lift per decile")


def _tier_chart(tiers: list[dict[str, Any]], base_rate: float | None) -> Markup:
    highs = [v for t in tiers if t.get("win_rate") is not None and (v := _num(t.get("ci_high"))) is not None]
    bars = []
    for t in tiers:
        rate = _num(t.get("win_rate"))
        has = rate is not None
        note = f"{_pct(rate)} · {_count(t.get('wins'))}/{_count(t.get('n'))}" if has else "no records"
        bars.append(Bar(str(t.get("tier", "")), rate, _num(t.get("ci_low")) if has else None,
                        _num(t.get("ci_high")) if has else None, note, "main" if has else "muted"))
    scale = linear_upto(min(1.0, max([0.1, *highs, base_rate or 0.0]) * 1.05))
    return bar_chart(bars, scale, origin=0, tick=_pct_tick, ref=base_rate,
                     ref_label=f"average {_pct(base_rate)}", title="Win rate by tier with 95% intervals")


def _score_histogram(rows: list[dict[str, Any]]) -> Markup:
    won_total = sum(r["won"] for r in rows) or 1
    lost_total = sum(r["lost"] for r in rows) or 1
    won = [(i, r["won"] / won_total) for i, r in enumerate(rows)]
    lost = [(i, r["lost"] / lost_total) for i, r in enumerate(rows)]
    top = max([0.05, *(v for _, v in won + lost)])
    groups = [Series(f"Won ({_count(sum(r['won'] for r in rows))})", won),
              Series(f"Lost ({_count(sum(r['lost'] for r in rows))})", lost, "lost")]
    return histogram([r["band"] for r in rows], groups, linear_upto(top * 1.05), y_tick=_pct_tick,
                     x_label="Fit score band", y_label="Share of the group",
                     title="Fit scores of won and lost records")


def _headline(r: dict[str, Any]) -> list[dict[str, str]]:
    rows, total = r.get("rows"), r.get("rows_total")
    top, bottom = r.get("top_tier", "top"), r.get("bottom_tier", "bottom")
    ratio = _num(r.get("top_bottom_ratio"))
    return [
        {"label": "Rows evaluated", "value": _count(rows),
         "hint": f"of {_count(total)} in the file" if total not in (None, rows) else "labelled records"},
        {"label": "Wins", "value": _count(r.get("wins")), "hint": f"label: {r.get('label', DASH)}"},
        {"label": "Base rate", "value": _pct(r.get("base_rate")), "hint": "share of rows that were won"},
        {"label": "AUC", "value": _fixed(r.get("auc")),
         "hint": _ci_hint(r.get("auc_low"), r.get("auc_high"), _fixed,
                          "chance a win outscores a loss; 0.5 is a coin toss, 1 perfect")},
        {"label": "KS", "value": _fixed(r.get("ks")),
         "hint": "widest gap between the score distributions of wins and losses (0-1)"},
        {"label": "Top share", "value": _pct(r.get("top_share")),
         "hint": _ci_hint(r.get("top_share_low"), r.get("top_share_high"), _pct,
                          f"of records are in the top tier ({top})")},
        {"label": "Top recall", "value": _pct(r.get("top_recall")),
         "hint": _ci_hint(r.get("top_recall_low"), r.get("top_recall_high"), _pct,
                          f"of all wins are in the top tier ({top})")},
        {"label": "Top / bottom", "value": _times(ratio) if ratio is not None else "undefined",
         "hint": _ratio_hint(r) + f"win rate of {top} against {bottom}"
                 + ("" if ratio is not None else f" (no wins or no rows in {bottom})")},
    ]


def _ratio_hint(r: dict[str, Any]) -> str:
    shown = _check_interval("top_bottom_ratio", {"low": r.get("top_bottom_ratio_low"),
                                                 "high": r.get("top_bottom_ratio_high")})
    return "" if shown == DASH else f"95% CI {shown} · "


def _backtest_doc(r: dict[str, Any], title: str | None) -> dict[str, Any]:
    gains, tiers = list(r.get("gains") or []), list(r.get("tiers") or [])
    calib, hist = list(r.get("calibration") or []), _histogram_rows(r)
    madkudu = r.get("madkudu") or {}
    checks = [{"name": _CHECKS.get(k, k.replace("_", " ")), "value": _check_value(k, c.get("value")),
               "ci": _check_interval(k, c), "target": str(c.get("target", "")), "pass": bool(c.get("pass"))}
              for k, c in (madkudu.get("checks") or {}).items()]
    split = r.get("split")
    return {
        "kind": "backtest",
        "title": title or "Backtest: does the fit score predict wins?",
        "meta": [f"label {r['label']}" if r.get("label") else "",
                 f"profile version {r['profile_version']}" if r.get("profile_version") else ""],
        "headline": _headline(r),
        "madkudu": {"pass": bool(r.get("madkudu_pass")), "about": str(madkudu.get("about", "")), "checks": checks},
        "split": _split_text(split) if isinstance(split, dict) and split else "",
        "gains_chart": _gains_chart(gains) if gains else None,
        "lift_chart": _lift_chart(gains) if gains else None,
        "gains": [{"decile": g.get("decile"), "label": _decile_label(g), "n": _count(g.get("n")),
                   "wins": _count(g.get("wins")), "win_rate": _pct(g.get("win_rate")),
                   "cum": _pct(g.get("cum_share_wins")), "lift": _times(g.get("lift"))} for g in gains],
        "tier_chart": _tier_chart(tiers, _num(r.get("base_rate"))) if tiers else None,
        "tiers": [{"tier": str(t.get("tier", "")), "n": _count(t.get("n")), "wins": _count(t.get("wins")),
                   "win_rate": _pct(t.get("win_rate")) if t.get("win_rate") is not None else "no records",
                   "ci": _interval(t.get("ci_low"), t.get("ci_high"), _pct) if t.get("win_rate") is not None
                   else DASH} for t in tiers],
        "calibration": [{"band": str(c.get("band", "")), "n": _count(c.get("n")), "predicted": _pct(c.get("predicted")),
                         "observed": _pct(c.get("observed"))} for c in calib],
        "histogram": _score_histogram(hist) if hist else None,
        "notes": [str(n) for n in r.get("notes") or []],
        "shift": _shift(r.get("shift")),
        "warnings": [str(w) for w in r.get("warnings") or []],
    }


def _shift(shift: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(shift, dict):
        return None
    return {"psi": _fixed(shift.get("psi")), "level": str(shift.get("level", "")),
            "tiers": [{"tier": str(t.get("tier", "")), "training": _pct(t.get("training")),
                       "current": _pct(t.get("current")), "records": _count(t.get("records"))}
                      for t in shift.get("tiers") or []]}


def backtest_report(result: dict[str, Any], *, title: str | None = None) -> str:
    """A backtest (:meth:`Backtest.to_dict`) as a self-contained HTML page: headline figures,
    the MadKudu bar, cumulative gains, lift per decile, win rate by tier, calibration and the
    score histograms of won and lost records."""
    return _render(_backtest_doc(result, title))


# ---------------------------------------------------------------- discovery

_LIFT_CAP = 64.0  # the log axis of lifts stops at ×1/64 and ×64; beyond, bars run to the edge


def _lift_scale(values: Iterable[Any]) -> Scale:
    """A log scale covering the finite positive ``values``, at least ×0.5 to ×2."""
    vs = [v for x in values if (v := _num(x)) is not None and 0 < v < math.inf]
    lo = max(min([0.5, *vs]) / 1.25, 1 / _LIFT_CAP)
    hi = min(max([2.0, *vs]) * 1.25, _LIFT_CAP)
    return Scale(lo, hi, log=True)


def _lift_bar(label: str, lift: Any, low: Any, high: Any, note: str, tone: str | None = None) -> Bar:
    v = _num(lift)
    lo, hi = _num(low), _num(high)
    if v is None:
        return Bar(label, None, note="n/a: too few records", tone="muted")
    shown = "∞" if v == math.inf else _times(v)
    return Bar(label, v, lo, hi, f"{shown} · {note}" if note else shown,
               tone or ("up" if v > 1 else "down" if v < 1 else "muted"))


def _win_rate(v: dict[str, Any]) -> float | None:
    """A group's win rate: ``win_rate`` when given, else its best accounts over its support."""
    rate = _num(v.get("win_rate"))
    if rate is None and (n := _num(v.get("support"))):
        rate = (_num(v.get("n_best")) or 0.0) / n
    return rate


def _rate_note(rate: float | None, n: Any) -> str:
    return f"{_pct(rate, 0)} · n={_count(n)}" if rate is not None else ""


def _flags(a: dict[str, Any]) -> list[str]:
    """Why an attribute is not proposed, in words: leaky, volume."""
    out = []
    if a.get("leaky"):
        auc = _num(a.get("alone_auc"))
        at = f" (alone AUC {auc:.2f})" if auc is not None else ""
        out.append(f"Leaky?{at}: it alone tells the best accounts from the rest almost perfectly, so it is most "
                   "likely recorded after the outcome. Not proposed.")
    if a.get("volume"):
        c = a.get("volume_check") or {}
        out.append(f"Volume, not fit: it mostly tells how many deals an account has (association with the closed "
                   f"deal count {_fixed(c.get('deal_count'))}, with the win rate {_fixed(c.get('win_rate'))}), "
                   "not how often it wins. Not proposed.")
    return out


def _strongest_text(a: dict[str, Any]) -> str:
    s = a.get("strongest")
    if not isinstance(s, dict):
        return DASH
    return (f"{s.get('label', '')}: {_times(s.get('lift'))} ({_interval(s.get('lift_low'), s.get('lift_high'), _times)}"
            f", n={_count(s.get('support'))})")


def _attribute(a: dict[str, Any], scale: Scale, base: float | None) -> dict[str, Any]:
    values = list(a.get("values") or [])
    bars = [_lift_bar(str(v.get("label", "")), v.get("lift"), v.get("lift_low"), v.get("lift_high"),
                      _rate_note(_win_rate(v), v.get("support"))) for v in values]
    field = str(a.get("field", ""))
    ref = f"×1 = base rate {_pct(base, 0)}" if base is not None else "×1 = base rate"
    return {
        "field": field, "kind": str(a.get("kind", "")), "iv": _fixed(a.get("iv")),
        "strength": str(a.get("strength", "")), "collinear": [str(c) for c in a.get("collinear_with") or []],
        "baseline": _fixed(a.get("shuffled_iv_99")) if _num(a.get("shuffled_iv_99")) is not None else "",
        "strongest": _strongest_text(a), "leaky": bool(a.get("leaky")), "volume": bool(a.get("volume")),
        "flags": _flags(a),
        "chart": bar_chart(bars, scale, origin=1.0, tick=_log_tick, ref=1.0, ref_label=ref,
                           title=f"Lift per value of {field}") if bars else None,
        "values": [{"label": str(v.get("label", "")), "n_best": _count(v.get("n_best")),
                    "n_rest": _count(v.get("n_rest")), "share_best": _pct(v.get("share_best")),
                    "share_rest": _pct(v.get("share_rest")), "win_rate": _pct(_win_rate(v)),
                    "lift": _times(v.get("lift")),
                    "ci": _interval(v.get("lift_low"), v.get("lift_high"), _times),
                    "support": _count(v.get("support"))} for v in values],
    }


def _iv_key(a: dict[str, Any]) -> tuple[bool, float]:
    iv = _num(a.get("iv"))
    return iv is None, -(iv or 0.0)


def _discover_doc(r: dict[str, Any], title: str | None) -> dict[str, Any]:
    attrs = sorted(r.get("attributes") or [], key=_iv_key)
    anti = list(r.get("anti") or [])
    base = _num(r.get("base_rate"))
    if base is None and _num(r.get("n_accounts")):
        base = (_num(r.get("n_best")) or 0.0) / (_num(r.get("n_accounts")) or 1.0)
    scale = _lift_scale([x for a in attrs for v in a.get("values") or []
                         for x in (v.get("lift"), v.get("lift_low"), v.get("lift_high"))]
                        + [x for t in anti for x in (t.get("lift"), t.get("lift_low"), t.get("lift_high"))])
    anti_bars = [_lift_bar(f"{t.get('field', '')}: {t.get('label', '')}", t.get("lift"), t.get("lift_low"),
                           t.get("lift_high"), _rate_note(_num(t.get("win_rate")), t.get("n")), "down") for t in anti]
    anti_base = next((b for t in anti if (b := _num(t.get("base_rate"))) is not None), None)
    return {
        "kind": "discover",
        "title": title or "Discovery: what your best accounts have in common",
        "meta": [],
        "signal": bool(r.get("signal", True)),
        "best_definition": str(r.get("best_definition", "")),
        "n_best": _count(r.get("n_best")), "n_rest": _count(r.get("n_rest")),
        "n_accounts": _count(r.get("n_accounts")),
        "base_rate": _pct(base), "min_support": _count(r.get("min_support")),
        "attributes": [_attribute(a, scale, base) for a in attrs],
        "set_aside": [{"field": str(a.get("field", "")), "flags": _flags(a)} for a in attrs if _flags(a)],
        "anti_chart": bar_chart(anti_bars, scale, origin=1.0, tick=_log_tick, ref=1.0,
                                ref_label=f"×1 = base rate {_pct(anti_base, 0)}" if anti_base is not None
                                else "×1 = base rate", title="Anti-ICP traits") if anti_bars else None,
        "anti": [{"field": str(t.get("field", "")), "label": str(t.get("label", "")), "n": _count(t.get("n")),
                  "n_bad": _count(t.get("n_bad")), "win_rate": _pct(t.get("win_rate")),
                  "share_bad": _pct(t.get("share_bad")), "share_rest": _pct(t.get("share_rest")),
                  "lift": _times(t.get("lift")), "ci": _interval(t.get("lift_low"), t.get("lift_high"), _times)}
                 for t in anti],
        "yaml": str(r.get("proposed_profile_yaml") or ""),
        "notes": [str(n) for n in r.get("notes") or []],
    }


def discover_report(result: dict[str, Any], *, title: str | None = None) -> str:
    """A discovery result as a self-contained HTML page: who counts as best, attributes
    ranked by information value with a lift chart per attribute, anti-ICP traits, the
    proposed profile, and a banner when there is no signal."""
    return _render(_discover_doc(result, title))


# ---------------------------------------------------------------- output


def _render(doc: dict[str, Any]) -> str:
    doc["meta"] = [m for m in doc["meta"] if m]
    return _environment().get_template("evidence.html.j2").render(doc=doc)


def write_report(html: str, path: str | os.PathLike[str]) -> Path:
    """Write ``html`` to ``path`` atomically (a temporary file beside it, then a rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("x", encoding="utf-8", newline="") as f:  # "x": never reuse a file, mode from umask
            f.write(html)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
