"""`discover`: the planted ICP of the demo CRM, the statistics against values worked out by
hand, health measures, no signal, bad inputs and serialisation (real DuckDB throughout)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from icpkit import score
from icpkit.demo.generate import DemoFiles, generate_demo
from icpkit.discover.backtest import auc
from icpkit.discover.discover import (
    Discovery,
    _cramers_v,
    _evidence,
    _lift,
    _merge_alike,
    _strength,
    _strongest,
    _woe,
    discover,
)
from icpkit.discover.binning import _pools, _shape, bin_attribute
from icpkit.discover.features import Attribute, Binned, Group
from icpkit.errors import DataError, IcpError, MissingColumnError
from icpkit.profile.load import parse_profile
from icpkit.profile.model import Criterion
from icpkit.report.evidence import discover_report

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "maven_crm_sales_opportunities"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("discover") / "demo", 3000, 7)


@pytest.fixture(scope="module")
def found(demo: DemoFiles) -> Discovery:
    return discover(demo.accounts, deals=demo.deals)


def _criterion(found: Discovery, field: str) -> Criterion:
    assert found.profile is not None
    return next(c for c in found.profile.criteria if c.field == field)


def _bin_points(c: Criterion, x: float) -> float:
    for b in c.bins or []:
        if (b.gte is None or x >= b.gte) and (b.lt is None or x < b.lt):
            return b.points
    raise AssertionError(f"no bin of {c.name} holds {x}")


def _level_points(c: Criterion, value: str) -> float:
    for level in c.levels or []:
        if value.lower() in (v.lower() for v in level.values):
            return level.points
    return c.otherwise


def _domains(n: int) -> list[str]:
    return [f"c{i}.example" for i in range(n)]


def _coin_flip_crm(n: int = 400, seed: int = 1) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """Accounts with a few descriptive columns and one closed deal each, won by a coin flip."""
    rng = np.random.default_rng(seed)
    accounts = pa.table({
        "domain": _domains(n),
        "industry": rng.choice(["software", "retail", "banking", "internet", "health"], n).tolist(),
        "employees": rng.integers(1, 2000, n).astype(float).tolist(),
        "country": rng.choice(["US", "DE", "GB", "CA"], n).tolist(),
    })
    won = rng.random(n) < 0.4
    deals = pa.table({"domain": _domains(n), "outcome": np.where(won, "won", "lost").tolist()})
    return accounts, deals, won


# -- the demo CRM: the planted ICP ---------------------------------------------------------


def test_demo_has_signal_and_sets_lifecycle_stage_aside(found: Discovery) -> None:
    assert found.signal
    assert found.signal_test["observed_iv"] > found.signal_test["shuffled_iv_95"]
    assert found.n_best + found.n_rest == found.n_accounts and min(found.n_best, found.n_rest) > 300
    stage = next(a for a in found.attributes if a.header == "Lifecycle Stage")
    assert stage.leaky and stage.alone_auc >= 0.9
    assert not any(a.leaky for a in found.attributes if a.header != "Lifecycle Stage")
    assert found.profile is not None
    assert stage.field not in {c.field for c in found.profile.criteria}
    assert "Lifecycle Stage" not in found.profile.columns.values()
    assert all(r["field"] != "Lifecycle Stage" for r in found.anti)
    assert "Not used: Lifecycle Stage" in found.proposed_profile_yaml
    ivs = [a.iv for a in found.attributes]
    assert ivs == sorted(ivs, reverse=True)


def test_demo_proposal_recovers_the_planted_icp(found: Discovery) -> None:
    assert found.profile is not None
    criteria = found.profile.criteria
    assert 4 <= len(criteria) <= 6
    assert {"industry", "employees", "country", "days_since_funding", "technologies"} <= {c.field for c in criteria}
    tech = _criterion(found, "technologies")
    assert [v.lower() for item in tech.items or [] for v in item.values] == ["salesforce"]
    assert tech.items[0].points == tech.weight > tech.otherwise
    industry = _criterion(found, "industry")
    assert min(_level_points(industry, "computer software"), _level_points(industry, "internet")) > max(
        _level_points(industry, v) for v in ("retail", "banking", "marketing and advertising"))
    country = _criterion(found, "country")
    assert min(_level_points(country, "US"), _level_points(country, "CA")) > max(
        _level_points(country, v) for v in ("GB", "DE", "IN"))
    employees = _criterion(found, "employees")
    assert _bin_points(employees, 200) > max(_bin_points(employees, 5), _bin_points(employees, 20_000))
    funding = _criterion(found, "days_since_funding")
    assert _bin_points(funding, 100) > _bin_points(funding, 300) > _bin_points(funding, 1000)
    assert 90 <= sum(c.weight for c in criteria) <= 110


def test_demo_employees_bins_rise_then_fall(found: Discovery) -> None:
    """The planted band 50-500 employees: the win rate over the bins is peaked."""
    employees = next(a for a in found.attributes if a.name == "employees")
    rates = [v.n_best / v.support for v in employees.values if v.label != "missing"]
    top = int(np.argmax(rates))
    assert 0 < top < len(rates) - 1
    assert all(a <= b for a, b in zip(rates[:top], rates[1:top + 1]))
    assert all(a >= b for a, b in zip(rates[top:], rates[top + 1:]))


def test_demo_kill_list(found: Discovery) -> None:
    kill = {(r["field"], r["label"]): r for r in found.anti}
    assert ("Business Model", "agency") in kill and ("Number of Employees", "< 10") in kill
    # lift = win rate / base rate: agencies win 4 of 175 (2.3%) against 403 of 1661 (24.3%) overall
    assert all(r["lift"] <= 0.5 and r["lift_high"] < 1 and r["n"] >= found.min_support for r in found.anti)
    agency_row = kill[("Business Model", "agency")]
    assert agency_row["lift"] == pytest.approx(agency_row["win_rate"] / agency_row["base_rate"])
    assert agency_row["base_rate"] == pytest.approx(403 / 1661) and agency_row["lift"] < 0.15
    agency = kill[("Business Model", "agency")]["disqualifier"].when
    assert (agency.field, agency.eq) == ("business_model", "agency")
    tiny = kill[("Number of Employees", "< 10")]["disqualifier"].when
    assert (tiny.field, tiny.lt, tiny.gte) == ("employees", 10, None)
    assert found.profile is not None
    assert {"anti_business_model", "anti_employees"} <= {d.name for d in found.profile.disqualifiers}


def test_demo_yaml_parses_with_evidence_comments(found: Discovery) -> None:
    text = found.proposed_profile_yaml
    parsed = parse_profile(text)
    assert found.profile is not None
    assert parsed.model_dump() == found.profile.model_dump()
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert sum("lift" in line for line in comments) >= 20
    headers = {a.name: a.header for a in found.attributes}
    for c in parsed.criteria:  # every criterion carries its evidence
        assert any(line.startswith(f"# {headers[c.name]}: IV ") for line in comments), c.name
    assert "# Kill-list suggestions" in text


def test_demo_proposed_profile_ranks_won_above_lost(demo: DemoFiles, found: Discovery) -> None:
    assert found.profile is not None
    scored = score(found.profile, demo.accounts)
    con = duckdb.connect()
    outcome = dict(con.execute(
        f"SELECT domain, max(outcome = 'won')::INT FROM read_csv('{demo.deals}', all_varchar=true) "
        "WHERE outcome IN ('won', 'lost') GROUP BY domain").fetchall())
    con.close()
    fit = dict(zip(scored.column("domain").to_pylist(), scored.column("fit_score").to_pylist(), strict=True))
    keys = sorted(outcome)
    assert len(keys) == found.n_accounts and all(k in fit for k in keys)
    assert auc([fit[k] for k in keys], [outcome[k] for k in keys]) > 0.7


# -- the statistics against known values ---------------------------------------------------


def test_lift_is_the_win_rate_over_the_base_rate_with_a_wilson_interval() -> None:
    # 50 of 100 accounts with the value are best where 20% of all accounts are: lift 0.5 / 0.2 = 2.5.
    # Wilson, z = 1.96: z^2 = 3.8416; centre = (0.5 + 3.8416 / 200) / (1 + 3.8416 / 100) = 0.5;
    # half width = 1.96 * sqrt(0.5 * 0.5 / 100 + 3.8416 / 40000) / 1.038416 = 0.0961702;
    # win rate 0.403830 .. 0.596170, divided by 0.2: 2.019149 .. 2.980851
    lift, low, high = _lift(50, 100, 0.2)
    assert lift == pytest.approx(2.5)
    assert low == pytest.approx(2.019149, rel=1e-6)
    assert high == pytest.approx(2.980851, rel=1e-6)
    # no best account: lift 0, the interval from 0 to (z^2 / n) / (1 + z^2 / n) / base = 0.087625 / 0.2
    assert _lift(0, 40, 0.2) == pytest.approx((0.0, 0.0, 0.0960400 / 1.0960400 / 0.2))
    # every account best: lift 1 / base = 5, the interval capped at a win rate of 100%
    assert _lift(40, 40, 0.2) == pytest.approx((5.0, 0.912375 / 0.2, 5.0), rel=1e-6)
    assert _lift(0, 0, 0.2) == (None, None, None)
    assert _lift(20, 100, 0.2)[0] == pytest.approx(1.0)  # the base rate itself


def test_strength_is_judged_against_the_shuffled_baseline() -> None:
    assert _strength(0.25, 0.1) == "strong"  # more than twice the shuffled 99th percentile
    assert _strength(0.15, 0.1) == "medium"
    assert _strength(0.1, 0.1) == "weak" and _strength(0.3, 0.6) == "weak"


def test_a_noise_attribute_with_many_levels_is_weak_a_planted_one_strong() -> None:
    """Owner: 50 levels of 12 accounts each, nothing to do with winning; its IV is high (a
    fixed band would call it medium) only because of its many small groups. Industry wins
    55% for software against 20%."""
    rng = np.random.default_rng(8)
    n = 600
    industry = rng.choice(["software", "retail", "banking"], n)
    owner = np.array([f"owner {i % 50}" for i in range(n)])
    rng.shuffle(owner)
    won = rng.random(n) < np.where(industry == "software", 0.55, 0.2)
    accounts = pa.table({"domain": _domains(n), "industry": industry.tolist(), "owner": owner.tolist()})
    deals = pa.table({"domain": _domains(n), "outcome": np.where(won, "won", "lost").tolist()})
    found = discover(accounts, deals=deals)
    by_name = {a.name: a for a in found.attributes}
    noise, planted = by_name["owner"], by_name["industry"]
    assert len(noise.values) == 50 and noise.iv > 0.1
    assert noise.strength == "weak" and noise.iv <= noise.shuffled_iv_99
    assert planted.strength == "strong" and planted.iv > 2 * planted.shuffled_iv_99
    assert noise.shuffled_iv_99 > planted.shuffled_iv_99  # more groups, more room for chance
    assert found.profile is not None and [c.field for c in found.profile.criteria] == ["industry"]
    again = discover(accounts, deals=deals)  # seeded: the same baseline every run
    assert [a.shuffled_iv_99 for a in again.attributes] == [a.shuffled_iv_99 for a in found.attributes]


def _tiny_group_crm() -> tuple[pa.Table, pa.Table]:
    """Industry a: 300 accounts, 40% won; b: 300, 20% won; "tiny": 12 accounts, all won;
    "doomed": 12 accounts, none won."""
    rng = np.random.default_rng(6)
    industry = np.array(["a"] * 300 + ["b"] * 300 + ["tiny"] * 12 + ["doomed"] * 12)
    won = np.concatenate([rng.random(300) < 0.4, rng.random(300) < 0.2, np.ones(12, bool), np.zeros(12, bool)])
    accounts = pa.table({"domain": _domains(len(industry)), "industry": industry.tolist()})
    deals = pa.table({"domain": _domains(len(industry)), "outcome": np.where(won, "won", "lost").tolist()})
    return accounts, deals


def test_a_tiny_group_is_never_named_strongest_nor_put_on_the_kill_list() -> None:
    accounts, deals = _tiny_group_crm()
    found = discover(accounts, deals=deals)
    assert found.min_support == 30  # 30 accounts: more than 1% of 624
    industry = next(a for a in found.attributes if a.name == "industry")
    values = {v.label: v for v in industry.values}
    assert values["tiny"].lift == max(v.lift for v in industry.values)  # the highest lift, but 12 accounts
    assert industry.strongest is not None and industry.strongest.label == "a"
    assert industry.strongest.lift == pytest.approx(values["a"].win_rate / found.base_rate)
    assert "doomed" not in {r["label"] for r in found.anti}
    lowered = discover(accounts, deals=deals, min_support=10)
    assert lowered.min_support == 10
    low_industry = next(a for a in lowered.attributes if a.name == "industry")
    assert low_industry.strongest is not None and low_industry.strongest.label == "tiny"
    assert "doomed" in {r["label"] for r in lowered.anti}
    with pytest.raises(IcpError, match="min-support"):
        discover(accounts, deals=deals, min_support=0)


def test_adjacent_bins_with_the_same_win_rate_are_merged_before_the_strongest_is_named() -> None:
    base = 0.25
    # 40/100 and 42/100 do not differ (z-test p = 0.77); 5/100 and 10/100 differ from them
    merged = _merge_alike([[-math.inf, 10, 5, 100], [10, 20, 40, 100], [20, 30, 42, 100],
                           [30, math.inf, 10, 100]], base)
    assert merged == [[-math.inf, 10, 5, 100], [10, 30, 82, 200], [30, math.inf, 10, 100]]
    # lifts 1.60 and 1.61 round alike even where large counts make the difference significant
    assert _merge_alike([[0, 1, 400_000, 10**6], [1, 2, 402_500, 10**6]], base) == [[0, 2, 802_500, 2 * 10**6]]
    assert _merge_alike([[0, 1, 10, 100], [1, 2, 50, 100]], base) == [[0, 1, 10, 100], [1, 2, 50, 100]]
    # the narrow bin 20-30 alone has the highest lift (44 of 60) but no more than 10-20 (80 of 120)
    x = np.repeat([5.0, 15.0, 25.0, 35.0], [300, 120, 60, 300])
    y = np.concatenate([np.zeros(270), np.ones(30), np.ones(80), np.zeros(40), np.ones(44), np.zeros(16),
                        np.ones(45), np.zeros(255)]).astype(np.int64)
    attr = Attribute("employees", "Employees", "number", x)
    groups = [Group(f"{lo} to < {hi}", ("bin", lo, hi), (x >= lo) & (x < hi)) for lo, hi in
              ((0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (30.0, 40.0))]
    best = _strongest(Binned(attr, groups), y, 30)
    assert best is not None and (best.label, best.support, best.n_best) == ("10 to < 30", 180, 124)
    assert best.lift == pytest.approx((124 / 180) / (199 / 780))


def test_weight_of_evidence() -> None:
    # log((30.5 / 101) / (20.5 / 201)) = log(0.301980 / 0.101990) = log(2.960879) = 1.085486
    assert _woe(30, 20, 100, 200) == pytest.approx(1.085486, rel=1e-6)
    assert _woe(0, 0, 100, 100) == pytest.approx(0.0)
    assert _woe(0, 40, 100, 100) < 0 < _woe(40, 0, 100, 100)
    assert math.isfinite(_woe(0, 40, 100, 100))


def test_information_value_of_two_groups_by_hand() -> None:
    """100 best, 200 rest; group x holds 30 best and 20 rest, group y 70 and 180."""
    labels = np.array([1] * 30 + [0] * 20 + [1] * 70 + [0] * 180)
    attr = Attribute("industry", "Industry", "text", np.array(["x"] * 50 + ["y"] * 250, dtype=object),
                     {"x": "X", "y": "Y"})
    (binned,) = bin_attribute(attr, 10)
    e = _evidence(binned, labels)
    woe_x = math.log((30.5 / 101) / (20.5 / 201))  # log(0.301980 / 0.101990) = 1.085486
    woe_y = math.log((70.5 / 101) / (180.5 / 201))  # log(0.698020 / 0.898010) = -0.251934
    # IV = (0.3 - 0.1) * 1.085486 + (0.7 - 0.9) * -0.251934 = 0.217097 + 0.050387 = 0.267484
    assert e.iv == pytest.approx((0.3 - 0.1) * woe_x + (0.7 - 0.9) * woe_y)
    assert e.iv == pytest.approx(0.267484, rel=1e-5)
    by_label = {v.label: v for v in e.values}
    assert set(by_label) == {"X", "Y"}
    x = by_label["X"]
    assert (x.n_best, x.n_rest, x.support) == (30, 20, 50)
    assert (x.share_best, x.share_rest) == pytest.approx((0.3, 0.1))
    # win rate 30 / 50 = 0.6 over the base rate 100 / 300: lift 1.8; Wilson 0.461812 .. 0.723918, times 3
    assert x.win_rate == pytest.approx(0.6)
    assert (x.lift, x.lift_low, x.lift_high) == pytest.approx((1.8, 1.385436, 2.171754), rel=1e-6)
    assert by_label["Y"].lift == pytest.approx((70 / 250) / (100 / 300))
    # alone AUC: x scores 0.6, y 0.28; (30 * 180 + (30 * 20 + 70 * 180) / 2) / (100 * 200) = 0.6
    assert e.alone_auc == pytest.approx(0.6) and not e.leaky


def test_cramers_v() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, 2000)
    assert _cramers_v(x, x) == pytest.approx(1.0)
    assert _cramers_v(x, (x + 1) % 4) == pytest.approx(1.0)  # the same groups under other codes
    assert _cramers_v(x, rng.integers(0, 3, 2000)) < 0.06
    assert _cramers_v(rng.integers(0, 2, 50_000), rng.integers(0, 5, 50_000)) < 0.02
    assert _cramers_v(x, np.zeros(2000, dtype=np.int64)) == 0.0


def _rates(n: np.ndarray, w: np.ndarray, starts: list[int]) -> list[float]:
    bounds = [*starts, len(n)]
    return [w[a:b].sum() / n[a:b].sum() for a, b in zip(bounds, bounds[1:])]


def test_pool_adjacent_violators() -> None:
    n = np.full(5, 100.0)
    rising = _pools(n, np.array([10.0, 30, 20, 40, 50]), True)[-1]
    assert rising == [0, 1, 3, 4]  # 30% then 20%: pooled to 25%
    assert _rates(n, np.array([10.0, 30, 20, 40, 50]), rising) == pytest.approx([0.1, 0.25, 0.4, 0.5])
    falling = _pools(n, np.array([50.0, 40, 45, 20, 10]), False)[-1]
    assert falling == [0, 1, 3, 4]
    assert _pools(n, np.array([50.0, 40, 30, 20, 10]), True)[-1] == [0]  # all the wrong way
    assert _pools(n, np.array([10.0, 20, 30, 40, 50]), True, start=2)[-1] == [2, 3, 4]
    # every prefix's pooling on the way: the stack after each bin
    assert _pools(n, np.array([10.0, 30, 20, 40, 50]), True) == [[0], [0, 1], [0, 1], [0, 1, 3], [0, 1, 3, 4]]


def _binned_data(rates: list[float], size: int = 200) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """``size`` rows per value 0..k-1, the first ``rate * size`` of them best."""
    v = np.repeat(np.arange(len(rates), dtype=float), size)
    y = np.zeros(len(v), dtype=np.int64)
    for i, r in enumerate(rates):
        y[i * size: i * size + round(r * size)] = 1
    return v, y, [float(e) for e in range(1, len(rates))]


def _group_rates(v: np.ndarray, y: np.ndarray, edges: list[float]) -> list[float]:
    idx = np.searchsorted(np.asarray(edges), v, side="right")
    return [y[idx == i].mean() for i in range(len(edges) + 1)]


@pytest.mark.parametrize("shape,rates", [
    ("rising", [0.05, 0.10, 0.08, 0.20, 0.25, 0.22, 0.40, 0.50]),
    ("falling", [0.50, 0.45, 0.47, 0.30, 0.20, 0.22, 0.10, 0.05]),
    ("peaked", [0.05, 0.10, 0.25, 0.40, 0.55, 0.50, 0.30, 0.12, 0.10, 0.04]),
])
def test_shapes(shape: str, rates: list[float]) -> None:
    v, y, edges = _binned_data(rates)
    idx = np.searchsorted(np.asarray(edges), v, side="right")
    starts, found = _shape(np.bincount(idx).astype(float), np.bincount(idx, weights=y.astype(float)))
    assert found == {"rising": "ascending", "falling": "descending", "peaked": "peak"}[shape]
    kept = [edges[s - 1] for s in starts[1:]]
    got = _group_rates(v, y, kept)
    assert len(got) >= 3
    steps = np.sign(np.diff(got))
    if shape == "rising":
        assert (steps > 0).all()
    elif shape == "falling":
        assert (steps < 0).all()
    else:
        top = int(np.argmax(got))
        assert 0 < top < len(got) - 1
        assert (steps[:top] > 0).all() and (steps[top:] < 0).all()


def test_numeric_bins_follow_the_labels_only_when_asked() -> None:
    v, y, _ = _binned_data([0.05, 0.10, 0.08, 0.20, 0.25, 0.22, 0.40, 0.50])
    attr = Attribute("employees", "Employees", "number", np.append(v, [np.nan] * 20))
    y = np.append(y, [0] * 20)
    (plain,) = bin_attribute(attr, 10)
    (shaped,) = bin_attribute(attr, 10, monotone_labels=y)
    assert len(plain.groups) == 9 and plain.groups[-1].rule == ("missing",)
    assert shaped.groups[-1].rule == ("missing",) and len(shaped.groups) < len(plain.groups)
    rates = [y[g.mask].mean() for g in shaped.groups if g.rule[0] == "bin"]
    assert rates == sorted(rates)
    assert sum(int(g.mask.sum()) for g in shaped.groups) == len(y)  # every row in exactly one group


# -- health measures -----------------------------------------------------------------------


def _health_crm(tmp: Path, n: int = 600, with_outcome: int = 500) -> tuple[Path, Path]:
    """Accounts; software accounts have three times the ARR; outcomes for the first
    ``with_outcome`` accounts, keyed by domains written in upper case."""
    rng = np.random.default_rng(3)
    industry = rng.choice(["software", "retail", "banking", "health"], n)
    arr = np.round(np.exp(rng.normal(10, 0.6, n)) * np.where(industry == "software", 3.0, 1.0))
    accounts = pa.table({"domain": _domains(n), "industry": industry.tolist(),
                         "employees": rng.integers(5, 3000, n).tolist(),
                         "segment": rng.choice(["a", "b", "c"], n).tolist()})
    outcomes = pa.table({"domain": [d.upper() for d in _domains(n)][:with_outcome],
                         "arr": arr[:with_outcome].tolist(), "nps": rng.integers(0, 11, n)[:with_outcome].tolist()})
    pacsv.write_csv(accounts, tmp / "accounts.csv")
    pacsv.write_csv(outcomes, tmp / "outcomes.csv")
    return tmp / "accounts.csv", tmp / "outcomes.csv"


def test_health_mode_takes_the_top_quarter_and_finds_the_planted_attribute(tmp_path: Path) -> None:
    accounts, outcomes = _health_crm(tmp_path)
    found = discover(accounts, outcomes=outcomes, best="arr")
    assert found.n_accounts == 500  # accounts without an outcome row have no verdict
    assert abs(found.n_best - 125) <= 2
    assert "top 25%" in found.best_definition and "arr" in found.best_definition
    assert found.signal and found.attributes[0].name == "industry"
    names = {a.name for a in found.attributes}
    assert not names & {"arr", "nps", "outcome_arr", "outcome_nps"}  # measures are no attributes
    assert found.anti == []  # without deals there are no lost accounts
    industry = _criterion(found, "industry")
    assert _level_points(industry, "software") == industry.weight
    assert max(_level_points(industry, v) for v in ("retail", "banking", "health")) == 0
    tenth = discover(accounts, outcomes=outcomes, best="arr", top_share=0.1)
    assert abs(tenth.n_best - 50) <= 2 and "top 10%" in tenth.best_definition


def test_a_health_column_of_the_accounts_is_no_attribute() -> None:
    rng = np.random.default_rng(4)
    n = 400
    industry = rng.choice(["software", "retail"], n)
    accounts = pa.table({"domain": _domains(n), "industry": industry.tolist(),
                         "nps": (rng.normal(5, 1, n) + 3 * (industry == "software")).round(2).tolist()})
    found = discover(accounts, best="nps")
    assert found.signal and [a.name for a in found.attributes] == ["industry"]


def _volume_crm(tmp: Path, n: int = 800, seed: int = 9) -> tuple[Path, Path]:
    """Enterprise accounts have 4-8 deals, the others one; every deal is won with 50% for
    software and 15% otherwise, whatever the segment; every deal is worth 1,000. The top
    quarter by won amount is then mostly enterprise (more deals, more won), yet segment says
    nothing about how often an account wins: volume. Industry is fit."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["enterprise", "smb"], n, p=[0.3, 0.7])
    industry = rng.choice(["software", "retail", "banking"], n)
    count = np.where(segment == "enterprise", rng.integers(4, 9, n), 1)
    rows = []
    for i in range(n):
        for _ in range(count[i]):
            won = rng.random() < (0.5 if industry[i] == "software" else 0.15)
            rows.append((f"c{i}.example", "won" if won else "lost", 1000))
    accounts = pa.table({"domain": _domains(n), "segment": segment.tolist(), "industry": industry.tolist()})
    deals = pa.table({"domain": [r[0] for r in rows], "outcome": [r[1] for r in rows], "amount": [r[2] for r in rows]})
    return _write(accounts, tmp / "accounts.csv"), _write(deals, tmp / "deals.csv")


def test_an_attribute_that_drives_deal_count_is_volume_not_fit(tmp_path: Path) -> None:
    accounts, deals = _volume_crm(tmp_path)
    found = discover(accounts, deals=deals, best="won_amount")
    by_name = {a.name: a for a in found.attributes}
    segment, industry = by_name["segment"], by_name["industry"]
    assert segment.strength == "strong"  # it does separate the top quarter by won amount...
    assert segment.volume_check is not None and industry.volume_check is not None
    # ...through the number of deals, not the win rate
    assert segment.volume_check["deal_count"] > 0.5 and segment.volume_check["deal_count_p"] < 0.01
    assert segment.volume_check["deal_count"] >= 2 * segment.volume_check["win_rate"]
    assert segment.volume and not industry.volume
    assert industry.volume_check["win_rate"] > industry.volume_check["deal_count"]
    assert found.profile is not None
    assert [c.field for c in found.profile.criteria] == ["industry"]
    assert all(r["field"] != "segment" for r in found.anti)
    assert any(n.startswith("segment: mostly tells how many deals") for n in found.notes)
    assert "# Not used: segment (" in found.proposed_profile_yaml and "volume, not fit" in found.proposed_profile_yaml
    data = json.loads(found.to_json(), parse_constant=_no_constants)
    flagged = {a["name"]: a for a in data["attributes"]}
    assert flagged["segment"]["volume"] is True and flagged["industry"]["volume"] is False
    html = discover_report(data)
    assert "<strong>segment</strong>: Volume, not fit" in html
    assert html.count('<span class="verdict fail">volume</span>') == 2  # its row of the table and its heading
    # won vs lost: no volume question is asked
    plain = discover(accounts, deals=deals)
    assert all(a.volume_check is None and not a.volume for a in plain.attributes)


# -- no signal -----------------------------------------------------------------------------


def test_coin_flip_labels_have_no_signal() -> None:
    accounts, deals, won = _coin_flip_crm()
    found = discover(accounts, deals=deals)
    assert (found.n_best, found.n_rest) == (int(won.sum()), int((~won).sum()))
    assert not found.signal
    assert found.signal_test["observed_iv"] <= found.signal_test["shuffled_iv_95"]
    assert found.profile is None and found.proposed_profile_yaml == ""
    assert found.notes[-1].startswith("no signal") and "no profile proposed" in found.notes[-1]
    assert found.attributes  # the evidence is still reported


def _maven_like(seed: int = 11) -> tuple[pa.Table, pa.Table]:
    """Like Maven's CRM sample: 85 named accounts, ~100 deals each whose stage (Won, Lost,
    Engaging, Prospecting) has nothing to do with the account."""
    rng = np.random.default_rng(seed)
    n = 85
    names = [f"Account {i}" for i in range(n)]
    accounts = pa.table({
        "account": names,
        "sector": rng.choice(["technolgy", "medical", "retail", "software", "marketing", "finance"], n).tolist(),
        "year_established": rng.integers(1979, 2018, n).tolist(),
        "revenue": np.round(rng.lognormal(7, 1.2, n), 2).tolist(),
        "employees": rng.integers(9, 20_000, n).tolist(),
        "office_location": rng.choice(["United States"] * 8 + ["Kenya", "Japan", "Italy"], n).tolist(),
    })
    rows = rng.integers(60, 140, n)
    account = np.repeat(names, rows)
    stage = rng.choice(["Won", "Lost", "Engaging", "Prospecting"], len(account), p=[0.48, 0.3, 0.15, 0.07])
    deals = pa.table({"opportunity_id": [f"o{i}" for i in range(len(account))],
                      "account": [a.upper() if i % 7 == 0 else a for i, a in enumerate(account)],
                      "deal_stage": stage.tolist(), "close_value": rng.integers(0, 5000, len(account)).tolist()})
    return accounts, deals


def test_maven_like_data_has_no_signal() -> None:
    accounts, deals = _maven_like()
    found = discover(accounts, deals=deals, key="account", best="win_rate")
    assert found.n_accounts == 85 and 20 <= found.n_best <= 25
    assert not found.signal and found.profile is None
    assert found.notes[-1].startswith("no signal")


@pytest.mark.skipif(not SHARED.exists(), reason="the shared real datasets are not present")
def test_maven_crm_has_no_signal() -> None:
    found = discover(SHARED / "accounts.csv", deals=SHARED / "sales_pipeline.csv", key="account", best="win_rate")
    assert found.n_accounts == 85
    assert not found.signal and found.profile is None and found.proposed_profile_yaml == ""
    assert any(n.startswith("no signal") for n in found.notes)


def test_a_leaky_column_does_not_turn_noise_into_a_signal() -> None:
    accounts, deals, won = _coin_flip_crm()
    accounts = accounts.append_column("Lifecycle Stage", pa.array(np.where(won, "Customer", "Other").tolist()))
    found = discover(accounts, deals=deals)
    assert next(a for a in found.attributes if a.header == "Lifecycle Stage").leaky
    assert not found.signal and found.profile is None


def test_signal_with_nothing_to_propose_is_no_crash() -> None:
    """A zigzag: 20 values of 500 accounts each, alternately 30% and 50% won. The bins differ
    (the signal test sees it) but no monotone or peaked shape keeps an IV of 0.02."""
    x = np.repeat(np.arange(20, dtype=float), 500)
    won = np.zeros(len(x), dtype=bool)
    for b in range(20):
        won[b * 500: b * 500 + (150 if b % 2 == 0 else 250)] = True
    accounts = pa.table({"domain": _domains(len(x)), "score_x": x.tolist()})
    deals = pa.table({"domain": _domains(len(x)), "outcome": np.where(won, "won", "lost").tolist()})
    try:
        found = discover(accounts, deals=deals)
    except IcpError:
        return
    assert found.profile is None or found.profile.criteria


def test_a_level_under_represented_among_the_best_earns_nothing() -> None:
    """Industry a (400 accounts, 10% won), b (400, 60% won) and 40 rare values of 5 accounts
    each (50% won, pooled as "other": lift > 1)."""
    rng = np.random.default_rng(2)
    industry = np.array(["a"] * 400 + ["b"] * 400 + [f"rare{i}" for i in range(40) for _ in range(5)])
    won = rng.random(len(industry)) < np.where(industry == "a", 0.1, np.where(industry == "b", 0.6, 0.5))
    accounts = pa.table({"domain": _domains(len(industry)), "industry": industry.tolist()})
    deals = pa.table({"domain": _domains(len(industry)), "outcome": np.where(won, "won", "lost").tolist()})
    found = discover(accounts, deals=deals)
    values = {v.label: v for v in next(a for a in found.attributes if a.name == "industry").values}
    assert values["a"].lift < 1 < values["other"].lift
    industry_criterion = _criterion(found, "industry")
    assert _level_points(industry_criterion, "rare3") > 0
    assert _level_points(industry_criterion, "a") == 0


# -- bad inputs ----------------------------------------------------------------------------


def _write(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path)
    return path


def test_deals_without_an_outcome_column(tmp_path: Path) -> None:
    accounts, deals, _ = _coin_flip_crm(60)
    bad = _write(deals.rename_columns(["domain", "result"]), tmp_path / "my-deals.csv")
    with pytest.raises(DataError) as err:
        discover(accounts, deals=bad)
    assert "my-deals.csv" in str(err.value) and "no outcome column" in err.value.message


def test_deals_never_won_or_lost(tmp_path: Path) -> None:
    accounts, deals, _ = _coin_flip_crm(60)
    open_deals = _write(deals.set_column(1, "outcome", pa.array(["open"] * 60)), tmp_path / "open.csv")
    with pytest.raises(DataError, match="no closed deal"):
        discover(accounts, deals=open_deals)


def test_every_account_won(tmp_path: Path) -> None:
    accounts, deals, _ = _coin_flip_crm(60)
    deals = pa.concat_tables([deals.set_column(1, "outcome", pa.array(["Closed Won"] * 60)), deals])
    with pytest.raises(DataError) as err:
        discover(accounts, deals=deals, best="won")
    assert "win_rate" in err.value.hint and "60 accounts" in err.value.message


@pytest.mark.parametrize("best", ["won_amount", "win_rate", "won"])
def test_a_deal_measure_needs_deals(best: str) -> None:
    accounts, _, _ = _coin_flip_crm(60)
    with pytest.raises(IcpError, match=f"--best {best} needs --deals"):
        discover(accounts, best=best)


def test_a_missing_key_column() -> None:
    accounts, deals, _ = _coin_flip_crm(60)
    with pytest.raises(MissingColumnError, match="no key column 'account'"):
        discover(accounts, deals=deals, key="account")
    with pytest.raises(MissingColumnError, match="key"):
        discover(accounts.drop_columns(["domain"]), deals=deals)


def test_a_missing_health_column() -> None:
    accounts, _, _ = _coin_flip_crm(60)
    with pytest.raises(MissingColumnError, match="arr"):
        discover(accounts, best="arr")


@pytest.mark.parametrize("share", [0, 1, -0.2, 1.5, float("nan")])
def test_top_share_outside_zero_one(share: float) -> None:
    accounts, deals, _ = _coin_flip_crm(60)
    with pytest.raises(IcpError, match="top-share"):
        discover(accounts, deals=deals, best="win_rate", top_share=share)


# -- serialisation and the report ------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} in the JSON")


def test_to_dict_to_json_and_the_report(found: Discovery) -> None:
    data = found.to_dict()
    assert "profile" not in data and data["signal"] is True
    text = found.to_json()
    loaded = json.loads(text, parse_constant=_no_constants)
    assert loaded == json.loads(json.dumps(data, default=str))
    assert {a["field"] for a in loaded["attributes"]} >= {"Lifecycle Stage", "Number of Employees", "Industry"}
    kill = {r["disqualifier"]["name"]: r["disqualifier"] for r in loaded["anti"]}
    assert kill["anti_business_model"]["when"] == {"field": "business_model", "eq": "agency"}
    html = discover_report(data)
    assert html.lstrip().lower().startswith("<!doctype html")
    for name in ("Lifecycle Stage", "Number of Employees", "Country/Region", "days_since_funding", "Business Model"):
        assert name in html
    assert "No signal" not in html
    assert loaded["base_rate"] == pytest.approx(403 / 1661) and loaded["min_support"] == 30
    stage = next(a for a in loaded["attributes"] if a["field"] == "Lifecycle Stage")
    assert stage["leaky"] is True and stage["strongest"]["label"] == "Customer"
    assert {"shuffled_iv_99", "strongest", "volume", "volume_check"} <= stage.keys()
    assert all("win_rate" in v for a in loaded["attributes"] for v in a["values"])


def test_the_report_shows_the_leaky_flag(found: Discovery) -> None:
    html = discover_report(found.to_dict())
    assert "<strong>Lifecycle Stage</strong>: Leaky? (alone AUC 1.00)" in html  # set aside, in words
    heading = html[html.index("<h3>Lifecycle Stage"):]
    assert heading[:heading.index("</h3>")].endswith('<span class="verdict fail">leaky?</span>')
    assert html.count('<span class="verdict fail">leaky?</span>') == 2  # its row of the table and its heading
    assert "lift = win rate" in html and "base rate 24%" in html


def test_no_signal_serialises_and_reports() -> None:
    accounts, deals, _ = _coin_flip_crm()
    found = discover(accounts, deals=deals)
    loaded = json.loads(found.to_json(), parse_constant=_no_constants)
    assert loaded["signal"] is False and loaded["proposed_profile_yaml"] == ""
    html = discover_report(found.to_dict())
    assert "No signal" in html and "industry" in html and "employees" in html
