"""Attributes of a labelled table, read the way scoring reads them, and cut into bins.

:func:`read_labelled` opens any table (CSV with any delimiter, Parquet, JSON lines, a
DataFrame), decides the kind of every column (``number`` when every non-blank value reads
as a number, ``list`` for a technologies column, ``text`` otherwise), parses the values with
the same code scoring uses (so a learned profile scores the same values it learned from),
and sets aside columns that cannot describe an account: identifiers (a different value on
every row), constants, columns with no values, free text. Each set-aside column gets a note.

:func:`bin_attribute` cuts one attribute into the groups a profile can express: numeric
bins ``[low, high)`` at quantiles with a minimum support, text levels with the rare ones
pooled as "other", list items; missing values are always their own group. The groups are
what discovery reports on and what a learned scorecard gives points to.
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

from ..errors import DataError, IcpError
from ..io import values
from ..io.canonical import parse_value
from ..io.crm import canonical_mapping
from ..profile.model import CANONICAL_KINDS, Kind, format_number
from .backtest import _column, check_classes, parse_labels

#: Numeric attributes are first cut at these quantiles, then neighbours are merged until
#: every bin holds at least the minimum support.
PREBINS = 20
#: At most this many items of a list attribute become features (the most frequent).
MAX_ITEMS = 30
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


@dataclass
class Group:
    """One group of an attribute's values: a numeric bin, a text level, a list item's
    presence, "other" (rare levels pooled) or "missing". ``rule`` says how a profile
    writes it: ``("bin", low, high)``, ``("level", [values])``, ``("other",)``,
    ``("missing",)``, ``("item", value)``, ``("no_item",)``."""

    label: str
    rule: tuple[Any, ...]
    mask: np.ndarray


@dataclass
class Binned:
    """An attribute cut into groups (one per row: exactly one group's mask holds), or,
    for a list attribute, one :class:`Binned` per frequent item."""

    attribute: Attribute
    groups: list[Group]
    item: str | None = None

    @property
    def name(self) -> str:
        return self.attribute.field if self.item is None else f"{self.attribute.field}_{slug(self.item)}"

    @property
    def title(self) -> str:
        head = self.attribute.header
        return head if self.item is None else f"{head}: {self.attribute.display.get(self.item, self.item)}"


def slug(text: str) -> str:
    """A profile identifier from a header: lower case, ``_`` for anything else."""
    s = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_") or "column"
    return ("c_" + s if not s[0].isalpha() else s)[:63]


# -- reading ---------------------------------------------------------------------------


def read_labelled(data: Any, label: str, *, exclude: Sequence[str] = (), backend: Any = None) -> Labelled:
    """Read ``data`` (a path, Arrow table or DataFrame) with its ``label`` column (see
    :func:`~icpkit.discover.backtest.parse_labels`) into usable attributes, on ``backend``
    (default: the embedded DuckDB)."""
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
        candidates = [h for h in headers if h != label_col and h not in excluded]
        kinds = _kinds(b, raw, candidates)
        fields = _field_names(candidates)
        cols: dict[str, Any] = {"_row": raw["_row"], "_label": raw[label_col]}
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
    left_out: dict[str, list[str]] = {}
    if excluded:
        left_out["excluded (--exclude)"] = [h for h in headers if h in excluded]
    attributes = []
    for h, name in zip(candidates, names[2:], strict=True):
        attr = _attribute(fields[h], h, kinds[h], result.column(name))
        reason = _unusable(attr, rows)
        if reason:
            left_out.setdefault(reason, []).append(h)
        else:
            attributes.append(attr)
    notes = [f"left out, {reason}: " + ", ".join(f"'{h}'" for h in cols) for reason, cols in left_out.items()]
    return Labelled(label_col, labels, attributes, notes, where, rows)


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


def bin_attribute(attr: Attribute, support: int, *, monotone_labels: np.ndarray | None = None) -> list[Binned]:
    """The groups of ``attr`` (see the module docstring). With ``monotone_labels`` the
    numeric bins are further merged until the win rate rises or falls steadily
    across them (pool adjacent violators, in the direction of the correlation)."""
    if attr.kind == "number":
        return [Binned(attr, _numeric_groups(attr.values, support, monotone_labels))]
    if attr.kind == "text":
        return [Binned(attr, _level_groups(attr, support))]
    return _item_groups(attr, support)


def _numeric_groups(x: np.ndarray, support: int, labels: np.ndarray | None) -> list[Group]:
    present = ~np.isnan(x)
    v = x[present]
    uniq = np.unique(v)
    if len(uniq) <= PREBINS:
        edges = list(uniq[1:])
    else:
        qs = np.quantile(v, np.linspace(0, 1, PREBINS + 1)[1:-1], method="nearest")
        edges = sorted({float(q) for q in qs if q > uniq[0]})
    counts = _bin_counts(v, edges)
    while len(edges) > 0 and counts.min() < support:
        i = int(np.argmin(counts))
        # merge bin i with its smaller neighbour by dropping the edge between them
        if i == 0:
            drop = 0
        elif i == len(counts) - 1:
            drop = i - 1
        else:
            drop = i - 1 if counts[i - 1] <= counts[i + 1] else i
        del edges[drop]
        counts = _bin_counts(v, edges)
    if labels is not None and len(edges) > 0:
        edges = _monotone_edges(v, labels[present], edges)
    groups = []
    bounds = [-math.inf, *edges, math.inf]
    idx = np.searchsorted(np.asarray(edges, dtype=float), x, side="right")
    for i in range(len(bounds) - 1):
        low, high = bounds[i], bounds[i + 1]
        groups.append(Group(_bin_label(low, high), ("bin", low, high), present & (idx == i)))
    if (~present).any():
        groups.append(Group("missing", ("missing",), ~present))
    return groups


def _bin_counts(v: np.ndarray, edges: list[float]) -> np.ndarray:
    return np.bincount(np.searchsorted(np.asarray(edges, dtype=float), v, side="right"), minlength=len(edges) + 1)


def _monotone_edges(v: np.ndarray, y: np.ndarray, edges: list[float]) -> list[float]:
    """Merge neighbouring bins until the win rate moves one way only: rising, falling, or
    rising then falling (a peak: "50 to 500 employees") or the reverse (a valley). The
    shape kept is the one whose merged bins keep the most information value; a peak or
    valley must keep 10% more than the best one-way shape to be preferred."""
    idx = np.searchsorted(np.asarray(edges, dtype=float), v, side="right")
    n = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    w = np.bincount(idx, weights=y.astype(float), minlength=len(edges) + 1)
    k = len(n)
    best: tuple[float, list[int]] = (-1.0, [])
    for shape in ("up", "down"):
        groups = _pool(n, w, list(range(k)), shape == "up")
        best = max(best, (_iv_of(n, w, groups), groups), key=lambda t: t[0])
    one_way = best[0]
    for peak in range(1, k - 1):
        for up_first in (True, False):
            left = _pool(n, w, list(range(peak + 1)), up_first)
            right = _pool(n, w, list(range(peak + 1, k)), not up_first)
            groups = left + right
            iv = _iv_of(n, w, groups)
            if iv > max(best[0], one_way * 1.1):
                best = (iv, groups)
    starts = best[1]
    return [edges[s - 1] for s in starts[1:]]


def _pool(n: np.ndarray, w: np.ndarray, bins: list[int], rising: bool) -> list[int]:
    """Pool adjacent violators over ``bins`` (consecutive indexes); returns the first bin
    index of each pooled group."""
    starts = [bins[0]] if bins else []
    stats = [[n[bins[0]], w[bins[0]]]] if bins else []
    for b in bins[1:]:
        starts.append(b)
        stats.append([n[b], w[b]])
        while len(stats) > 1:
            r_prev = stats[-2][1] / max(stats[-2][0], 1)
            r_last = stats[-1][1] / max(stats[-1][0], 1)
            if (r_last >= r_prev) if rising else (r_last <= r_prev):
                break
            stats[-2][0] += stats[-1][0]
            stats[-2][1] += stats[-1][1]
            stats.pop()
            starts.pop()
    return starts


def _iv_of(n: np.ndarray, w: np.ndarray, starts: list[int]) -> float:
    """Information value of the bins when the groups begin at ``starts``."""
    bounds = [*starts, len(n)]
    gn = np.array([n[a:b].sum() for a, b in zip(bounds, bounds[1:], strict=False)])
    gw = np.array([w[a:b].sum() for a, b in zip(bounds, bounds[1:], strict=False)])
    n1, n0 = w.sum() + 1.0, (n - w).sum() + 1.0
    sb, sr = (gw + 0.5) / n1, (gn - gw + 0.5) / n0
    return float(np.sum((sb - sr) * np.log(sb / sr)))


def _bin_label(low: float, high: float) -> str:
    if math.isinf(low) and math.isinf(high):
        return "any value"
    if math.isinf(low):
        return f"< {format_number(high)}"
    if math.isinf(high):
        return f">= {format_number(low)}"
    return f"{format_number(low)} to < {format_number(high)}"


def _level_groups(attr: Attribute, support: int) -> list[Group]:
    x = attr.values
    missing = attr.missing
    keys, inverse, counts = np.unique(x[~missing].astype(str), return_inverse=True, return_counts=True)
    codes = np.full(len(x), -1)
    codes[~missing] = inverse
    groups = []
    rare = np.zeros(len(x), dtype=bool)
    for i in np.argsort(-counts, kind="stable"):
        mask = codes == i
        if counts[i] >= support:
            key = str(keys[i])
            groups.append(Group(attr.display.get(key, key), ("level", [key]), mask))
        else:
            rare |= mask
    if rare.any():
        groups.append(Group("other", ("other",), rare))
    if missing.any():
        groups.append(Group("missing", ("missing",), missing))
    return groups


def _item_groups(attr: Attribute, support: int) -> list[Binned]:
    lists = attr.values
    missing = attr.missing
    counts: dict[str, int] = {}
    for items in lists:
        for it in items or ():
            counts[it] = counts.get(it, 0) + 1
    frequent = sorted((k for k, c in counts.items() if c >= support), key=lambda k: (-counts[k], k))[:MAX_ITEMS]
    out = []
    for item in frequent:
        has = np.array([bool(items) and item in items for items in lists], dtype=bool)
        groups = [Group(f"has {attr.display.get(item, item)}", ("item", item), has),
                  Group("does not", ("no_item",), ~has & ~missing)]
        if missing.any():
            groups.append(Group("missing", ("missing",), missing))
        out.append(Binned(attr, groups, item=item))
    return out


def check_usable(data: Labelled) -> None:
    if not data.attributes:
        raise IcpError("no usable attribute: " + "; ".join(data.notes) if data.notes else "the table has no attribute",
                       where=data.where, hint="give a table with descriptive columns next to the label")
