"""What changed between two versions of a profile, in words.

Both profiles are compared with every setting spelt out (a default written or not is the
same profile), without the learned population; lists of named items are matched by name
(criteria by name or field, signals by type), other lists by position.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .model import Profile

_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One difference: its key path, the value before and after (None when absent)."""

    path: str
    before: Any
    after: Any

    @property
    def text(self) -> str:
        if self.before is None:
            return f"{self.path}: added {_short(self.after)}"
        if self.after is None:
            return f"{self.path}: removed {_short(self.before)}"
        return f"{self.path}: {_short(self.before)} -> {_short(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"text": self.text}


def _short(value: Any) -> str:
    text = _plain_text(value)
    return text if len(text) <= 120 else text[:119] + "\u2026"


def _plain_text(value: Any) -> str:
    """A value as the YAML would show it, compactly: settings left unset are not shown."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain_text(v)}" for k, v in value.items() if v not in (None, [], {})) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain_text(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def profile_diff(a: Profile, b: Profile) -> list[Change]:
    """The changes that turn ``a`` into ``b``, in the order of the profile's keys."""
    changes: list[Change] = []
    _walk(_plain(a), _plain(b), "", changes)
    return changes


def _plain(p: Profile) -> dict[str, Any]:
    return p.model_dump(mode="json", by_alias=True, exclude={"population"})


#: The keys that name an item of a list (a criterion by its name or else its field, a signal by its type).
_NAMING_KEYS = ("name", "field", "type")


def _named(items: list[Any]) -> dict[str, Any] | None:
    for key in _NAMING_KEYS:
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            names = [i[key] for i in items]
            if len(set(names)) == len(names):
                return dict(zip(names, items))
    return None


def _walk(a: Any, b: Any, path: str, out: list[Change]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            _walk(a.get(key, _MISSING), b.get(key, _MISSING), f"{path}.{key}" if path else str(key), out)
        return
    if isinstance(a, list) and isinstance(b, list):
        na, nb = _named(a), _named(b)
        if na is not None and nb is not None:
            for name in [*na, *(n for n in nb if n not in na)]:
                _walk(na.get(name, _MISSING), nb.get(name, _MISSING), f"{path}[{name}]", out)
            return
        if len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                _walk(x, y, f"{path}[{i}]", out)
            return
    out.append(Change(path, None if a is _MISSING else a, None if b is _MISSING else b))
