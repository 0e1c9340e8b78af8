"""Constrained binning (`icpkit.discover.binning`) on counts worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from icpkit.discover.binning import Fine, _round_edge, coarse, information_value, rate_difference_p, woe
from icpkit.discover.features import Attribute


def numbers(edges: tuple[float, ...]) -> Fine:
    attr = Attribute("employees", "Employees", "number", np.zeros(0))
    return Fine(attr, np.zeros(0, dtype=np.int64), len(edges) + 1, edges=edges)


def texts(keys: tuple[str, ...]) -> Fine:
    attr = Attribute("origin", "Origin", "text", np.zeros(0, dtype=object), {k: k.title() for k in keys})
    return Fine(attr, np.zeros(0, dtype=np.int64), len(keys), keys=keys)


def test_p_value_is_the_two_proportion_test() -> None:
    # 10 of 100 against 12 of 100: pooled 0.11, z = 0.02 / sqrt(0.11 * 0.89 * 0.02) = 0.45200
    z = 0.02 / math.sqrt(0.11 * 0.89 * 0.02)
    assert rate_difference_p(100, 10, 100, 12) == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert rate_difference_p(100, 10, 100, 12) == pytest.approx(0.65128, abs=1e-5)
    assert rate_difference_p(100, 0, 100, 0) == 1.0 and rate_difference_p(0, 0, 100, 5) == 1.0


def test_neighbours_that_win_alike_are_merged() -> None:
    """Six bins of 100 rows winning 10, 12, 30, 32, 50 and 52: rising, and each pair of
    neighbours within a pair is not significantly different (p 0.65, 0.76, 0.78), so three
    bins remain: 11%, 31% and 51%."""
    f = numbers((10.0, 20.0, 30.0, 40.0, 50.0))
    n = np.array([0, 100, 100, 100, 100, 100, 100], dtype=float)  # missing first
    w = np.array([0, 10, 12, 30, 32, 50, 52], dtype=float)
    c = coarse(f, n, w, support=50)
    assert c is not None and c.shape == "ascending"
    assert [b.rules for b in c.buckets] == [(("bin", -math.inf, 20.0),), (("bin", 20.0, 40.0),),
                                            (("bin", 40.0, math.inf),)]
    assert list(c.index) == [-1, 0, 0, 1, 1, 2, 2]
    # without the significance test the six bins stay, and without a shape too
    assert len(coarse(f, n, w, support=50, alpha=None).buckets) == 6


def test_a_zigzag_is_pooled_into_a_peak() -> None:
    """Rates 10, 30, 20, 50, 20, 10 (%) over 200 rows each: the dip at the third bin is pooled
    with the second (25%), a single peak remains: 10, 25, 50, 20, 10 -> then 20 and 10 differ
    significantly (p 0.005), so nothing more merges."""
    f = numbers((1.0, 2.0, 3.0, 4.0, 5.0))
    n = np.r_[0, np.full(6, 200.0)]
    w = np.array([0, 20, 60, 40, 100, 40, 20], dtype=float)
    c = coarse(f, n, w, support=50)
    assert c is not None and c.shape == "peak"
    rates = [w[c.index == i].sum() / n[c.index == i].sum() for i in range(len(c.buckets))]
    assert rates == pytest.approx([0.10, 0.25, 0.50, 0.20, 0.10])


def test_text_levels_grouped_by_weight_of_evidence_and_small_groups_joined() -> None:
    """a 20/200 and b 24/200 win alike; c 100/200 does not; d (30 rows) is below the
    minimum of 50, so it is "other", joined to the level whose win rate is closest
    (b: 12.2% against a's 10.2%, d has 11.3%); 10 missing rows join the closest too (c)."""
    f = texts(("a", "b", "c", "d"))
    n = np.array([10, 200, 200, 200, 30], dtype=float)
    w = np.array([5, 20, 24, 100, 3], dtype=float)
    c = coarse(f, n, w, support=50)
    assert c is not None
    assert [b.rules for b in c.buckets] == [(("level", ["a", "b"]), ("other",)), (("level", ["c"]), ("missing",))]
    assert [b.label for b in c.buckets] == ["A, B (and other)", "C (and missing)"]
    assert list(c.index) == [1, 0, 0, 1, 0]


def test_an_item_is_kept_only_when_it_matters() -> None:
    attr = Attribute("technologies", "Technologies", "list", [])
    f = Fine(attr, np.zeros(0, dtype=np.int64), 2, item="hubspot")
    n = np.array([0, 300, 200], dtype=float)  # missing, does not, has
    assert coarse(f, n, np.array([0, 30, 80.0]), support=50) is not None  # 10% against 40%
    assert coarse(f, n, np.array([0, 30, 21.0]), support=50) is None  # 10% against 10.5%
    assert coarse(f, n, np.array([0, 30, 21.0]), support=50, keep_single=True) is not None


def test_woe_and_information_value_by_hand() -> None:
    # 30 of 100 wins and 20 of 200 losses in the group: log((30.5 / 101) / (20.5 / 201)) = 1.085486
    assert woe(50, 30, 300, 100) == pytest.approx(1.085486, abs=1e-6)
    assert information_value(np.array([50.0, 250.0]), np.array([30.0, 70.0])) == pytest.approx(0.2675, abs=1e-3)


@pytest.mark.parametrize(("below", "edge", "expected"), [
    (98.9, 99.46045493103387, 99.0), (122.0, 122.10556590953128, 122.1), (-5.2, -5.1, -5.1),
    (0.00012, 0.000131, 0.00013), (4.0, 5.0, 5.0), (1e6, 1.3e6, 1.3e6), (0.0, 0.5, 0.5)])
def test_bin_edges_are_rounded_without_moving_a_value(below: float, edge: float, expected: float) -> None:
    assert _round_edge(below, edge) == expected
