"""Backtests, profile comparisons and TAM counts give the same figures on every engine
(counts exactly, floating statistics to 1e-9) as on the embedded DuckDB."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from icpkit.api import backtest, compare_profiles, size_tam
from tests.cli.test_backtest import labelled  # noqa: F401  (the labelled demo history, a fixture)

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "src" / "icpkit" / "demo" / "profile.yaml"
SEED = ROOT / "examples" / "seed-rubric.yaml"


def same(a: Any, b: Any, path: str = "") -> None:
    """``a`` and ``b`` equal, floats to 1e-9."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)), (path, a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def test_backtest_figures_match_duckdb(engine: Any, labelled: Path) -> None:  # noqa: F811
    same(backtest(PROFILE, labelled, "won", backend=engine).to_dict(), backtest(PROFILE, labelled, "won").to_dict())
    split = {"date": "closed_at", "split_at": "2025-07-01"}
    same(backtest(PROFILE, labelled, "won", backend=engine, **split).to_dict(),
         backtest(PROFILE, labelled, "won", **split).to_dict())


def test_comparisons_and_tam_match_duckdb(engine: Any, labelled: Path) -> None:  # noqa: F811
    same(compare_profiles(PROFILE, SEED, labelled, "won", backend=engine).to_dict(),
         compare_profiles(PROFILE, SEED, labelled, "won").to_dict())
    same(size_tam(PROFILE, labelled, backend=engine).to_dict(), size_tam(PROFILE, labelled).to_dict())
