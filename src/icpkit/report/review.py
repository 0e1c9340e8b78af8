"""The review report: a profile's quarterly review as one self-contained HTML page.

:func:`review_report` renders :meth:`icpkit.review_run.Review.to_dict`: a summary, the
backtest on the whole history (the evidence report's figures, :func:`_backtest_doc`), the
drift of the latest period (the drift report's sections, :func:`_drift_doc`), emerging and
fading segments, the TAM by segment (per dimension, the crosstab of each tier's largest
values, :meth:`icpkit.discover.tam.Tam.crosstab`), and the changelog against the previous
profile with the comparison of the two (:func:`_compare_doc`). A section without data says
so in one sentence. Nothing is fetched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..discover.tam import DIMENSION_NAMES, Tam
from .compare import _compare_doc
from .drift import _drift_doc
from .evidence import Bar, _backtest_doc, _clip, _count, _pct, bar_chart, linear_upto, write_report
from .profile_doc import _environment

__all__ = ["review_report", "write_review_report"]


def _said(v: Any) -> str:
    """A profile setting as written in YAML, roughly: 12, "retail", [a, b], {lte: 90, points: 20}."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_said(x)}" for k, x in v.items() if x is not None) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_said(x) for x in v) + "]"
    return str(v)


def _change(c: dict[str, Any]) -> dict[str, str]:
    before, after = c.get("before"), c.get("after")
    words = (f"added {_said(after)}" if before is None else f"removed {_said(before)}" if after is None
             else f"{_said(before)} → {_said(after)}")
    return {"path": str(c.get("path", "")), "words": _clip(words, 400)}


def _changelog(r: dict[str, Any], names: tuple[str, str]) -> dict[str, Any]:
    comparison = r.get("comparison")
    doc = _compare_doc(comparison, names, None) if isinstance(comparison, dict) else None
    return {"previous": names[0] if r.get("previous") is not None else "",
            "changes": [_change(c) for c in r.get("changelog") or []], "comparison": doc}


def _tam_chart(t: Tam) -> Markup | None:
    if not t.tiers:
        return None
    bars = [Bar(tier, float(n), note=f"{_count(n)} · {_pct(n / t.total if t.total else None, 0)}",
                tone="main" if tier == t.top_tier else "muted") for tier, n in t.tiers.items()]
    return bar_chart(bars, linear_upto(max([1, *t.tiers.values()]) * 1.05), origin=0, tick=lambda x: f"{x:,.0f}",
                     title="Companies per tier")


def _tam_doc(tam: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(tam, dict):
        return None
    t = Tam(int(tam.get("total") or 0), {str(k): int(v) for k, v in (tam.get("tiers") or {}).items()},
            str(tam.get("top_tier", "")), str(tam.get("verdict", "")), [str(w) for w in tam.get("warnings") or []],
            int(tam.get("rejected") or 0), dict(tam.get("segments") or {}))
    return {
        "total": _count(t.total), "top_tier": t.top_tier, "top": _count(t.top), "verdict": t.verdict,
        "warnings": t.warnings, "rejected": _count(t.rejected) if t.rejected else "", "chart": _tam_chart(t),
        "dimensions": [{"name": DIMENSION_NAMES.get(d, d), "tiers": list(t.tiers),
                        "rows": [{"value": value, "cells": [{"n": _count(n), "share": _pct(n / t.tiers[k], 0)
                                                             if t.tiers.get(k) else ""} for k, n in by_tier.items()]}
                                 for value, by_tier in t.crosstab(d)]} for d in t.dimensions],
    }


def _glance(bt: dict[str, Any], drift: dict[str, Any], tam: dict[str, Any] | None) -> list[dict[str, str]]:
    """Four figures from the sections below: AUC, the MadKudu bar, the score's stability, segments."""
    auc = next(f for f in bt["headline"] if f["label"] == "AUC")
    bar = {"label": "MadKudu bar", "value": "PASS" if bt["madkudu"]["pass"] else "FAIL",
           "hint": "the top tier's share of records and wins, and its win rate against the bottom tier's"}
    tam_figure = {"label": "TAM, top tier", "value": tam["top"] if tam else "n/a",
                  "hint": f"{tam['verdict']} · of {tam['total']} companies" if tam else "no TAM was sized"}
    return [auc, bar, drift["headline"][0], tam_figure]


def _review_doc(r: dict[str, Any]) -> dict[str, Any]:
    bt = _backtest_doc(dict(r.get("backtest") or {}), None)
    drift = _drift_doc(dict(r.get("drift") or {}))
    tam = _tam_doc(r.get("tam"))
    profile, latest = str(r.get("profile", "")), str(r.get("latest_period", ""))
    names = (_clip(str(r.get("previous") or "previous"), 60), _clip(profile, 60))
    return {
        "title": f"Review of {profile}: {latest}",
        "meta": [m for m in (f"profile version {r['version']}" if r.get("version") else "",
                             f"generated {r['generated_at']}" if r.get("generated_at") else "") if m],
        "summary": [("Profile", profile), ("Version", str(r.get("version") or "")),
                    ("History", str(r.get("history") or "")), ("Rows", _count(r.get("rows"))),
                    ("Dates", f"{r.get('first', '')} to {r.get('last', '')}"), ("Latest period", latest),
                    ("Compared with", str(r.get("previous") or "no previous profile"))],
        "latest": latest,
        "glance": _glance(bt, drift, tam),
        "backtest": bt,
        "drift": drift,
        "tam": tam,
        "changelog": _changelog(r, names),
        "notes": [f"Backtest: {n}" for n in bt["notes"] + bt["warnings"]] + [f"Drift: {n}" for n in drift["notes"]],
    }


def review_report(review: dict[str, Any]) -> str:
    """A review (:meth:`Review.to_dict`) as a self-contained HTML page."""
    return _environment().get_template("review.html.j2").render(doc=_review_doc(review))


def write_review_report(review: Any, path: str | os.PathLike[str]) -> Path:
    """Write the report of ``review`` (a :class:`Review`, or its dict) to ``path`` atomically."""
    return write_report(review_report(review.to_dict() if hasattr(review, "to_dict") else review), path)
