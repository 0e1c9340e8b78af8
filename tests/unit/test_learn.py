"""`icpkit.discover.learn`: a points scorecard learned from labelled rows, on real DuckDB.

Every table is generated here with numpy (seeded), small enough that the file runs in
seconds: a planted signal must be found, scored back and survive its YAML; odd tables must
work; small or meaningless samples must be refused honestly; leaky columns must be named.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import icpkit
from icpkit.discover.backtest import auc
from icpkit.discover.learn import Learned, NoSignalError, learn, require_signal
from icpkit.errors import DataError, IcpError, MissingColumnError
from icpkit.profile.load import parse_profile
from icpkit.profile.model import Criterion, Profile

#: The planted step: records spending at least this long win far more often.
STEP = 100.0


def planted(n: int = 3000, seed: int = 1) -> tuple[pa.Table, np.ndarray]:
    """Wins depend on a step in "Total Time.Spent" and on "Lead Origin" being Referral;
    "Noise" has nothing to do with them. No key or domain column."""
    rng = np.random.default_rng(seed)
    spent = rng.gamma(2.0, 50.0, n)
    origin = rng.choice(["Web", "Referral", "Ads", "Event"], n, p=[0.4, 0.2, 0.3, 0.1])
    logit = -2.0 + 2.0 * (spent >= STEP) + 1.8 * (origin == "Referral")
    won = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    table = pa.table({"Total Time.Spent": spent, "Lead Origin": origin, "Noise": rng.normal(size=n), "won": won})
    return table, won


def random_labels(n: int = 3000, seed: int = 4) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"spend": rng.gamma(2.0, 50.0, n), "origin": rng.choice(["a", "b", "c", "d"], n),
                     "size": rng.lognormal(4, 1, n), "won": (rng.random(n) < 0.3).astype(np.int64)})


def criterion(profile: Profile, name: str) -> Criterion:
    return next(c for c in profile.criteria if c.name == name)


@pytest.fixture(scope="module")
def signal() -> tuple[pa.Table, np.ndarray, Learned]:
    table, won = planted()
    return table, won, learn(table, "won")


# -- a planted signal ------------------------------------------------------------------


def test_planted_signal_is_found(signal: tuple[pa.Table, np.ndarray, Learned]) -> None:
    _, won, result = signal
    assert result.signal and result.cv_auc > 0.72 and result.cv_auc_low > 0.5
    assert result.cv_auc_low < result.cv_auc < result.cv_auc_high
    assert result.rows == 3000 and result.wins == int(won.sum())
    require_signal(result)  # does not raise
    assert result.profile.total_weight == pytest.approx(100, abs=0.5)
    # the two planted attributes are the strongest criteria, the noise the weakest
    assert [c.name for c in result.profile.criteria][:2] == ["total_time_spent", "lead_origin"]
    assert result.profile.columns["total_time_spent"] == "Total Time.Spent"
    assert result.profile.columns["lead_origin"] == "Lead Origin"


def test_good_bins_and_levels_earn_more_points(signal: tuple[pa.Table, np.ndarray, Learned]) -> None:
    _, _, result = signal
    bins = criterion(result.profile, "total_time_spent").bins or []
    above = [b.points for b in bins if b.gte is not None and b.gte >= STEP]
    below = [b.points for b in bins if b.lt is not None and b.lt <= STEP]
    assert above and below and min(above) > max(below) + 15
    levels = {v: lv.points for lv in criterion(result.profile, "lead_origin").levels or [] for v in lv.values}
    assert set(levels) == {"Web", "Referral", "Ads", "Event"}
    assert levels["Referral"] == max(levels.values()) > max(v for k, v in levels.items() if k != "Referral") + 15
    # the three origins that win alike are one level (grouped by weight of evidence)
    assert levels["Web"] == levels["Ads"] == levels["Event"]
    # the evidence agrees: the Referral group has the best win rate
    groups = {g.label: g for g in next(c for c in result.criteria if c.name == "lead_origin").groups}
    assert groups["Referral"].win_rate == max(g.win_rate for g in groups.values())
    assert sum(g.n for g in groups.values()) == result.rows


def test_scoring_the_learned_profile_ranks_like_the_model(signal: tuple[pa.Table, np.ndarray, Learned]) -> None:
    table, won, result = signal
    scored = icpkit.score(result.profile, table)
    assert scored.num_rows == table.num_rows
    fit = scored.column("fit_score").to_numpy()
    assert 0 <= fit.min() and fit.max() <= 100
    assert auc(fit, won) == pytest.approx(result.cv_auc, abs=0.04)
    tiers = Counter(scored.column("tier").to_pylist())
    # the top quarter, as near as ties allow (this profile has six distinct scores)
    assert 0.2 <= tiers["high"] / table.num_rows <= 0.35
    assert 0.5 <= (tiers["high"] + tiers["monitor"]) / table.num_rows <= 0.7


def test_the_yaml_round_trips(signal: tuple[pa.Table, np.ndarray, Learned]) -> None:
    _, _, result = signal
    text = result.to_yaml()
    again = parse_profile(text, source="learned.yaml")
    assert again.version_hash == result.profile.version_hash
    assert again == result.profile
    assert "Cross-validated AUC" in text and "WARNING" not in text
    assert "Referral" in text and "Total Time.Spent" in text


def test_the_yaml_round_trips_with_small_numbers() -> None:
    """Bin edges in exponent form (below 1e-4) keep every digit on the way to YAML and back."""
    rng = np.random.default_rng(5)
    n = 2000
    rate = rng.random(n) * 1e-6
    won = (rng.random(n) < np.where(rate >= 5e-7, 0.6, 0.2)).astype(np.int64)
    result = learn(pa.table({"conversion rate": rate, "won": won}), "won")
    again = parse_profile(result.to_yaml())
    written = criterion(result.profile, "conversion_rate").bins or []
    read = criterion(again, "conversion_rate").bins or []
    assert [(b.gte, b.lt) for b in read] == [(b.gte, b.lt) for b in written]
    assert again.version_hash == result.profile.version_hash


# -- any table -------------------------------------------------------------------------


def test_any_table_a_semicolon_csv_without_keys(tmp_path: Path) -> None:
    """Dots and spaces in the headers, ';' as delimiter, read from a path, no domain; an
    identifier, an empty and a constant column are left out with notes."""
    rng = np.random.default_rng(2)
    n = 1500
    spent = np.round(rng.gamma(2.0, 50.0, n), 1)
    origin = rng.choice(["API", "Landing Page Submission", "Lead Add Form"], n)
    won = (rng.random(n) < np.where(spent >= STEP, 0.6, 0.2) + 0.2 * (origin == "Lead Add Form")).astype(np.int64)
    table = pa.table({
        "Prospect ID": [f"7927b2df-{i:06d}" for i in range(n)],
        "Lead Number": np.arange(660_737, 660_737 + n),
        "Total Time.Spent": spent,
        "Lead Origin": origin,
        "Do Not Call": ["No"] * n,
        "Magazine": pa.nulls(n, pa.string()),
        "Asymmetrique Score": pa.nulls(n, pa.float64()),
        "Converted": won,
    })
    path = tmp_path / "Leads.csv"
    pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter=";"))
    assert path.read_text().startswith('"Prospect ID";"Lead Number";"Total Time.Spent"')

    result = learn(str(path), "Converted")
    assert result.signal and result.rows == n
    assert sorted(c.name for c in result.profile.criteria) == ["lead_origin", "total_time_spent"]
    notes = "\n".join(result.notes)
    identifiers = next(x for x in result.notes if "identifier" in x)
    assert "'Prospect ID'" in identifiers and "'Lead Number'" in identifiers
    empty = next(x for x in result.notes if "no values" in x)
    assert "'Magazine'" in empty and "'Asymmetrique Score'" in empty
    assert "'Do Not Call'" in next(x for x in result.notes if "same value" in x)
    assert "Total Time.Spent" not in notes and "Lead Origin" not in notes

    scored = icpkit.score(result.profile, str(path))  # scores the same file, by its headers
    assert scored.num_rows == n
    assert auc(scored.column("fit_score").to_numpy(), won) > 0.7


def test_excluded_columns_are_left_out_with_a_note(signal: tuple[pa.Table, np.ndarray, Learned]) -> None:
    table, _, _ = signal
    result = learn(table.to_pandas(), "won", exclude=["lead origin"], name="No origin")
    assert "lead_origin" not in [c.name for c in result.profile.criteria]
    assert result.profile.name == "No origin"
    assert any("excluded" in n and "'Lead Origin'" in n for n in result.notes)
    with pytest.raises(MissingColumnError, match="did you mean 'Lead Origin'"):
        learn(table, "won", exclude=["Lead Orign"])


def test_an_identifier_with_a_blank_is_still_left_out() -> None:
    """A different value on every row that has one (a numeric ID with a blank cell) is an identifier."""
    table, _ = planted(n=1000)
    ids = np.arange(1000, dtype=float)
    ids[7] = np.nan
    result = learn(table.append_column("Lead Number", pa.array(ids)), "won")
    assert "lead_number" not in [c.name for c in result.profile.criteria]
    assert any("'Lead Number'" in n for n in result.notes)


# -- honest about small and meaningless samples ----------------------------------------


def with_label(table: pa.Table, values: object) -> pa.Table:
    return table.set_column(table.schema.get_field_index("won"), "won", pa.array(values))


def test_fifteen_wins_is_insufficient_data() -> None:
    table, _ = planted(n=1000)
    won = np.zeros(1000, dtype=np.int64)
    won[::70] = 1
    assert won.sum() == 15
    with pytest.raises(DataError, match="insufficient data") as info:
        learn(with_label(table, won), "won")
    assert "15 wins" in str(info.value)


@pytest.mark.parametrize("value", [0, 1])
def test_one_class_only_is_refused(value: int) -> None:
    table, _ = planted(n=500)
    with pytest.raises(DataError, match="one class only"):
        learn(with_label(table, np.full(500, value)), "won")


def test_a_label_that_is_not_won_or_lost_names_its_row() -> None:
    table, won = planted(n=500)
    labels = np.where(won == 1, "won", "lost").astype(object)
    labels[41] = "maybe"
    with pytest.raises(DataError) as info:
        learn(with_label(table, labels), "won")
    assert "'maybe'" in str(info.value) and "row 42" in info.value.where and "won" in info.value.where


def test_a_missing_label_column_suggests_the_closest() -> None:
    table, _ = planted(n=500)
    with pytest.raises(MissingColumnError) as info:
        learn(table, "wonn")
    assert "no label column 'wonn'" in info.value.message
    assert "did you mean 'won'" in info.value.hint


def test_random_labels_have_no_signal() -> None:
    result = learn(random_labels(), "won")
    assert not result.signal
    assert result.cv_auc < 0.55 and result.cv_auc_low < 0.5
    with pytest.raises(NoSignalError, match="no signal"):
        require_signal(result)
    assert "WARNING: no signal" in result.to_yaml()  # written only with --force, and then it says so
    assert math.isclose(parse_profile(result.to_yaml()).total_weight, result.profile.total_weight)


# -- leakage kept out ------------------------------------------------------------------


def test_a_column_that_restates_the_label_is_left_out() -> None:
    table, won = planted(n=2000, seed=3)
    stage = pa.array(np.where(won == 1, "closed-won", "closed-lost"))
    result = learn(table.append_column("Deal Stage", stage), "won")
    assert [k.column for k in result.leaks] == ["Deal Stage"]
    assert "alone predicts the label with an AUC of 1.000" in result.leaks[0].reason
    assert "deal_stage" not in [c.field for c in result.profile.criteria]
    note = next(n for n in result.notes if "leaky" in n)
    assert "'Deal Stage'" in note and "--allow" in note
    assert result.cv_auc < 0.9 and not any("rarely seen" in w for w in result.warnings)
    assert "Note: left out as leaky" in result.to_yaml()


def test_allow_keeps_a_leaky_column_and_says_so() -> None:
    table, won = planted(n=2000, seed=3)
    stage = pa.array(np.where(won == 1, "closed-won", "closed-lost"))
    result = learn(table.append_column("Deal Stage", stage), "won", allow=["deal stage"])
    assert result.leaks[0].allowed and "deal_stage" in [c.field for c in result.profile.criteria]
    assert any("'Deal Stage'" in w and "allowed" in w for w in result.warnings)
    assert any("rarely seen" in w for w in result.warnings)  # and the AUC itself is called suspicious
    with pytest.raises(MissingColumnError, match="did you mean 'Deal Stage'"):
        learn(table.append_column("Deal Stage", stage), "won", allow=["Deal Stag"])


def test_the_leakage_threshold_is_settable() -> None:
    """An attribute that alone reaches an AUC of about 0.78: kept at the default 0.80, left out at 0.75."""
    table, won = planted(n=4000, seed=8)
    rng = np.random.default_rng(9)
    hint = np.where(rng.random(len(won)) < 0.56, won, rng.integers(0, 2, len(won)))
    table = table.append_column("Hint", pa.array(np.where(hint == 1, "yes", "no")))
    assert [k.column for k in learn(table, "won").leaks] == []
    strict = learn(table, "won", leak_auc=0.75)
    assert [k.column for k in strict.leaks] == ["Hint"] and "hint" not in [c.field for c in strict.profile.criteria]


def test_a_column_filled_only_for_wins_is_left_out_and_called_so() -> None:
    table, won = planted(n=2000, seed=3)
    rng = np.random.default_rng(6)
    value = pa.array(np.where(won == 1, rng.gamma(2, 1000, len(won)), np.nan))
    result = learn(table.append_column("Contract Value", value), "won")
    assert [k.column for k in result.leaks] == ["Contract Value"]
    assert "is filled for 100% of wins but 0% of losses" in result.leaks[0].reason


def test_values_only_one_class_has_are_leaky() -> None:
    """A reason code written after the outcome: most rows hold ordinary values, but two
    values (8% of the rows) are held by one class only."""
    table, won = planted(n=3000, seed=3)
    rng = np.random.default_rng(7)
    code = rng.choice(["email", "call", "visit"], len(won)).astype(object)
    closed = rng.random(len(won)) < 0.08
    code[closed & (won == 1)] = "signed"
    code[closed & (won == 0)] = "rejected"
    result = learn(table.append_column("Last Code", pa.array(code.astype(str))), "won")
    assert [k.column for k in result.leaks] == ["Last Code"]
    assert "only one class has" in result.leaks[0].reason


# -- constrained binning and the scorecard scale ------------------------------------------


def shaped(n: int, seed: int, shape: str) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, n)
    if shape == "peak":
        p = 0.15 + 0.5 * np.exp(-((x - 50) / 15) ** 2)
    else:
        p = 0.1 + 0.5 * x / 100
    return pa.table({"size": x, "noise": rng.normal(size=n), "won": (rng.random(n) < p).astype(np.int64)})


@pytest.mark.parametrize(("shape", "seed"), [("ascending", 1), ("ascending", 2), ("peak", 3), ("peak", 4)])
def test_numeric_points_follow_one_shape(shape: str, seed: int) -> None:
    result = learn(shaped(4000, seed, shape), "won")
    evidence = next(c for c in result.criteria if c.name == "size")
    assert evidence.shape == shape
    points = [b.points for b in criterion(result.profile, "size").bins or []]
    steps = np.sign(np.diff(points))
    steps = steps[steps != 0]
    turns = int(np.sum(steps[1:] != steps[:-1]))
    assert turns == (1 if shape == "peak" else 0) and len(points) >= 3
    # and never a zigzag in the evidence either
    rates = [g.win_rate for g in evidence.groups if g.label != "missing"]
    assert np.all(np.diff(rates) > 0) if shape == "ascending" else int(np.argmax(rates)) not in (0, len(rates) - 1)


@pytest.mark.parametrize("share", [0.05, 0.1])
def test_every_group_holds_the_minimum_share(share: float) -> None:
    table, won = planted(n=3000, seed=2)
    rng = np.random.default_rng(3)
    spent = table.column("Total Time.Spent").to_numpy().copy()
    spent[rng.random(len(spent)) < 0.02] = np.nan  # a small "missing" group: joined to its closest
    origin = np.array(table.column("Lead Origin").to_pylist(), dtype=object)
    origin[rng.random(len(origin)) < 0.03] = "Partner"  # a rare level: joins the closest as "other"
    table = table.set_column(0, "Total Time.Spent", pa.array(spent)).set_column(1, "Lead Origin",
                                                                               pa.array(origin.astype(str)))
    result = learn(table, "won", min_share=share)
    for c in result.criteria:
        assert min(g.n for g in c.groups) >= share * result.rows, c
    spent_groups = next(c for c in result.criteria if c.name == "total_time_spent").groups
    assert not any(g.label == "missing" for g in spent_groups)
    assert any("missing" in g.label for g in spent_groups)  # "... (and missing)"
    prof = criterion(result.profile, "total_time_spent")
    assert prof.missing in [b.points for b in prof.bins or []]


def test_scorecard_scaling_reads_a_fit_score_as_odds() -> None:
    table, won = planted(n=3000, seed=1)
    result = learn(table, "won")
    card = result.profile.scorecard
    assert card is not None and card.pdo == 20 and card.anchor_score == 600 and card.anchor_odds == 1
    fit = icpkit.score(result.profile, table).column("fit_score").to_numpy()
    # the odds the scorecard gives each fit score match the win rates observed at that score
    for value in np.unique(fit):
        mask = fit == value
        if mask.sum() < 200:
            continue
        observed = won[mask].mean()
        odds = card.odds(float(value))
        assert odds / (1 + odds) == pytest.approx(observed, abs=0.06)
    # 20 scorecard points double the odds
    assert card.odds(50 + 20 / card.points_per_fit) == pytest.approx(2 * card.odds(50))


def test_the_population_is_kept_for_shift_warnings() -> None:
    table, _ = planted(n=3000, seed=1)
    result = learn(table, "won")
    pop = result.profile.population
    assert pop is not None and pop.rows == 3000 and pop.version == result.profile.version_hash
    fit = icpkit.score(result.profile, table).column("fit_score").to_numpy()
    bands = np.bincount(np.searchsorted(pop.score_edges, fit, side="right"), minlength=len(pop.score_shares))
    assert np.allclose(bands / len(fit), pop.score_shares, atol=1e-4)
    tiers = Counter(icpkit.score(result.profile, table).column("tier").to_pylist())
    assert {t: round(n / len(fit), 4) for t, n in tiers.items()} == pop.tier_shares


# -- time-ordered validation -----------------------------------------------------------


def drifting(n: int = 6000, seed: int = 11) -> pa.Table:
    """Two years of dated records: "Channel" wins in the first year only, "Size" always."""
    rng = np.random.default_rng(seed)
    day = np.sort(rng.integers(0, 730, n))
    dates = np.datetime64("2024-01-01") + day.astype("timedelta64[D]")
    size = rng.uniform(0, 100, n)
    channel = rng.choice(["a", "b", "c"], n)
    first_year = day < 365
    logit = -1.5 + 1.2 * (size > 50) + np.where(first_year, 3.0 * (channel == "a"), -2.0 * (channel == "a"))
    won = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pa.table({"created": pa.array(dates.astype(str)), "Size": size, "Channel": channel, "won": won})


def test_time_ordered_validation_reports_and_warns() -> None:
    table = drifting()
    result = learn(table, "won", date="created")
    assert result.time_auc is not None and len(result.folds) >= 3
    assert result.time_auc_low < result.time_auc < result.time_auc_high
    assert result.cv_auc - result.time_auc > 0.05
    assert any("trained on the past and tested on the" in w for w in result.warnings)
    assert "created" not in [c.field for c in result.profile.criteria]
    assert result.folds[0].test > result.folds[0].train[:10] and result.folds[-1].test.endswith("2025-12-30")
    assert result.profile.population is not None and result.profile.population.period == "2024-01-01 to 2025-12-30"
    assert "Trained on the past, tested on the next period" in result.to_yaml()
    steady = learn(table.drop_columns(["Channel"]), "won", date="created")
    assert not any("trained on the past" in w for w in steady.warnings)


def test_a_row_without_a_date_is_named() -> None:
    table = drifting(n=600)
    dates = table.column("created").to_pylist()
    dates[17] = "someday"
    with pytest.raises(DataError) as info:
        learn(table.set_column(0, "created", pa.array(dates)), "won", date="created")
    assert "cannot read 'someday' as a date" in info.value.message and "row 18" in info.value.where
    with pytest.raises(MissingColumnError, match="no date column 'create'"):
        learn(table, "won", date="create")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("min_share", 0.0, "minimum share of a group must be above 0"), ("min_share", 0.6, "at most 0.5"),
    ("leak_auc", 0.4, "leakage threshold must be an AUC above 0.5")])
def test_settings_out_of_range_are_refused(option: str, value: float, message: str) -> None:
    table, _ = planted(n=500)
    with pytest.raises(IcpError, match=message):
        learn(table, "won", **{option: value})
