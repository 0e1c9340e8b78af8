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
from ruamel.yaml.reader import ReaderError

from ..errors import IcpError, Problem, ProfileError, suggest
from .model import Profile

#: At most this many values of a profile may come from YAML aliases (see :class:`_Plain`).
MAX_ALIAS_VALUES = 100_000


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
    return parse_yaml(text, Profile, source, hint="run `icp init` to see a starter profile")


M = typing.TypeVar("M", bound=BaseModel)


def parse_yaml(text: str, model: type[M], source: str, *, error: type[IcpError] = ProfileError,
               what: str = "profile", hint: str = "") -> M:
    """YAML text validated as ``model``: loaded safely (aliases capped, see :class:`_Plain`),
    every problem an ``error`` naming ``source``, the line and the key path (unknown keys
    with the keys allowed there). ``what`` names the file in messages."""
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise error(f"not valid YAML: {exc.problem}", where=where) from None
    except ReaderError as exc:  # a character YAML does not allow (a control character, a lone surrogate)
        line = text.count("\n", 0, exc.position) + 1
        raise error(f"not valid YAML: the character U+{exc.character:04X} is not allowed",
                    where=f"{source}, line {line}", hint=f"remove control characters from the {what}") from None
    except RecursionError:
        raise error("the YAML is nested too deeply", where=source) from None
    if not isinstance(data, dict):
        raise error(f"a {what} must be a YAML mapping (key: value lines)", where=source, hint=hint)
    plain = _Plain(source, error).copy(data)
    try:
        return model.model_validate(plain)
    except ValidationError as exc:
        problems = [_problem(err, data, source, model) for err in _one_per_union(exc.errors())]
        head = f"invalid {what}" if len(problems) > 1 else problems[0].message
        raise error(head, where=problems[0].where, hint=problems[0].hint, problems=problems) from None


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


class _Plain:
    """Loaded YAML as plain dicts and lists, with a cap on what aliases expand to.

    An alias (``*name``, or a ``<<: *name`` merge) is loaded as a reference to its anchor's
    value, so nested aliases load fast; it is the copy that repeats the value for every
    reference. A few aliases are harmless, but ten lines of aliases of aliases expand to a
    billion values (a "billion laughs" file): past :data:`MAX_ALIAS_VALUES` values reached
    through aliases, the profile is refused with the line of the alias.
    """

    def __init__(self, source: str, error: type[IcpError] = ProfileError) -> None:
        self.source, self.error = source, error
        self.seen: set[int] = set()
        self.left = MAX_ALIAS_VALUES

    def copy(self, node: Any, where: tuple[Any, Any] | None = None, alias: str | None = None) -> Any:
        """A plain copy of ``node`` (``where``: its parent and key, ``alias``: the place of
        the alias it was reached through)."""
        if alias is None and isinstance(node, dict | list):
            if id(node) in self.seen:
                alias = self._place(where)
            else:
                self.seen.add(id(node))
        if alias is not None:
            self.left -= 1
            if self.left < 0:
                raise self.error(f"YAML aliases expand to more than {MAX_ALIAS_VALUES:,} values", where=alias,
                                   hint="write the values out instead of repeating aliases (*name)")
        if isinstance(node, dict):
            return {str(k): self.copy(v, (node, k), alias) for k, v in node.items()}
        if isinstance(node, list):
            return [self.copy(v, (node, i), alias) for i, v in enumerate(node)]
        return node

    def _place(self, where: tuple[Any, Any] | None) -> str:
        """The source and line of an entry of a loaded mapping or sequence."""
        parent, key = where or (None, None)
        try:
            if isinstance(parent, CommentedMap):
                return f"{self.source}, line {parent.lc.key(key)[0] + 1}"
            if isinstance(parent, CommentedSeq):
                return f"{self.source}, line {parent.lc.item(key)[0] + 1}"
        except (KeyError, IndexError, TypeError):  # merged keys (<<) have no position of their own
            pass
        return self.source


#: The members of a union of scalar types (``eq: 1``, ``in: [a, 2]``) as pydantic names them in
#: the location of an error, and the Python types they take.
_SCALAR_TAGS = {"str": str, "float": (int, float), "bool": bool}


def _one_per_union(errors: list[Any]) -> list[Any]:
    """One error per value of a scalar union instead of one per member: the member of the
    value's own type (``.inf`` is a number, but not a finite one), or one error for all."""
    out: list[Any] = []  # errors, and the locations of unions in their place
    unions: dict[tuple[Any, ...], list[Any]] = {}
    for err in errors:
        loc = tuple(err["loc"])
        if loc and loc[-1] in _SCALAR_TAGS:
            if loc[:-1] not in unions:
                out.append(loc[:-1])
            unions.setdefault(loc[:-1], []).append(err)
        else:
            out.append(err)
    for i, item in enumerate(out):
        if isinstance(item, tuple):
            errs = unions[item]
            value = errs[0].get("input")
            own = [e for e in errs if isinstance(value, _SCALAR_TAGS[e["loc"][-1]])
                   and not (isinstance(value, bool) and e["loc"][-1] == "float")]
            one = own[0] if len(own) == 1 else {**errs[0], "msg": "Input should be text, a number or true/false"}
            out[i] = {**one, "loc": item}
    return out


def _problem(err: Any, data: Any, source: str, model: type[BaseModel]) -> Problem:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    key_path = _key_path(loc)
    line = _line_of(data, loc)
    where = f"{source}, line {line}, key '{key_path}'" if key_path else source
    if line is None:
        where = f"{source}, key '{key_path}'" if key_path else source
    hint = ""
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], model)
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


def _allowed_keys(loc: list[Any], root: type[BaseModel]) -> list[str]:
    """The keys allowed at a location of the file, from the model classes."""
    model: Any = root
    for part in loc:
        model = _optional(model)
        origin = typing.get_origin(model)
        if origin is dict:  # ``part`` is a key of the mapping: what follows is its value's type
            model = typing.get_args(model)[1]
            continue
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


def _optional(tp: Any) -> Any:
    """``X`` of ``X | None``; any other type as it is."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


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
