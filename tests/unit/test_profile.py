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


def test_a_control_character_is_a_profile_error_with_its_line() -> None:
    err = error_of("name: x\ndescription: a\x0cb\n")
    assert "U+000C is not allowed" in err.message and err.where == "p.yaml, line 2"


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


# -- hostile and careless input (issue 10) -------------------------------------------------------

def billion_laughs(levels: int = 10) -> str:
    """Ten lines of nested aliases: 9**10 (3.5 billion) values once expanded."""
    lines = ["name: lol", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\ncriteria: []\n"


def test_aliases_that_expand_to_millions_are_refused_with_their_line() -> None:
    # 9**7 values: expanded, seconds and a gigabyte; at 10 levels, minutes and 4 GB (see tests/cli)
    err = error_of(billion_laughs(7))
    assert "aliases expand to more than 100,000 values" in err.message
    assert err.where.startswith("p.yaml, line ") and int(err.where.split("line ")[1]) in range(3, 12)


def test_a_few_aliases_and_merge_keys_still_load() -> None:
    text = MINIMAL.replace("levels: [{values: [a], points: 10}]", "levels: [{values: &soft [a, b], points: 10}]") + (
        "defaults: &tier {route: nurture}\n"
        "adjustments: [{name: soft, when: {field: industry, in: *soft}, points: 2}]\n"
        "tiers: [{<<: *tier, name: high, min: 50}, {<<: *tier, name: low, min: 0, route: suppress}]\n")
    with pytest.raises(ProfileError, match="unknown key 'defaults'"):  # anchors live in the keys a profile has
        parse_profile(text)
    text = text.replace("defaults: &tier {route: nurture}\n", "").replace("{<<: *tier, name: high",
                                                                          "{route: &r nurture, name: high")
    text = text.replace("{<<: *tier, name: low, min: 0, route: suppress}", "{route: *r, name: low, min: 0}")
    p = parse_profile(text)
    assert p.adjustments[0].when.in_ == ["a", "b"] and [t.route for t in p.tiers] == ["nurture", "nurture"]


def test_merge_keys_load() -> None:
    text = MINIMAL + "reasons: &r {positive: 1}\nabm: {<<: {a: 1}, b: 2}\n"
    assert parse_profile(text).abm.a == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_example_profiles_load(path: Path) -> None:
    assert load_profile(path).name


def test_nesting_too_deep_is_a_profile_error() -> None:
    assert "nested too deeply" in error_of("name: x\ncriteria: " + "[" * 1200 + "]" * 1200 + "\n").message


ADJUSTMENT = MINIMAL + "adjustments:\n  - name: a\n    when: {field: employees, OP: {v}}\n    points: 1\n"


@pytest.mark.parametrize("where,text,value", [
    ("line 4, key 'criteria[0].weight'", MINIMAL.replace("weight: 10", "weight: {v}"), ".inf"),
    ("line 4, key 'criteria[0].weight'", MINIMAL.replace("weight: 10", "weight: {v}"), "1e999"),  # overflows to inf
    ("line 5, key 'criteria[0].levels[0].points'", MINIMAL.replace("points: 10", "points: {v}"), ".nan"),
    ("line 8, key 'adjustments[0].points'", MINIMAL + "adjustments:\n  - {name: a, when: {field: employees, lt: 5},"
                                            "\n     points: {v}}\n", "-.inf"),
    ("line 8, key 'adjustments[0].when.lt'", ADJUSTMENT.replace("OP", "lt"), ".NaN"),
    ("line 8, key 'adjustments[0].when.eq'", ADJUSTMENT.replace("OP", "eq"), ".inf"),
    ("line 8, key 'adjustments[0].when.in[1]'", ADJUSTMENT.replace("OP", "in").replace("{v}", "[1, {v}]"), "-.inf"),
])
def test_numbers_must_be_finite(where: str, text: str, value: str) -> None:
    err = error_of(text.replace("{v}", value))
    assert len(err.errors) == 1, err.errors  # one error per value, not one per member of a union
    assert err.where == f"p.yaml, {where}" and err.message == "Input should be a finite number"


def test_a_value_of_no_scalar_type_is_one_error() -> None:
    err = error_of(ADJUSTMENT.replace("OP", "eq").replace("{v}", "[1, 2]"))
    assert [(p.where, p.message) for p in err.errors] == [
        ("p.yaml, line 8, key 'adjustments[0].when.eq'", "Input should be text, a number or true/false")]


def test_intent_numbers_must_be_finite() -> None:
    err = error_of("name: x\nintent:\n  signals: [{type: demo, points: 10}]\n  decay: {half_life_days: .inf}\n")
    assert err.where == "p.yaml, line 4, key 'intent.decay.half_life_days'"
    assert "finite" in err.message


def test_the_abm_default_is_the_highest_tier_whatever_its_name() -> None:
    tiers = "tiers:\n  - {name: all, min: 0, route: nurture}\n"
    assert parse_profile(MINIMAL + tiers).abm.tier == "all"  # type: ignore[union-attr]
    tiers = "tiers:\n  - {name: warm, min: 40, route: nurture}\n  - {name: hot, min: 75, route: ae}\n" \
            "  - {name: cold, min: 0, route: suppress}\n"
    assert parse_profile(MINIMAL + tiers).abm.tier == "hot"  # type: ignore[union-attr]
    assert parse_profile(MINIMAL + tiers + "abm: {a: 5}\n").abm == parse_profile(  # type: ignore[union-attr]
        MINIMAL + tiers + "abm: {tier: hot, a: 5}\n").abm
    assert parse_profile(MINIMAL + tiers + "abm: {tier: warm}\n").abm.tier == "warm"  # type: ignore[union-attr]
    assert parse_profile(MINIMAL + tiers + "abm: null\n").abm is None
    assert "abm.tier 'high' is not one of" in error_of(MINIMAL + tiers + "abm: {tier: high}\n").message
    # the default tiers: nothing changes, and the file written back says nothing about ABM
    p = parse_profile(MINIMAL)
    assert p.abm.tier == "high" and "abm" not in dump_profile(p)  # type: ignore[union-attr]
    assert "default" not in json.loads(json_schema())["$defs"]["Abm"]["properties"]["tier"]
