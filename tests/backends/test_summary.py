"""The run summary (tier counts, top accounts) agrees with the scored rows themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

import icpkit
from icpkit.api import score_rows
from icpkit.backends.duckdb import DuckDBBackend
from icpkit.demo.generate import generate_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("profile", ["examples/seed-rubric.yaml", "src/icpkit/demo/profile.yaml"])
@pytest.mark.parametrize("n", [1, 7, 60, 5000])
def test_tier_counts_and_top_match_a_full_sort(tmp_path: Path, profile: str, n: int) -> None:
    demo = generate_demo(tmp_path, n_accounts=600, seed=3)
    backend = DuckDBBackend()
    try:
        scored = score_rows(backend, icpkit.load_profile(ROOT / profile), demo.accounts, on_error="skip")
        sql = scored.sql()
        naive_tiers = dict(backend.rows(f"SELECT tier, count(*) FROM ({sql}) GROUP BY tier"))
        assert dict(backend.rows(backend.compile(scored.plan.tier_counts()))) == naive_tiers
        naive_top = backend.rows(f"SELECT domain, fit_score FROM ({sql}) ORDER BY fit_score DESC, domain LIMIT {n}")
        top = backend.rows(backend.compile(scored.plan.top(n).select("domain", "fit_score")))
        assert top == naive_top
    finally:
        backend.close()
