"""The run summary (tier counts, top accounts) agrees with the scored rows themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

import icpkit
from icpkit.backends import connect
from icpkit.run import score_rows
from icpkit.demo.generate import generate_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("profile", ["examples/seed-rubric.yaml", "src/icpkit/demo/profile.yaml"])
@pytest.mark.parametrize("n", [1, 7, 60, 5000])
def test_tier_counts_and_top_match_a_full_sort(tmp_path: Path, profile: str, n: int) -> None:
    demo = generate_demo(tmp_path, n_accounts=600, seed=3)
    backend = connect()
    try:
        scored = score_rows(backend, icpkit.load_profile(ROOT / profile), demo.accounts, on_error="skip")
        rows = backend.to_arrow(scored.result()).to_pylist()
        naive_tiers: dict[str, int] = {}
        for r in rows:
            naive_tiers[r["tier"]] = naive_tiers.get(r["tier"], 0) + 1
        tiers = {r["tier"]: r["accounts"] for r in backend.to_arrow(scored.plan.tier_counts()).to_pylist()}
        assert tiers == naive_tiers
        naive_top = [(r["domain"], r["fit_score"]) for r in sorted(rows, key=lambda r: (-r["fit_score"], r["domain"]))[:n]]
        top = [(r["domain"], r["fit_score"]) for r in backend.to_arrow(scored.plan.top(n)).to_pylist()]
        assert top == naive_top
    finally:
        backend.close()
