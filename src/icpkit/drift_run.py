"""The populations ``icp drift`` compares, read and scored: a file, a recorded run, or a
period of a dated file.

A side is named by text:

* a run of the workspace's history: ``run:3`` (``icp runs`` lists them), or ``3``;
* a period of the ``--data`` file's ``--date`` column: ``2026`` (a year), ``2026-Q1`` (a
  quarter), ``2026-03`` (a month) or ``2026-01-15..2026-03-31`` (both days included); a
  bare number is a year when ``--data`` is given, else a run;
* otherwise a file of accounts (CSV, Parquet or JSON lines), scored with the profile.

Files are scored on the backend as ``icp score`` scores them; with ``label`` their
attributes are read as ``icp discover`` reads them (for the segments), with ``date`` their
dates (for the periods).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from .backends.base import Backend
from .discover.backtest import date_value
from .discover.features import read_labelled
from .errors import DataError, IcpError
from .io.frames import as_source
from .io.sources import source_label
from .monitor.drift import Records, Side
from .monitor.history import History
from .monitor.snapshot import POINTS_PREFIX
from .profile.model import Profile
from .run import score_rows
from .workspace import Workspace

_RUN = re.compile(r"^(?:run:)?(\d+)$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def period(text: str) -> tuple[date, date] | None:
    """``[start, end)`` of a period's name (see the module docstring), or None when the text
    names no period."""
    t = text.strip()
    try:
        if m := _YEAR.match(t):
            y = int(m[1])
            return date(y, 1, 1), date(y + 1, 1, 1)
        if m := _QUARTER.match(t):
            y, q = int(m[1]), int(m[2])
            return date(y, 3 * q - 2, 1), date(y + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
        if m := _MONTH.match(t):
            y, mo = int(m[1]), int(m[2])
            return date(y, mo, 1), date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
        if m := _RANGE.match(t):
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < start:
                raise IcpError(f"the period '{t}' ends before it starts")
            return start, last + timedelta(days=1)
    except ValueError:
        raise IcpError(f"'{t}' is not a period", hint="write 2026, 2026-Q1, 2026-03 or 2026-01-15..2026-03-31") \
            from None
    return None


def read_records(backend: Backend, profile: Profile, source: Any, *, label: str | None,
                 date_col: str | None, exclude: Sequence[str] = ()) -> Records:
    """A file's records scored by ``profile``, with labels, attributes and dates when asked."""
    src = as_source(source)
    where = source_label(src)
    scored = score_rows(backend, profile, src)
    points = [POINTS_PREFIX + c.key for c in profile.criteria]
    table = backend.to_arrow(scored.result(in_input_order=True).select("fit_score", "tier", *points))
    data = read_labelled(src, label, date=date_col, exclude=exclude, backend=backend) if label else None
    dates = data.dates if data is not None else _dates(backend, src, date_col, where) if date_col else None
    return Records(where, table.column("fit_score").to_numpy(zero_copy_only=False).astype(float),
                   np.asarray(table.column("tier").to_pylist(), dtype=object),
                   {p.removeprefix(POINTS_PREFIX): table.column(p).to_numpy(zero_copy_only=False).astype(float)
                    for p in points},
                   data.labels if data is not None else None, dates, data)


def _dates(backend: Backend, source: Any, column: str, where: str) -> np.ndarray:
    from .discover.features import _column
    from .discover.features import _dates as checked

    raw = backend.read(source, "icp_drift_dates")
    col = _column([c for c in raw.columns if c != "_row"], column, "date", where)
    table = backend.to_arrow(raw.select("_row", _date=date_value(raw[col]), _date_text=raw[col].cast("string"))
                             .order_by("_row"))
    return checked(table, where, col)


def kind_of(text: str, has_data: bool) -> str:
    """"run", "period" or "file": what a side's name names (see the module docstring)."""
    t = text.strip()
    if t.lower().startswith("run:") or (_RUN.match(t) and not (has_data and _YEAR.match(t))):
        return "run"
    return "period" if period(t) is not None else "file"


def side(backend: Backend, profile: Profile, text: str, *, what: str, data: Any, label: str | None,
         date_col: str | None, exclude: Sequence[str], workspace: Workspace | None,
         cache: dict[str, Records]) -> Side:
    """The side ``text`` names (see the module docstring); ``what`` is "baseline" or "current"."""
    kind = kind_of(text, data is not None)
    if kind == "run":
        m = _RUN.match(text.strip())
        if m is None:
            raise IcpError(f"'{text}' is not a run number", hint="write run:3 (`icp runs` lists the runs)")
        if workspace is None:
            raise IcpError(f"the {what} '{text}' names a run, and no workspace holds the history",
                           hint="give --workspace DIR")
        run = History(workspace.path).run(int(m[1]))
        return Side(f"run {run.run_id} ({run.source}, {run.recorded_at:%Y-%m-%d})", run.snapshot)
    span = period(text)
    if kind == "period" and span is not None:
        if data is None or date_col is None:
            raise IcpError(f"the {what} '{text}' is a period: give the dated file with --data FILE --date COL")
        records = _cached(backend, profile, data, label, date_col, exclude, cache)
        assert records.dates is not None
        start, end = (np.datetime64(d, "D") for d in span)
        mask = (records.dates >= start) & (records.dates < end)
        if not mask.any():
            first, last = records.dates.min(), records.dates.max()
            raise DataError(f"no record of {records.where} is dated in {text} (its dates run from {first} to {last})",
                            where=f"--{what}")
        sub = records.subset(mask, f"{records.where}, {text}")
        return Side(f"{text} of {records.where}", sub.snapshot(profile), sub)
    records = _cached(backend, profile, text, label, date_col, exclude, cache)
    return Side(records.where, records.snapshot(profile), records)


def _cached(backend: Backend, profile: Profile, source: Any, label: str | None, date_col: str | None,
            exclude: Sequence[str], cache: dict[str, Records]) -> Records:
    key = str(source)
    if key not in cache:
        cache[key] = read_records(backend, profile, source, label=label, date_col=date_col, exclude=exclude)
    return cache[key]


def check_columns(backend: Backend, a: Any, b: Any) -> None:
    """Two files compared need the same columns (ignoring order)."""
    ca = [c for c in backend.read(as_source(a), "icp_drift_a").columns if c != "_row"]
    cb = [c for c in backend.read(as_source(b), "icp_drift_b").columns if c != "_row"]
    only_a, only_b = [c for c in ca if c not in cb], [c for c in cb if c not in ca]
    if only_a or only_b:
        parts = ([f"only the baseline has {', '.join(repr(c) for c in only_a)}"] if only_a else []) + \
                ([f"only the current has {', '.join(repr(c) for c in only_b)}"] if only_b else [])
        raise DataError("the baseline and the current files have different columns: " + "; ".join(parts),
                        where=f"{source_label(as_source(a))} / {source_label(as_source(b))}",
                        hint="compare exports of the same layout")
