"""`icp discover` as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from icpkit.demo.generate import DemoFiles, generate_demo
from tests.files import write_csv

ICP = shutil.which("icp", path=str(Path(sys.executable).parent)) or "icp"
MAVEN = Path(__file__).resolve().parents[3] / "shared" / "data" / "maven_crm_sales_opportunities"


def icp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ICP_WORKSPACE", None)
    env.pop("ICP_DEBUG", None)
    return subprocess.run([ICP, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def said(run: subprocess.CompletedProcess[str]) -> str:
    return " ".join((run.stdout + " " + run.stderr).split())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("discover-cli") / "demo", 3000, 7)


@pytest.fixture()
def coin_flip(tmp_path: Path) -> tuple[Path, Path]:
    """400 accounts, each with one closed deal won or lost by a coin flip."""
    r = random.Random(1)
    accounts, deals = [], []
    for i in range(400):
        accounts.append([f"c{i}.example", r.choice(["software", "retail", "banking", "internet", "health"]),
                         r.randint(1, 2000), r.choice(["US", "DE", "GB", "CA"])])
        deals.append([f"d{i}", f"c{i}.example", "won" if r.random() < 0.4 else "lost"])
    return (write_csv(tmp_path / "accounts.csv", ["domain", "industry", "employees", "country"], accounts),
            write_csv(tmp_path / "deals.csv", ["deal_id", "domain", "outcome"], deals))


def test_discover_on_the_demo_writes_profile_report_and_json(tmp_path: Path, demo: DemoFiles) -> None:
    run = icp("discover", "-a", str(demo.accounts), "--deals", str(demo.deals),
              "--out", "P.yaml", "--html", "R.html", "--json", "J.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for name in ("P.yaml", "R.html", "J.json"):
        assert (tmp_path / name).is_file() and (tmp_path / name).stat().st_size > 0
    text = said(run)
    assert "Compared" in text and "Attributes by information value" in text and "leaky?" in text
    assert "lift = win rate / base rate 24%" in text and "strongest value, n >= 30" in text
    assert "Wrote the proposed profile to P.yaml" in text
    result = json.loads((tmp_path / "J.json").read_text())
    assert result["signal"] is True and result["proposed_profile_yaml"] == (tmp_path / "P.yaml").read_text()
    report = (tmp_path / "R.html").read_text()
    assert "<strong>Lifecycle Stage</strong>: Leaky?" in report and '<span class="verdict fail">leaky?</span>' in report
    assert next(a for a in result["attributes"] if a["field"] == "Lifecycle Stage")["leaky"] is True
    assert "# Kill-list suggestions" in (tmp_path / "P.yaml").read_text()
    assert not list(tmp_path.glob(".*.tmp"))
    checked = icp("validate", "P.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok P.yaml")
    against = icp("validate", "P.yaml", "--accounts", str(demo.accounts), cwd=tmp_path)
    assert against.returncode == 0, against.stderr


def test_without_out_the_profile_is_printed(tmp_path: Path) -> None:
    """A small CRM with a planted industry: the proposal goes to stdout."""
    r = random.Random(5)
    accounts, deals = [], []
    for i in range(500):
        industry = r.choice(["software", "retail", "banking"])
        accounts.append([f"c{i}.example", industry, r.choice(["US", "DE"])])
        won = r.random() < (0.7 if industry == "software" else 0.15)
        deals.append([f"c{i}.example", "Closed Won" if won else "Closed Lost"])
    write_csv(tmp_path / "a.csv", ["domain", "industry", "country"], accounts)
    write_csv(tmp_path / "d.csv", ["domain", "stage"], deals)
    run = icp("discover", "-a", "a.csv", "--deals", "d.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "name: Discovered ICP" in run.stdout and "field: industry" in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "d.csv"]


def _strongest_industry(run: subprocess.CompletedProcess[str]) -> str:
    row = next(line for line in run.stdout.splitlines() if line.strip("│ ").startswith("industry"))
    return row.split("│")[4].strip()


def test_min_support_decides_which_groups_may_be_named(tmp_path: Path) -> None:
    """Industry a wins 40% (300 accounts), b 20% (300), "tiny" always (12 accounts) and
    "doomed" never (12)."""
    r = random.Random(6)
    accounts, deals = [], []
    for i, (industry, rate) in enumerate([("a", 0.4)] * 300 + [("b", 0.2)] * 300 + [("tiny", 1.0)] * 12
                                         + [("doomed", 0.0)] * 12):
        accounts.append([f"c{i}.example", industry])
        deals.append([f"c{i}.example", "won" if r.random() < rate else "lost"])
    write_csv(tmp_path / "a.csv", ["domain", "industry"], accounts)
    write_csv(tmp_path / "d.csv", ["domain", "outcome"], deals)
    default = icp("discover", "-a", "a.csv", "--deals", "d.csv", "--json", "J.json", "--out", "P.yaml", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert _strongest_industry(default).startswith("a: ")
    assert "doomed" not in said(default)  # not on the kill list (the profile went to P.yaml)
    lowered = icp("discover", "-a", "a.csv", "--deals", "d.csv", "--min-support", "10", "--json", "L.json",
                  "--out", "Q.yaml", cwd=tmp_path)
    assert lowered.returncode == 0, lowered.stderr
    assert _strongest_industry(lowered).startswith("tiny: ")
    assert "industry doomed (win rate 0%" in said(lowered)
    assert json.loads((tmp_path / "L.json").read_text())["min_support"] == 10
    assert json.loads((tmp_path / "J.json").read_text())["min_support"] == 30
    bad = icp("discover", "-a", "a.csv", "--deals", "d.csv", "--min-support", "0", cwd=tmp_path)
    assert bad.returncode != 0 and "--min-support" in said(bad)


def test_volume_attributes_are_named_and_not_proposed(tmp_path: Path) -> None:
    """Enterprise accounts have 4-8 deals and the others one, each won at the same rate by
    segment; software wins 50% of its deals, the others 15%. By won amount, segment is volume."""
    r = random.Random(9)
    accounts, deals = [], []
    for i in range(800):
        segment, industry = r.choice(["enterprise"] * 3 + ["smb"] * 7), r.choice(["software", "retail", "banking"])
        accounts.append([f"c{i}.example", segment, industry])
        for _ in range(r.randint(4, 8) if segment == "enterprise" else 1):
            won = r.random() < (0.5 if industry == "software" else 0.15)
            deals.append([f"c{i}.example", "won" if won else "lost", 1000])
    write_csv(tmp_path / "a.csv", ["domain", "segment", "industry"], accounts)
    write_csv(tmp_path / "d.csv", ["domain", "outcome", "amount"], deals)
    run = icp("discover", "-a", "a.csv", "--deals", "d.csv", "--best", "won_amount", "--out", "P.yaml",
              "--html", "R.html", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = said(run)
    assert "note: segment: mostly tells how many deals an account has" in text
    assert "volume, not fit" in text
    proposed = (tmp_path / "P.yaml").read_text()
    assert "field: industry" in proposed and "field: segment" not in proposed
    report = (tmp_path / "R.html").read_text()
    assert "<strong>segment</strong>: Volume, not fit" in report
    assert '<span class="verdict fail">volume</span>' in report


def test_random_labels_exit_1_without_a_profile(tmp_path: Path, coin_flip: tuple[Path, Path]) -> None:
    accounts, deals = coin_flip
    run = icp("discover", "-a", str(accounts), "--deals", str(deals), "--out", "P.yaml",
              "--json", "J.json", "--html", "R.html", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no signal" in said(run)
    assert "no signal" in run.stderr  # the error itself, not only a note
    assert not (tmp_path / "P.yaml").exists()
    assert json.loads((tmp_path / "J.json").read_text())["signal"] is False  # the evidence is still written
    assert "No signal" in (tmp_path / "R.html").read_text()


def test_deals_without_an_outcome_exit_1_naming_the_file(tmp_path: Path, coin_flip: tuple[Path, Path]) -> None:
    accounts, deals = coin_flip
    bad = tmp_path / "pipeline.csv"
    bad.write_text(deals.read_text().replace("outcome", "result", 1))
    run = icp("discover", "-a", str(accounts), "--deals", str(bad), cwd=tmp_path)
    assert run.returncode == 1
    assert "pipeline.csv" in said(run) and "no outcome column" in said(run)


def test_bad_options_exit_1(tmp_path: Path, coin_flip: tuple[Path, Path]) -> None:
    accounts, deals = coin_flip
    run = icp("discover", "-a", str(accounts), "--best", "won_amount", cwd=tmp_path)
    assert run.returncode == 1 and "needs --deals" in said(run)
    run = icp("discover", "-a", str(accounts), "--deals", str(deals), "--best", "win_rate", "--top-share", "1.5",
              cwd=tmp_path)
    assert run.returncode == 1 and "--top-share" in said(run)
    run = icp("discover", "-a", str(accounts), "--deals", str(deals), "--key", "account", cwd=tmp_path)
    assert run.returncode == 1 and "no key column 'account'" in said(run)


def test_a_signal_with_nothing_to_propose_is_no_internal_error(tmp_path: Path) -> None:
    rows = [[f"c{i}.example", b] for b in range(20) for i in range(b * 500, b * 500 + 500)]
    deals = [[d, "won" if (i % 500) < (150 if b % 2 == 0 else 250) else "lost"] for i, (d, b) in enumerate(rows)]
    write_csv(tmp_path / "a.csv", ["domain", "score_x"], rows)
    write_csv(tmp_path / "d.csv", ["domain", "outcome"], deals)
    run = icp("discover", "-a", "a.csv", "--deals", "d.csv", "--out", "P.yaml", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr


@pytest.mark.skipif(not MAVEN.exists(), reason="the shared real datasets are not present")
def test_maven_crm_has_no_signal(tmp_path: Path) -> None:
    run = icp("discover", "-a", str(MAVEN / "accounts.csv"), "--deals", str(MAVEN / "sales_pipeline.csv"),
              "--key", "account", "--best", "win_rate", "--out", "P.yaml", cwd=tmp_path)
    assert run.returncode == 1 and "no signal" in said(run)
    assert not (tmp_path / "P.yaml").exists()
