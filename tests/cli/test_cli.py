"""The `icp` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-rubric.yaml"
ICP = shutil.which("icp", path=str(Path(sys.executable).parent)) or "icp"


def icp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ICP_WORKSPACE", None)
    return subprocess.run([ICP, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


ACCOUNTS = (
    "Company name,Website,Industry,Number of Employees,Country/Region,Technologies,days_since_funding\n"
    "Acme,https://www.acme.com,Computer Software,120,United States,Salesforce;Slack,30\n"
    "Beta,beta.io,Retail,8,DE,,\n"
    "Gamma,gamma.co.uk,Internet,600,GB,HubSpot,200\n"
)


@pytest.fixture()
def accounts(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS, encoding="utf-8")
    return path


def test_score_explain_and_summary(tmp_path: Path, accounts: Path) -> None:
    run = icp("score", "--profile", str(SEED), "--accounts", str(accounts), "--out", "scores.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Scored 3 accounts" in run.stdout and "acme.com" in run.stdout
    scores = pd.read_csv(tmp_path / "scores.csv").set_index("domain")
    assert scores.loc["acme.com", "fit_score"] == 100 and scores.loc["acme.com", "route"] == "ae_queue"
    assert scores.loc["acme.com", "abm_tier"] == "A"
    explained = icp("explain", "ACME.com", cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "fit score 100" in explained.stdout and "technologies: has Salesforce (+20)" in explained.stdout


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_score_writes_parquet_and_json_lines(tmp_path: Path, accounts: Path, suffix: str) -> None:
    run = icp("score", "-p", str(SEED), "-a", str(accounts), "-o", f"out.{suffix}", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    table = pd.read_parquet(tmp_path / "out.parquet") if suffix == "parquet" else pd.read_json(
        tmp_path / "out.jsonl", lines=True)
    assert sorted(table.domain) == ["acme.com", "beta.io", "gamma.co.uk"]


def test_score_into_a_workspace_table(tmp_path: Path, accounts: Path) -> None:
    run = icp("score", "-p", str(SEED), "-a", str(accounts), "-o", "scores", "-w", "ws", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    import duckdb

    con = duckdb.connect(str(tmp_path / "ws" / "icp.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == 3
    con.close()
    assert json.loads((tmp_path / "ws" / "workspace.json").read_text())["last_run"]["output"].startswith("table")


def test_data_error_exits_1_and_keeps_the_old_output(tmp_path: Path, accounts: Path) -> None:
    assert icp("score", "-p", str(SEED), "-a", str(accounts), "-o", "s.csv", "-q", cwd=tmp_path).returncode == 0
    before = (tmp_path / "s.csv").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text(ACCOUNTS + "Delta,delta.com,Internet,many,US,,\n", encoding="utf-8")
    run = icp("score", "-p", str(SEED), "-a", str(bad), "-o", "s.csv", cwd=tmp_path)
    assert run.returncode == 1
    assert "bad.csv, row 4, column 'Number of Employees'" in run.stderr and "many" in run.stderr
    assert (tmp_path / "s.csv").read_bytes() == before
    skipped = icp("score", "-p", str(SEED), "-a", str(bad), "-o", "s2.csv", "--on-error", "skip", cwd=tmp_path)
    assert skipped.returncode == 0 and "1 row(s) set aside" in skipped.stderr
    assert "cannot read 'many' as a number" in (tmp_path / "s2.csv.rejects.csv").read_text()


def test_profile_errors_exit_1_with_locations(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text(SEED.read_text().replace("tolerance_points", "tolerence_points").replace("weight: 15", "wieght: 15"))
    run = icp("validate", str(bad), cwd=tmp_path)
    assert run.returncode == 1
    assert "did you mean 'tolerance_points'?" in run.stderr and "line 22" in run.stderr
    assert "did you mean 'weight'?" in run.stderr


def test_usage_error_exits_1_and_missing_file(tmp_path: Path) -> None:
    assert icp("score", "--profile", str(SEED), cwd=tmp_path).returncode == 1
    run = icp("score", "-p", str(SEED), "-a", "nope.csv", "-o", "x.csv", cwd=tmp_path)
    assert run.returncode == 1 and "file not found: nope.csv" in run.stderr


def test_init_validate_schema_doc(tmp_path: Path, accounts: Path) -> None:
    assert icp("init", cwd=tmp_path).returncode == 0
    assert icp("init", cwd=tmp_path).returncode == 1  # does not overwrite
    run = icp("validate", "icp.yaml", cwd=tmp_path)
    assert run.returncode == 0 and "4 criteria" in run.stdout, run.stderr
    schema = json.loads(icp("schema", cwd=tmp_path).stdout)
    assert "criteria" in schema["properties"]
    assert icp("doc", "icp.yaml", "--out", "icp.html", cwd=tmp_path).returncode == 0
    assert "<html" in (tmp_path / "icp.html").read_text()
    md = icp("doc", str(SEED), cwd=tmp_path)
    assert md.returncode == 0 and "37.5" in md.stdout and "625" in md.stdout


def test_validate_checks_the_accounts_columns(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("domain,industri,employees\nacme.com,x,1\n")
    run = icp("validate", str(SEED), "--accounts", str(data), cwd=tmp_path)
    assert run.returncode == 1
    assert "industry" in run.stderr and "did you mean 'industri'" in run.stderr


def test_demo_runs_and_says_where_results_are(tmp_path: Path) -> None:
    run = icp("demo", "--accounts", "400", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Win rate of closed deals by tier" in run.stdout
    assert (tmp_path / "icp-demo" / "scores.csv").exists()
    assert "icp-demo/scores.csv" in run.stdout
