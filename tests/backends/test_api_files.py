"""The library writes what it is asked to write, and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

import icpkit
from icpkit.errors import IcpError
from icpkit.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-rubric.yaml"
ACCOUNTS = pa.table({"domain": ["a.com", "b.io"], "industry": ["Internet", "Retail"], "employees": [120.0, 5.0],
                     "technologies": [["Slack"], None], "country": ["US", "DE"], "days_since_funding": [10.0, None]})


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_scoring_without_a_workspace_writes_only_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert icpkit.score(SEED, ACCOUNTS).num_rows == 2
    assert files(tmp_path) == set()
    run = icpkit.score_to(SEED, ACCOUNTS, "scores.csv")
    assert run.rows == 2 and files(tmp_path) == {"scores.csv"}
    icpkit.explain(SEED, ACCOUNTS, "a.com")
    assert files(tmp_path) == {"scores.csv"}
    with pytest.raises(IcpError, match="no workspace was given"):
        icpkit.score_to(SEED, ACCOUNTS, "scores")
    assert files(tmp_path) == {"scores.csv"}


def test_a_workspace_is_written_only_when_given(tmp_path: Path) -> None:
    accounts = tmp_path / "in.parquet"
    import pyarrow.parquet as pq

    pq.write_table(ACCOUNTS, accounts)
    ws = Workspace(tmp_path / "ws")
    icpkit.score_to(SEED, accounts, "scores", workspace=ws)
    assert (tmp_path / "ws" / "icp.duckdb").exists() and (tmp_path / "ws" / "workspace.json").exists()
    assert os.path.basename(ws.settings()["last_run"]["accounts"]) == "in.parquet"
