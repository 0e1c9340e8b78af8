"""Loading and writing profile files, with errors that point at the YAML line and key."""

from __future__ import annotations

import io
import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ..errors import Problem, ProfileError, suggest
from .model import Profile


def load_profile(path: str | Path) -> Profile:
    """Read a profile file; every problem is reported with its line and key path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProfileError(f"profile file not found: {path}", hint="run `icp init` to write a starter profile") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read profile file {path}: {exc}") from None
    return parse_profile(text, source=str(path))


def as_profile(profile: Profile | str | Path) -> Profile:
    """``profile`` itself, or the profile loaded from that file."""
    return profile if isinstance(profile, Profile) else load_profile(profile)


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """Parse profile YAML text (``source`` names it in errors)."""
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise ProfileError(f"not valid YAML: {exc.problem}", where=where) from None
    if not isinstance(data, dict):
        raise ProfileError("a profile must be a YAML mapping (key: value lines)", where=source,
                           hint="run `icp init` to see a starter profile")
    try:
        return Profile.model_validate(_plain(data))
    except ValidationError as exc:
        problems = [_problem(err, data, source) for err in exc.errors()]
        head = "invalid profile" if len(problems) > 1 else problems[0].message
        raise ProfileError(head, where=problems[0].where, hint=problems[0].hint, problems=problems) from None


def dump_profile(profile: Profile) -> str:
    """The profile as YAML, leaving out values equal to their defaults."""
    data = profile.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def json_schema() -> str:
    """JSON Schema of the profile file, for editor completion and validation."""
    schema = Profile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "icpkit profile"
    return json.dumps(schema, indent=2)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _problem(err: Any, data: Any, source: str) -> Problem:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    key_path = _key_path(loc)
    line = _line_of(data, loc)
    where = f"{source}, line {line}, key '{key_path}'" if key_path else source
    if line is None:
        where = f"{source}, key '{key_path}'" if key_path else source
    hint = ""
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = suggest(str(loc[-1]), allowed, f"allowed keys: {', '.join(allowed)}" if allowed else "")
        return Problem(f"unknown key '{loc[-1]}'", where, hint)
    if err["type"] == "missing":
        return Problem(f"required key '{loc[-1]}' is missing", where)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return Problem(msg, where)


def _key_path(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(data: Any, loc: list[Any]) -> int | None:
    """1-based line of the deepest node of ``loc`` that exists in the YAML."""
    node, line = data, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(data, CommentedMap):
        return None
    return line


def _allowed_keys(loc: list[Any]) -> list[str]:
    """The keys allowed at a location of the profile, from the model classes."""
    model: Any = Profile
    for part in loc:
        model = _unwrap(model)
        if isinstance(part, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            model = field.annotation
        else:
            return []
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional, list and dict wrappers down to a model class."""
    while True:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]
            if not models:
                return tp
            tp = models[0]
        elif origin in (list, tuple):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return tp
