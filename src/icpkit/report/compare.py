"""The comparison report: two profiles backtested on the same history as one self-contained
HTML page.

:func:`compare_report` renders :meth:`icpkit.discover.backtest.Comparison.to_dict`: the
verdict of the paired test of the two AUCs, both profiles' headline figures side by side
with their 95% intervals, the cumulative gains of both on one chart, each one's win rate
by tier, and the tier moves. It shares the evidence reports' stylesheet, charts and number
formats (:mod:`icpkit.report.evidence`); nothing is fetched. Write it with
:func:`icpkit.report.evidence.write_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup

from .evidence import (
    DASH,
    Scale,
    Series,
    _check_interval,
    _clip,
    _count,
    _fixed,
    _interval,
    _num,
    _pct,
    _pct_tick,
    _split_text,
    _tier_chart,
    _times,
    line_chart,
)
from .profile_doc import _environment

__all__ = ["compare_report"]


def _signed(x: Any) -> str:
    v = _num(x)
    return DASH if v is None else f"{v:+.3f}"


def _p(x: Any) -> str:
    v = _num(x)
    return DASH if v is None else "< 0.001" if v < 0.001 else f"{v:.3f}"


def _figure(r: dict[str, Any], key: str, fmt: Callable[[Any], str]) -> dict[str, str]:
    value = r.get(key)
    if key == "top_bottom_ratio":
        ci = _check_interval(key, {"low": r.get(f"{key}_low"), "high": r.get(f"{key}_high")})
        return {"value": "undefined" if _num(value) is None else fmt(value), "ci": ci}
    return {"value": fmt(value), "ci": _interval(r.get(f"{key}_low"), r.get(f"{key}_high"), fmt)}


_MEASURES: Sequence[tuple[str, str, Callable[[Any], str], str]] = (
    ("AUC", "auc", _fixed, "chance a win outscores a loss (DeLong's interval)"),
    ("KS", "ks", _fixed, "widest gap between the score distributions of wins and losses"),
    ("Top tier's share of records", "top_share", _pct, "MadKudu: 15%-35% (bootstrap interval)"),
    ("Top tier's share of wins", "top_recall", _pct, "MadKudu: at least 60% (bootstrap interval)"),
    ("Top / bottom win rate", "top_bottom_ratio", _times, "MadKudu: at least ×10 (bootstrap interval)"),
)


def _side_by_side(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"measure": name, "about": about, "a": _figure(a, key, fmt), "b": _figure(b, key, fmt)}
            for name, key, fmt, about in _MEASURES]
    rows.append({"measure": "MadKudu validation bar", "about": "passes only when all three checks do",
                 "a": {"value": "PASS" if a.get("madkudu_pass") else "FAIL", "ci": ""},
                 "b": {"value": "PASS" if b.get("madkudu_pass") else "FAIL", "ci": ""}})
    return rows


def _gains_points(gains: list[dict[str, Any]]) -> list[tuple[float, float]]:
    total = sum(g["n"] for g in gains) or 1
    cum, points = 0, [(0.0, 0.0)]
    for g in gains:
        cum += g["n"]
        points.append((cum / total, float(g["cum_share_wins"])))
    return points


def _gains_chart(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> Markup | None:
    ga, gb = list(a.get("gains") or []), list(b.get("gains") or [])
    if not ga or not gb:
        return None
    series = [Series(f"A: {_clip(names[0], 28)}", _gains_points(ga), "lost"),
              Series(f"B: {_clip(names[1], 28)}", _gains_points(gb), "main"),
              Series("Random", [(0.0, 0.0), (1.0, 1.0)], "muted", dashed=True)]
    return line_chart(series, Scale(0, 1), Scale(0, 1), x_tick=_pct_tick, y_tick=_pct_tick,
                      x_label="Share of records, highest scores first", y_label="Share of all wins",
                      title="Cumulative gains of A and B: share of wins against share of records")


def _moves(a: dict[str, Any], b: dict[str, Any], moves: dict[str, dict[str, int]]) -> dict[str, Any]:
    rows_a = [str(t.get("tier", "")) for t in a.get("tiers") or []]
    cols = [str(t.get("tier", "")) for t in b.get("tiers") or []]
    rows_a += [x for x in moves if x not in rows_a]
    cols += [y for row in moves.values() for y in row if y not in cols]
    return {"columns": cols,
            "rows": [{"tier": x, "cells": [{"n": _count((moves.get(x) or {}).get(y, 0)), "same": x == y} for y in cols]}
                     for x in rows_a]}


def _compare_doc(r: dict[str, Any], names: tuple[str, str], title: str | None) -> dict[str, Any]:
    a, b = r.get("a") or {}, r.get("b") or {}
    split = a.get("split")
    tested = _num(r.get("p_value")) is not None
    return {
        "title": title or f"Profile comparison: {names[0]} (A) against {names[1]} (B)",
        "meta": [m for m in (f"label {a['label']}" if a.get("label") else "",
                             f"A version {a['profile_version']}" if a.get("profile_version") else "",
                             f"B version {b['profile_version']}" if b.get("profile_version") else "") if m],
        "names": {"a": names[0], "b": names[1]},
        "rows": _count(a.get("rows")),
        "split": _split_text(split) if isinstance(split, dict) and split else "",
        "verdict": str(r.get("verdict", "")),
        "tested": tested,
        "significant": bool(r.get("significant")),
        "test": {"difference": _signed(r.get("auc_difference")),
                 "ci": _interval(r.get("auc_difference_low"), r.get("auc_difference_high"), _signed),
                 "z": _fixed(r.get("z"), 2), "p": _p(r.get("p_value"))},
        "side_by_side": _side_by_side(a, b),
        "gains_chart": _gains_chart(a, b, names),
        "tier_charts": [{"who": who, "name": name,
                         "chart": _tier_chart(list(x["tiers"]), _num(x.get("base_rate"))) if x.get("tiers") else None}
                        for who, name, x in (("A", names[0], a), ("B", names[1], b))],
        "changed": _count(r.get("changed")),
        "moves": _moves(a, b, r.get("moves") or {}),
        "notes": [f"{who}: {n}" for who, x in (("A", a), ("B", b)) for n in x.get("notes") or []],
    }


def compare_report(result: dict[str, Any], *, names: tuple[str, str] = ("A", "B"), title: str | None = None) -> str:
    """A comparison (:meth:`Comparison.to_dict`) as a self-contained HTML page; ``names``
    are what to call profiles A and B (their file names, say)."""
    doc = _compare_doc(result, (str(names[0]), str(names[1])), title)
    return _environment().get_template("compare.html.j2").render(doc=doc)
