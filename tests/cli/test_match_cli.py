"""``icp match`` as a user runs it: leads matched by e-mail domain and name, a clear error
for leads with nothing to match on."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.cli.test_cli import icp

LEADS = "email,company,country\nann@uk.acme.com,,\nbob@gmail.com,\"ACME, Inc.\",US\ndee@hotmail.com,Initrode,\n"
ACCOUNTS = "Company name,Website,Country\nAcme Inc,https://www.acme.com,US\nGlobex GmbH,globex.de,DE\n"


def test_match_writes_each_lead_with_its_account(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    run = icp("match", "--leads", "leads.csv", "-a", "accounts.csv", "-o", "matched.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Matched 2 of 3 leads" in run.stdout
    rows = list(csv.DictReader((tmp_path / "matched.csv").open(encoding="utf-8")))
    assert [(r["domain"], r["match_method"], r["confidence"]) for r in rows] == [
        ("acme.com", "email_domain", "1.0"), ("acme.com", "exact_name", "0.9"), ("", "", "0.0")]


def test_leads_without_an_email_or_company_column_are_refused(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("first_name,phone\nAnn,123\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    run = icp("match", "--leads", "leads.csv", "-a", "accounts.csv", "-o", "matched.csv", cwd=tmp_path)
    assert run.returncode == 1
    assert "leads.csv" in run.stderr and "e-mail" in run.stderr
    assert not (tmp_path / "matched.csv").exists()
