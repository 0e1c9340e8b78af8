"""The workspace's event store: events loaded once, kept, and never counted twice.

``icp events load FILE`` reads an events file (see :mod:`.events`) and appends to the table
``icp_events_store`` of the workspace database the events whose id it does not hold yet, in
one transaction: a failed load adds nothing and loses nothing. Scoring a profile with an
intent section reads the store when no events file is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backends.duckdb import DuckDBBackend, EventsLoaded
from ..errors import IcpError
from ..workspace import Workspace

STORE = "icp_events_store"


@dataclass(frozen=True)
class EventsLoad:
    """What a load did: what the file held, what was new, and the store's size after."""

    read: EventsLoaded
    added: int
    already_stored: int
    stored: int


def load_events(workspace: Workspace, source: str | Path | Any, *, on_error: str = "fail") -> EventsLoad:
    """Append the new events of ``source`` to the workspace's event store."""
    from ..api import _source

    backend = DuckDBBackend(workspace.ensure().database)
    try:
        read = backend.loaded_events(backend.prepare_events(_source(source), on_error=on_error))
        backend.execute("BEGIN TRANSACTION")
        try:
            backend.execute(f"CREATE TABLE IF NOT EXISTS {STORE} AS SELECT * EXCLUDE (_row) FROM icp_events LIMIT 0")
            before = backend.rows(f"SELECT count(*) FROM {STORE}")[0][0]
            backend.execute(f"INSERT INTO {STORE} SELECT * EXCLUDE (_row) FROM icp_events e WHERE NOT EXISTS "
                            f"(SELECT 1 FROM {STORE} s WHERE s.event_id = e.event_id)")
            after = backend.rows(f"SELECT count(*) FROM {STORE}")[0][0]
            backend.execute("COMMIT")
        except Exception:
            backend.execute("ROLLBACK")
            raise
    finally:
        backend.close()
    added = after - before
    return EventsLoad(read, added, read.events - added, after)


def has_stored_events(workspace: Workspace) -> bool:
    if not workspace.database.exists():
        return False
    backend = DuckDBBackend(workspace.database, read_only=True)
    try:
        return bool(backend.rows(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{STORE}'")[0][0])
    finally:
        backend.close()


@dataclass(frozen=True)
class EventType:
    """One event type: how many events, accounts and people, and when."""

    type: str
    events: int
    accounts: int
    people: int
    first: Any
    last: Any


def event_types(source: str | Path | Any = None, *, workspace: Workspace | None = None,
                on_error: str = "fail") -> tuple[str, list[EventType]]:
    """The event types of an events file (or, without one, of the workspace's store), most
    frequent first, with the label of what was read: what a profile's signals can name."""
    from ..api import _source

    ws = workspace or Workspace()
    if source is None and not has_stored_events(ws):
        raise IcpError(f"no events file given and the workspace {ws.path} has no stored events",
                       hint="give an events file, or load one with `icp events load FILE`")
    backend = DuckDBBackend()
    try:
        if source is None:
            label = backend.stored_events(ws.database)
        else:
            label = backend.prepare_events(_source(source), on_error=on_error)
        rows = backend.rows("SELECT type, count(*), count(DISTINCT domain), count(DISTINCT email), min(occurred_at), "
                            "max(occurred_at) FROM icp_events GROUP BY type ORDER BY 2 DESC, 1")
    finally:
        backend.close()
    return label, [EventType(*r) for r in rows]
