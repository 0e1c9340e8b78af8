"""From a raw input table to canonical accounts: which column is which, and typed values.

``canonical_plan`` is pure: given the raw table's schema (headers as read, all text for CSV,
typed for Parquet and DataFrames) and a profile, it returns the ibis expression of the
canonical table: ``_row`` (the 1-based data row of the input), ``domain`` (or, for an input
without a domain column, ``row``: the row number as the key), ``name`` when present, and every field the profile uses, typed by its kind. Next to each parsed value it
puts a ``_bad_<field>`` flag, true where a non-blank input could not be read, so a backend
can name the row, the column and the value of every bad input.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from ..errors import MissingColumnError
from ..profile.model import Kind, Profile
from . import values
from .crm import canonical_mapping, missing_columns, resolve_column

ROW = "_row"
ROW_KEY = "row"  # the key of an input without domains (see scoring.plan.ROW_KEY)


@dataclass(frozen=True)
class Field:
    name: str  # canonical or custom field name used by the profile
    header: str  # column of the input it is read from
    kind: Kind


@dataclass(frozen=True)
class CanonicalPlan:
    fields: tuple[Field, ...]
    crm_source: str | None  # "hubspot", "salesforce", "apollo" when recognised
    expr: ir.Table  # _row, fields, _bad_<field> flags, _country_unknown

    @property
    def keyed(self) -> bool:
        """Accounts are keyed by domain (else by row number, column ``row``)."""
        return any(f.name == "domain" for f in self.fields)

    def header_of(self, field: str) -> str:
        return next(f.header for f in self.fields if f.name == field)


def bad_flag(field: str) -> str:
    return f"_bad_{field}"


def canonical_plan(raw: ir.Table, profile: Profile, source: str = "input",
                   features: ir.Table | None = None) -> CanonicalPlan:
    """The canonical accounts expression over ``raw`` for the fields ``profile`` uses.

    ``features`` (``domain`` plus the profile's trigger fields, from events) is joined by
    domain: an account without trigger events has no ``days_since_*`` and counts of 0."""
    headers = [c for c in raw.columns if c != ROW]
    mapping = canonical_mapping(headers, explicit=profile.columns)
    keyed = "domain" in profile.columns or resolve_column("domain", headers, mapping.columns) is not None
    wanted: dict[str, Kind] = {"domain": "text"} if keyed else {}
    if resolve_column("name", headers, mapping.columns) is not None:
        wanted["name"] = "text"
    derived = set(profile.trigger_fields())
    wanted.update({f: k for f, k in profile.field_kinds().items() if f not in derived})

    fields = []
    missing = []
    for name, kind in wanted.items():
        header = resolve_column(name, headers, mapping.columns)
        if header is None:
            missing.append(name)
        else:
            fields.append(Field(name, header, kind))
    if missing:
        raise missing_columns(missing, headers, source)

    cols: dict[str, ir.Value] = {ROW: raw[ROW]} if keyed else {ROW: raw[ROW], ROW_KEY: raw[ROW]}
    for f in fields:
        parsed, bad = _parse(f, _column(raw, f.header))
        cols[f.name] = parsed
        cols[bad_flag(f.name)] = bad
    country = next((f.header for f in fields if f.name == "country"), None)
    if country is not None:
        cols["_country_unknown"] = values.country_is_unrecognised(_column(raw, country), cols["country"])
    expr = raw.select(**cols)
    if keyed:  # subdomains roll up to their account (after the check, which reads the host)
        expr = values.with_registrable(expr, "domain")
    if derived:
        if features is None or not keyed:
            raise MissingColumnError("the profile's triggers need events and accounts with domains",
                                     where=source, hint="give --events (and a domain column)")
        j = expr.left_join(features, expr.domain == features.domain)
        expr = j.select(*[j[c] for c in expr.columns],
                        **{f: (j[f].fill_null(0.0) if "_count_" in f else j[f]) for f in sorted(derived)})
    return CanonicalPlan(tuple(fields), mapping.source, expr)


def _column(raw: ir.Table, header: str) -> ir.Value:
    return _as_text_if_null(raw[header])


def _as_text_if_null(col: ir.Value) -> ir.Value:
    """A column with no values at all (typed NULL by JSON readers) reads as text."""
    return col.cast("string") if col.type().is_null() else col


def parse_value(name: str, kind: Kind, col: ir.Value) -> ir.Value:
    """The canonical value of ``col`` read as field ``name`` of ``kind`` (as scoring reads it)."""
    return _parse(Field(name, "", kind), _as_text_if_null(col))[0]


def _parse(f: Field, col: ir.Value) -> tuple[ir.Value, ir.BooleanValue]:
    """The canonical value of one field and its "could not be read" flag."""
    false = ibis.literal(False)
    dtype = col.type()
    if f.name == "domain":
        text = col if dtype.is_string() else col.cast("string")
        parsed = values.normalize_domain(text)
        return parsed, values.domain_is_invalid(text, parsed)
    if f.kind == "number":
        if dtype.is_numeric():
            num = col.cast("float64")
            return (num.isnan().ifelse(ibis.null("float64"), num) if dtype.is_floating() else num), false
        text = col if dtype.is_string() else col.cast("string")
        parsed = values.parse_number(text)
        return parsed, values.number_is_invalid(text, parsed)
    if f.kind == "list":
        if dtype.is_array():
            return values.normalize_list(col if dtype.value_type.is_string() else col.cast("array<string>")), false
        text = col if dtype.is_string() else col.cast("string")
        return values.split_list(text), false
    text = col if dtype.is_string() else col.cast("string")
    if f.name == "country":
        return values.normalize_country(text), false
    return values.normalize_text(text), false


