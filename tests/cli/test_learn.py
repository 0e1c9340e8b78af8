"""`icp learn` as a user runs it: a real process, real files, exit codes; and the learned
profile goes straight into `icp validate` and `icp backtest`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

ICP = shutil.which("icp", path=str(Path(sys.executable).parent)) or "icp"


def icp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ICP_WORKSPACE", None)
    return subprocess.run([ICP, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def leads(n: int, seed: int, *, signal: bool) -> pa.Table:
    """A lead export without a domain or key column; wins depend on time spent and origin
    (or, without ``signal``, on nothing)."""
    rng = np.random.default_rng(seed)
    spent = np.round(rng.gamma(2.0, 50.0, n), 1)
    origin = rng.choice(["API", "Landing Page Submission", "Lead Add Form"], n)
    p = np.where(spent >= 100, 0.55, 0.15) + 0.25 * (origin == "Lead Add Form") if signal else np.full(n, 0.4)
    return pa.table({"Total Time.Spent": spent, "Lead Origin": origin, "Page Views": rng.poisson(3, n),
                     "Converted": (rng.random(n) < p).astype(np.int64)})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("learn")
    pacsv.write_csv(leads(2000, 1, signal=True), folder / "leads.csv")
    pacsv.write_csv(leads(2000, 2, signal=False), folder / "random.csv")
    return folder


def test_learn_validate_and_backtest(tmp_path: Path, data: Path) -> None:
    shutil.copy(data / "leads.csv", tmp_path)
    run = icp("learn", "--data", "leads.csv", "--label", "Converted", "--out", "p.yaml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = flat(run.stdout)
    assert "Learned from 2,000 labelled records" in text and "cross-validated AUC" in text
    assert "Total Time.Spent" in text and "Lead Origin" in text and "Wrote p.yaml" in text
    assert (tmp_path / "p.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv", "p.yaml"]  # no temporary file left

    valid = icp("validate", "p.yaml", cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert flat(valid.stdout).startswith("ok p.yaml:")

    bt = icp("backtest", "--profile", "p.yaml", "--data", "leads.csv", "--label", "Converted", cwd=tmp_path)
    assert bt.returncode == 0, bt.stderr
    assert "on 2,000 labelled rows" in flat(bt.stdout) and "AUC" in bt.stdout and "Win rate by tier" in bt.stdout


def test_no_signal_exits_1_and_writes_nothing(tmp_path: Path, data: Path) -> None:
    run = icp("learn", "-d", str(data / "random.csv"), "-l", "Converted", "-o", "p.yaml", cwd=tmp_path)
    assert run.returncode == 1
    err = flat(run.stderr)
    assert "error: no signal" in err and "--force" in err and "no profile written" in err
    assert list(tmp_path.iterdir()) == []


def test_force_writes_a_profile_without_signal(tmp_path: Path, data: Path) -> None:
    run = icp("learn", "-d", str(data / "random.csv"), "-l", "Converted", "-o", "p.yaml", "--force", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "p.yaml").read_text(encoding="utf-8")
    assert "WARNING: no signal" in text
    assert icp("validate", "p.yaml", cwd=tmp_path).returncode == 0


def test_exclude_leaves_a_column_out_and_a_typo_gets_a_hint(tmp_path: Path, data: Path) -> None:
    leads_csv = str(data / "leads.csv")
    run = icp("learn", "-d", leads_csv, "-l", "Converted", "-o", "p.yaml", "-x", "Lead Origin", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "field: lead_origin" not in (tmp_path / "p.yaml").read_text(encoding="utf-8")
    assert "excluded (--exclude): 'Lead Origin'" in flat(run.stdout)

    typo = icp("learn", "-d", leads_csv, "-l", "Converted", "-o", "q.yaml", "--exclude", "Lead Orign", cwd=tmp_path)
    assert typo.returncode == 1
    assert "no excluded column 'Lead Orign' (did you mean 'Lead Origin'?)" in flat(typo.stderr)
    assert not (tmp_path / "q.yaml").exists()


def test_a_wrong_label_column_exits_1_with_a_hint(tmp_path: Path, data: Path) -> None:
    run = icp("learn", "-d", str(data / "leads.csv"), "-l", "Convertd", "-o", "p.yaml", cwd=tmp_path)
    assert run.returncode == 1
    assert "no label column 'Convertd' (did you mean 'Converted'?)" in flat(run.stderr)
    assert list(tmp_path.iterdir()) == []
