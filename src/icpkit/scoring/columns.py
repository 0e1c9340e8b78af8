"""Column access and value normalisation shared by criteria and conditions."""

from __future__ import annotations

import difflib

import ibis.expr.types as ir

from ..errors import MissingColumnError
from ..io.values import country_code
from ..profile.model import Scalar


def column(t: ir.Table, name: str) -> ir.Value:
    """``t[name]``, or a MissingColumnError that suggests the closest column."""
    if name in t.columns:
        return t[name]
    close = difflib.get_close_matches(name, list(t.columns), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "map it with `columns:` in the profile"
    raise MissingColumnError(f"the profile uses column '{name}', which the data does not have", hint=hint)


def norm_text(col: ir.StringValue) -> ir.StringValue:
    """How text is compared: lower-cased (canonical text is already trimmed on input)."""
    return col.lower()


def norm_value(value: Scalar, field: str = "") -> str:
    """A profile's literal, normalised the way :func:`norm_text` normalises data.

    Countries are canonical ISO codes in the data, so a profile may name them either way
    ("United States" or "US").
    """
    if field == "country" and isinstance(value, str):
        value = country_code(value) or value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()
