"""``icp demo``: generate the synthetic CRM, score it with the demo profile, measure it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import duckdb

from ..api import ScoreRun, score_to
from ..backends.duckdb import ProgressFn, quote_str
from ..workspace import Workspace
from .generate import generate_demo


@dataclass(frozen=True)
class DemoResult:
    run: ScoreRun
    profile: Path
    win_rates: dict[str, float]


def run_demo(
    directory: Path, *, n_accounts: int = 3000, seed: int = 7, workspace: Workspace | None = None,
    progress: ProgressFn | None = None,
) -> DemoResult:
    """Write the demo CRM and profile to ``directory`` and score it into ``scores.csv``."""
    if progress:
        progress("generating the demo CRM", None)
    demo = generate_demo(directory, n_accounts=n_accounts, seed=seed)
    if progress:
        progress("generating the demo CRM", 100.0)
    profile = directory / "profile.yaml"
    with files("icpkit.demo").joinpath("profile.yaml").open("rb") as src, profile.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    run = score_to(profile, demo.accounts, directory / "scores.csv", workspace=workspace, progress=progress)
    return DemoResult(run, profile, win_rates(directory / "scores.csv", demo.deals))


def win_rates(scores: Path, deals: Path) -> dict[str, float]:
    """Share of closed deals won, per tier: the first evidence that the profile works."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT s.tier, avg((d.outcome = 'won')::int) FROM read_csv({quote_str(str(scores))}) s "
            f"JOIN read_csv({quote_str(str(deals))}) d ON d.domain = s.domain "
            "WHERE d.outcome IN ('won', 'lost') GROUP BY s.tier ORDER BY min(s.fit_score) DESC"
        ).fetchall()
    finally:
        con.close()
    return {tier: float(rate) for tier, rate in rows}
