"""A profile's criteria and conditions as Python closures over one record's canonical values,
holding exactly where the SQL of :mod:`icpkit.scoring.criteria` and
:mod:`icpkit.scoring.conditions` holds (the one-record :class:`~icpkit.scoring.record.Scorer`
uses them; no engine is imported).

Canonical values are those of :mod:`icpkit.io.record`: text trimmed (None when blank),
numbers as floats, lists of lower-case items. Text is compared lower-cased as the engine
lower-cases it; a profile's literals are normalised by :mod:`scoring.literals`, as in the
plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..io import record as rv
from ..profile.model import Condition, Criterion, format_number
from .literals import norm_value, wider_values

__all__ = ["CriterionRule", "compile_condition", "norm_value", "signed"]

Values = dict[str, Any]
Predicate = Callable[[Values], bool]


def signed(points: float) -> str:
    """``+25``, ``-15``, ``+12.5``, ``0`` (``scoring.criteria.signed``)."""
    text = format_number(round(points, 2))
    return "+" + text if points > 0 else text


# ------------------------------------------------------------------------------ criteria

class CriterionRule:
    """One criterion: ``index(value)`` is the outcome (0 missing, i for branch i, last for
    otherwise), ``outcomes[index]`` its scaled points and reason text."""

    __slots__ = ("field", "index", "key", "outcomes")

    def __init__(self, c: Criterion, scale: float) -> None:
        self.key, self.field = c.key, c.field

        def branch(pts: float, what: str) -> tuple[float, str]:
            return pts * scale, f"{c.key}: {what} ({signed(pts * scale)})"

        branches: list[tuple[float, str]] = []
        if c.levels is not None:
            self.index, other = self._levels(c, branch, branches)
        elif c.range is not None:
            self.index, other = self._range(c, branch, branches)
        elif c.bins is not None:
            self.index, other = self._bins(c, branch, branches)
        else:
            self.index, other = self._items(c, branch, branches)
        self.outcomes = (branch(c.missing, "missing"), *branches, branch(c.otherwise, other))

    @staticmethod
    def _levels(c: Criterion, branch: Any, out: list[tuple[float, str]]) -> tuple[Callable[[Any], int], str]:
        spellings: dict[str, list[str]] = {}
        for alias, target in (c.aliases or {}).items():
            spellings.setdefault(norm_value(target, c.field), []).append(norm_value(alias, c.field))
        lookup: dict[str, int] = {}
        # (another spelling of a named industry, or one below it; distance; index)
        wider: list[tuple[str, int, int]] = []
        for lv in c.levels or []:
            values = [norm_value(x, c.field) for x in lv.values]
            if lv.label:
                out.append(branch(lv.points, lv.label))
                for v in values + [a for val in values for a in spellings.get(val, [])]:
                    lookup.setdefault(v, len(out))
                wider += [(w, d, len(out)) for x in lv.values for w, d in wider_values(x, c.field)]
            else:
                for raw, val in zip(lv.values, values):
                    out.append(branch(lv.points, raw.strip()))
                    for v in [val, *spellings.get(val, [])]:
                        lookup.setdefault(v, len(out))
                    wider += [(w, d, len(out)) for w, d in wider_values(raw, c.field)]
        for w, _, i in sorted(wider, key=lambda x: x[1]):  # the nearest named industry wins
            lookup.setdefault(w, i)
        other, lower, get = len(out) + 1, rv.sql_lower, lookup.get
        return (lambda v: 0 if v is None else get(lower(v), other)), "other value"

    @staticmethod
    def _range(c: Criterion, branch: Any, out: list[tuple[float, str]]) -> tuple[Callable[[Any], int], str]:
        r = c.range
        assert r is not None
        lo, hi = r.min, r.max
        band = f"<= {format_number(hi)}" if lo is None else f">= {format_number(lo)}" if hi is None else \
            f"{format_number(lo)}-{format_number(hi)}"
        out.append(branch(r.points if r.points is not None else c.weight, f"in {band}"))
        near_lo = lo * (1 - r.tolerance) if lo is not None else None
        near_hi = hi * (1 + r.tolerance) if hi is not None else None
        tolerant = r.tolerance > 0
        if tolerant:
            out.append(branch(r.tolerance_points, f"within {format_number(r.tolerance * 100)}% of {band}"))
        other = len(out) + 1

        def index(v: Any) -> int:
            if v is None:
                return 0
            if (lo is None or v >= lo) and (hi is None or v <= hi):
                return 1
            if tolerant and (lo is not None and near_lo <= v < lo or hi is not None and hi < v <= near_hi):
                return 2
            return other
        return index, f"outside {band}"

    @staticmethod
    def _bins(c: Criterion, branch: Any, out: list[tuple[float, str]]) -> tuple[Callable[[Any], int], str]:
        tests = []
        for b in c.bins or []:
            out.append(branch(b.points, b.describe()))
            tests.append((b.gt, b.gte, b.lt, b.lte))
        other = len(out) + 1

        def index(v: Any) -> int:
            if v is None:
                return 0
            for i, (gt, gte, lt, lte) in enumerate(tests, 1):
                if (gt is None or v > gt) and (gte is None or v >= gte) and (lt is None or v < lt) \
                        and (lte is None or v <= lte):
                    return i
            return other
        return index, "in no bin"

    @staticmethod
    def _items(c: Criterion, branch: Any, out: list[tuple[float, str]]) -> tuple[Callable[[Any], int], str]:
        wanted: list[tuple[str, ...]] = []
        for it in sorted(c.items or [], key=lambda it: -it.points):  # the best match first
            values = [norm_value(x) for x in it.values]
            if it.label:
                out.append(branch(it.points, f"has {it.label}"))
                wanted.append(tuple(values))
            else:
                for raw, v in zip(it.values, values):
                    out.append(branch(it.points, f"has {raw.strip()}"))
                    wanted.append((v,))
        other = len(out) + 1

        def index(v: Any) -> int:
            if v is None:
                return 0
            for i, items in enumerate(wanted, 1):
                for item in items:
                    if item in v:
                        return i
            return other
        return index, "none of the listed"


# ---------------------------------------------------------------------------- conditions

def compile_condition(cond: Condition, kinds: Mapping[str, str]) -> Predicate:
    """A predicate over canonical values that holds exactly where ``cond`` does in SQL
    (``scoring.conditions``): a comparison on a missing value is false."""
    if cond.all is not None:
        parts = [compile_condition(c, kinds) for c in cond.all]
        return lambda r: all(p(r) for p in parts)
    if cond.any is not None:
        parts = [compile_condition(c, kinds) for c in cond.any]
        return lambda r: any(p(r) for p in parts)
    if cond.not_ is not None:
        inner = compile_condition(cond.not_, kinds)
        return lambda r: not inner(r)
    field, op = cond.field, cond.op
    assert field is not None
    kind = kinds.get(field, "text")
    get = _getter(field)
    if op == "is_missing":
        want = bool(cond.is_missing)
        if kind == "list":
            return lambda r: (not get(r)) == want  # None or an empty list
        return lambda r: (get(r) is None) == want
    if op in ("eq", "in"):
        values = [cond.eq] if op == "eq" else list(cond.in_ or [])
        if kind == "list":
            items = tuple(norm_value(v, field) for v in values)
            return lambda r: (v := get(r)) is not None and any(i in v for i in items)
        if kind == "text":
            texts = frozenset([norm_value(v, field) for v in values] + [w for v in values for w, _ in wider_values(v, field)])
            lower = rv.sql_lower
            return lambda r: (v := get(r)) is not None and lower(v) in texts
        numbers = frozenset(n for n in map(_as_number, values) if n is not None)
        return lambda r: get(r) in numbers
    if op == "contains_any":
        items = tuple(norm_value(v) for v in cond.contains_any or [])
        if kind == "list":
            return lambda r: (v := get(r)) is not None and any(i in v for i in items)
        if kind == "text":
            lower = rv.sql_lower
            return lambda r: (v := get(r)) is not None and any(i in lower(v) for i in items)
        return lambda r: False
    if kind != "number":
        return lambda r: False
    if op == "between":
        low, high = cond.between  # type: ignore[misc]
        return lambda r: (v := get(r)) is not None and low <= v <= high
    bound = getattr(cond, op)  # lt, lte, gt, gte
    if op == "lt":
        return lambda r: (v := get(r)) is not None and v < bound
    if op == "lte":
        return lambda r: (v := get(r)) is not None and v <= bound
    if op == "gt":
        return lambda r: (v := get(r)) is not None and v > bound
    return lambda r: (v := get(r)) is not None and v >= bound


def _getter(field: str) -> Callable[[Values], Any]:
    return lambda r: r.get(field)


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
