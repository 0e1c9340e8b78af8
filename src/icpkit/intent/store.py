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

from ..backends import connect
from ..backends.base import TableName
from ..errors import IcpError
from ..io.frames import as_source
from ..workspace import Workspace
from .reader import Events, EventsLoaded, loaded_events, read_events, stored_events

STORE = "icp_events_store"


@dataclass(frozen=True)
class EventsLoad:
    """What a load did: what the file held, what was new, and the store's size after."""

    read: EventsLoaded
    added: int
    already_stored: int
    stored: int


def load_events(workspace: Workspace, source: str | Path | Any, *, on_error: str = "fail") -> EventsLoad:
    """Append the new events of ``source`` (a file or an Arrow table) to the workspace's store
    (waiting for another run that holds the workspace, see :meth:`Workspace.locked`)."""
    with workspace.locked():
        backend = connect(database=workspace.ensure().database)
        try:
            events = read_events(backend, as_source(source), on_error=on_error)
            read = loaded_events(backend, events)
            added = backend.append(TableName(STORE), events.table.drop("_row"), key="event_id")
            stored = backend.scalar(backend.read(TableName(STORE), "icp_store_now").count())
        finally:
            backend.close()
    return EventsLoad(read, added, read.events - added, stored)


def has_stored_events(workspace: Workspace) -> bool:
    if not workspace.database.exists():
        return False
    backend = connect(database=workspace.database, read_only=True)
    try:
        return backend.has_table(TableName(STORE))
    finally:
        backend.close()


def workspace_events(backend: Any, workspace: Workspace) -> Events:
    """The workspace's stored events, read on ``backend`` (attached read-only unless it is
    the workspace's own database)."""
    label = f"the workspace's events ({workspace.database})"
    return stored_events(backend, TableName(STORE, database=workspace.database), label)


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
    ws = workspace or Workspace()
    if source is None and not has_stored_events(ws):
        raise IcpError(f"no events file given and the workspace {ws.path} has no stored events",
                       hint="give an events file, or load one with `icp events load FILE`")
    backend = connect()
    try:
        events = workspace_events(backend, ws) if source is None else read_events(backend, as_source(source),
                                                                                      on_error=on_error)
        t = events.table
        per_type = t.group_by("type").aggregate(events=t.count(), accounts=t.domain.nunique(),
                                                people=t.email.nunique(), first=t.occurred_at.min(),
                                                last=t.occurred_at.max())
        rows = backend.to_arrow(per_type.order_by([per_type.events.desc(), per_type.type])).to_pylist()
    finally:
        backend.close()
    return events.label, [EventType(**r) for r in rows]
