"""The industry taxonomy: every vendor's spelling reads as one LinkedIn industry, and a profile
matches industries, groups and unknown values as docs/profile.md says (one record at a time;
tests/sql holds the SQL to the same values)."""

from __future__ import annotations

import re

import pytest

from icpkit.io import record as rv
from icpkit.io.industries import industries, industry_label, industry_members, industry_spellings
from icpkit.profile.model import Profile
from icpkit.scoring.record import Scorer


def test_every_v1_label_reads_as_its_id() -> None:
    table = industries()
    v1 = [i for i in table.values() if i.v1_label]
    assert len(table) >= 434 and len(v1) == 147
    for i in v1:
        hubspot = re.sub("[^A-Za-z0-9]+", "_", i.v1_label).upper()  # COMPUTER_SOFTWARE, LEISURE_TRAVEL_TOURISM
        for spelling in (i.v1_label, hubspot):
            assert industry_spellings()[spelling.lower()] == i.label, spelling
            assert industry_label(spelling) == i.label


@pytest.mark.parametrize(("spelling", "label"), [
    ("Computer Software", "Software Development"),  # PDL, LinkedIn V1
    ("computer software", "Software Development"),  # Apollo
    ("COMPUTER_SOFTWARE", "Software Development"),  # HubSpot
    ("information technology & services", "IT Services and IT Consulting"),  # Apollo
    ("INFORMATION_TECHNOLOGY_AND_SERVICES", "IT Services and IT Consulting"),  # HubSpot
    ("Information Technology and Services", "IT Services and IT Consulting"),  # PDL
    ("Marketing & Advertising", "Advertising Services"),
    ("HOSPITAL_HEALTH_CARE", "Hospitals and Health Care"),
    ("Technology", "Technology, Information and Media"),  # Salesforce picklist: a group
    ("Not For Profit", "Non-profit Organizations"),
    ("  e-learning ", "E-Learning Providers"),
])
def test_vendor_spellings(spelling: str, label: str) -> None:
    assert industry_spellings()[spelling.strip().lower()] == label
    assert industry_label(spelling) == label
    assert not rv.industry_is_unrecognised(spelling)


def test_unknown_and_blank_values() -> None:
    assert rv.industry_is_unrecognised("  Widgets  ")
    for blank in (None, "", " ", "n/a", "-"):
        assert not rv.industry_is_unrecognised(blank)


def test_groups_hold_their_industries() -> None:
    tech = [label for label, _ in industry_members("Technology, Information and Media")]
    assert {"Software Development", "Embedded Software Products", "Telecommunications"} <= set(tech)
    assert "IT Services and IT Consulting" not in tech  # Professional Services in V2
    assert ("IT System Custom Software Development", 1) in industry_members("IT Services and IT Consulting")
    assert industry_members("Software Development")[0] == ("Software Development", 0)
    assert industry_label("technology, information & media") == "Technology, Information and Media"


def _score(levels: list[dict[str, object]], industry: str | None) -> tuple[float, str]:
    profile = Profile.model_validate({"name": "t", "criteria": [
        {"field": "industry", "weight": 100, "levels": levels, "otherwise": 0, "missing": 0}]})
    out = Scorer(profile).score({"domain": "acme.com", "industry": industry})
    return out["points_industry"], out["reasons"]


def test_any_spelling_matches_any_spelling() -> None:
    levels = [{"values": ["computer software"], "points": 100}]
    for data in ("Computer Software", "COMPUTER_SOFTWARE", "Software Development", " software development "):
        assert _score(levels, data)[0] == 100, data
    assert _score([{"values": ["COMPUTER_SOFTWARE"], "points": 100}], "computer software")[0] == 100


def test_a_group_matches_what_is_below_it_and_a_named_industry_wins() -> None:
    levels = [{"values": ["Technology, Information and Media"], "points": 10},
              {"values": ["Software Development"], "points": 100}]
    assert _score(levels, "Embedded Software Products")[0] == 100  # below Software Development
    assert _score(levels, "Computer Software")[0] == 100  # named itself: wins over the group listed first
    assert _score(levels, "Telecommunications")[0] == 10
    assert _score(levels, "Banking")[0] == 0
    assert _score([{"values": ["Technology"], "points": 7}], "internet")[0] == 7  # Salesforce's group


def test_a_v1_label_names_one_industry() -> None:
    # "Internet" became V2's "Technology, Information and Internet", which holds Software
    # Development: a V1 profile naming "Internet" keeps meaning Internet only.
    levels = [{"values": ["Internet"], "points": 50}]
    assert _score(levels, "Internet")[0] == 50
    assert _score(levels, "Technology, Information and Internet")[0] == 50
    assert _score(levels, "Computer Software")[0] == 0
    assert _score([{"values": ["Technology, Information and Internet"], "points": 50}], "Computer Software")[0] == 50


def test_unknown_values_match_as_written() -> None:
    levels = [{"values": ["Fintech"], "points": 100}]
    assert _score(levels, " fintech ")[0] == 100
    assert _score(levels, "Financial Services")[0] == 0
