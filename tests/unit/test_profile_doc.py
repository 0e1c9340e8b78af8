"""The one-page ICP document: content, escaping of user text, self-containment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from icpkit.profile.load import load_profile
from icpkit.profile.model import Condition, Profile
from icpkit.report.profile_doc import describe_condition, render_html, render_markdown

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-rubric.yaml"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def seed() -> Profile:
    return load_profile(SEED)


def full_profile(narrative: dict[str, object] | None = None) -> Profile:
    """A profile that uses every feature, with hostile strings where users write text."""
    return Profile.model_validate({
        "name": f"Mid-market SaaS {HOSTILE}",
        "version": "2024-Q3",
        "description": "| pipe in the description",
        "criteria": [
            {"field": "industry", "weight": 30, "description": "=cmd()",
             "levels": [{"values": ["software", HOSTILE], "points": 30},
                        {"values": ["| pipe"], "points": 15, "label": "Pipe people"}],
             "aliases": {"saas": "software"}, "otherwise": 5, "missing": 2},
            {"field": "employees", "weight": 40,
             "range": {"min": 50, "max": 500, "tolerance": 0.25, "tolerance_points": 20}},
            {"field": "revenue", "weight": 10, "range": {"min": 1000000}},
            {"field": "days_since_funding", "weight": 10,
             "bins": [{"lte": 90, "points": 10, "label": "funded in the last 90 days"},
                      {"gt": 90, "lte": 365, "points": 5}]},
            {"field": "technologies", "weight": 10,
             "items": [{"values": ["Salesforce"], "points": 10},
                       {"values": ["HubSpot"], "points": 4, "label": "HubSpot (competitor)"}]},
        ],
        "adjustments": [
            {"name": "agency_penalty", "when": {"field": "industry", "in": ["agency", "consulting"]},
             "points": -15, "reason": "Agencies resell, they rarely buy"},
            {"name": "us_bonus", "when": {"field": "country", "eq": "US"}, "points": 5},
        ],
        "disqualifiers": [
            {"name": "tiny_or_unknown",
             "when": {"any": [{"field": "employees", "lt": 10},
                              {"all": [{"not": {"field": "country", "is_missing": True}},
                                       {"field": "country", "in": ["KP", "IR"]}]}]},
             "reason": "Sanctioned or too small to buy", "tier": "nurture_only"},
            {"name": "student", "when": {"field": "business_model", "eq": "student"},
             "reason": f"=cmd() {HOSTILE}"},
        ],
        "tiers": [
            {"name": "hot", "min": 80, "route": "ae_queue"},
            {"name": "warm", "min": 55.5, "route": "| pipe route"},
            {"name": "nurture_only", "min": 20, "route": "nurture"},
            {"name": "cold", "min": 0, "route": "suppress"},
        ],
        "abm": {"tier": "hot", "a": 25, "b": 100},
        "narrative": narrative if narrative is not None else {
            "summary": "Revenue teams outgrowing spreadsheets.",
            "pain_points": ["Pipeline reviews run on gut feel", HOSTILE],
            "buying_triggers": ["Series B closed in the last 90 days"],
            "key_roles": ["VP RevOps (champion)", "# CFO (signs)"],
            "buying_behaviour": ["Three-week trial, then security review"],
            "psychographics": ["Prefers self-serve evaluation"],
            "anti_icp": ["* Agencies reselling to their clients"],
        },
    })


def test_seed_rubric_markdown(seed: Profile) -> None:
    md = render_markdown(seed)
    assert md.startswith("# Seed rubric\n")
    assert "Version 1" in md and seed.version_hash in md
    assert "Five weighted criteria" in md
    for weight in ("| 25 |", "| 20 |", "| 15 |"):
        assert weight in md
    assert "50 to 500: 20" in md
    assert "37.5 to under 50 or over 500 to 625 (within 25%): 10" in md
    assert 'is "computer software" or "internet": 25' in md
    assert 'has "HubSpot" — HubSpot (competitor): 10' in md
    assert "funded in the last 90 days (<= 90): 20" in md
    assert "otherwise: 5; missing: 5" in md
    assert "| high | 70-100 | ae_queue |" in md
    assert "| monitor | 40-69.99 | nurture |" in md
    assert "| disqualify | 0-39.99 | suppress |" in md
    assert "A: top 50 of high by fit score; B: next 200; C: the rest of high" in md
    # no adjustments, kill list or narrative in the seed rubric: their sections are left out
    for absent in ("## Adjustments", "## Kill list", "## Pain points", "## Anti-ICP"):
        assert absent not in md


def test_seed_rubric_html(seed: Profile) -> None:
    html = render_html(seed)
    assert html.startswith("<!DOCTYPE html>")
    assert "<h1>Seed rubric</h1>" in html and seed.version_hash in html
    assert "37.5 to under 50 or over 500 to 625" in html and "625" in html
    assert "40-69.99" in html and "70-100" in html
    assert "Kill list" not in html and "Pain points" not in html


def test_every_feature_in_both_formats() -> None:
    prof = full_profile()
    for out in (render_markdown(prof), render_html(prof)):
        assert "2024-Q3" in out and prof.version_hash in out
        assert "37.5 to under 50 or over 500 to 625 (within 25%): 20" in out
        assert "1000000 or more: 10" in out
        assert "&gt; 90 and &lt;= 365: 5" in out or "> 90 and <= 365: 5" in out
        assert "-15" in out and "+5" in out
        assert "Agencies resell, they rarely buy" in out
        assert "Sanctioned or too small to buy" in out
        assert "80-100" in out and "55.5-79.99" in out and "20-55.49" in out and "0-19.99" in out
        assert "A: top 25 of hot by fit score; B: next 100; C: the rest of hot" in out
        for heading in ("Pain points", "Buying triggers", "Key roles", "Buying behaviour",
                        "Psychographics", "Anti-ICP notes"):
            assert heading in out
        for item in ("Pipeline reviews run on gut feel", "Series B closed in the last 90 days",
                     "VP RevOps (champion)", "Three-week trial, then security review",
                     "Prefers self-serve evaluation", "Revenue teams outgrowing spreadsheets."):
            assert item in out
    md = render_markdown(full_profile())
    assert "| tiny_or_unknown | any of (employees < 10; all of (not (country is missing); " in md
    assert "| nurture_only |" in md
    assert "| student | business_model is \"student\" | cold |" in md  # default: the lowest tier


def test_describe_condition() -> None:
    cond = Condition.model_validate({"all": [
        {"field": "industry", "in": ["agency", "consulting"]},
        {"field": "employees", "lt": 10},
        {"not": {"field": "country", "is_missing": True}},
        {"any": [{"field": "revenue", "between": [1, 2.5]}, {"field": "technologies", "contains_any": ["Excel"]},
                 {"field": "owner", "is_missing": False}, {"field": "region", "in": ["EMEA"]},
                 {"field": "employees", "gte": 1000000}, {"field": "public", "eq": True}]},
    ]})
    assert describe_condition(cond) == (
        'all of (industry is one of "agency", "consulting"; employees < 10; not (country is missing); '
        'any of (revenue is between 1 and 2.5 inclusive; technologies contains any of "Excel"; '
        'owner is present; region is "EMEA"; employees >= 1000000; public is true))'
    )


def test_hostile_strings_are_escaped_in_html() -> None:
    html = render_html(full_profile())
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "| pipe" in html  # harmless in HTML, shown as written
    assert "<td>=cmd() &lt;script&gt;alert(1)&lt;/script&gt;</td>" in html  # inert text in a cell


def test_hostile_strings_are_escaped_in_markdown() -> None:
    md = render_markdown(full_profile())
    assert re.search(r"(?<!\\)</?script", md) is None  # no tag a Markdown renderer would pass through
    assert r"\<script>alert(1)\</script>" in md
    # every table row keeps its column count: user pipes are escaped
    for line in md.splitlines():
        if line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) - 2 in (3, 4), line
    assert r"\| pipe in the description" in md
    assert r'is "\| pipe" — Pipe people: 15' in md
    assert r"\| pipe route" in md
    # text that would start a formula, heading or list item at a line start is neutralised
    assert r"industry — \=cmd()" in md
    assert r"| \=cmd() \<script>" in md
    assert r"- \# CFO (signs)" in md
    assert r"- \* Agencies reselling to their clients" in md
    assert "\n# CFO" not in md and "\n=cmd()" not in md


def test_html_is_self_contained() -> None:
    for prof in (full_profile(), load_profile(SEED)):
        html = render_html(prof)
        assert "http://" not in html and "https://" not in html
        for ref in ("<script", "<link", "<img", "src=", "href=", "@import", "url(", "@font-face"):
            assert ref not in html.lower(), ref
        assert "<style>" in html and "size: A4" in html


def test_empty_narrative_sections_are_omitted() -> None:
    prof = full_profile({"pain_points": ["Forecasts miss by 30%"], "psychographics": []})
    md, html = render_markdown(prof), render_html(prof)
    for out in (md, html):
        assert "Pain points" in out and "Forecasts miss by 30%" in out
        for heading in ("Buying triggers", "Key roles", "Buying behaviour", "Psychographics", "Anti-ICP"):
            assert heading not in out
    assert 'class="narrative"' in html
    assert 'class="narrative"' not in render_html(full_profile({}))
    assert "## Pain points" not in render_markdown(full_profile({}))
