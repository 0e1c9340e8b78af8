"""The embedded DuckDB backend: reads inputs, binds and runs plans, writes results.

Plans arrive as ibis expressions over named, unbound tables; this backend creates those
tables (temporary, per connection), compiles the plan to DuckDB SQL and runs it. No scoring
logic lives here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ..errors import DataError, DuplicateKeyError, IcpError, Problem, WorkspaceError, located
from ..intent.events import (
    FINGERPRINT,
    Needed,
    canonical_contacts,
    canonical_events,
    event_columns,
    given_ids,
    is_needed,
    needed_rows,
)
from ..io.canonical import ROW, ROW_KEY, CanonicalPlan, bad_flag, canonical_plan
from ..io.sources import existing_file, file_format, sniff_csv
from ..profile.model import Profile
from ..scoring.plan import Step

#: Called with a phase name and, while a query runs, its progress in percent (or None).
ProgressFn = Callable[[str, float | None], None]

_MAX_LISTED = 10
_FORMULA_START = "^[=+\\-@\t\r]"


@dataclass
class Rejects:
    """Rows left out with ``on_error="skip"``: data row, column, value and reason."""

    rows: list[tuple[int | None, str, str, str]] = field(default_factory=list)

    def add(self, row: int | None, column: str, value: object, reason: str) -> None:
        self.rows.append((row, column, "" if value is None else str(value), reason))

    def to_arrow(self) -> pa.Table:
        cols = list(zip(*self.rows)) if self.rows else [[], [], [], []]
        return pa.table({"row": pa.array(cols[0], pa.int64()), "column": pa.array(cols[1], pa.string()),
                         "value": pa.array(cols[2], pa.string()), "reason": pa.array(cols[3], pa.string())})


@dataclass
class Loaded:
    """Canonical accounts, ready to score as the view ``name``; after :meth:`check`, the
    number of rows scored, the rows set aside and warnings."""

    name: str
    rows: int
    canonical: CanonicalPlan
    rejects: Rejects
    warnings: list[str]
    label: str
    is_csv: bool = False


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


@dataclass(frozen=True)
class EventsRead:
    """The events a scoring run read."""

    events: int  # events read (first copies; with a profile, those it can use), checked
    repeated: int  # input rows repeating an id already seen (ignored); 0 from the store
    unattributed: int  # events read without an account (free mail included)
    free_mail: int  # of those, e-mail events on free-mail addresses


_EVENT_FLAGS = ("_bad_occurred_at", "_bad_type", "_bad_who")


def _is_csv(source: object) -> bool:
    return isinstance(source, (str, Path)) and file_format(source) == "csv"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckDBBackend:
    """Scoring on DuckDB: an in-memory database, or a file (the workspace's) when given."""

    dialect = "duckdb"

    def __init__(self, database: str | Path = ":memory:", *, read_only: bool = False) -> None:
        try:
            self.con = duckdb.connect(str(database), read_only=read_only)
        except duckdb.Error as exc:
            raise WorkspaceError(f"cannot open the database {database}: {exc}",
                                 hint="another icp process may hold it; DuckDB allows one writer") from None
        self.con.execute("SET TimeZone='UTC'")  # timestamps without an offset are UTC
        self.con.execute("SET enable_progress_bar=true")
        self.con.execute("SET enable_progress_bar_print=false")
        self._seq = 0

    def close(self) -> None:
        self.con.close()

    # -- running SQL -----------------------------------------------------------------

    def execute(self, sql: str, progress: ProgressFn | None = None, phase: str = "") -> None:
        with self._progress(progress, phase):
            self._run(sql)

    def to_arrow(self, sql: str, progress: ProgressFn | None = None, phase: str = "") -> pa.Table:
        with self._progress(progress, phase):
            try:
                return self.con.sql(sql).to_arrow_table()
            except duckdb.Error as exc:
                raise _wrap(exc) from None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql).fetchall()
        except duckdb.Error as exc:
            raise _wrap(exc) from None

    def _run(self, sql: str) -> None:
        try:
            self.con.execute(sql)
        except duckdb.Error as exc:
            raise _wrap(exc) from None

    @contextmanager
    def _progress(self, progress: ProgressFn | None, phase: str) -> Iterator[None]:
        if progress is None:
            yield
            return
        progress(phase, None)
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.2):
                try:
                    pct = self.con.query_progress()
                except duckdb.Error:
                    return
                if pct >= 0:
                    progress(phase, pct)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            progress(phase, 100.0)

    def table_ref(self, name: str) -> ir.Table:
        """An unbound ibis table with the schema of the existing table or view ``name``."""
        schema = self.to_arrow(f"SELECT * FROM {quote_ident(name)} LIMIT 0").schema
        return ibis.table(ibis.Schema.from_pyarrow(schema), name=name)

    def compile(self, expr: ir.Table) -> str:
        return str(ibis.to_sql(expr, dialect=self.dialect))

    # -- reading ---------------------------------------------------------------------

    def read_raw(self, source: str | Path | pa.Table, name: str, on_error: str = "fail") -> str:
        """Create the view ``name`` over an input, with a 1-based ``_row`` column. Returns the
        label used in messages (the file's path)."""
        if isinstance(source, pa.Table):
            self.con.register(f"{name}_arrow", source)
            self._run(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT row_number() OVER () AS {ROW}, * "
                      f"FROM {name}_arrow")
            return "input table"
        path = existing_file(source)
        fmt = file_format(path)
        p = quote_str(str(path))
        if fmt == "parquet":
            scan = f"SELECT file_row_number + 1 AS {ROW}, * EXCLUDE (file_row_number) " \
                   f"FROM read_parquet({p}, file_row_number=true)"
        elif fmt == "jsonl":
            scan = f"SELECT row_number() OVER () AS {ROW}, * FROM read_json({p}, format='newline_delimited')"
        else:
            d = sniff_csv(path)
            columns = "{" + ", ".join(f"{quote_str(h)}: 'VARCHAR'" for h in d.header) + "}"
            opts = (f"columns={columns}, header=true, auto_detect=false, delim={quote_str(d.delimiter)}, "
                    f"quote='\"', escape='\"', encoding={quote_str(d.encoding)}")
            if on_error == "skip":
                opts += f", ignore_errors=true, store_rejects=true, rejects_table='{name}_rejects', " \
                        f"rejects_scan='{name}_scan'"
            scan = f"SELECT row_number() OVER () AS {ROW}, * FROM read_csv({p}, {opts})"
        self._run(f"CREATE OR REPLACE TEMP VIEW {name} AS {scan}")
        return str(path)

    def prepare_accounts(self, source: str | Path | pa.Table, profile: Profile, *, on_error: str = "fail",
                         features: str | None = None) -> Loaded:
        """Open ``source`` as the canonical view ``icp_accounts``: ``_row``, the fields the
        profile uses, typed, and ``_bad`` (a value could not be read or the domain is missing).

        Nothing is read yet: values are parsed once, when the plan's first step runs;
        :meth:`check` then looks at that step's rows for bad values and duplicate domains.
        """
        label = self.read_raw(source, "icp_raw", on_error)
        try:
            canon = canonical_plan(self.table_ref("icp_raw"), profile, source=label,
                                   features=self.table_ref(features) if features else None)
        except IcpError as exc:
            exc.where = exc.where or label
            raise
        self._run(f"CREATE OR REPLACE TEMP VIEW icp_canon AS {self.compile(canon.expr)}")
        flags = [quote_ident(bad_flag(f.name)) for f in canon.fields] + (["domain IS NULL"] if canon.keyed else [])
        fields = ", ".join([quote_ident(f.name) for f in canon.fields]
                           + [quote_ident(f) for f in profile.trigger_fields()])
        unknown = "_country_unknown" if any(f.name == "country" for f in canon.fields) else "false AS _country_unknown"
        key = "" if canon.keyed else f"{ROW_KEY}, "
        self._run(f"CREATE OR REPLACE TEMP VIEW icp_accounts AS SELECT {ROW}, {key}{fields}, "
                  f"({' OR '.join(flags)}) AS _bad, {unknown} FROM icp_canon")
        return Loaded("icp_accounts", 0, canon, Rejects(), [], label, is_csv=_is_csv(source))

    def prepare_events(self, source: str | Path | pa.Table, *, on_error: str = "fail", needed: Needed | None = None,
                       progress: ProgressFn | None = None) -> str:
        """Read events as the view ``icp_events`` (canonical columns, see
        :mod:`icpkit.intent.events`) and return the input's label.

        Each event id is its first copy in the input: later copies are never read. With
        ``needed`` (see :func:`icpkit.intent.plan.needed_events`) only those events are
        read, and those without a type (see :func:`icpkit.intent.events.is_needed`): the
        rest is never normalised. The events read are checked: a missing type, a time that
        cannot be read, or neither a domain nor an e-mail stops the run with the file, row and
        column, or with ``on_error="skip"`` the event is left out."""
        label = self.read_raw(source, "icp_events_raw", on_error)
        raw = self.table_ref("icp_events_raw")
        cols = event_columns([c for c in raw.columns if c != ROW], label)
        ids = given_ids(raw, cols)
        copies = ids.group_by("event_id").aggregate(_first=ids[ROW].min(), _copies=ids.count())
        self.execute(f"CREATE OR REPLACE TEMP TABLE icp_event_copies AS "  # NULL: the rows without an id
                     f"{self.compile(copies.filter(copies._copies > 1))}", progress, "reading event ids")
        events = canonical_events(raw if needed is None else raw.filter(needed_rows(raw, cols, needed)), cols)
        repeated = self.table_ref("icp_event_copies")
        events = events.anti_join(repeated, [events.event_id == repeated.event_id, events[ROW] != repeated._first])
        self.execute(f"CREATE OR REPLACE TEMP TABLE icp_events_read AS {self.compile(events)}", progress,
                     "reading events")
        if needed is not None:  # the cheap test of the scan let a few more through
            read = self.table_ref("icp_events_read")
            extra = read.filter(~is_needed(read, needed)).select(ROW)
            self._run(f"DELETE FROM icp_events_read WHERE {ROW} IN ({self.compile(extra)})")
        # Events without an id are their content: of copies (all read, or none), the first.
        unnamed = f"starts_with(event_id, {quote_str(FINGERPRINT)})"
        self._run(f"DELETE FROM icp_events_read WHERE {unnamed} AND {ROW} NOT IN "
                  f"(SELECT min({ROW}) FROM icp_events_read WHERE {unnamed} GROUP BY event_id)")
        checks = [("_bad_occurred_at", cols.occurred_at, "cannot read '{}' as a timestamp (write ISO 8601, "
                   "e.g. 2026-01-31T09:30:00Z)"), ("_bad_type", cols.type, "the event type is missing"),
                  ("_bad_who", cols.domain or cols.email or "", "the event has neither a domain nor an e-mail")]
        for flag, header, message in checks:
            found = self.rows(f"SELECT r.{ROW}, CAST(r.{quote_ident(header)} AS VARCHAR) FROM icp_events_read e "
                              f"JOIN icp_events_raw r USING ({ROW}) WHERE e.{flag} ORDER BY r.{ROW}")
            if found and on_error == "fail":
                row, value = found[0]
                more = f" ({len(found)} rows in all)" if len(found) > 1 else ""
                raise DataError(message.format(value) + more, where=located(label, row, header),
                                hint="fix the file, or use --on-error skip to leave such events out")
        self._run(f"CREATE OR REPLACE TEMP VIEW icp_events AS SELECT * EXCLUDE ({', '.join(_EVENT_FLAGS)}) "
                  f"FROM icp_events_read WHERE NOT ({' OR '.join(_EVENT_FLAGS)})")
        return label

    def events_read(self) -> EventsRead:
        """What :meth:`prepare_events` or :meth:`stored_events` made ``icp_events``."""
        events, unattributed, free = self.rows("SELECT count(*), count(*) FILTER (domain IS NULL), "
                                               "count(*) FILTER (free_mail) FROM icp_events")[0]
        copies = self.rows("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'icp_event_copies'")[0][0]
        repeated = self.rows("SELECT coalesce(sum(_copies - 1), 0) FROM icp_event_copies WHERE event_id IS NOT NULL"
                             )[0][0] if copies else 0
        return EventsRead(events, int(repeated), unattributed, free)

    def loaded_events(self, label: str) -> EventsLoaded:
        """What :meth:`prepare_events` (without ``needed``) read."""
        rows = self.rows("SELECT count(*) FROM icp_events_raw")[0][0]
        read = self.rows("SELECT count(*) FROM icp_events_read")[0][0]
        kept = self.events_read()
        return EventsLoaded(label, rows, kept.events, rows - read, read - kept.events, kept.free_mail,
                            kept.unattributed)

    def prepare_contacts(self, source: str | Path | pa.Table) -> str:
        """Read contacts into the temporary table ``icp_contacts`` (see
        :func:`icpkit.intent.events.canonical_contacts`); returns the input's label."""
        label = self.read_raw(source, "icp_contacts_raw")
        expr = canonical_contacts(self.table_ref("icp_contacts_raw"), label)
        self._run(f"CREATE OR REPLACE TEMP TABLE icp_contacts AS {self.compile(expr)}")
        return label

    def stored_events(self, database: Path) -> str:
        """Use the event store of a workspace database (see :mod:`icpkit.intent.store`) as
        ``icp_events``: attached read-only unless it is this backend's own database. Returns
        the store's label."""
        from ..intent.store import STORE

        own = self.rows("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0][0]
        source = STORE
        if not own or Path(own).resolve() != Path(database).resolve():
            self._run(f"ATTACH {quote_str(str(database))} AS icp_ws (READ_ONLY)")
            source = f"icp_ws.{STORE}"
        self._run(f"CREATE OR REPLACE TEMP VIEW icp_events AS SELECT 0 AS {ROW}, * FROM {source}")
        return f"the workspace's events ({database})"

    def materialize(self, step: Step, loaded: Loaded, progress: ProgressFn | None = None, phase: str = "") -> None:
        """Run one step of a plan into a temporary table of the step's name; later steps read it."""
        try:
            self.execute(f"CREATE OR REPLACE TEMP TABLE {step.name} AS {self.compile(step.expr)}", progress, phase)
        except DataError as exc:
            raise DataError(f"cannot read {loaded.label}: {exc.message}", where=loaded.label,
                            hint="fix the file, or use --on-error skip to set bad rows aside") from None

    def check(self, loaded: Loaded, on_error: str, table: str) -> None:
        """Bad values and duplicate domains among the scored rows of ``table`` (which has
        ``_row``, ``domain`` and ``_bad``): raised with their file, row and column
        (``on_error="fail"``), or recorded in ``loaded.rejects`` and deleted (``"skip"``)."""
        if on_error == "skip" and loaded.is_csv and not loaded.rejects.rows:
            for line, col, err, text in self.rows(
                "SELECT line, column_name, error_message, csv_line FROM icp_raw_rejects ORDER BY line"
            ):
                loaded.rejects.add(None, col or "", text, f"line {line}: {err}")
        limit = "" if on_error == "skip" else f"LIMIT {_MAX_LISTED}"
        bad = [r[0] for r in self.rows(f"SELECT {ROW} FROM {table} WHERE _bad ORDER BY {ROW} {limit}")]
        # Find the duplicated domains first (a count per domain), then list their rows: listing
        # the rows of every domain costs more than the whole scoring pass.
        dupes = self.rows(
            f"SELECT domain, list({ROW} ORDER BY {ROW}) FROM {table} WHERE domain IN "
            f"(SELECT domain FROM {table} WHERE NOT _bad GROUP BY domain HAVING count(*) > 1) AND NOT _bad "
            f"GROUP BY domain ORDER BY min({ROW}) {limit}"
        ) if loaded.canonical.keyed else []
        if bad:
            self._bad_values(loaded, bad, on_error)
        if dupes:
            self._duplicates(loaded, dupes, on_error)
        rejected = bad + [r for _, rows in dupes for r in rows[1:]]
        if rejected:
            self._run(f"DELETE FROM {table} WHERE {ROW} IN ({', '.join(map(str, rejected))})")
        loaded.rows = self.rows(f"SELECT count(*) FROM {table}")[0][0]
        loaded.warnings = self._warnings(table)

    def _bad_values(self, loaded: Loaded, bad_rows: list[int], on_error: str) -> None:
        canon = loaded.canonical
        checks = [(f, quote_ident(bad_flag(f.name))) for f in canon.fields]
        if canon.keyed:
            checks.append((next(f for f in canon.fields if f.name == "domain"), "domain IS NULL"))
        in_list = ", ".join(str(r) for r in bad_rows)
        headers = ", ".join(quote_ident(f.header) for f in canon.fields)
        raw = {r[0]: r[1:] for r in self.rows(f"SELECT {ROW}, {headers} FROM icp_raw WHERE {ROW} IN ({in_list})")}
        flags = ", ".join(c for _, c in checks)
        names = [x.name for x in canon.fields]
        problems: list[Problem] = []
        for row, *hits in self.rows(f"SELECT {ROW}, {flags} FROM icp_canon WHERE {ROW} IN ({in_list}) ORDER BY {ROW}"):
            for (f, check), hit in zip(checks, hits):
                if not hit:
                    continue
                value = raw[row][names.index(f.name)]
                reason = "the domain is missing" if check == "domain IS NULL" else _reason(f.kind, f.name, value)
                problems.append(Problem(reason, located(loaded.label, row, f.header)))
                loaded.rejects.add(row, f.header, value, reason)
        if on_error != "skip":
            raise DataError(f"{len(problems)} bad values in {loaded.label}" if len(problems) > 1 else problems[0].message,
                            where=problems[0].where, problems=problems,
                            hint="fix them, or use --on-error skip to set these rows aside in a rejects file")

    def _duplicates(self, loaded: Loaded, dupes: list[tuple[Any, ...]], on_error: str) -> None:
        header = loaded.canonical.header_of("domain")
        if on_error == "skip":
            for domain, rows in dupes:
                for r in rows[1:]:
                    loaded.rejects.add(r, header, domain, f"duplicate domain: first seen on row {rows[0]}")
            return
        problems = [Problem(f"domain '{d}' appears {len(rows)} times (rows {', '.join(map(str, rows[:8]))})",
                            located(loaded.label, column=header)) for d, rows in dupes]
        raise DuplicateKeyError(
            f"{len(dupes)} duplicate domains in {loaded.label}" if len(dupes) > 1 else problems[0].message,
            where=problems[0].where, problems=problems,
            hint="an account is keyed by its domain: merge the rows, or use --on-error skip to keep the first",
        )

    def _warnings(self, table: str) -> list[str]:
        n = self.rows(f"SELECT count(*) FROM {table} WHERE _country_unknown")[0][0]
        if not n:
            return []
        examples = self.rows("SELECT DISTINCT country FROM icp_accounts WHERE _country_unknown LIMIT 5")
        shown = ", ".join(f"'{e[0]}'" for e in examples)
        return [f"{n} row(s) have a country that is not recognised as an ISO code or name ({shown}); "
                "they earn no country points"]

    # -- writing ---------------------------------------------------------------------

    def write(self, sql: str, out: Path, progress: ProgressFn | None = None) -> None:
        """Write a query's result to ``out`` (CSV, Parquet or JSON lines by suffix), atomically:
        a failed write leaves no partial file and an earlier ``out`` untouched."""
        fmt = file_format(out, purpose="output")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        if fmt == "csv":
            sql = self._neutralised(sql)
            options = "FORMAT csv, HEADER true"
        elif fmt == "parquet":
            options = "FORMAT parquet, COMPRESSION zstd"
        else:
            options = "FORMAT json"
        try:
            self.execute(f"COPY ({sql}) TO {quote_str(str(tmp))} ({options})", progress, "writing results")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)

    def _neutralised(self, sql: str) -> str:
        """CSV cells that a spreadsheet would run as a formula get a leading apostrophe."""
        self._seq += 1
        view = f"icp_out_{self._seq}"
        self._run(f"CREATE OR REPLACE TEMP VIEW {view} AS {sql}")
        parts = []
        for col in self.to_arrow(f"SELECT * FROM {view} LIMIT 0").schema:
            q = quote_ident(col.name)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                parts.append(f"CASE WHEN regexp_matches({q}, {quote_str(_FORMULA_START)}) "
                             f"THEN '''' || {q} ELSE {q} END AS {q}")
            else:
                parts.append(q)
        return f"SELECT {', '.join(parts)} FROM {view}"


def _reason(kind: str, name: str, value: object) -> str:
    if name == "domain":
        return f"'{value}' is not a domain name"
    if kind == "number":
        return f"cannot read '{value}' as a number"
    return f"cannot read '{value}'"


_DATA_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException,
                duckdb.OutOfRangeException)


def _wrap(exc: duckdb.Error) -> Exception:
    """Errors caused by the data become DataError; anything else is a bug and stays as it is."""
    if not isinstance(exc, _DATA_ERRORS):
        return exc
    text = str(exc).split("\n\n")[0].strip()
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "Binder Error: ", "IO Error: "):
        text = text.replace(prefix, "")
    return DataError(text.replace("\n", "; "))
