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


# -- the first run on a real export (issue 10) -----------------------------------------------------

#: Two accounts as each tool exports them (their own headers, their own spellings): one that
#: fits the starter profile and one too small to keep.
VENDOR_EXPORTS = {
    "hubspot": (
        "Record ID,Company name,Company Domain Name,Industry,Number of Employees,Annual Revenue,Country/Region,"
        "State/Region,City,Lifecycle Stage,Company owner,Create Date\n"
        "101,Acme,acme.com,Computer Software,120,5000000,United States,CA,San Francisco,lead,Ann Lee,2025-01-02 10:00\n"
        "102,Beta,beta.io,Retail,8,,Germany,,Berlin,customer,Bob Ray,2025-02-03 11:00\n"
        "103,Gamma,gamma.co.uk,Marketing and Advertising,60,,United Kingdom,,London,lead,Ann Lee,2025-02-03 11:00\n"),
    "salesforce": (
        "Account ID,Account Name,Website,Industry,Employees,Annual Revenue,Billing Country,Billing State/Province,Type,"
        "Account Owner\n"
        "0015g00000A1,Acme,www.acme.com,Technology,120,5000000,USA,CA,Prospect,Ann Lee\n"
        "0015g00000B2,Beta,beta.io,Retail,8,,Germany,,Customer,Bob Ray\n"
        "0015g00000C3,Gamma,gamma.co.uk,Marketing and Advertising,60,,United Kingdom,,Prospect,Ann Lee\n"),
    "apollo": (
        "Company,Company Name for Emails,Account Stage,# Employees,Industry,Account Owner,Website,Company Linkedin Url,"
        "Company City,Company State,Company Country,Keywords,Technologies,Total Funding,Annual Revenue,"
        "Apollo Account Id,Founded Year\n"
        'Acme,Acme,Cold,120,computer software,ann@x.com,http://www.acme.com,http://www.linkedin.com/company/acme,'
        'San Francisco,California,United States,"saas, crm","Salesforce, Slack",1000000,5000000,5f1a,2010\n'
        "Beta,Beta,Cold,8,retail,bob@x.com,http://beta.io,,Berlin,,Germany,,,,,5f1b,2001\n"
        "Gamma,Gamma,Cold,60,marketing and advertising,ann@x.com,http://gamma.co.uk,,London,,United Kingdom,,,,,"
        "5f1c,2015\n"),
}


@pytest.mark.parametrize("vendor", sorted(VENDOR_EXPORTS))
def test_the_starter_profile_scores_each_export_without_edits(tmp_path: Path, vendor: str) -> None:
    (tmp_path / "accounts.csv").write_text(VENDOR_EXPORTS[vendor], encoding="utf-8")
    assert icp("init", cwd=tmp_path).returncode == 0
    run = icp("validate", "icp.yaml", "--accounts", "accounts.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert f"recognised a {vendor} export" in " ".join(run.stdout.split())
    run = icp("score", "-p", "icp.yaml", "-a", "accounts.csv", "-o", "scores.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    scores = pd.read_csv(tmp_path / "scores.csv").set_index("domain")
    assert list(scores.index) == ["acme.com", "beta.io", "gamma.co.uk"]
    acme = scores.loc["acme.com"]
    # 120 people (30), $5M revenue (20), in the US (20), and the industry as the export spells it
    assert (acme.points_employees, acme.points_revenue, acme.points_country) == (30, 20, 20)
    assert acme.tier == "high" and acme.abm_tier == "A" and acme.route == "ae_queue"
    if vendor != "salesforce":  # Salesforce's picklist says "Technology", no level of the starter
        assert acme.fit_score == 100
    assert scores.loc["beta.io", "disqualified_by"] == "too_small"
    gamma = scores.loc["gamma.co.uk"]  # 60 people (30), no revenue (10), GB (10), an agency (-15)
    assert (gamma.fit_score, gamma.points_agency, gamma.tier) == (35, -15, "disqualify")


def test_the_starter_profile_scores_the_demo_data(tmp_path: Path) -> None:
    from icpkit.demo.generate import generate_demo

    generate_demo(tmp_path / "demo", n_accounts=300, seed=3)
    assert icp("init", cwd=tmp_path).returncode == 0
    run = icp("score", "-p", "icp.yaml", "-a", "demo/accounts.csv", "-o", "scores.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert len(scores) == 300 and set(scores.tier) == {"high", "monitor", "disqualify"}


def test_a_profile_without_abm_and_without_a_high_tier_scores(tmp_path: Path, accounts: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    text = text[:text.index("tiers:")] + ("tiers:\n  - {name: hot, min: 60, route: ae_queue}\n"
                                          "  - {name: cold, min: 0, route: nurture}\n")
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    run = icp("score", "-p", "p.yaml", "-a", str(accounts), "-o", "s.csv", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    scores = pd.read_csv(tmp_path / "s.csv").set_index("domain")
    assert scores.loc["acme.com", "tier"] == "hot" and scores.loc["acme.com", "abm_tier"] == "A"


def test_validate_says_ok_only_when_the_accounts_are_ok_too(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("domain,industri,employees\nacme.com,x,1\n")
    run = icp("validate", str(SEED), "--accounts", str(data), cwd=tmp_path)
    assert run.returncode == 1 and "industri" in run.stderr
    assert "ok" not in run.stdout.split(), run.stdout


def test_a_billion_laughs_profile_fails_at_once(tmp_path: Path) -> None:
    from tests.unit.test_profile import billion_laughs

    (tmp_path / "lol.yaml").write_text(billion_laughs(10), encoding="utf-8")
    # expanded, 3.5 billion values: minutes and 4 GB; refused, about half a second with start-up
    run = subprocess.run([ICP, "validate", "lol.yaml"], cwd=tmp_path, capture_output=True, text=True,
                         env=os.environ | {"COLUMNS": "200"}, timeout=60)
    assert run.returncode == 1
    assert "lol.yaml, line" in run.stderr and "aliases expand to more than 100,000 values" in run.stderr, run.stderr
