"""``icp dedupe`` as a user runs it: duplicates merged, a bad rules file named by line."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.cli.test_cli import icp

ROWS = [["Acme Inc", "acme.com", "US"], ["ACME, Inc.", "www.acme.com", "United States"],
        ["Globex GmbH", "globex.de", "DE"], ["Initech", "", "US"], ["Initech LLC", "initech.com", "US"]]


def test_dedupe_merges_duplicates_and_writes_the_clusters(tmp_path: Path) -> None:
    with (tmp_path / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["name", "domain", "country"], *ROWS])
    run = icp("dedupe", "-a", "accounts.csv", "-o", "merged.csv", "--clusters", "clusters.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "3 accounts after merging" in run.stdout
    merged = list(csv.DictReader((tmp_path / "merged.csv").open(encoding="utf-8")))
    assert sorted(r["domain"] for r in merged) == ["acme.com", "globex.de", "initech.com"]
    assert len(list(csv.DictReader((tmp_path / "clusters.csv").open(encoding="utf-8")))) == len(ROWS)


def test_a_bad_rules_file_names_the_line_and_exits_1(tmp_path: Path) -> None:
    with (tmp_path / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["name", "domain"], *[r[:2] for r in ROWS]])
    (tmp_path / "dedupe.yaml").write_text("survivorship:\n  default: {rule: longest}\n  colums: {}\n", encoding="utf-8")
    run = icp("dedupe", "-a", "accounts.csv", "-o", "merged.csv", "--rules", "dedupe.yaml", cwd=tmp_path)
    assert run.returncode == 1
    assert "unknown key 'colums'" in run.stderr and "line 3" in run.stderr and "columns" in run.stderr
    assert not (tmp_path / "merged.csv").exists()
