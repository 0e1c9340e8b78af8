"""TAM sizing on a generated universe and on the real PDL company sample."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from icpkit.api import size_tam
from icpkit.discover.tam import TamLimits
from icpkit.profile.load import parse_profile

PROFILE = parse_profile(
    "name: t\ncriteria:\n  - field: industry\n    weight: 10\n    levels: [{values: [internet], points: 10}]\n"
)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "companies_pdl_top21k"


def universe(n_internet: int, n_other: int) -> pa.Table:
    n = n_internet + n_other
    return pa.table({"domain": [f"c{i}.example" for i in range(n)] + [None],
                     "industry": ["internet"] * n_internet + ["retail"] * n_other + ["retail"]})


@pytest.mark.parametrize("internet,other,verdict", [(10, 1000, "too narrow"), (300, 1000, "too broad"),
                                                   (100, 1000, "ok"), (6000, 40000, "too broad")])
def test_verdicts(internet: int, other: int, verdict: str) -> None:
    tam = size_tam(PROFILE, universe(internet, other))
    assert tam.verdict == verdict
    assert tam.tiers == {"high": internet, "monitor": 0, "disqualify": other}
    assert tam.total == internet + other and tam.rejected == 1  # the row without a domain
    assert (verdict == "ok") == (not tam.warnings)


def test_limits_are_configurable() -> None:
    assert size_tam(PROFILE, universe(10, 1000), limits=TamLimits(narrow=5)).verdict == "ok"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared real datasets are not present")
def test_real_company_sample() -> None:
    profile = parse_profile(
        "name: pdl\ncolumns: {employees: current employee estimate}\ncriteria:\n"
        "  - field: industry\n    weight: 50\n    levels: [{values: [computer software, internet], points: 50}]\n"
        "  - field: country\n    weight: 50\n    levels: [{values: [United States], points: 50}]\n"
    )
    tam = size_tam(profile, SHARED / "companies_sorted_top21000.csv")
    assert tam.total + tam.rejected == 21000
    assert 100 < tam.tiers["high"] < 2000  # US software/internet companies of 1,000+ people
    assert tam.verdict == "ok"
