"""The intent section of a profile: what validation refuses, and where it says the problem is."""

from __future__ import annotations

from pathlib import Path

import pytest

from icpkit.errors import Problem
from icpkit.profile.load import load_profile, parse_profile
from tests.unit.test_profile import error_of

ROOT = Path(__file__).resolve().parents[2]

BASE = """name: x
intent:
  decay: {half_life_days: 14}
  signals:
    - {type: pricing_page_view, points: 10, cap_per_day: 3}
    - {type: demo_request, points: 30}
  buying_group: {types: [demo_request], min_people: 3, window_days: 14, points: 20}
"""

CRITERION = "criteria:\n  - {field: industry, weight: 10, levels: [{values: [a], points: 10}]}\n"


def one_error(text: str) -> Problem:
    """The one problem of a profile text."""
    err = error_of(text)
    assert len(err.errors) == 1, err.errors
    return err.errors[0]


def test_the_example_and_a_minimal_intent_profile_are_valid() -> None:
    example = load_profile(ROOT / "examples" / "intent.yaml")
    assert example.intent is not None and not example.criteria
    assert [(s.type, s.points, s.cap_per_day) for s in example.intent.signals] == [
        ("pricing_page_view", 10, 3), ("demo_request", 30, None), ("security_doc_view", 5, None),
        ("careers_page_view", -15, None)]
    assert example.intent.decay is not None and example.intent.decay.half_life_days == 14
    bg = example.intent.buying_group
    assert bg is not None and (bg.min_people, bg.window_days, bg.points) == (3, 14, 20)
    assert sorted(bg.types) == ["demo_request", "security_doc_view"]
    assert parse_profile(BASE).intent is not None
    assert parse_profile(BASE + CRITERION).criteria


@pytest.mark.parametrize("text,key,message", [
    (BASE.replace("  decay:", "  decai:"), "intent.decai", "unknown key 'decai'"),
    (BASE.replace("cap_per_day", "cap_per_dya"), "intent.signals[0].cap_per_dya", "unknown key 'cap_per_dya'"),
    (BASE.replace("min_people", "min_peopel"), "intent.buying_group.min_peopel", "unknown key 'min_peopel'"),
    (BASE.replace("{half_life_days: 14}", "{half_life: 14}"), "intent.decay.half_life", "unknown key 'half_life'"),
    (BASE + "  weight: 3\n", "intent.weight", "unknown key 'weight'"),
])
def test_unknown_keys_under_intent(text: str, key: str, message: str) -> None:
    err = error_of(text)
    problems = [p for p in err.errors if p.message == message]
    assert len(problems) == 1, err.errors
    assert f"key '{key}'" in problems[0].where and "p.yaml, line" in problems[0].where


def test_unknown_key_under_intent_is_suggested_and_located() -> None:
    err = error_of(BASE.replace("  decay:", "  decai:"))
    assert err.errors[0].where == "p.yaml, line 3, key 'intent.decai'"
    assert err.errors[0].hint == "did you mean 'decay'?"


@pytest.mark.parametrize("text,key,message", [
    (BASE.replace("{half_life_days: 14}", "{half_life_days: 14, lifespan_days: 30}"), "intent.decay",
     "exactly one of half_life_days, lifespan_days"),
    (BASE.replace("{half_life_days: 14}", "{}"), "intent.decay", "exactly one of half_life_days, lifespan_days"),
    (BASE.replace("points: 30}", "points: 30, decay: {lifespan_days: 5, half_life_days: 2}}"),
     "intent.signals[1].decay", "exactly one of half_life_days, lifespan_days"),
    (BASE.replace("points: 30}", "points: 30, decay: {}}"), "intent.signals[1].decay",
     "exactly one of half_life_days, lifespan_days"),
    (BASE.replace("{half_life_days: 14}", "{half_life_days: 0}"), "intent.decay.half_life_days", "greater than 0"),
    (BASE.replace("{half_life_days: 14}", "{lifespan_days: -3}"), "intent.decay.lifespan_days", "greater than 0"),
])
def test_decay_takes_exactly_one_positive_form(text: str, key: str, message: str) -> None:
    problem = one_error(text)
    assert f"key '{key}'" in problem.where and message in problem.message, problem


@pytest.mark.parametrize("text,key,message", [
    (BASE.replace("points: 30", "points: 0"), "intent.signals[1].points", "0 points does nothing"),
    (BASE.replace("points: 10,", "points: 0.0,"), "intent.signals[0].points", "0 points does nothing"),
    (BASE.replace("cap_per_day: 3", "cap_per_day: 0"), "intent.signals[0].cap_per_day", "greater than or equal to 1"),
    (BASE.replace("points: 30}", "points: 30, cap_per_window: 0}"), "intent.signals[1].cap_per_window",
     "greater than or equal to 1"),
    (BASE.replace("type: demo_request, ", "type: '', "), "intent.signals[1].type", "at least 1 character"),
    (BASE.replace("  decay:", "  window_days: 0\n  decay:"), "intent.window_days", "greater than 0"),
    ("name: x\nintent:\n  signals: []\n", "intent.signals", "at least 1 item"),
    ("name: x\nintent:\n  decay: {half_life_days: 3}\n", "intent.signals", "required key 'signals' is missing"),
])
def test_signal_and_window_values(text: str, key: str, message: str) -> None:
    problem = one_error(text)
    assert f"key '{key}'" in problem.where and message in problem.message, problem


@pytest.mark.parametrize("second", ["demo_request", "Demo_Request", "DEMO_REQUEST", " demo_request "])
def test_duplicate_signal_types_in_any_case(second: str) -> None:
    problem = one_error(BASE.replace("type: pricing_page_view", f"type: '{second}'"))
    assert problem.where == "p.yaml, line 2, key 'intent'"
    assert problem.message == "signal types must be unique: demo_request"


@pytest.mark.parametrize("text,key,message", [
    (BASE.replace("min_people: 3", "min_people: 1"), "intent.buying_group.min_people", "greater than or equal to 2"),
    (BASE.replace("min_people: 3", "min_people: 0"), "intent.buying_group.min_people", "greater than or equal to 2"),
    (BASE.replace("min_people: 3, ", ""), "intent.buying_group.min_people", "required key 'min_people' is missing"),
    (BASE.replace("types: [demo_request]", "types: []"), "intent.buying_group.types", "at least 1 item"),
    (BASE.replace("window_days: 14,", "window_days: 0,"), "intent.buying_group.window_days", "greater than 0"),
])
def test_buying_group_values(text: str, key: str, message: str) -> None:
    problem = one_error(text)
    assert f"key '{key}'" in problem.where and message in problem.message, problem


@pytest.mark.parametrize("text,words", [
    ("name: x\n", ("criteria", "intent")),
    ("name: x\ncriteria: []\nintent: null\n", ("criteria", "intent")),
    (BASE + "adjustments:\n  - {name: a, when: {field: industry, eq: x}, points: 5}\n", ("adjustments", "criteria")),
    (BASE + "disqualifiers:\n  - {name: a, when: {field: industry, eq: x}, reason: r}\n",
     ("disqualifiers", "criteria")),
])
def test_a_profile_needs_criteria_or_intent_and_adjustments_need_criteria(text: str, words: tuple[str, ...]) -> None:
    problem = one_error(text)
    assert problem.where.startswith("p.yaml")
    assert all(w in problem.message for w in words), problem
    parse_profile(text.replace("name: x\n", "name: x\n" + CRITERION).replace("criteria: []\n", ""))  # with criteria: fine


def test_several_intent_problems_are_reported_at_once() -> None:
    text = BASE.replace("points: 30", "points: 0").replace("min_people: 3", "min_people: 1").replace(
        "  decay:", "  decai:")
    err = error_of(text)
    keys = sorted(p.where.split("key ")[1] for p in err.errors)
    assert keys == ["'intent.buying_group.min_people'", "'intent.decai'", "'intent.signals[1].points'"]


def test_version_hash_changes_with_intent_and_not_without_it() -> None:
    plain = parse_profile("name: x\n" + CRITERION)
    assert parse_profile("name: y\n" + CRITERION).version_hash == plain.version_hash
    with_intent = parse_profile(BASE + CRITERION)
    assert with_intent.version_hash != plain.version_hash
    assert parse_profile((BASE + CRITERION).replace("points: 20", "points: 25")).version_hash != with_intent.version_hash
