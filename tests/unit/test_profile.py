"""The profile file: loading, validation with locations, hashing, schema."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from icpkit.errors import ProfileError
from icpkit.profile.load import dump_profile, json_schema, load_profile, parse_profile

ROOT = Path(__file__).resolve().parents[2]
SEED_TEXT = (ROOT / "examples" / "seed-rubric.yaml").read_text()
MINIMAL = "name: x\ncriteria:\n  - field: industry\n    weight: 10\n    levels: [{values: [a], points: 10}]\n"


def error_of(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, source="p.yaml")
    return info.value


def test_bundled_profiles_are_valid() -> None:
    for text in (SEED_TEXT, files("icpkit.demo").joinpath("profile.yaml").read_text(),
                 files("icpkit.profile").joinpath("starter.yaml").read_text()):
        profile = parse_profile(text)
        assert profile.total_weight == 100


def test_seed_rubric_is_the_texts_framework() -> None:
    p = load_profile(ROOT / "examples" / "seed-rubric.yaml")
    assert [(c.field, c.weight) for c in p.criteria] == [
        ("industry", 25), ("employees", 20), ("technologies", 20), ("country", 15), ("days_since_funding", 20)]
    assert [(t.name, t.min, t.route) for t in p.ordered_tiers] == [
        ("high", 70, "ae_queue"), ("monitor", 40, "nurture"), ("disqualify", 0, "suppress")]


def test_unknown_keys_name_line_path_and_suggestion() -> None:
    err = error_of(SEED_TEXT.replace("tolerance_points", "tolerence_points").replace("otherwise: 5", "otherwse: 5"))
    assert len(err.errors) == 2
    first, second = err.errors
    assert first.where == "p.yaml, line 22, key 'criteria[1].range.tolerence_points'"
    assert first.hint == "did you mean 'tolerance_points'?"
    assert "criteria[2].otherwse" in second.where and second.hint == "did you mean 'otherwise'?"


def test_unknown_top_level_key_and_missing_required() -> None:
    err = error_of("nmae: x\ncriteria: []\n")
    messages = {p.message for p in err.errors}
    assert "unknown key 'nmae'" in messages and "required key 'name' is missing" in messages
    assert any(p.hint == "did you mean 'name'?" for p in err.errors)


@pytest.mark.parametrize("text,message", [
    (MINIMAL.replace("points: 10", "points: 20"), "20 points is outside 0..weight (10)"),
    (MINIMAL.replace("levels: [{values: [a], points: 10}]", "range: {min: 5}\n    bins: [{lt: 3, points: 1}]"),
     "exactly one rule"),
    (MINIMAL.replace("levels: [{values: [a], points: 10}]", "range: {min: 5, max: 1}"), "min is above max"),
    (MINIMAL.replace("levels: [{values: [a], points: 10}]", "range: {min: 5}"), "used as number and as text"),
    (MINIMAL + "tiers: [{name: high, min: 50, route: x}]\n", "lowest tier must start at min: 0"),
    (MINIMAL + "adjustments: [{name: a, when: {field: employees, lt: 1, gt: 5}, points: 3}]\n",
     "exactly one of"),
    (MINIMAL + "adjustments: [{name: a, when: {lt: 1}, points: 3}]\n", "needs a 'field'"),
    (MINIMAL + "disqualifiers: [{name: d, when: {field: x, eq: 1}, reason: r, tier: nope}]\n", "not one of"),
    (MINIMAL + "abm: {tier: vip}\n", "abm.tier 'vip'"),
    ("name: x\ncriteria: [\n", "not valid YAML"),
    ("- just\n- a list\n", "must be a YAML mapping"),
])
def test_invalid_profiles_explain_themselves(text: str, message: str) -> None:
    assert message in str(error_of(text))


def test_yaml_syntax_error_has_line() -> None:
    assert error_of("name: x\ncriteria:\n  - field: industry\n   weight: 1\n").where.startswith("p.yaml, line 4")


def test_version_hash_tracks_scoring_rules_only() -> None:
    base = parse_profile(SEED_TEXT)
    assert base.version_hash == parse_profile(SEED_TEXT).version_hash
    renamed = parse_profile(SEED_TEXT.replace("name: Seed rubric", "name: Renamed"))
    assert renamed.version_hash == base.version_hash
    changed = parse_profile(SEED_TEXT.replace("points: 25", "points: 24"))
    assert changed.version_hash != base.version_hash


def test_dump_round_trips() -> None:
    p = parse_profile(SEED_TEXT)
    assert parse_profile(dump_profile(p)) == p


def test_json_schema_describes_every_key() -> None:
    schema = json.loads(json_schema())
    assert schema["additionalProperties"] is False
    crit = schema["$defs"]["Criterion"]["properties"]
    assert {"levels", "range", "bins", "items", "otherwise", "missing", "aliases"} <= set(crit)
    assert {"in", "not", "all", "any", "between"} <= set(schema["$defs"]["Condition"]["properties"])


def test_missing_file_has_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not found") as info:
        load_profile(tmp_path / "nope.yaml")
    assert "icp init" in info.value.hint
