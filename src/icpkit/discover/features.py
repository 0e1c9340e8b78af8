"""Attributes of a labelled table, read the way scoring reads them, and cut into bins.

:func:`read_labelled` opens any table (CSV with any delimiter, Parquet, JSON lines, a
DataFrame), decides the kind of every column (``number`` when every non-blank value reads
as a number, ``list`` for a technologies column, ``text`` otherwise), parses the values with
the same code scoring uses (so a learned profile scores the same values it learned from),
and sets aside columns that cannot describe an account: identifiers (a different value on
every row), constants, columns with no values, free text. Each set-aside column gets a note.

:class:`Binned` and :class:`Group` hold an attribute cut into the groups a profile can
express (numeric bins ``[low, high)``, text levels, list items, "other", "missing"); the
cutting itself is :mod:`.binning`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError, IcpError, located
from ..io import values
from ..io.canonical import parse_value
from ..io.crm import canonical_mapping
from ..profile.model import CANONICAL_KINDS, Kind
from .backtest import _column, check_classes, date_value, parse_labels

#: A text attribute with more distinct values than this share of its rows is free text.
FREE_TEXT_SHARE = 0.5
#: Fewest wins and fewest losses a table needs before anything is learned from it.
MIN_CLASS = 20


@dataclass
class Attribute:
    """One usable column: its profile field name, input header, kind and parsed values.

    ``values`` is a float array with NaN for missing (numbers), an object array of
    lower-cased strings with None for missing (text), or a list of lists of lower-cased
    items with None for a missing list (lists). ``display`` maps a lower-cased text
    value or item to its most frequent spelling in the input.
    """

    field: str
    header: str
    kind: Kind
    values: Any
    display: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> np.ndarray:
        if self.kind == "number":
            return np.isnan(self.values)
        return np.array([v is None for v in self.values], dtype=bool)


@dataclass
class Labelled:
    """A labelled table: 0/1 labels, usable attributes, and notes on what was left out."""

    label: str
    labels: np.ndarray
    attributes: list[Attribute]
    notes: list[str]
    where: str
    rows: int
    dates: np.ndarray | None = None  # datetime64[D] per row, when read with a date column


@dataclass
class Group:
    """One group of an attribute's values: a numeric bin, a text level, a list item's
    presence, "other" (rare levels pooled) or "missing". ``rule`` says how a profile
    writes it: ``("bin", low, high)``, ``("level", [values])``, ``("other",)``,
    ``("missing",)``, ``("item", value)``, ``("no_item",)``; ``also`` holds the rules of
    smaller groups joined to this one (see :mod:`.binning`)."""

    label: str
    rule: tuple[Any, ...]
    mask: np.ndarray
    also: tuple[tuple[Any, ...], ...] = ()

    @property
    def rules(self) -> tuple[tuple[Any, ...], ...]:
        return (self.rule, *self.also)


@dataclass
class Binned:
    """An attribute cut into groups (one per row: exactly one group's mask holds), or,
    for a list attribute, one :class:`Binned` per frequent item."""

    attribute: Attribute
    groups: list[Group]
    item: str | None = None

    @property
    def name(self) -> str:
        return criterion_name(self.attribute, self.item)

    @property
    def title(self) -> str:
        return criterion_title(self.attribute, self.item)


def criterion_name(attr: Attribute, item: str | None) -> str:
    """The criterion's name of an attribute, or of one item of a list attribute."""
    return attr.field if item is None else f"{attr.field}_{slug(item)}"


def criterion_title(attr: Attribute, item: str | None) -> str:
    """How evidence names an attribute, or one item of a list attribute."""
    return attr.header if item is None else f"{attr.header}: {attr.display.get(item, item)}"


def slug(text: str) -> str:
    """A profile identifier from a header: lower case, ``_`` for anything else."""
    s = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_") or "column"
    return ("c_" + s if not s[0].isalpha() else s)[:63]


# -- reading ---------------------------------------------------------------------------


def read_labelled(data: Any, label: str, *, exclude: Sequence[str] = (), date: str | None = None,
                  backend: Any = None) -> Labelled:
    """Read ``data`` (a path, Arrow table or DataFrame) with its ``label`` column (see
    :func:`~icpkit.discover.backtest.parse_labels`) into usable attributes, on ``backend``
    (default: the embedded DuckDB). With ``date``, that column's dates too (every row needs
    one); it is not an attribute."""
    from ..backends import connect
    from ..io.frames import as_source
    from ..io.sources import source_label

    source = as_source(data)
    where = source_label(source)
    b = backend or connect()
    try:
        raw = b.read(source, "icp_raw")
        headers = [c for c in raw.columns if c != "_row"]
        label_col = _column(headers, label, "label", where)
        excluded = _excluded(headers, exclude, where)
        date_col = _column(headers, date, "date", where) if date is not None else None
        candidates = [h for h in headers if h not in (label_col, date_col) and h not in excluded]
        kinds = _kinds(b, raw, candidates)
        fields = _field_names(candidates)
        cols: dict[str, Any] = {"_row": raw["_row"], "_label": raw[label_col]}
        if date_col is not None:
            cols["_date"] = date_value(raw[date_col])
            cols["_date_text"] = raw[date_col].cast("string")
        for h in candidates:
            cols[f"f{len(cols)}"] = parse_value(fields[h], kinds[h], raw[h])
        names = list(cols)
        result = b.to_arrow(raw.select(**cols).order_by("_row"))
    finally:
        if backend is None:
            b.close()
    rows = result.num_rows
    if rows == 0:
        raise DataError("the table has no rows", where=where)
    labels = parse_labels(result.column("_label"), rows=result.column("_row").to_numpy(), where=where,
                          column=label_col)
    dates = _dates(result, where, date_col) if date_col is not None else None
    left_out: dict[str, list[str]] = {}
    if excluded:
        left_out["excluded (--exclude)"] = [h for h in headers if h in excluded]
    attributes = []
    for h, name in zip(candidates, [n for n in names if n.startswith("f")], strict=True):
        attr = _attribute(fields[h], h, kinds[h], result.column(name))
        reason = _unusable(attr, rows)
        if reason:
            left_out.setdefault(reason, []).append(h)
        else:
            attributes.append(attr)
    notes = [f"left out, {reason}: " + ", ".join(f"'{h}'" for h in cols) for reason, cols in left_out.items()]
    return Labelled(label_col, labels, attributes, notes, where, rows, dates)


def _dates(result: pa.Table, where: str, column: str) -> np.ndarray:
    """The date of every row, or an error naming the first row without a readable one."""
    days = result.column("_date")
    if days.null_count:
        i = pc.index(pc.is_null(days), True).as_py()
        value = result.column("_date_text")[i].as_py()
        msg = "the date is missing" if value is None or not value.strip() else f"cannot read '{value}' as a date"
        raise DataError(msg, where=located(where, result.column("_row")[i].as_py(), column),
                        hint="write dates as YYYY-MM-DD; every row needs one to validate on later periods")
    return days.to_numpy(zero_copy_only=False).astype("datetime64[D]")


def require_classes(labels: np.ndarray, what: str) -> None:
    """The label has both classes and at least :data:`MIN_CLASS` of each, else an error
    that says "insufficient data" rather than a model that pretends."""
    check_classes(labels, what)
    wins, losses = int(labels.sum()), int(len(labels) - labels.sum())
    if min(wins, losses) < MIN_CLASS:
        raise DataError(f"insufficient data: {what} has {wins} wins and {losses} losses; at least "
                        f"{MIN_CLASS} of each are needed to learn anything that is not noise",
                        hint="add more labelled history, or write the profile by hand (icp init)")


def _excluded(headers: list[str], exclude: Sequence[str], where: str) -> set[str]:
    return {_column(headers, e, "excluded", where) for e in exclude}


def _kinds(backend: Any, raw: Any, headers: list[str]) -> dict[str, Kind]:
    """Canonical columns keep their kind; a text column whose every non-blank value reads
    as a number is a number; the rest is text.

    A cheap first pass casts the values; only columns whose unreadable values all contain
    a digit ("$2.5M", "1,200") are read again with scoring's number parser."""
    mapping = canonical_mapping(headers).columns
    canonical = {h: CANONICAL_KINDS[c] for c, h in mapping.items() if c in CANONICAL_KINDS}
    kinds: dict[str, Kind] = {}
    text: list[str] = []
    for h in headers:
        dtype = raw[h].type()
        if h in canonical:
            kinds[h] = canonical[h]
        elif dtype.is_numeric() and not dtype.is_boolean():
            kinds[h] = "number"
        elif dtype.is_array():
            kinds[h] = "list"
        elif dtype.is_string():
            text.append(h)
        else:
            kinds[h] = "text"
    if not text:
        return kinds
    probes: dict[str, Any] = {}
    for i, h in enumerate(text):
        v = raw[h].strip().nullif("")
        failed = v.notnull() & v.try_cast("float64").isnull()
        digit = v.re_search("[0-9]")
        probes |= {f"p{i}": v.count(), f"w{i}": (failed & ~digit).sum(), f"o{i}": (failed & digit).sum()}
    found = backend.to_arrow(raw.aggregate(**probes)).to_pylist()[0]
    counts = [found[k] or 0 for k in probes]
    recheck: dict[str, Any] = {}
    for i, h in enumerate(text):
        present, words, odd = counts[3 * i: 3 * i + 3]
        if not present or words:
            kinds[h] = "text"
        elif not odd:
            kinds[h] = "number"
        else:
            parsed = values.parse_number(raw[h])
            recheck[h] = values.number_is_invalid(raw[h], parsed).sum()
    if recheck:
        bad = list(backend.to_arrow(raw.aggregate(**{f"c{i}": e for i, e in enumerate(recheck.values())}))
                   .to_pylist()[0].values())
        for h, n_bad in zip(recheck, bad, strict=True):
            kinds[h] = "text" if n_bad else "number"
    return kinds


def _field_names(headers: list[str]) -> dict[str, str]:
    """The profile field of each header: its canonical name when it is a recognised
    column, else its slug; made unique."""
    mapping = {h: c for c, h in canonical_mapping(headers).columns.items()}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for h in headers:
        name = mapping.get(h) or slug(h)
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        out[h] = name
    return out


def _attribute(name: str, header: str, kind: Kind, col: pa.ChunkedArray) -> Attribute:
    if kind == "number":
        arr = col.to_numpy(zero_copy_only=False).astype(float)
        return Attribute(name, header, kind, np.where(np.isfinite(arr), arr, np.nan))
    display: dict[str, dict[str, int]] = {}
    if kind == "list":
        py = col.to_pylist()
        vals: list[Any] = []
        for items in py:
            if not items:
                vals.append(None)
                continue
            keys = []
            for it in items:
                if it is None or not str(it).strip():
                    continue
                k = str(it).strip().lower()
                display.setdefault(k, {}).setdefault(str(it).strip(), 0)
                display[k][str(it).strip()] += 1
                keys.append(k)
            vals.append(sorted(set(keys)) or None)
        return Attribute(name, header, kind, vals, _most_frequent(display))
    text = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    text = text if pa.types.is_string(text.type) else pc.cast(text, pa.string())
    text = pc.utf8_trim_whitespace(text)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    keys = pc.utf8_lower(text)
    counts = pa.table({"k": keys, "t": text}).filter(pc.is_valid(keys)).group_by(["k", "t"]).aggregate([("t", "count")])
    for k, t, n in zip(*(counts.column(i).to_pylist() for i in range(3)), strict=True):
        display.setdefault(k, {})[t] = n
    return Attribute(name, header, kind, keys.to_numpy(zero_copy_only=False), _most_frequent(display))


def _most_frequent(spellings: dict[str, dict[str, int]]) -> dict[str, str]:
    return {k: max(v.items(), key=lambda kv: (kv[1], kv[0]))[0] for k, v in spellings.items()}


def _unusable(attr: Attribute, rows: int) -> str | None:
    present = int((~attr.missing).sum())
    if present == 0:
        return "no values at all"
    if attr.kind == "number":
        distinct = len(np.unique(attr.values[~np.isnan(attr.values)]))
        whole = bool(np.all(np.mod(attr.values[~np.isnan(attr.values)], 1) == 0))
        if distinct == present and whole and present >= 20 and attr.field not in CANONICAL_KINDS:
            return "a different value on every row (identifiers)"
    elif attr.kind == "text":
        distinct = len(attr.display)
        if distinct == present and present >= 20:
            return "a different value on every row (identifiers)"
        if rows >= 20 and distinct > FREE_TEXT_SHARE * present:
            return "more distinct values than half the rows (free text or identifiers)"
    else:
        distinct = len(attr.display)
    if distinct <= 1 and present == rows:
        return "the same value on every row"
    return None


# -- binning ---------------------------------------------------------------------------


def min_support(rows: int) -> int:
    """Fewest rows a bin, level or item needs to stand on its own: 1% of the rows, at
    least 10."""
    return max(10, math.ceil(0.01 * rows))


def check_usable(data: Labelled) -> None:
    if not data.attributes:
        raise IcpError("no usable attribute: " + "; ".join(data.notes) if data.notes else "the table has no attribute",
                       where=data.where, hint="give a table with descriptive columns next to the label")
