"""Column access and value normalisation shared by criteria and conditions."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from ..errors import MissingColumnError, suggest
from .literals import norm_value, wider_values

__all__ = ["all_of", "any_of", "column", "norm_text", "norm_value", "wider_values"]


def column(t: ir.Table, name: str) -> ir.Value:
    """``t[name]``, or a MissingColumnError that suggests the closest column."""
    if name in t.columns:
        return t[name]
    hint = suggest(name, t.columns, "map it with `columns:` in the profile")
    raise MissingColumnError(f"the profile uses column '{name}', which the data does not have", hint=hint)


def any_of(parts: list[ir.BooleanValue]) -> ir.BooleanValue:
    """OR of ``parts`` (false when there are none)."""
    return _fold(parts, "or")


def all_of(parts: list[ir.BooleanValue]) -> ir.BooleanValue:
    """AND of ``parts`` (true when there are none)."""
    return _fold(parts, "and")


def _fold(parts: list[ir.BooleanValue], how: str) -> ir.BooleanValue:
    if not parts:
        return ibis.literal(how == "and")
    out = parts[0]
    for p in parts[1:]:
        out = (out & p) if how == "and" else (out | p)
    return out


def norm_text(col: ir.StringValue) -> ir.StringValue:
    """How text is compared: lower-cased (canonical text is already trimmed on input)."""
    return col.lower()
