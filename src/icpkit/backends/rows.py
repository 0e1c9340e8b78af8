"""Stored rows: small keyed tables a long-running service keeps (the server's keys, profiles,
accounts, events), on DuckDB or PostgreSQL, through one SQL dialect both speak.

The caller describes its tables as data (:class:`Table`: columns of a few kinds, a primary
key, indexes) and a list of migrations under a namespace of its own (each a list of tables
to create, columns or indexes to add); :meth:`Rows.migrate` applies the ones a database has
not seen yet, each in one transaction, and records them in ``icp_migrations``. Reads and writes take table and column
names that are checked against those descriptions and values that are always passed as
parameters, so no text from a request ever becomes SQL. A backend knows no domain: the
tables are the caller's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import DataError
from .base import check_name

#: Column kinds and their SQL type on both engines.
KINDS = {"text": "TEXT", "int": "BIGINT", "float": "DOUBLE PRECISION", "bool": "BOOLEAN", "time": "TIMESTAMP"}
Kind = Literal["text", "int", "float", "bool", "time"]
#: Comparisons a filter may use.
OPERATORS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "IN", "not in": "NOT IN",
             "null": "IS NULL"}

Where = Sequence[tuple[str, str, Any]]
#: Up to this many values an ``in`` filter lists as parameters; more go as one array.
_LISTED = 8


@dataclass(frozen=True)
class Table:
    """A stored table: its columns (name -> kind), primary key and indexes."""

    name: str
    columns: Mapping[str, Kind]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    not_null: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_name(self.name)
        for col in self.columns:
            check_name(col)
        for col in (*self.key, *self.not_null, *(c for ix in self.indexes for c in ix)):
            if col not in self.columns:
                raise ValueError(f"{self.name}: no column {col!r}")

    def column(self, name: str) -> str:
        if name not in self.columns:
            raise ValueError(f"{self.name} has no column {name!r}")
        return _q(name)


@dataclass(frozen=True)
class AddColumn:
    """A migration step adding a column (nullable) to an existing table."""

    table: str
    column: str
    kind: Kind


@dataclass(frozen=True)
class AddIndex:
    """A migration step adding an index to an existing table."""

    table: str
    columns: tuple[str, ...]


Migration = Sequence[Table | AddColumn | AddIndex]


def _storable(value: Any, column: str) -> Any:
    """``value`` as stored, or a DataError for text no engine can store alike: a NUL
    character (PostgreSQL refuses it) or a lone surrogate (not UTF-8)."""
    if value.__class__ is str and ("\x00" in value or not value.isascii() and _has_surrogate(value)):
        raise DataError("the text holds a NUL character or an invalid one (a lone surrogate), which cannot be stored",
                        where=column, hint="remove control characters from the value")
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: Rows inserted into a table before :class:`Rows` (with ``analyze``) first analyses it.
_ANALYZE_FROM = 1000


def _q(name: str) -> str:
    return '"' + check_name(name) + '"'


class Rows:
    """Keyed rows on one connection. ``execute(sql, params)`` runs one statement (its
    parameters written as ``placeholder``) and returns its rows; ``insert_many(head, kinds,
    rows, tail)`` runs ``head`` with the rows (columns of those kinds) and ``tail`` in one
    statement; ``begin``/``commit``/``rollback`` bracket a transaction. One thread at a time uses the connection (a lock),
    and a transaction holds it until it ends.

    ``single_writer``: no other connection writes this database (DuckDB's file has one
    writer), so what a transaction read stays true until it ends and what this process
    wrote last is what is stored; with PostgreSQL other servers may write. Rows are inserted
    as one list of parameters (``VALUES``) while they hold at most ``listed_values`` values
    (one row always), else through ``insert_many``.

    ``analyze``: the database plans queries from statistics it refreshes only now and then
    (PostgreSQL: autovacuum, a minute or more apart), so a table growing from empty is read
    by a full scan where its index would do. Each table is analysed again when the rows
    inserted into it through this object reach 1,000, then each time they double."""

    def __init__(self, execute: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
                 insert_many: Callable[[str, Sequence[str], Sequence[Sequence[Any]], str], None], placeholder: str,
                 begin: Callable[[], None], commit: Callable[[], None], rollback: Callable[[], None], *,
                 single_writer: bool = False, listed_values: int = 0, analyze: bool = False) -> None:
        self.single_writer = single_writer
        self._analyze = analyze
        self._inserted: dict[str, tuple[int, int]] = {}  # table -> (rows inserted, rows at which to analyse)
        self._listed_values = listed_values
        self._execute, self._insert_many = execute, insert_many
        self._ph = placeholder
        self._begin, self._commit, self._rollback = begin, commit, rollback
        self._lock = threading.RLock()
        self._depth = 0
        self.tables: dict[str, Table] = {}

    # -- transactions and schema --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Rows]:
        """Everything inside is stored together or not at all; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            self._commit()

    def migrate(self, namespace: str, migrations: Sequence[Migration]) -> int:
        """Apply the migrations of ``namespace`` (one caller's tables: numbered from 1 in list
        order) this database has not had yet, each in its own transaction; the number
        applied. The tables they describe are then known to :meth:`insert`, :meth:`select`
        and the others. Several namespaces share a database without sharing numbers."""
        applied = 0
        with self.transaction():
            self._execute('CREATE TABLE IF NOT EXISTS "icp_migrations" (namespace TEXT NOT NULL, '
                          'version BIGINT NOT NULL, applied_at TIMESTAMP, PRIMARY KEY (namespace, version))', ())
            done = {int(r[0]) for r in self._execute(
                f'SELECT version FROM "icp_migrations" WHERE namespace = {self._ph}', (namespace,))}
        for number, steps in enumerate(migrations, 1):
            for step in steps:
                self._learn(step)
            if number in done:
                continue
            with self.transaction():
                for step in steps:
                    for sql in self._ddl(step):
                        self._execute(sql, ())
                self._execute(f'INSERT INTO "icp_migrations" VALUES ({self._ph}, {self._ph}, CURRENT_TIMESTAMP)',
                              (namespace, number))
            applied += 1
        return applied

    def _learn(self, step: Table | AddColumn | AddIndex) -> None:
        if isinstance(step, Table):
            self.tables[step.name] = step
        elif isinstance(step, AddIndex):
            self._table(step.table).column(step.columns[0])
        else:
            old = self.tables[step.table]
            self.tables[step.table] = Table(old.name, {**old.columns, step.column: step.kind}, old.key, old.indexes,
                                            old.not_null)

    def _ddl(self, step: Table | AddColumn | AddIndex) -> list[str]:
        if isinstance(step, AddColumn):
            return [f"ALTER TABLE {_q(step.table)} ADD COLUMN {_q(step.column)} {KINDS[step.kind]}"]
        if isinstance(step, AddIndex):
            return [self._index(step.table, step.columns)]
        cols = [f"{_q(c)} {KINDS[k]}{' NOT NULL' if c in step.not_null or c in step.key else ''}"
                for c, k in step.columns.items()]
        cols.append(f"PRIMARY KEY ({', '.join(_q(c) for c in step.key)})")
        return [f"CREATE TABLE {_q(step.name)} ({', '.join(cols)})", *(self._index(step.name, ix) for ix in step.indexes)]

    def _index(self, table: str, columns: tuple[str, ...]) -> str:
        name = check_name(f"{table}_{'_'.join(columns)}_ix"[:63])
        return f"CREATE INDEX {_q(name)} ON {_q(table)} ({', '.join(_q(c) for c in columns)})"

    def _table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise ValueError(f"unknown stored table {name!r}") from None

    # -- writing --------------------------------------------------------------------------

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]], *,
               on_conflict: Literal["error", "ignore", "replace"] = "error", keep: Sequence[str] = ()) -> None:
        """Insert ``rows`` (dicts of column -> value; missing columns are NULL). On a key
        that exists: an error, nothing (``ignore``), or its other columns replaced, but
        for those in ``keep``."""
        if not rows:
            return
        t = self._table(table)
        cols = list(t.columns)
        names = ", ".join(_q(c) for c in cols)
        values = ", ".join([self._ph] * len(cols))
        head = f"INSERT INTO {_q(t.name)} ({names})"
        tail = ""
        if on_conflict != "error":
            keys = ", ".join(_q(c) for c in t.key)
            for c in keep:
                t.column(c)  # (refuses a name that is not a column)
            rest = [c for c in cols if c not in t.key and c not in keep]
            if on_conflict == "ignore" or not rest:
                tail = f" ON CONFLICT ({keys}) DO NOTHING"
            else:
                sets = ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in rest)
                stored, given = (", ".join(f"{p}{_q(c)}" for c in rest) for p in (f"{_q(t.name)}.", "EXCLUDED."))
                # a row that holds these values already is left alone (PostgreSQL writes a new version of
                # every row it updates)
                tail = f" ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE ROW({stored}) IS DISTINCT FROM ROW({given})"
        for row in rows:
            unknown = set(row) - set(cols)
            if unknown:
                raise ValueError(f"{table} has no column {sorted(unknown)[0]!r}")
        params = [[_storable(row.get(c), c) for c in cols] for row in rows]
        if on_conflict != "error" and len(params) > 1:  # one statement may touch a key once: keep one row per key
            at = [cols.index(k) for k in t.key]
            by_key: dict[tuple[Any, ...], list[Any]] = {}
            for p in params:
                key = tuple(p[i] for i in at)
                if on_conflict == "replace" or key not in by_key:
                    by_key[key] = p
            params = list(by_key.values())
        with self._lock:
            if len(params) == 1 or len(params) * len(cols) <= self._listed_values:
                listed = ", ".join([f"({values})"] * len(params))
                self._execute(f"{head} VALUES {listed}{tail}", [v for p in params for v in p])
            else:
                self._insert_many(head, [t.columns[c] for c in cols], params, tail)
            if self._analyze:
                self._grown(t.name, len(params))

    def _grown(self, table: str, rows: int) -> None:
        done, next_at = self._inserted.get(table, (0, _ANALYZE_FROM))
        done += rows
        if done >= next_at:
            self._execute(f"ANALYZE {_q(table)}", ())
            next_at = 2 * done
        self._inserted[table] = (done, next_at)

    def update(self, table: str, where: Where, values: Mapping[str, Any]) -> int:
        """Set ``values`` on the rows matching ``where``; the number of rows changed."""
        t = self._table(table)
        sets = ", ".join(f"{t.column(c)} = {self._ph}" for c in values)
        cond, params = self._where(t, where)
        new = [_storable(v, c) for c, v in values.items()]
        with self._lock:
            found = self._execute(f"UPDATE {_q(t.name)} SET {sets}{cond} RETURNING 1", [*new, *params])
        return len(found)

    def delete(self, table: str, where: Where) -> int:
        t = self._table(table)
        cond, params = self._where(t, where)
        with self._lock:
            return len(self._execute(f"DELETE FROM {_q(t.name)}{cond} RETURNING 1", params))

    # -- reading --------------------------------------------------------------------------

    def select(self, table: str, where: Where = (), *, columns: Sequence[str] | None = None,
               order: Sequence[tuple[str, bool]] = (), limit: int | None = None, tuples: bool = False) -> list[Any]:
        """Rows of ``table`` matching every ``(column, operator, value)`` of ``where``
        (operators: ``= != < <= > >= in``, ``not in``, ``null``: True for IS NULL), ordered
        by ``(column, descending)`` pairs: dicts, or tuples of the ``columns``."""
        t = self._table(table)
        cols = list(columns or t.columns)
        names = ", ".join(t.column(c) for c in cols)
        cond, params = self._where(t, where)
        sql = f"SELECT {names} FROM {_q(t.name)}{cond}"
        if order:
            sql += " ORDER BY " + ", ".join(f"{t.column(c)}{' DESC' if desc else ''}" for c, desc in order)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            found = self._execute(sql, params)
        return found if tuples else [dict(zip(cols, r)) for r in found]

    def count(self, table: str, where: Where = (), *, by: str | None = None) -> dict[Any, int]:
        """Rows matching ``where``, counted per value of ``by`` (or all under the key None)."""
        t = self._table(table)
        cond, params = self._where(t, where)
        if by is None:
            with self._lock:
                return {None: int(self._execute(f"SELECT count(*) FROM {_q(t.name)}{cond}", params)[0][0])}
        col = t.column(by)
        with self._lock:
            found = self._execute(f"SELECT {col}, count(*) FROM {_q(t.name)}{cond} GROUP BY {col}", params)
        return {r[0]: int(r[1]) for r in found}

    def _where(self, t: Table, where: Where) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for col, op, value in where:
            name = t.column(col)
            if op not in OPERATORS:
                raise ValueError(f"unknown operator {op!r}")
            if op == "null":
                parts.append(f"{name} IS {'' if value else 'NOT '}NULL")
            elif op in ("in", "not in"):
                items = list(value)
                if not items:
                    parts.append("FALSE" if op == "in" else "TRUE")
                    continue
                if len(items) <= _LISTED:
                    parts.append(f"{name} {OPERATORS[op]} ({', '.join([self._ph] * len(items))})")
                    params.extend(_storable(v, col) for v in items)
                else:  # one array parameter: binding hundreds of parameters costs more than the query
                    parts.append(f"{name} {'= ANY' if op == 'in' else '<> ALL'}({self._ph})")
                    params.append([_storable(v, col) for v in items])
            else:
                parts.append(f"{name} {OPERATORS[op]} {self._ph}")
                params.append(_storable(value, col))
        return (" WHERE " + " AND ".join(parts) if parts else ""), params
