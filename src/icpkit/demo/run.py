"""``icp demo``: generate the synthetic CRM, score it with the demo profile, measure it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..api import ScoreRun, score_to
from ..backends.base import ProgressFn
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
    """Share of closed deals won, per tier, highest tier first: the first evidence that the
    profile works."""
    text = pcsv.ConvertOptions(column_types={"domain": "string", "tier": "string", "outcome": "string"})
    s = pcsv.read_csv(scores, convert_options=text).select(["domain", "tier", "fit_score"])
    d = pcsv.read_csv(deals, convert_options=text).select(["domain", "outcome"])
    d = d.filter(pc.is_in(d["outcome"], value_set=pa.array(["won", "lost"])))
    d = d.append_column("won", pc.cast(pc.equal(d["outcome"], "won"), "int64"))
    per = s.join(d, "domain").group_by("tier").aggregate([("won", "mean"), ("fit_score", "min")])
    per = per.sort_by([("fit_score_min", "descending")])
    return {t: float(r) for t, r in zip(per["tier"].to_pylist(), per["won_mean"].to_pylist())}
