"""TAM by segment: the accounts of each tier by industry group, country and size band.

The counting is the engine's: one aggregate query per dimension, over the scored rows' tiers
joined to the input by row number. Each query groups by tier and the input's *raw* value
first, so reading a value the way scoring reads it (trimming, country names to ISO codes,
"1.2k" to 1200) runs once per distinct value rather than once per row; it then groups by
the canonical value and returns at most :data:`MAX_VALUES` rows, the largest first (the
rest of a tier is counted as "other"). Python maps the few distinct industries to their
top-level LinkedIn group (:func:`icpkit.io.industries.top_group`) and keeps the largest
countries.

A dimension is counted when the input has its column (the profile's ``columns:`` mapping,
a recognised CRM header or the canonical name), whether or not the profile scores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from ..io import values
from ..io.canonical import parse_value
from ..io.crm import canonical_mapping, resolve_column
from ..io.industries import industry_spellings, top_group
from ..profile.model import Profile
from .tam import MISSING, OTHER, SIZE_BANDS, SPECIAL, UNKNOWN_COUNTRY, UNKNOWN_INDUSTRY

ROW = "_row"

#: At most this many (tier, value) counts are fetched per dimension; the rest are "other".
MAX_VALUES = 10_000
#: Countries kept per tier (the rest: "other").
TOP_COUNTRIES = 10

#: Dimension -> the canonical field it is read from.
DIMENSIONS = {"industry_group": "industry", "country": "country", "size_band": "employees"}


@dataclass(frozen=True)
class SegmentQuery:
    """The plan counting one dimension: ``tier``, ``value`` (canonical, NULL when blank)
    and ``n``, largest first, at most :data:`MAX_VALUES` rows."""

    dimension: str
    expr: ir.Table


def segment_queries(profile: Profile, raw: ir.Table, tiers: ir.Table) -> list[SegmentQuery]:
    """The counting plans for the dimensions whose columns ``raw`` (the input as read, with
    ``_row``) has; ``tiers`` holds the ``_row`` and ``tier`` of every account scored (rows
    set aside are not in it)."""
    headers = [c for c in raw.columns if c != ROW]
    mapping = canonical_mapping(headers, explicit=profile.columns)
    canonical: dict[str, Callable[[ir.Value], ir.Value]] = {"industry": _industry, "country": _country}
    out = []
    for dimension, name in DIMENSIONS.items():
        header = resolve_column(name, headers, mapping.columns)
        if header is None:
            continue
        col = raw[header]
        if col.type().is_null() or (name != "employees" and not col.type().is_string()):
            col = col.cast("string")
        rows = tiers.select(ROW, "tier").join(raw.select(ROW, _raw=col), ROW)
        per_raw = rows.group_by(["tier", "_raw"]).aggregate(n=rows.count())
        if name == "employees":
            # Banded after a GROUP BY on the number read: the band's CASE over the whole
            # number parsing makes Spark's generated code too large to compile (it logs the
            # error and runs interpreted, 2x slower).
            read = per_raw.select("tier", "n", _num=parse_value("employees", "number", per_raw._raw))
            per_raw = read.group_by(["tier", "_num"]).aggregate(n=read.n.sum())
            per_value = per_raw.select("tier", "n", value=_size_band(per_raw._num))
        else:
            per_value = per_raw.select("tier", "n", value=canonical[name](per_raw._raw))
        counts = per_value.group_by(["tier", "value"]).aggregate(n=per_value.n.sum().cast("int64"))
        out.append(SegmentQuery(dimension, counts.order_by([ibis.desc("n"), "tier", "value"]).limit(MAX_VALUES)))
    return out


def _industry(raw: ir.StringValue) -> ir.StringValue:
    """Trimmed and lower-cased, as the spellings are written; NULL when blank."""
    return values.normalize_text(raw).lower()


def _country(raw: ir.StringValue) -> ir.StringValue:
    """The ISO code scoring reads, :data:`UNKNOWN_COUNTRY` when no country is recognised;
    NULL when blank. (Blanks are tested first: after a GROUP BY, Spark 4.0 reads the
    lookup's ``ELEMENT_AT(array, NULL)`` as the array's last element, Zimbabwe.)"""
    code = values.normalize_country(raw)
    return ibis.cases((values.is_blank(raw), ibis.null("string")),
                      (values.country_is_unrecognised(raw, code), ibis.literal(UNKNOWN_COUNTRY)), else_=code)


def _size_band(n: ir.FloatingValue) -> ir.StringValue:
    """The LinkedIn size band of a head count; NULL when there is none."""
    return ibis.cases(*[(n <= top, label) for top, label in SIZE_BANDS if top is not None],
                      else_=ibis.ifelse(n.isnull(), ibis.null("string"), ibis.literal(SIZE_BANDS[-1][1])))


def breakdowns(dimension: str, rows: list[dict[str, Any]], tiers: dict[str, int]) -> dict[str, dict[str, int]]:
    """Tier -> value -> accounts for one dimension, from its query's rows (``tier``,
    ``value``, ``n``) and the accounts of each tier: the values largest first (size bands
    in band order), then "other" (values not fetched or, for countries, not among the
    :data:`TOP_COUNTRIES`), unknown values and missing ones."""
    counts: dict[str, dict[str, int]] = {t: {} for t in tiers}
    spellings = industry_spellings()
    for r in rows:
        tier, value, n = str(r["tier"]), r["value"], int(r["n"])
        if tier not in counts:
            continue
        if value is None:
            key = MISSING
        elif dimension == "industry_group":
            label = spellings.get(str(value))
            key = top_group(label) if label is not None else UNKNOWN_INDUSTRY
        else:
            key = str(value)
        counts[tier][key] = counts[tier].get(key, 0) + n
    return {t: _ordered(dimension, c, tiers[t]) for t, c in counts.items()}


def _ordered(dimension: str, counts: dict[str, int], total: int) -> dict[str, int]:
    special = {k: counts.pop(k) for k in SPECIAL if k in counts}  # unknown and missing values
    if dimension == "size_band":
        order = {label: i for i, (_, label) in enumerate(SIZE_BANDS)}
        ranked = sorted(counts.items(), key=lambda kv: order[kv[0]])
    else:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if dimension == "country":
        ranked = ranked[:TOP_COUNTRIES]
    out = dict(ranked)
    special[OTHER] = total - sum(out.values()) - sum(special.values())  # not fetched, or not in the top
    out.update({k: special[k] for k in SPECIAL if special.get(k, 0) > 0})
    return out
