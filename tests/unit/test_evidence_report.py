"""Evidence reports: content, escaping of input strings, self-containment, SVG charts."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from icpkit.discover.backtest import summarize
from icpkit.report.evidence import (
    Bar,
    Scale,
    backtest_report,
    bar_chart,
    discover_report,
    write_report,
)

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TIERS = ["high", "monitor", "disqualify"]


# ---------------------------------------------------------------- inputs


def real_backtest(seed: int = 3, n: int = 1200) -> dict[str, Any]:
    """A backtest of random scores whose win probability rises with the score."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 101, n).astype(float)
    labels = (rng.random(n) < 0.04 + scores / 250).astype(int)
    tiers = np.where(scores >= 75, "high", np.where(scores >= 40, "monitor", "disqualify"))
    return summarize(scores, labels, tiers, TIERS, rows_total=n, label="won", profile_version="f6555b6b4aa7").to_dict()


def hand_backtest() -> dict[str, Any]:
    """A backtest dict written by hand: an empty tier, an undefined ratio, no ``histogram``."""
    return {
        "rows": 500, "rows_total": 620, "wins": 60, "base_rate": 0.12, "auc": 0.712, "ks": 0.301,
        "tiers": [
            {"tier": "hot", "n": 90, "wins": 35, "win_rate": 35 / 90, "ci_low": 0.29, "ci_high": 0.49},
            {"tier": f"warm {HOSTILE}", "n": 410, "wins": 25, "win_rate": 25 / 410, "ci_low": 0.04, "ci_high": 0.09},
            {"tier": "cold", "n": 0, "wins": 0, "win_rate": None, "ci_low": 0.0, "ci_high": 1.0},
        ],
        "top_tier": "hot", "bottom_tier": "cold", "top_share": 0.18, "top_recall": 35 / 60, "top_bottom_ratio": None,
        "gains": [{"decile": i + 1, "n": 50, "min_score": 90.0 - 10 * i, "max_score": 100.0 - 10 * i,
                   "wins": w, "win_rate": w / 50, "cum_share_wins": c / 60, "lift": w / 50 / 0.12}
                  for i, (w, c) in enumerate(zip([20, 12, 8, 6, 5, 3, 2, 2, 1.5, 0.5],
                                                 [20, 32, 40, 46, 51, 54, 56, 58, 59.5, 60]))],
        "calibration": [
            {"band": "0-10", "n": 100, "predicted": 0.05, "observed": 0.02},
            {"band": "40-50", "n": 300, "predicted": 0.45, "observed": 0.09},
            {"band": "90-100", "n": 100, "predicted": 0.95, "observed": 0.31},
        ],
        "madkudu_pass": False,
        "madkudu": {"top_tier": "hot", "bottom_tier": "cold", "about": f"The bar {HOSTILE}",
                    "checks": {"top_share": {"value": 0.18, "target": "15%-35% of records", "pass": True},
                               "top_recall": {"value": 35 / 60, "target": ">= 60% of wins", "pass": False},
                               "top_bottom_ratio": {"value": None, "target": ">= 10x", "pass": False}}},
        "label": f"won {HOSTILE}", "profile_version": "abc123",
        "split": {"date_column": f"closed_at {HOSTILE}", "split_at": "2025-07-01", "rows_before": 120},
        "notes": [f"a note {HOSTILE}"],
    }


def _value(label: str, n_best: int, n_rest: int, lift: float | None, low: float | None,
           high: float | None) -> dict[str, Any]:
    return {"label": label, "n_best": n_best, "n_rest": n_rest, "share_best": n_best / 250,
            "share_rest": n_rest / 750, "lift": lift, "lift_low": low, "lift_high": high, "support": n_best + n_rest}


def discovery(signal: bool = True) -> dict[str, Any]:
    return {
        "best_definition": f"top quartile of arr {HOSTILE}", "n_best": 250, "n_rest": 750, "n_accounts": 1000,
        "attributes": [
            {"field": "technologies", "kind": "list", "iv": 0.04, "strength": "weak", "collinear_with": [],
             "values": [_value("Salesforce", 120, 330, 1.09, 0.92, 1.29)]},
            {"field": "industry", "kind": "text", "iv": 0.48, "strength": "strong", "collinear_with": ["employees"],
             "values": [_value("computer software", 140, 200, 2.1, 1.8, 2.5),
                        _value("agency", 5, 200, 0.075, 0.03, 0.18),
                        _value(HOSTILE, 3, 0, math.inf, 2.1, math.inf),
                        _value("unknown", 0, 0, None, None, None),
                        _value("never in best", 0, 40, 0.0, 0.0, 0.35)]},
            {"field": "employees", "kind": "number", "iv": float("nan"), "strength": "", "collinear_with": ["industry"],
             "values": [_value("50-500", 150, 300, 1.5, 1.3, 1.7)]},
        ],
        "anti": [{"field": "business_model", "label": "agency", "n_bad": 180, "share_bad": 0.36, "share_rest": 0.05,
                  "lift": 7.2, "lift_low": 5.5, "lift_high": 9.4},
                 {"field": HOSTILE, "label": HOSTILE, "n_bad": 12, "share_bad": 0.02, "share_rest": 0.01,
                  "lift": 2.0, "lift_low": 0.9, "lift_high": 4.4}],
        "proposed_profile_yaml": f"name: Proposed\ndescription: \"{HOSTILE}\"\ncriteria:\n  - field: industry\n",
        "signal": signal,
        "notes": [f"note {HOSTILE}"],
    }


# ---------------------------------------------------------------- structure checks

_VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Balance(HTMLParser):
    """Tags open and close in order (SVG's self-closed elements count as closed)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def assert_well_formed(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    checker = _Balance()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        ET.fromstring(svg)  # each chart is well-formed XML on its own


def assert_self_contained(page: str) -> None:
    assert not re.search(r"https?://", page)
    assert not re.search(r"<script|<link|<img|<iframe|<object|<embed|@import|url\(", page, re.I)
    assert not re.search(r"\s(src|href)=", page, re.I)


def assert_escaped(page: str) -> None:
    assert HOSTILE not in page
    assert ESCAPED in page


# ---------------------------------------------------------------- backtest


def test_backtest_report_from_a_real_backtest() -> None:
    result = real_backtest()
    page = backtest_report(result)
    assert_well_formed(page)
    assert_self_contained(page)
    assert page.count("<svg") == 4  # gains, lift, tiers, histogram
    assert "<polyline" in page and "Random" in page  # the gains curve and its diagonal
    assert f"{result['auc']:.3f}" in page and f"{result['ks']:.3f}" in page
    assert ("PASS" if result["madkudu_pass"] else "FAIL") in page
    for t in result["tiers"]:
        assert f">{t['tier']}<" in page
    assert "f6555b6b4aa7" in page and "How to read" in page


def test_backtest_report_hand_built_with_empty_tier_and_hostile_text() -> None:
    page = backtest_report(hand_backtest(), title=f"Q3 {HOSTILE}")
    assert_well_formed(page)
    assert_self_contained(page)
    assert_escaped(page)
    assert "<title>Q3 &lt;script&gt;" in page
    assert "no records" in page  # the empty tier: no bar, no rate
    assert "undefined" in page  # top/bottom ratio None
    assert "120 earlier rows were left out" in page and "2025-07-01" in page
    assert "a note &lt;script&gt;" in page
    assert "of 620 in the file" in page and "FAIL" in page


def test_histogram_falls_back_to_calibration() -> None:
    result = hand_backtest()
    page = backtest_report(result)
    won = sum(round(c["observed"] * c["n"]) for c in result["calibration"])
    lost = sum(c["n"] for c in result["calibration"]) - won
    assert f"Won ({won})" in page and f"Lost ({lost})" in page
    assert ">90-100<" in page


def test_histogram_is_used_when_given() -> None:
    result = hand_backtest() | {"histogram": [{"band": "0-5", "won": 1, "lost": 40},
                                              {"band": "95-100", "won": 30, "lost": 7}]}
    page = backtest_report(result)
    assert "Won (31)" in page and "Lost (47)" in page and ">0-5<" in page


def test_backtest_report_without_tables() -> None:
    result = hand_backtest() | {"gains": [], "tiers": [], "calibration": [], "notes": [], "split": None,
                                "madkudu": {}, "histogram": []}
    page = backtest_report(result)
    assert_well_formed(page)
    assert "<svg" not in page
    assert "No gains table" in page and "No tiers" in page and "No calibration table" in page
    assert "No score distribution" in page and "Notes" not in page


# ---------------------------------------------------------------- discovery


def test_discover_report_content() -> None:
    page = discover_report(discovery())
    assert_well_formed(page)
    assert_self_contained(page)
    assert_escaped(page)
    assert "No signal" not in page
    assert page.count("<svg") == 4  # one lift chart per attribute, one for the anti-ICP traits
    # attributes ranked by information value, the one without a number last
    assert page.index("<h3>industry") < page.index("<h3>technologies") < page.index("<h3>employees")
    assert "0.480" in page and "strong" in page
    assert "Overlaps with employees" in page
    assert "n/a: too few records" in page  # a value with no lift
    assert "∞" in page  # a value only the best accounts have
    assert "×7.20" in page and "business_model" in page
    assert '<pre>name: Proposed\ndescription: "&lt;script&gt;' in page.replace("&#34;", '"')
    assert "top quartile of arr &lt;script&gt;" in page


def test_no_signal_banner() -> None:
    page = discover_report(discovery(signal=False), title="Discovery")
    assert 'class="banner"' in page and "No signal" in page
    assert page.index("No signal") < page.index("Summary")


def test_discover_report_empty() -> None:
    result = {"best_definition": "won deals", "n_best": 0, "n_rest": 10, "n_accounts": 10, "attributes": [],
              "anti": [], "proposed_profile_yaml": "", "signal": False, "notes": []}
    page = discover_report(result)
    assert_well_formed(page)
    assert_self_contained(page)
    assert "<svg" not in page and "No signal" in page
    assert "No attributes were analysed" in page and "No anti-ICP traits" in page and "No profile was proposed" in page


# ---------------------------------------------------------------- charts and output


def test_log_scale_puts_zero_and_infinity_at_the_edges() -> None:
    s = Scale(0.25, 4.0, log=True)
    assert s.frac(0.0) == 0.0 and s.frac(math.inf) == 1.0 and s.frac(1.0) == pytest.approx(0.5)
    assert s.ticks() == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert Scale(0, 0.6).ticks() == pytest.approx([0, 0.2, 0.4, 0.6])


def test_bar_chart_escapes_labels_and_draws_whiskers() -> None:
    svg = str(bar_chart([Bar(HOSTILE, 2.0, 1.5, 3.0, note=HOSTILE), Bar("none", None, note="n/a")],
                        Scale(0.5, 4, log=True), origin=1.0, tick=str, ref=1.0, ref_label="×1", title=HOSTILE))
    assert HOSTILE not in svg and ESCAPED in svg
    assert svg.count("<rect") == 1 and svg.count('class="whisker"') == 3
    ET.fromstring(svg)


def test_write_report_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    page = discover_report(discovery())
    assert write_report(page, out) == out
    assert out.read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind


def test_a_bar_chart_draws_every_reference_line_with_its_label() -> None:
    from icpkit.report.evidence import Bar, bar_chart, linear_upto

    svg = str(bar_chart([Bar("a", 0.3, note="0.30")], linear_upto(0.5), origin=0.0, tick=str, ref=0.05,
                        ref_label="base", refs=[(0.10, "watch 0.10"), (0.25, "shifted 0.25")]))
    assert svg.count('class="ref"') == 3
    assert all(label in svg for label in ("base", "watch 0.10", "shifted 0.25"))
