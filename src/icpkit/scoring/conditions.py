"""Conditions (all / any / not over field comparisons) as ibis boolean expressions.

Text compares case-insensitively after trimming; a comparison on a missing value is false,
never NULL, so that ``not`` and ``any`` behave the way a reader of the profile expects.
"""

from __future__ import annotations

import ibis.expr.types as ir

from ..profile.model import Condition, Scalar
from .columns import all_of, any_of, column, norm_text, norm_value, wider_values


def compile_condition(cond: Condition, t: ir.Table) -> ir.BooleanValue:
    """An ibis boolean expression that is true exactly where ``cond`` holds (never NULL)."""
    if cond.all is not None:
        return all_of([compile_condition(c, t) for c in cond.all])
    if cond.any is not None:
        return any_of([compile_condition(c, t) for c in cond.any])
    if cond.not_ is not None:
        return ~compile_condition(cond.not_, t)
    assert cond.field is not None
    col = column(t, cond.field)
    return _compare(col, cond, cond.field).fill_null(False)


def _compare(col: ir.Value, cond: Condition, field: str) -> ir.BooleanValue:
    op = cond.op
    if op == "is_missing":
        missing = col.isnull()
        if col.type().is_array():
            missing = missing | (col.length() == 0)
        return missing if cond.is_missing else ~missing.fill_null(True)
    if op in ("eq", "in"):
        values: list[Scalar] = [cond.eq] if op == "eq" else list(cond.in_ or [])  # type: ignore[list-item]
        if col.type().is_array():
            return any_of([col.contains(norm_value(v, field)) for v in values])
        if col.type().is_string():
            wanted = [norm_value(v, field) for v in values] + [w for v in values for w, _ in wider_values(v, field)]
            target = norm_text(col)
            return target == wanted[0] if len(wanted) == 1 else target.isin(wanted)
        return col == values[0] if len(values) == 1 else col.isin(values)
    if op == "contains_any":
        items = [norm_value(v) for v in cond.contains_any or []]
        if col.type().is_array():
            return any_of([col.contains(v) for v in items])
        return any_of([norm_text(col).contains(v) for v in items])
    if op == "between":
        low, high = cond.between  # type: ignore[misc]
        return (col >= low) & (col <= high)
    bound = getattr(cond, op)  # lt, lte, gt, gte
    return {"lt": col < bound, "lte": col <= bound, "gt": col > bound, "gte": col >= bound}[op]

