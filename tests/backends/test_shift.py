"""Shift warnings: a learned profile keeps its training population, and scoring (or a
backtest) says when new records score very differently, on the engine and on the small path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import icpkit
from icpkit.discover.learn import learn
from icpkit.discover.shift import psi, psi_level, shift
from tests.unit.test_learn import planted


@pytest.fixture(scope="module")
def learned() -> tuple[pa.Table, icpkit.Profile]:
    table, _ = planted(n=3000, seed=1)
    return table, learn(table, "won").profile


def test_psi_by_hand() -> None:
    # (0.3-0.2)ln(1.5) + (0.3-0.3)ln(1) + (0.4-0.5)ln(0.8)
    assert psi([0.2, 0.3, 0.5], [0.3, 0.3, 0.4]) == pytest.approx(0.1 * math.log(1.5) - 0.1 * math.log(0.8))
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [1.0, 0.0]) == pytest.approx(0.5 * math.log(2) - 0.4999 * math.log(1e-4 / 0.5))
    assert [psi_level(v) for v in (0.05, 0.1, 0.2, 0.25, 3)] == ["stable", "watch", "watch", "shifted", "shifted"]


def test_the_same_population_is_stable(tmp_path: Path, learned: tuple[pa.Table, icpkit.Profile]) -> None:
    table, prof = learned
    pacsv.write_csv(table, tmp_path / "same.csv")
    for backend in (None, "duckdb"):  # 3,000 rows: the engine either way
        run = icpkit.score_to(prof, tmp_path / "same.csv", tmp_path / "out.csv", backend=backend)
        assert run.shift is not None and run.shift.psi == 0 and run.shift.level == "stable"
        assert not run.shift.warnings
        assert run.to_dict()["shift"]["tiers"][0]["current"] == prof.population.tier_shares["high"]


def test_a_shifted_population_is_called_so(tmp_path: Path, learned: tuple[pa.Table, icpkit.Profile]) -> None:
    table, prof = learned
    spent = np.full(table.num_rows, 500.0)
    shifted = table.set_column(0, "Total Time.Spent", pa.array(spent))
    small = shifted.slice(0, 1500)  # a CSV file this small is scored in-process
    for data, name in ((shifted, "big.parquet"), (small, "small.csv")):
        path = tmp_path / name
        (pacsv.write_csv if name.endswith("csv") else pq.write_table)(data, path)
        run = icpkit.score_to(prof, path, tmp_path / f"out-{name}")
        assert run.shift is not None and run.shift.level == "shifted" and run.shift.psi > 1
        words = "\n".join(run.warnings)
        assert "population stability index" in words and "(shifted: 0.25 or more)" in words
        assert "tier disqualify is empty" in words
        assert f"{run.tiers['high'] / run.rows:.0%} of the records are in tier high" in words


def test_few_records_or_an_edited_profile_give_no_figures(tmp_path: Path,
                                                          learned: tuple[pa.Table, icpkit.Profile]) -> None:
    table, prof = learned
    pacsv.write_csv(table.slice(0, 999), tmp_path / "few.csv")
    run = icpkit.score_to(prof, tmp_path / "few.csv", tmp_path / "out.csv")
    assert run.shift is None and not any("stability" in w for w in run.warnings)
    edited = prof.model_copy(update={"tiers": [t.model_copy(update={"min": t.min + 1}) if t.min else t
                                               for t in prof.tiers]})
    none, note = shift(edited, {50.0: 2000}, {"high": 2000})
    assert none is None and note is not None and "changed since it was learned" in note
    hand_written = prof.model_copy(update={"population": None})
    assert shift(hand_written, {50.0: 2000}, {"high": 2000}) == (None, None)


def test_backtest_reports_the_shift_and_empty_tiers(tmp_path: Path, learned: tuple[pa.Table, icpkit.Profile]) -> None:
    from icpkit.report.evidence import backtest_report

    table, prof = learned
    same = icpkit.backtest(prof, table, "won")
    assert same.shift is not None and same.shift["level"] == "stable" and not same.warnings
    shifted = table.set_column(0, "Total Time.Spent", pa.array(np.full(table.num_rows, 500.0)))
    bt = icpkit.backtest(prof, shifted, "won")
    assert bt.shift is not None and bt.shift["level"] == "shifted"
    assert any("tier disqualify is empty" in w for w in bt.warnings)
    assert [t["n"] for t in bt.tiers if t["tier"] == "disqualify"] == [0]
    html = backtest_report(bt.to_dict())
    assert "Shift from the training population" in html and "tier disqualify is empty" in html
    pq.write_table(shifted, tmp_path / "shifted.parquet")
    prof_path = tmp_path / "learned.yaml"
    prof_path.write_text(learn(table, "won").to_yaml())
    from typer.testing import CliRunner

    from icpkit.cli import app

    result = CliRunner().invoke(app, ["backtest", "--profile", str(prof_path), "--data",
                                      str(tmp_path / "shifted.parquet"), "--label", "won"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "disqualify │ 0 │ - │ empty │ - │" in text, text
    assert "(shifted)" in text and "tier disqualify is empty" in text
