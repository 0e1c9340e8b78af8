"""Drift figures against hand-worked answers; emerging segments found where planted and not
where none is (the false-discovery rate held on 100 relabellings)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from icpkit.discover.features import Attribute, Labelled
from icpkit.drift_run import kind_of, period
from icpkit.errors import IcpError
from icpkit.monitor.drift import Records, Side, drift, period_of, stability, tiers_by_period
from icpkit.monitor.segments import benjamini_hochberg, find
from icpkit.monitor.snapshot import Snapshot
from icpkit.profile.model import Profile

PROFILE = Profile.model_validate({"name": "p", "criteria": [
    {"field": "employees", "weight": 100, "bins": [{"gte": 50, "points": 100}]}]})


def test_the_stability_index_of_a_worked_example() -> None:
    # shares 50/50 -> 75/25: (0.75 - 0.5) ln(0.75 / 0.5) + (0.25 - 0.5) ln(0.25 / 0.5)
    f = stability({"a": 100, "b": 100}, {"a": 150, "b": 50})
    assert f.psi == round(0.25 * math.log(1.5) + 0.25 * math.log(2), 4) == 0.2747
    assert f.level == "shifted"
    assert f.bins == [{"bin": "a", "baseline": 100, "current": 150, "baseline_share": 0.5, "current_share": 0.75},
                      {"bin": "b", "baseline": 100, "current": 50, "baseline_share": 0.5, "current_share": 0.25}]
    # a bin empty on one side counts as a share of 0.0001
    g = stability({"a": 100, "b": 100}, {"a": 200})
    assert g.psi == round((1 - 0.5) * math.log(1 / 0.5) + (0.0001 - 0.5) * math.log(0.0001 / 0.5), 4)
    assert stability({"a": 60, "b": 40}, {"a": 59, "b": 41}).level == "stable"


def test_too_few_records_is_not_enough_data_not_a_zero() -> None:
    f = stability({"a": 40, "b": 30}, {"a": 500, "b": 500})
    assert f.psi is None and f.level is None and "not enough data: 70 records" in f.note


def test_score_bands_and_a_drift_between_two_snapshots() -> None:
    base = Snapshot(200, {0.0: 100, 100.0: 100}, {"high": 100, "monitor": 0, "disqualify": 100},
                    {"employees": {0.0: 100, 100.0: 100}})
    cur = Snapshot(200, {0.0: 150, 100.0: 50}, {"high": 50, "disqualify": 150}, {"employees": {0.0: 150, 100.0: 50}})
    assert base.score_bands()["0-10"] == 100 and base.score_bands()["90-100"] == 100
    d = drift(PROFILE, Side("run 1", base), Side("run 2", cur))
    assert d.score.psi == 0.2747 and d.attributes["employees"].psi == 0.2747
    assert d.to_dict()["psi"] == 0.2747 and d.to_dict()["attributes"] == {"employees": 0.2747}
    assert any("shifted" in a for a in d.actions)
    assert any("has no labels" in n for n in d.notes) and d.emerging == [] and d.tiers_by_period == []


def test_benjamini_hochberg_by_hand() -> None:
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.20]))
    # sorted 0.01, 0.03, 0.04, 0.20 -> 0.04, 0.06, 0.0533, 0.20 -> monotone from the top: 0.04, 0.0533, 0.0533, 0.2
    assert np.allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.20])


def test_periods_and_their_names() -> None:
    assert period("2026") == (date(2026, 1, 1), date(2027, 1, 1))
    assert period("2026-Q4") == (date(2026, 10, 1), date(2027, 1, 1))
    assert period("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert period("2026-01-15..2026-03-31") == (date(2026, 1, 15), date(2026, 4, 1))
    assert period("accounts.csv") is None
    with pytest.raises(IcpError):
        period("2026-13")
    with pytest.raises(IcpError):
        period("2026-03-01..2026-02-01")
    assert kind_of("run:3", True) == "run" and kind_of("3", False) == "run" and kind_of("2026", False) == "run"
    assert kind_of("2026", True) == "period" and kind_of("a.csv", True) == "file"
    days = np.array(["2026-01-31", "2026-02-01", "2026-12-31"], dtype="datetime64[D]")
    assert list(period_of(days, "month")) == ["2026-01", "2026-02", "2026-12"]
    assert list(period_of(days, "quarter")) == ["2026-Q1", "2026-Q1", "2026-Q4"]


def _records(rng: np.random.Generator, n: int, planted: bool) -> tuple[Labelled, np.ndarray]:
    """Records in two tiers: "high" wins 40% of the time, "low" 5%; with ``planted``, low
    records of industry "fintech" win 40% like the high ones."""
    industry = rng.choice(np.array(["retail", "fintech", "health", "media", "energy"], dtype=object), n)
    size = rng.lognormal(4, 1, n)
    country = rng.choice(np.array(["us", "de", "fr", None], dtype=object), n)
    tiers = np.where(rng.random(n) < 0.3, "high", "low").astype(object)
    p = np.where(tiers == "high", 0.4, 0.05)
    if planted:
        p = np.where((tiers == "low") & (industry == "fintech"), 0.4, p)
    labels = (rng.random(n) < p).astype(np.int64)
    attrs = [Attribute("industry", "industry", "text", industry), Attribute("size", "size", "number", size),
             Attribute("country", "country", "text", country)]
    return Labelled("won", labels, attrs, [], "test", n), tiers


def test_a_planted_emerging_segment_is_found() -> None:
    data, tiers = _records(np.random.default_rng(1), 4000, planted=True)
    found, tested = find(data, tiers, "high", "emerging", min_support=40)
    assert tested > 20
    assert found[0].attribute == "industry" and found[0].value == "fintech"
    assert found[0].win_rate > 0.3 and found[0].tier_win_rate < 0.2 and found[0].q_value < 0.001
    assert all("fintech" in s.value for s in found)  # nothing else stands out


def test_no_segment_is_found_where_none_was_planted_on_100_relabellings() -> None:
    """Labels shuffled 100 times (no attribute says anything of them): BH at 5% keeps the
    share of runs with any (false) discovery near 5%."""
    rng = np.random.default_rng(7)
    data, tiers = _records(rng, 2000, planted=False)
    runs_with_discoveries = 0
    for _ in range(100):
        shuffled = Labelled(data.label, rng.permutation(data.labels), data.attributes, [], "test", data.rows)
        found, _ = find(shuffled, tiers, "high", "emerging", min_support=30)
        runs_with_discoveries += bool(found)
    assert runs_with_discoveries <= 10


def test_a_fading_segment_in_the_top_tier() -> None:
    rng = np.random.default_rng(3)
    data, tiers = _records(rng, 4000, planted=False)
    industry = data.attributes[0].values
    fade = (tiers == "high") & (industry == "media")
    labels = np.where(fade, 0, data.labels)
    faded = Labelled(data.label, labels, data.attributes, [], "test", data.rows)
    found, _ = find(faded, tiers, "high", "fading", min_support=30)
    assert [(s.attribute, s.value) for s in found][:1] == [("industry", "media")] and found[0].wins == 0


def test_win_rates_by_period_with_intervals_and_a_falling_trend() -> None:
    months = np.repeat(np.array(["2026-01-15", "2026-02-15", "2026-03-15", "2026-04-15"], dtype="datetime64[D]"), 100)
    tiers = np.tile(np.array(["high"] * 50 + ["low"] * 50, dtype=object), 4)
    labels = np.zeros(400, dtype=np.int64)
    for i, top_wins in enumerate((40, 30, 20, 10)):  # the top tier wins less every month; the low tier 10 a month
        labels[i * 100: i * 100 + top_wins] = 1
        labels[i * 100 + 50: i * 100 + 60] = 1
    rec = Records("t", np.zeros(400), tiers, {}, labels, months)
    periods, trend = tiers_by_period(rec, ["high", "low"], "month")
    assert [p["period"] for p in periods] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    jan = periods[0]
    assert jan["tiers"][0] == {"tier": "high", "records": 50, "wins": 40, "win_rate": 0.8, "low": 0.6696,
                               "high": 0.8876}
    assert [p["top_share_of_wins"] for p in periods] == [0.8, 0.75, 0.6667, 0.5]
    assert trend["direction"] == "falling" and trend["slope_per_period"] < 0
