"""Industries as each vendor's export spells them score alike, on the engine and on the small-file
path, and values that name no known industry are reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli.test_cli import icp

# The seed rubric's industry criterion (examples/seed-rubric.yaml).
SEED_INDUSTRY = """name: seed industry
criteria:
  - field: industry
    weight: 25
    levels:
      - values: [computer software, internet]
        points: 25
      - values: [information technology and services, marketing and advertising]
        points: 12
    otherwise: 0
    missing: 0
tiers:
  - {name: high, min: 70, route: ae_queue}
  - {name: rest, min: 0, route: nurture}
"""

# One account per spelling the seed rubric's industries take in exports: HubSpot's enum
# names, Apollo's lower-case labels with "&", PDL's and LinkedIn's V1 labels, V2 labels.
SPELLINGS = {
    "hubspot.com": ("COMPUTER_SOFTWARE", 25),
    "apollo.io": ("information technology & services", 12),
    "pdl.com": ("Information Technology and Services", 12),
    "linkedin.com": ("Software Development", 25),
    "sfdc.com": ("Technology", 0),  # Salesforce's group: the rubric names no group
    "mkt.com": ("MARKETING_AND_ADVERTISING", 12),
}
UNKNOWN = {"odd.com": ("Widgetry", 0), "odd2.com": ("Quantum Widgets", 0)}


def _accounts(tmp_path: Path, spellings: dict[str, tuple[str, int]], rows: int = 1) -> Path:
    path = tmp_path / "accounts.csv"
    lines = ["Company Domain Name,Industry,Number of Employees"]
    for i in range(rows):
        lines += [f"{'' if i == 0 else f'r{i}-'}{domain},{industry},10" for domain, (industry, _) in spellings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# A few rows of known industries take the small-file path; unknown ones, which earn a
# warning, or many rows go to the engine.
@pytest.mark.parametrize(("rows", "unknown"), [(1, False), (1, True), (300, True)])
def test_every_vendor_spelling_scores_its_industry(tmp_path: Path, rows: int, unknown: bool) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(SEED_INDUSTRY, encoding="utf-8")
    spellings = SPELLINGS | (UNKNOWN if unknown else {})
    run = icp("score", "-p", str(profile), "-a", str(_accounts(tmp_path, spellings, rows)), "-o", "out.csv",
              cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    scores = pd.read_csv(tmp_path / "out.csv").set_index("domain")
    for domain, (_, points) in spellings.items():
        assert scores.loc[domain, "points_industry"] == points * 4, domain  # weights scale to 100
    said = " ".join((run.stderr + run.stdout).split())
    if unknown:
        assert f"{2 * rows} row(s) have an industry that is not a LinkedIn industry" in said
        assert "'Quantum Widgets', 'Widgetry'" in said
    else:
        assert "not a LinkedIn industry" not in said


def test_a_profile_can_score_a_group(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: groups\ncriteria:\n  - field: industry\n    weight: 10\n    levels:\n"
        "      - values: [\"Technology, Information and Media\"]\n        points: 10\n"
        "tiers:\n  - {name: high, min: 50, route: a}\n  - {name: low, min: 0, route: b}\n", encoding="utf-8")
    run = icp("score", "-p", str(profile), "-a", str(_accounts(tmp_path, SPELLINGS | UNKNOWN)), "-o", "out.csv", "-q",
              cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    scores = pd.read_csv(tmp_path / "out.csv").set_index("domain")
    assert scores.loc[["hubspot.com", "linkedin.com", "sfdc.com"], "points_industry"].tolist() == [100, 100, 100]
    assert scores.loc[["apollo.io", "mkt.com", "odd.com"], "points_industry"].tolist() == [0, 0, 0]
