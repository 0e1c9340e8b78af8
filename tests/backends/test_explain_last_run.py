"""`icp explain DOMAIN` answered from the last run's output: the same breakdown a new run
gives, without scoring the input again; and a new run whenever the output could be stale."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from icpkit.api import score, score_to
from icpkit.demo.generate import generate_demo
from icpkit.lastrun import explain_from_last_run
from icpkit.profile.load import load_profile
from icpkit.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
DEMO_PROFILE = ROOT / "src" / "icpkit" / "demo" / "profile.yaml"
SHARED = ROOT.parent / "shared" / "data" / "companies_pdl_top21k"

#: What `icp explain` prints of a row.
SHOWN = ("domain", "name", "fit_score", "tier", "abm_tier", "route", "disqualified_by", "profile_version")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo(tmp_path_factory.mktemp("demo"), n_accounts=400, seed=3).accounts


def by_domain(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["domain"]: r for r in table.to_pylist()}


def assert_same_breakdown(quick: dict[str, Any], full: dict[str, Any]) -> None:
    keys = [k for k in full if k in SHOWN or k.startswith(("points_", "reason_"))]
    assert {k: quick.get(k) for k in keys} == {k: full[k] for k in keys}


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_accounts_are_explained_from_the_output_as_a_new_run_explains_them(
        tmp_path: Path, demo: Path, suffix: str) -> None:
    ws = Workspace(tmp_path / ".icp")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    score_to(DEMO_PROFILE, demo, tmp_path / f"scores.{suffix}", workspace=ws, scored_at=at, backend="duckdb")
    full = by_domain(score(DEMO_PROFILE, demo, explain=True, scored_at=at))
    assert {r["abm_tier"] for r in full.values()} >= {"A", None}
    for domain in list(full)[::12]:  # every 12th account: each tier, ABM tiers and disqualified ones
        quick = explain_from_last_run(ws, domain.upper())  # any spelling of the domain
        assert quick is not None, domain
        assert_same_breakdown(quick.row, full[domain])
    assert explain_from_last_run(ws, "no-such-account.example") is None  # a new run says why


def test_rows_set_aside_and_duplicates_are_explained_as_the_run_kept_them(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "domain,name,industry,employees,country,technologies,days_since_funding\n"
        "https://www.acme.com/about,Acme,Computer Software,lots,US,Salesforce,10\n"  # bad: set aside
        "ACME.com,Acme Inc,Internet,120,US,HubSpot,200\n"  # kept: the first readable acme.com
        "acme.com,Acme again,Retail,5,DE,,\n"  # a duplicate: set aside
        "beta.io,=cmd|' /C calc'!A0,Retail,8,DE,,\n"  # a name a spreadsheet would run
        + "".join(f"c{i}.com,C{i},Internet,{50 + i},US,Salesforce,{i}\n" for i in range(60)),
        encoding="utf-8")
    profile = ROOT / "examples" / "seed-rubric.yaml"
    ws = Workspace(tmp_path / ".icp")
    run = score_to(profile, accounts, tmp_path / "scores.csv", workspace=ws, on_error="skip")
    assert len(run.rejects.rows) == 2
    full = by_domain(score(profile, accounts, explain=True, on_error="skip"))
    for domain in ("acme.com", "beta.io", "c7.com"):
        quick = explain_from_last_run(ws, domain)
        assert quick is not None, domain
        assert_same_breakdown(quick.row, full[domain])
    assert explain_from_last_run(ws, "acme.com").row["name"] == "Acme Inc"  # type: ignore[union-attr]
    assert explain_from_last_run(ws, "beta.io").row["name"] == "=cmd|' /C calc'!A0"  # type: ignore[union-attr]


def test_intent_comes_from_the_run(tmp_path: Path) -> None:
    files = generate_demo(tmp_path / "crm", n_accounts=200, seed=5)
    profile = load_profile(DEMO_PROFILE).model_copy(update={"intent": load_profile(ROOT / "examples" / "intent.yaml").intent})
    profile_file = tmp_path / "intent-profile.yaml"
    from icpkit.profile.load import dump_profile

    profile_file.write_text(dump_profile(profile), encoding="utf-8")
    ws = Workspace(tmp_path / ".icp")
    as_of = datetime(2026, 7, 1, tzinfo=UTC)  # the demo's events end on 2026-06-30
    score_to(profile_file, files.accounts, tmp_path / "scores.parquet", workspace=ws, events=files.events, as_of=as_of)
    full = by_domain(score(profile_file, files.accounts, explain=True, events=files.events, as_of=as_of))
    engaged = [d for d, r in full.items() if r["intent_score"]]
    assert engaged
    for domain in engaged[:10]:
        quick = explain_from_last_run(ws, domain)
        assert quick is not None
        assert_same_breakdown(quick.row, full[domain])
        intent = [k for k in full[domain] if k.startswith(("intent", "buying", "priority", "persona"))]
        assert "intent_score" in intent and "intent_reasons" in intent
        assert {k: quick.row[k] for k in intent} == {k: full[domain][k] for k in intent}


def test_a_changed_input_profile_or_output_is_scored_again(tmp_path: Path, demo: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes(demo.read_bytes())
    profile = tmp_path / "profile.yaml"
    profile.write_text(DEMO_PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    ws = Workspace(tmp_path / ".icp")
    out = tmp_path / "scores.csv"
    score_to(profile, accounts, out, workspace=ws)
    domain = next(iter(by_domain(score(profile, accounts))))
    assert explain_from_last_run(ws, domain) is not None

    def later(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))

    for path, text in ((accounts, demo.read_text(encoding="utf-8") + "\n"),
                       (profile, DEMO_PROFILE.read_text(encoding="utf-8") + "\n# edited\n"),
                       (out, out.read_text(encoding="utf-8").replace("\n", "\n", 1) + "x\n")):
        original = path.read_text(encoding="utf-8")
        later(path, text)
        assert explain_from_last_run(ws, domain) is None, path.name
        later(path, original)
    score_to(profile, accounts, "scores", workspace=ws)  # a table of the workspace: a new run reads it
    assert explain_from_last_run(ws, domain) is None


def test_the_quick_answer_loads_no_engine(tmp_path: Path, demo: Path) -> None:
    ws = tmp_path / ".icp"
    score_to(DEMO_PROFILE, demo, tmp_path / "scores.csv", workspace=Workspace(ws))
    domain = next(iter(by_domain(score(DEMO_PROFILE, demo))))
    code = ("import sys; from icpkit.lastrun import explain_from_last_run; from icpkit.workspace import Workspace; "
            f"r = explain_from_last_run(Workspace(sys.argv[1]), {domain!r}); "
            "print(r is not None, sorted(m for m in ('duckdb', 'ibis', 'sqlglot') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(ws)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True []"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared real datasets are not present")
def test_the_pdl_company_sample(tmp_path: Path) -> None:
    accounts = SHARED / "companies_sorted_top21000.csv"
    profile = ROOT / "bench" / "pdl-profile.yaml"  # the profile bench/bench_explain.py measures
    ws = Workspace(tmp_path / ".icp")
    run = score_to(profile, accounts, tmp_path / "scores.csv", workspace=ws, on_error="skip")
    assert run.rows > 15_000 and run.rejects.rows  # rows without a domain, and duplicates, set aside
    full = by_domain(score(profile, accounts, explain=True, on_error="skip"))
    for domain in list(full)[:: len(full) // 25]:
        quick = explain_from_last_run(ws, domain)
        assert quick is not None, domain
        assert_same_breakdown(quick.row, full[domain])
