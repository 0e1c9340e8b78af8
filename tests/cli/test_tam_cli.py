"""`icp tam` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from icpkit.demo.generate import generate_demo
from tests.cli.test_cli import icp

ROOT = Path(__file__).resolve().parents[2]


def test_tam_counts_tiers_and_warns(tmp_path: Path) -> None:
    demo = generate_demo(tmp_path / "crm", n_accounts=800, seed=5)
    profile = str(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
    run = icp("tam", "-p", profile, "-u", str(demo.accounts), "--json", "tam.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "tam.json").read_text())
    assert data["total"] == 800 and sum(data["tiers"].values()) == 800
    assert f"Top tier (high): {data['top']:,} companies" in run.stdout
    narrow = icp("tam", "-p", profile, "-u", str(demo.accounts), "--narrow", "100000", cwd=tmp_path)
    assert narrow.returncode == 0 and "too narrow" in narrow.stdout and "too narrow to fill" in narrow.stderr


def _row(lines: list[str], label: str) -> list[str]:
    """The cells of the first table row whose first cell is ``label``."""
    line = next(li for li in lines if li.startswith(f"│ {label} "))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_tam_breaks_each_tier_down_by_segment(tmp_path: Path) -> None:
    demo = generate_demo(tmp_path / "crm", n_accounts=800, seed=5)
    profile = str(ROOT / "src" / "icpkit" / "demo" / "profile.yaml")
    run = icp("tam", "-p", profile, "-u", str(demo.accounts), "--json", "tam.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "tam.json").read_text())
    tiers, segments = data["tiers"], data["segments"]
    for tier, n in tiers.items():  # every account of a tier in each breakdown, "missing" included
        assert {d: sum(v.values()) for d, v in segments[tier].items()} == {
            "industry_group": n, "country": n, "size_band": n}
    lines = [li.rstrip() for li in run.stdout.splitlines()]
    for title in ("By industry group (top 5 per tier)", "By country (top 5 per tier)", "By size band (employees)"):
        assert title in lines
    # The demo's ICP is software of 50-500 people in North America: the top tier shows it.
    high = segments["high"]
    group, n = next(iter(high["industry_group"].items()))
    assert group == "Technology, Information and Media" and n > tiers["high"] / 2
    assert _row(lines, group)[:2] == [group, f"{n:,} ({n / tiers['high']:.0%})"]
    assert list(high["country"])[:2] == ["US", "CA"]
    assert _row(lines, "US")[1] == f"{high['country']['US']:,} ({high['country']['US'] / tiers['high']:.0%})"
    assert max(high["size_band"], key=high["size_band"].get) in ("51-200", "201-500")
    bands = ["1-10", "11-50", "51-200", "201-500", "501-1,000", "1,001-5,000", "5,001-10,000", "10,001+"]
    first_cells = [li.split("│")[1].strip() for li in lines if li.startswith("│ ")]
    shown = [cell for cell in first_cells if cell in bands]
    assert shown == bands  # LinkedIn's bands, in order, zero counts included


def test_tam_shows_only_the_breakdowns_the_universe_has(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "name: p\ncriteria:\n  - field: fit\n    weight: 10\n    levels: [{values: ['yes'], points: 10}]\n")
    (tmp_path / "u.csv").write_text("domain,fit,HQ Country\na.com,yes,United States\nb.com,yes,usa\n"
                                    "c.com,yes,Atlantis\nd.com,no,France\ne.com,no,\n")
    run = icp("tam", "-p", "p.yaml", "-u", "u.csv", "--json", "-", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["segments"]["high"] == {"country": {"US": 2, "unknown country": 1}}
    assert data["segments"]["disqualify"] == {"country": {"FR": 1, "missing": 1}}
    table = icp("tam", "-p", "p.yaml", "-u", "u.csv", cwd=tmp_path)
    lines = [li.rstrip() for li in table.stdout.splitlines()]
    assert "By country (top 5 per tier)" in lines
    assert not any(li.startswith(("By industry group", "By size band")) for li in lines)
    assert _row(lines, "US") == ["US", "2 (67%)", "0", "0"]
    assert _row(lines, "unknown country") == ["unknown country", "1 (33%)", "0", "0"]
    assert _row(lines, "missing") == ["missing", "0", "0", "1 (50%)"]
