"""TAM sizing on a generated universe and on the real PDL company sample, and its
breakdown by industry group, country and size band on every engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from icpkit.api import size_tam
from icpkit.discover.segments import MAX_VALUES
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
    # Only the dimensions the universe has a column for: here, industry.
    assert tam.dimensions == ["industry_group"]
    assert tam.segments["high"] == {"industry_group": {"Technology, Information and Media": internet}}
    assert tam.segments["disqualify"] == {"industry_group": {"Retail": other}}


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
    # PDL writes V1 industries and country names in lower case ("united states"); the
    # breakdown reads them as scoring does, and employees through the profile's mapping.
    high = tam.segments["high"]
    assert high["industry_group"] == {"Technology, Information and Media": tam.tiers["high"]}
    assert high["country"] == {"US": tam.tiers["high"]}
    assert sum(high["size_band"].values()) == tam.tiers["high"]
    assert set(high["size_band"]) <= {"501-1,000", "1,001-5,000", "5,001-10,000", "10,001+"}  # the largest companies
    rest = tam.segments["disqualify"]
    assert "unknown industry" not in rest["industry_group"] and len(rest["industry_group"]) >= 15
    assert "US" not in rest["country"] and len(rest["country"]) == 10 + 2  # top 10, other, missing
    assert list(rest["country"])[-2:] == ["other", "missing"]


# A tier set by a column of its own, so each tier's breakdown is known by construction; the
# profile scores none of the broken-down fields (a breakdown needs only the column).
SEGMENTED = parse_profile(
    "name: seg\ncolumns: {employees: staff}\ncriteria:\n"
    "  - field: fit\n    weight: 10\n    levels: [{values: ['yes'], points: 10}]\n"
)
SEGMENT_ROWS = [  # domain, fit, Industry, Country/Region (HubSpot's headers), staff (mapped to employees)
    ("a.example", "yes", "Computer Software", "United States", "12"),
    ("b.example", "yes", "COMPUTER_SOFTWARE", "usa", "1.2k"),
    ("c.example", "yes", "information technology & services", "DE", "10001"),
    ("d.example", "yes", "  Hospital & Health Care ", "Germany", "10"),
    ("e.example", "yes", "", "Atlantis", None),
    ("f.example", "no", "widgets and gadgets", "", "11"),
    ("g.example", "no", "retail", "FR", "n/a"),
    ("h.example", "no", None, "fr", "5000"),
    ("i.example", "no", "n/a", "France", "5001"),
    (None, "yes", "internet", "US", "50"),  # no domain: set aside, in no breakdown
]


def segment_universe() -> pa.Table:
    cols = list(zip(*SEGMENT_ROWS))
    return pa.table({name: pa.array(values, pa.string())
                     for name, values in zip(["domain", "fit", "Industry", "Country/Region", "staff"], cols)})


def test_breakdown_by_segment_on_every_engine(engine: Any) -> None:
    tam = size_tam(SEGMENTED, segment_universe(), backend=engine)
    assert tam.tiers == {"high": 5, "monitor": 0, "disqualify": 4} and tam.rejected == 1
    assert tam.dimensions == ["industry_group", "country", "size_band"]
    high, low = tam.segments["high"], tam.segments["disqualify"]
    # Every spelling of an industry lands in its top-level group; largest first, then
    # unknown values and blanks ("n/a" is blank).
    assert list(high["industry_group"].items()) == [
        ("Technology, Information and Media", 2), ("Hospitals and Health Care", 1), ("Professional Services", 1),
        ("missing", 1)]
    assert list(low["industry_group"].items()) == [("Retail", 1), ("unknown industry", 1), ("missing", 2)]
    # Countries as scoring reads them (ISO codes), names it does not know apart.
    assert list(high["country"].items()) == [("DE", 2), ("US", 2), ("unknown country", 1)]
    assert list(low["country"].items()) == [("FR", 3), ("missing", 1)]
    # LinkedIn's size bands, in band order, from the mapped column ("1.2k" is 1,200).
    assert list(high["size_band"].items()) == [("1-10", 1), ("11-50", 1), ("1,001-5,000", 1), ("10,001+", 1),
                                               ("missing", 1)]
    assert list(low["size_band"].items()) == [("11-50", 1), ("1,001-5,000", 1), ("5,001-10,000", 1), ("missing", 1)]
    assert tam.segments["monitor"] == {"industry_group": {}, "country": {}, "size_band": {}}
    assert tam.to_dict()["segments"] == tam.segments


def test_many_distinct_values_are_capped_as_other() -> None:
    n = MAX_VALUES + 100
    universe = pa.table({"domain": [f"c{i}.example" for i in range(n)], "fit": ["no"] * n,
                         "industry": [f"made-up industry {i:05d}" for i in range(n)]})
    profile = parse_profile(
        "name: fit\ncriteria:\n  - field: fit\n    weight: 10\n    levels: [{values: ['yes'], points: 10}]\n")
    tam = size_tam(profile, universe)
    assert tam.segments["disqualify"]["industry_group"] == {"other": 100, "unknown industry": MAX_VALUES}
