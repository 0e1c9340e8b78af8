"""Reading events on a backend: first copies only, what the profile needs, checked.

The expressions come from :mod:`.events`; this module sequences them on a backend (any
engine) and counts what was read. Each event id is its first copy in the input: later
copies are never read. With ``needed`` (see :func:`icpkit.intent.plan.needed_events`) only
those events are read, and those without a type (see :func:`.events.is_needed`): the rest
is never normalised. The events read are checked: a missing type, a time that cannot be
read, or neither a domain nor an e-mail stops the run with the file, row and column, or
with ``on_error="skip"`` the event is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from ..errors import DataError, located
from ..io.sources import source_label
from .events import FINGERPRINT, Needed, canonical_contacts, canonical_events, event_columns, given_ids, is_needed, \
    needed_rows
from .record import YEAR_MESSAGE

ROW = "_row"
_FLAGS = ("_bad_occurred_at", "_bad_occurred_year", "_bad_type", "_bad_who")


@dataclass(frozen=True)
class Events:
    """Events ready for the intent plans: ``table`` (canonical columns), and what they were
    read from (``raw`` and ``read`` for counts; ``copies``: ids seen more than once)."""

    table: ir.Table
    label: str
    raw: ir.Table | None = None
    read: ir.Table | None = None
    copies: ir.Table | None = None


@dataclass(frozen=True)
class EventsRead:
    """The events a scoring run read."""

    events: int  # events read (first copies; with a profile, those it can use), checked
    repeated: int  # input rows repeating an id already seen (ignored); 0 from the store
    unattributed: int  # events read without an account (free mail included)
    free_mail: int  # of those, e-mail events on free-mail addresses


@dataclass(frozen=True)
class EventsLoaded:
    """What reading an events file found."""

    label: str
    rows: int  # rows in the file
    events: int  # distinct events kept
    duplicates: int  # rows repeating an event id already seen
    rejected: int  # rows left out with on_error="skip"
    free_mail: int  # contact events on free-mail addresses (not attributed to an account)
    unattributed: int  # events without an account (free mail included)


def read_events(backend: Any, source: Any, *, on_error: str = "fail", needed: Needed | None = None,
                progress: Any = None) -> Events:
    """Read an events file or table into the backend's ``icp_events`` (see the module docstring)."""
    raw = backend.read(source, "icp_events_raw", on_error=on_error)
    label = source_label(source)
    cols = event_columns([c for c in raw.columns if c != ROW], label)
    ids = given_ids(raw, cols)
    copies = ids.group_by("event_id").aggregate(_first=ids[ROW].min(), _copies=ids.count())
    # The NULL group holds the rows without an id.
    copies = backend.materialize("icp_event_copies", copies.filter(copies._copies > 1), progress=progress,
                                 phase="reading event ids")
    events = canonical_events(raw if needed is None else raw.filter(needed_rows(raw, cols, needed)), cols)
    events = events.anti_join(copies, [events.event_id == copies.event_id, events[ROW] != copies._first])
    read = backend.materialize("icp_events_read", events, progress=progress, phase="reading events")
    if needed is not None:  # the cheap test of the scan let a few more through
        backend.delete_rows("icp_events_read", read.filter(~is_needed(read, needed)).select(ROW))
    # Events without an id are their content: of copies (all read, or none), the first.
    unnamed = read.filter(read.event_id.startswith(FINGERPRINT))
    firsts = unnamed.group_by("event_id").aggregate(_first=unnamed[ROW].min())
    backend.delete_rows("icp_events_read", unnamed.anti_join(firsts, unnamed[ROW] == firsts._first).select(ROW))
    checks = [("_bad_occurred_at", cols.occurred_at, "cannot read '{}' as a timestamp (write ISO 8601, "
               "e.g. 2026-01-31T09:30:00Z)"), ("_bad_occurred_year", cols.occurred_at, YEAR_MESSAGE),
              ("_bad_type", cols.type, "the event type is missing"),
              ("_bad_who", cols.domain or cols.email or "", "the event has neither a domain nor an e-mail")]
    if on_error == "fail":
        for flag, header, message in checks:
            bad = read.filter(read[flag]).select(ROW)
            found = backend.to_arrow(bad.aggregate(n=bad.count(), first=bad[ROW].min()))
            n, row = found["n"][0].as_py(), found["first"][0].as_py()
            if n:
                value = backend.scalar(raw.filter(raw[ROW] == row)[header].cast("string").max())
                more = f" ({n} rows in all)" if n > 1 else ""
                raise DataError(message.format(value) + more, where=located(label, row, header),
                                hint="fix the file, or use --on-error skip to leave such events out")
    good = read.filter(~(read[_FLAGS[0]] | read[_FLAGS[1]] | read[_FLAGS[2]] | read[_FLAGS[3]])).drop(*_FLAGS)
    return Events(backend.view("icp_events", good), label, raw, read, copies)


def stored_events(backend: Any, store: Any, label: str) -> Events:
    """The events of a store table (already checked and deduplicated when loaded)."""
    t = backend.read(store, "icp_events_stored")
    return Events(t, label)


def events_read(backend: Any, events: Events) -> EventsRead:
    """What :func:`read_events` or :func:`stored_events` read."""
    t = events.table
    counts = backend.to_arrow(t.aggregate(n=t.count(), unattributed=t.domain.isnull().sum(),
                                          free=t.free_mail.sum())).to_pylist()[0]
    repeated = 0
    if events.copies is not None:
        c = events.copies.filter(events.copies.event_id.notnull())
        repeated = backend.scalar((c._copies - 1).sum()) or 0
    return EventsRead(counts["n"], int(repeated), int(counts["unattributed"] or 0), int(counts["free"] or 0))


def loaded_events(backend: Any, events: Events) -> EventsLoaded:
    """What :func:`read_events` (without ``needed``) read."""
    assert events.raw is not None and events.read is not None
    rows = backend.scalar(events.raw.count())
    read = backend.scalar(events.read.count())
    kept = events_read(backend, events)
    return EventsLoaded(events.label, rows, kept.events, rows - read, read - kept.events, kept.free_mail,
                        kept.unattributed)


def read_contacts(backend: Any, source: Any) -> ir.Table:
    """Contacts as the backend's ``icp_contacts`` (see :func:`.events.canonical_contacts`)."""
    raw = backend.read(source, "icp_contacts_raw")
    return backend.materialize("icp_contacts", canonical_contacts(raw, source_label(source)))
