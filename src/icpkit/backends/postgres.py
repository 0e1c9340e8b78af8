"""The PostgreSQL backend: plans compiled to PostgreSQL SQL and run on a server (psycopg 3).

Everything a run creates is temporary (``pg_temp``, gone with the connection) except what
:meth:`PostgresBackend.write` and :meth:`~PostgresBackend.append` are asked to write.
Inputs are loaded with ``COPY``: a CSV file streams to the server as it is (converted to
UTF-8 on the way when it is in another encoding); Parquet, JSON lines and Arrow tables go
through Arrow (see :mod:`.pg_arrow`). Results come back the
same way, as CSV text parsed by Arrow, typed as DuckDB types them.

Text is compared and sorted by code point and lower-cased letter by letter, as on DuckDB:
unless the database's default collation does that already (``C.UTF-8``), text read by
this backend gets the collation ``pg_c_utf8`` (PostgreSQL 17) or ``C.utf8`` (where the
system has it), else ``C``, which sorts by code point but lower-cases ASCII letters only.

A CSV file is first copied as it is (fast). If PostgreSQL rejects a line (a wrong number
of fields, an unterminated quote, a bad byte), the file is read again in Python, record
by record: with ``on_error="fail"`` the first bad record is an error naming its line;
with ``"skip"`` the bad records are left out and listed by :meth:`read_rejects`. Blank
lines are ignored. ``_row`` is the 1-based number of the record among the file's data
records (rejected ones counted), so it stays the same whichever way the file was read.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from ..errors import DataError, DependencyError, MissingColumnError, WorkspaceError
from ..io.sources import CsvDialect, existing_file, file_format, json_lines_error, sniff_csv, utf8_chunks
from . import pg_arrow, pg_sql
from .base import (ROW, OnError, ProgressFn, ReadReject, Source, Target, TableName, check_name, csv_safe, output_file,
                   unbound, whole_phase)
from .rows import Rows

#: At most this many tables are listed when a table is missing.
_MAX_LISTED = 20
#: PostgreSQL truncates longer identifiers.
_MAX_IDENT_BYTES = 63
#: Rows per Arrow batch sent with COPY.
_BATCH_ROWS = 65_536
_CHUNK_BYTES = 1 << 20

#: PostgreSQL types (``format_type``) and the ibis types they are read as; other types are
#: read as text.
_TYPES: dict[str, dt.DataType] = {
    "bigint": dt.int64, "integer": dt.int32, "smallint": dt.int16,
    "double precision": dt.float64, "real": dt.float32, "boolean": dt.boolean,
    "text": dt.string, "date": dt.date, "timestamp without time zone": dt.timestamp,
    "timestamp with time zone": dt.Timestamp(timezone="UTC"),
}
_TEXT_TYPES = ("text", "character varying", "character", '"char"', "name", "citext")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise DependencyError("the PostgreSQL backend needs psycopg", hint="pip install icpkit[postgres]") from None
    return psycopg


quote_ident = pg_sql.quote_ident


def quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresBackend:
    """Plans on a PostgreSQL server, given by a ``postgresql://user:password@host:port/db`` URL."""

    name = "postgres"
    dialect = "postgres"

    def __init__(self, url: str, *, connect_timeout_s: int = 10) -> None:
        psycopg = _psycopg()
        self._psycopg = psycopg
        self._errors = psycopg.errors
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise WorkspaceError("not a PostgreSQL URL", hint="write postgresql://user:password@host:port/database") \
                from None
        self._password = str(params.get("password") or "")
        self.label = _server_label(params)
        extra = {} if "connect_timeout" in params else {"connect_timeout": connect_timeout_s}
        try:
            self.con = psycopg.connect(url, autocommit=True, **extra)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None
        for setting in ("TimeZone = 'UTC'", "client_encoding = 'UTF8'", "extra_float_digits = 1",
                        "DateStyle = 'ISO, YMD'", "IntervalStyle = 'iso_8601'"):
            self._run(f"SET {setting}")
        self._collation = self._text_collation()
        # ascii() gives the code point of a character on UTF-8 and single-byte databases
        # (other encodings reject a non-ASCII one): the cheaper tests of pg_sql need it.
        encoding = str(self.con.info.parameter_status("server_encoding") or "")
        self._ascii_ok = encoding in ("UTF8", "SQL_ASCII") or encoding.startswith(("LATIN", "WIN", "ISO_8859"))
        self._rejects: dict[str, list[ReadReject]] = {}
        self._dialects: dict[str, CsvDialect] = {}
        self._seq = 0

    def _connect_error(self, exc: Exception) -> WorkspaceError:
        text = self._scrub(str(exc)).strip()
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        reason = lines[0] if lines else "connection failed"
        for marker in ("FATAL:", "failed:"):
            if marker in reason:
                reason = reason.rsplit(marker, 1)[1].strip()
        low = text.lower()
        if "password" in low and ("authentication" in low or "supplied" in low):
            hint = "check the user name and password in the URL (or PGPASSWORD, ~/.pgpass)"
        elif "does not exist" in low:
            hint = "check the database and user names in the URL"
        else:
            hint = "check that the server runs and that the host and port in the URL are right"
        return WorkspaceError(f"cannot connect to PostgreSQL at {self.label}: {reason}", where=self.label, hint=hint)

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    def _text_collation(self) -> str | None:
        """The collation text read by this backend gets, or None when the database's
        default already sorts by code point and cases every letter (see the module
        docstring)."""
        # datlocprovider (PostgreSQL 15+): c libc, i ICU, b builtin (17+); read through
        # to_jsonb, which older servers answer without it.
        collate, provider = self._rows("SELECT datcollate, to_jsonb(d) ->> 'datlocprovider' FROM pg_database d "
                                       "WHERE datname = current_database()")[0]
        default = str(collate or "").lower().replace("-", "")
        if provider == "b" or (provider in (None, "c") and default == "c.utf8"):
            return None
        names = {r[0] for r in self._rows("SELECT collname FROM pg_collation WHERE collname IN "
                                           "('pg_c_utf8', 'C.utf8', 'C.UTF-8')")}
        found = next((n for n in ("pg_c_utf8", "C.utf8", "C.UTF-8") if n in names), None)
        if found is None and provider in (None, "c") and default in ("c", "posix"):
            return None  # C already: code point order, ASCII letters cased only
        return found or "C"

    def close(self) -> None:
        self.con.close()

    # -- running SQL ---------------------------------------------------------------

    def compile(self, expr: ir.Expr) -> str:
        """The SQL this backend runs: ibis's PostgreSQL SQL (``ibis.to_sql(expr, "postgres")``)
        with the rewrites of :func:`.pg_sql.compiled`."""
        return self._sql(expr, pretty=True)

    def _sql(self, expr: ir.Expr, *, pretty: bool = False, statement: bool = False) -> str:
        """``statement``: run as it is (``CREATE TABLE ... AS``), not read by another query."""
        return pg_sql.compiled(expr.op(), pretty, False, self._ascii_ok, statement)

    def _view_sql(self, expr: ir.Table) -> str:
        """A view's query, computed once per row wherever the view is used (see :mod:`.pg_sql`)."""
        return pg_sql.compiled(expr.op(), False, True, self._ascii_ok)

    def _run(self, sql: str, params: Any = None) -> Any:
        try:
            return self.con.execute(sql, params)
        except self._psycopg.Error as exc:
            raise self._wrap(exc) from None

    def _rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self._run(sql, params).fetchall()

    def _wrap(self, exc: Exception) -> Exception:
        """Errors caused by the data become DataError, by the server WorkspaceError; the
        rest (a bug in icpkit's SQL) stays as it is."""
        state = getattr(exc, "sqlstate", None) or ""
        diag = getattr(exc, "diag", None)
        primary = self._scrub((diag.message_primary if diag else None) or str(exc).splitlines()[0])
        detail = diag.message_detail if diag else None
        text = primary + (f" ({self._scrub(detail)})" if detail else "")
        if state == "42703":
            found = re.search(r'column "?([^"]+?)"? does not exist', primary)
            name = found.group(1).split(".")[-1] if found else ""
            return MissingColumnError(f"no column '{name}'" if name else primary, hint=primary)
        if state in ("42P01", "3F000", "42701"):  # no such table or schema; a column named twice
            return DataError(primary)
        if state.startswith("22") or state.startswith("23") or state in ("2200G", "42804"):
            return DataError(text)
        if state in ("42809", "2BP01", "42501"):  # not a table; other objects depend on it; no privilege
            hint = self._scrub(diag.message_hint or "") if diag else ""
            return WorkspaceError(text, where=self.label, hint=hint)
        if state.startswith(("08", "53", "57", "28")) or isinstance(exc, self._psycopg.OperationalError):
            return WorkspaceError(f"PostgreSQL at {self.label}: {text}", where=self.label)
        return exc

    def _temp_kind(self, name: str) -> str | None:
        """``"v"`` or ``"r"`` when ``name`` is a temporary view or table of this session."""
        found = self._rows("SELECT relkind FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname = %s",
                           (name,))
        return str(found[0][0]) if found else None

    def _drop_temp(self, name: str) -> None:
        kind = self._temp_kind(name)
        if kind is not None:  # CASCADE: temporary views over it go too (they are re-made by name)
            what = "VIEW" if kind == "v" else "TABLE"
            self._run(f"DROP {what} pg_temp.{quote_ident(name)} CASCADE")

    def _columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, type) of each column of a relation (a quoted, possibly qualified name)."""
        return [(str(n), str(t)) for n, t in self._rows(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (relation,))]

    def _schema_of(self, relation: str) -> ibis.Schema:
        """The ibis schema of a relation (a quoted, possibly qualified name)."""
        return ibis.schema({name: _ibis_type(pgtype) for name, pgtype in self._columns(relation)})

    # -- reading -------------------------------------------------------------------

    def read(self, source: Source, name: str, *, on_error: OnError = "fail") -> ir.Table:
        check_name(name)
        self._rejects.pop(name, None)
        self._dialects.pop(name, None)
        if isinstance(source, TableName):
            return self._read_table(source, name)
        if isinstance(source, pa.Table):
            self._load_arrow(name, source.schema, source.to_batches(_BATCH_ROWS), "the input table")
            return unbound(name, self._schema_of(quote_ident(name)))
        path = existing_file(source)
        fmt = file_format(path)
        if fmt == "csv":
            self._load_csv(path, name, on_error)
        else:
            try:
                if fmt == "parquet":
                    import pyarrow.parquet as pq

                    pf = pq.ParquetFile(path)
                    self._load_arrow(name, pf.schema_arrow, pf.iter_batches(_BATCH_ROWS), str(path))
                else:
                    import pyarrow.json as pajson

                    table = pajson.read_json(path)
                    self._load_arrow(name, table.schema, table.to_batches(_BATCH_ROWS), str(path))
            except pa.ArrowException as exc:
                located = json_lines_error(path) if fmt == "jsonl" else None  # Arrow's row numbers are off
                if located is not None:
                    raise DataError(f"cannot read {path}: {located.message}", where=located.where,
                                    hint=located.hint) from None
                raise DataError(f"cannot read {path}: {exc}", where=str(path)) from None
        return unbound(name, self._schema_of(quote_ident(name)))

    def read_rejects(self, name: str) -> list[ReadReject]:
        return list(self._rejects.get(name, []))

    def read_dialect(self, name: str) -> CsvDialect | None:
        return self._dialects.get(check_name(name))

    def _relation(self, table: TableName) -> tuple[str, str]:
        """(schema, name) of an existing table or view, or a DataError listing those that exist."""
        if table.database is not None:
            raise DataError(f"cannot read {table} from a DuckDB database file on PostgreSQL",
                            hint="read it on the DuckDB backend, or load it into the PostgreSQL database")
        parts = table.parts
        if len(parts) == 3:
            if parts[0] != self._rows("SELECT current_database()")[0][0]:
                raise DataError(f"cannot read {table}: PostgreSQL reads tables of the database it is connected to",
                                hint="write schema.name")
            parts = parts[1:]
        found = self._find(parts)
        if found:
            return found
        if len(parts) == 2:
            where = "n.nspname = %s"
            params: tuple[Any, ...] = (parts[0],)
            scope = f"schema '{parts[0]}'"
        else:
            where = "n.nspname = ANY (current_schemas(false))"
            params = ()
            scope = "the database"
        existing = [r[0] for r in self._rows(
            f"SELECT CASE WHEN n.nspname = ANY (current_schemas(false)) THEN c.relname "
            f"ELSE n.nspname || '.' || c.relname END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE {where} AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY 1 LIMIT {_MAX_LISTED + 1}", params)]
        if not existing:
            hint = f"{scope} has no tables or views"
        else:
            more = ", ..." if len(existing) > _MAX_LISTED else ""
            hint = f"{scope} has: {', '.join(existing[:_MAX_LISTED])}{more}"
        raise DataError(f"no table or view '{table}' in {self.label}", where=str(table), hint=hint)

    def _find(self, parts: list[str]) -> tuple[str, str] | None:
        """(schema, name) of the table or view ``parts`` names: ``schema.name``, or the
        first ``name`` on the search path. Never a temporary one of this session (those
        are icpkit's steps, which may shadow a table of the same name)."""
        by_path = len(parts) == 1
        where = "n.nspname = ANY (current_schemas(false))" if by_path else "n.nspname = %(schema)s"
        found = self._rows(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relname = %(name)s AND {where} AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
            "ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1",
            {"name": parts[-1], "schema": parts[0]})
        return (str(found[0][0]), str(found[0][1])) if found else None

    def _read_table(self, table: TableName, name: str) -> ir.Table:
        schema, rel = self._relation(table)
        qualified = f"{quote_ident(schema)}.{quote_ident(rel)}"
        items = [f"(row_number() OVER ())::bigint AS {ROW}"]
        for col, pgtype in self._columns(qualified):
            if col == ROW:
                continue
            items.append(f"{self._column_item(quote_ident(col), pgtype)} AS {quote_ident(col)}")
        self._drop_temp(name)
        self._run(f"CREATE TEMP VIEW {quote_ident(name)} AS SELECT {', '.join(items)} FROM {qualified}")
        return unbound(name, self._schema_of(quote_ident(name)))

    def _column_item(self, q: str, pgtype: str) -> str:
        """A column of a database table as a view exposes it: types icpkit reads as they
        are; text with the backend's collation; numeric as DOUBLE PRECISION unless its
        precision is fixed; anything else as text."""
        base, array = _base_type(pgtype), "[]" if pgtype.endswith("[]") else ""
        collate = f' COLLATE "{self._collation}"' if self._collation else ""
        if base in _TEXT_TYPES:
            return f"CAST({q} AS TEXT{array}){collate}"
        if base == "numeric":
            fixed = _fixed_numeric(pgtype)
            if fixed and fixed[0] <= 38 and not array:
                return q
            return f"CAST({q} AS DOUBLE PRECISION{array})"
        if base in _TYPES:
            return q
        return f"CAST({q} AS TEXT){collate}"

    def _create_temp_table(self, name: str, columns: list[tuple[str, str]], *, numbered: bool = False) -> None:
        for col, _ in columns:
            if len(col.encode()) > _MAX_IDENT_BYTES:
                raise DataError(f"the column name '{col[:40]}...' is longer than PostgreSQL allows "
                                f"({_MAX_IDENT_BYTES} bytes)", hint="shorten it, or map a shorter name")
        collate = f' COLLATE "{self._collation}"' if self._collation else ""
        defs = [f"{quote_ident(c)} {t}{collate if t.startswith('TEXT') else ''}" for c, t in columns]
        self._drop_temp(name)
        row = f"{ROW} BIGINT" + (" GENERATED ALWAYS AS IDENTITY" if numbered else "")
        self._run(f"CREATE TEMP TABLE {quote_ident(name)} ({', '.join([row, *defs])})")

    def _load_arrow(self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], label: str) -> None:
        columns = [(f.name, pg_arrow.pg_column_type(f)) for f in schema if f.name != ROW]
        keep = [i for i, f in enumerate(schema) if f.name != ROW]
        names = ", ".join([ROW] + [quote_ident(c) for c, _ in columns])
        try:
            with self.con.transaction():
                self._create_temp_table(name, columns)
                with self.con.cursor() as cur, cur.copy(f"COPY {quote_ident(name)} ({names}) FROM STDIN "
                                                        f"(FORMAT csv)") as copy:
                    row = 1
                    for batch in batches:
                        if len(keep) != batch.num_columns:
                            batch = batch.select(keep)
                        copy.write(pg_arrow.csv_bytes(pg_arrow.prepare_batch(batch, row)))
                        row += batch.num_rows
        except self._psycopg.Error as exc:
            err = self._wrap(exc)
            if isinstance(err, DataError):
                raise DataError(f"cannot load {label}: {err.message}", where=label) from None
            raise err from None
        self._analyze(name)

    def _analyze(self, name: str) -> None:
        """Temporary tables get no statistics unless asked (autovacuum skips them). A sample
        of 3,000 rows (statistics target 10) instead of 30,000: the steps' plans only need
        row counts and rough distinct counts, and ANALYZE of a 1M-row step then takes
        0.02 s instead of 0.2 s."""
        with self.con.transaction():
            self._run("SET LOCAL default_statistics_target = 10")
            self._run(f"ANALYZE {quote_ident(name)}")

    # -- CSV -------------------------------------------------------------------------

    def _load_csv(self, path: Path, name: str, on_error: OnError) -> None:
        d = self._dialects[name] = sniff_csv(path)
        columns = [(h, "TEXT") for h in d.header]
        names = ", ".join(quote_ident(h) for h in d.header)
        try:
            with self.con.transaction():
                self._create_temp_table(name, columns, numbered=True)
                with self.con.cursor() as cur, cur.copy(
                    f"COPY {quote_ident(name)} ({names}) FROM STDIN (FORMAT csv, HEADER true, "
                    f"DELIMITER {quote_str(d.delimiter)}, ENCODING 'UTF8', FORCE_NULL ({names}))"
                ) as copy:
                    for chunk in _file_chunks(path, d):
                        copy.write(chunk)
                self._run(f"ALTER TABLE {quote_ident(name)} ALTER COLUMN {ROW} DROP IDENTITY")
        except self._psycopg.DataError:  # a line COPY cannot read: read the file record by record
            self._load_csv_by_record(path, d, name, on_error)
        self._analyze(name)

    def _load_csv_by_record(self, path: Path, d: CsvDialect, name: str, on_error: OnError) -> None:
        """Read a CSV file that COPY rejected record by record (see the module docstring)."""
        rejects: list[ReadReject] = []
        columns = [(h, "TEXT") for h in d.header]
        names = ", ".join([ROW] + [quote_ident(h) for h in d.header])
        with self.con.transaction():
            self._create_temp_table(name, columns)
            try:
                with self.con.cursor() as cur, cur.copy(f"COPY {quote_ident(name)} ({names}) FROM STDIN") as copy:
                    for row in _csv_records(path, d, on_error, rejects):
                        copy.write_row(row)
            except self._psycopg.Error as exc:
                err = self._wrap(exc)
                if isinstance(err, DataError):
                    raise DataError(f"cannot read {path}: {err.message}", where=str(path)) from None
                raise err from None
        self._rejects[name] = rejects

    # -- steps -----------------------------------------------------------------------

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        check_name(name)
        sql = self._view_sql(expr)
        with self.con.transaction():
            self._drop_temp(name)
            self._run(f"CREATE TEMP VIEW {quote_ident(name)} AS {sql}")
        return unbound(name, expr.schema())

    def materialize(self, name: str, expr: ir.Table, *, progress: ProgressFn | None = None,
                    phase: str = "", in_order: bool = False) -> ir.Table:
        check_name(name)
        sql = self._sql(expr, statement=True)
        self._seq += 1
        new = f"icp_new_{self._seq}"
        with whole_phase(progress, phase), self.con.transaction():
            self._run(f"CREATE TEMP TABLE {new} AS {sql}")
            self._drop_temp(name)
            self._run(f"ALTER TABLE pg_temp.{new} RENAME TO {quote_ident(name)}")
        self._analyze(name)
        return unbound(name, expr.schema())

    def delete_rows(self, name: str, rows: ir.Table) -> None:
        check_name(name)
        self._run(f"DELETE FROM {quote_ident(name)} WHERE {ROW} IN (SELECT {ROW} FROM ({self._sql(rows)}) AS d)")

    def scalar(self, expr: ir.Scalar) -> Any:
        """The value, typed as the expression is (through Arrow: a sum of integers is an
        int here, as on DuckDB, not PostgreSQL's NUMERIC)."""
        return self.to_arrow(expr).column(0)[0].as_py()

    def to_arrow(self, expr: ir.Expr, *, progress: ProgressFn | None = None, phase: str = "") -> pa.Table:
        table = _as_table(expr)
        schema = table.schema()
        with whole_phase(progress, phase), self._batches(table) as batches:
            out = pa.Table.from_batches(list(batches), schema=pa.schema(
                [pa.field(n, pg_arrow.arrow_type(t)) for n, t in schema.items()]))
        return out

    @contextmanager
    def _batches(self, expr: ir.Table) -> Iterator[Iterator[pa.RecordBatch]]:
        """The result of ``expr`` as Arrow batches, streamed from the server."""
        schema = expr.schema()
        items = pg_arrow.output_projection(schema, quote_ident) or ["NULL"]
        sql = f"COPY (SELECT {', '.join(items)} FROM ({self._sql(expr)}) AS r) TO STDOUT (FORMAT csv)"
        try:
            with self.con.cursor() as cur, cur.copy(sql) as copy:
                yield pg_arrow.read_batches(pg_arrow.CopyStream(copy), schema)
        except self._psycopg.Error as exc:
            raise self._wrap(exc) from None

    # -- writing ---------------------------------------------------------------------

    def write(self, expr: ir.Table, target: Target, *, progress: ProgressFn | None = None) -> str:
        if isinstance(target, TableName):
            with whole_phase(progress, "writing results"):
                self._write_table(expr, target)
            return f"table {target} in {self.label}"
        out, fmt, tmp = output_file(target)
        try:
            with whole_phase(progress, "writing results"):
                if fmt == "parquet":
                    self._write_parquet(expr, tmp)
                else:
                    self._write_text(expr, tmp, fmt)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return str(out)

    def _qualified(self, target: TableName) -> tuple[str, str, str, bool]:
        """(schema, name, quoted ``schema.name``, exists) of a target table of this database:
        a name without a schema is the table of that name on the search path, or a new one
        in the current schema (where ``CREATE TABLE name`` puts it)."""
        if target.database is not None:
            raise DataError(f"cannot write {target} to a DuckDB database file from PostgreSQL")
        parts = target.parts[-2:] if len(target.parts) == 3 else target.parts
        found = self._find(parts)
        if found:
            schema, table = found
        else:
            schema = parts[0] if len(parts) == 2 else str(self._rows("SELECT current_schema()")[0][0])
            table = parts[-1]
        return schema, table, f"{quote_ident(schema)}.{quote_ident(table)}", found is not None

    def _write_table(self, expr: ir.Table, target: TableName) -> None:
        """Create the result under a new name, then drop the old table and rename the new
        one, in one transaction: readers see the old table or the new one, never a part."""
        schema, table, qualified, exists = self._qualified(target)
        sql = self._sql(expr, statement=True)
        new_qualified = f"{quote_ident(schema)}.{quote_ident(f'{table[:40]}_icp_new_{uuid.uuid4().hex[:12]}')}"
        with self.con.transaction():
            self._run(f"CREATE TABLE {new_qualified} AS {sql}")
            if exists:
                self._drop_own_views_over(qualified)
                self._run(f"DROP TABLE {qualified}")
            self._run(f"ALTER TABLE {new_qualified} RENAME TO {quote_ident(table)}")

    def _drop_own_views_over(self, qualified: str) -> None:
        """Drop this session's temporary views over a table about to be replaced (a run
        that read the table it writes); views of anyone else stop the write instead."""
        views = self._rows(
            "SELECT DISTINCT v.relname, v.relnamespace = pg_my_temp_schema(), n.nspname FROM pg_depend d "
            "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
            "JOIN pg_namespace n ON n.oid = v.relnamespace "
            "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(%s) AND v.oid <> d.refobjid",
            (qualified,))
        others = [f"{ns}.{name}" for name, own, ns in views if not own]
        if others:
            raise WorkspaceError(f"cannot replace the table {qualified}: views depend on it ({', '.join(others)})",
                                 where=self.label, hint="write to another table, or drop or change those views")
        for name, _, _ in views:
            self._run(f"DROP VIEW IF EXISTS pg_temp.{quote_ident(name)} CASCADE")

    def _write_text(self, expr: ir.Table, tmp: Path, fmt: str) -> None:
        """CSV (neutralised) or JSON lines, written by the server's COPY and streamed to ``tmp``."""
        if fmt == "csv":
            safe = csv_safe(expr)
            items = [_csv_item(quote_ident(n), t) for n, t in safe.schema().items()]
            sql = f"SELECT {', '.join(items)} FROM ({self._sql(safe)}) AS r"
            copy_sql = f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)"
        else:  # one JSON object a line: CSV with a quote and delimiter that JSON text never holds raw
            copy_sql = (f"COPY (SELECT row_to_json(r)::text FROM ({self._sql(expr)}) AS r) TO STDOUT "
                        f"(FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')")
        try:
            with self.con.cursor() as cur, cur.copy(copy_sql) as copy, tmp.open("wb") as f:
                pending: list[Any] = []
                size = 0
                for data in copy:
                    pending.append(data)
                    size += len(data)
                    if size >= _CHUNK_BYTES:
                        f.write(b"".join(pending))
                        pending, size = [], 0
                f.write(b"".join(pending))
        except self._psycopg.Error as exc:
            raise self._wrap(exc) from None

    def _write_parquet(self, expr: ir.Table, tmp: Path) -> None:
        import pyarrow.parquet as pq

        schema = pa.schema([pa.field(n, pg_arrow.arrow_type(t)) for n, t in expr.schema().items()])
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer, self._batches(expr) as batches:
            for batch in batches:
                writer.write_batch(batch)

    def append(self, target: TableName, expr: ir.Table, *, key: str) -> int:
        _, _, qualified, exists = self._qualified(target)
        if key not in expr.columns:
            raise MissingColumnError(f"no column '{key}' to append by", hint=f"the rows have {', '.join(expr.columns)}")
        sql = self._sql(expr)
        cols = ", ".join(quote_ident(c) for c in expr.columns)
        k = quote_ident(key)
        with self.con.transaction():
            if not exists:
                self._run(f"CREATE TABLE {qualified} AS SELECT * FROM ({sql}) AS r WITH NO DATA")
            self._run(f"LOCK TABLE {qualified} IN SHARE ROW EXCLUSIVE MODE")
            cur = self._run(f"INSERT INTO {qualified} ({cols}) SELECT {cols} FROM ({sql}) AS r "
                            f"WHERE NOT EXISTS (SELECT 1 FROM {qualified} AS t WHERE t.{k} = r.{k})")
            return int(cur.rowcount)

    def has_table(self, target: TableName) -> bool:
        return self._qualified(target)[3]

    def rows(self) -> Rows:
        """Keyed rows stored in this database (see :mod:`.rows`), for a long-running service."""

        def execute(sql: str, params: Any) -> list[tuple[Any, ...]]:
            cur = self._run(sql, params or None)
            return cur.fetchall() if cur.description else []

        def insert_many(head: str, kinds: list[str], rows: list[list[Any]], tail: str) -> None:
            if not tail:  # a plain insert: COPY, whose rows psycopg writes in C (head: INSERT INTO "t" (...))
                try:
                    with self.con.cursor() as cur, cur.copy(f"COPY {head.removeprefix('INSERT INTO ')} FROM STDIN") as cp:
                        for r in rows:
                            cp.write_row(r)
                except self._psycopg.Error as exc:
                    raise self._wrap(exc) from None
                return
            if all(math.isfinite(v) for r in rows for v, k in zip(r, kinds) if k == "float" and v is not None):
                # one JSON text, parsed by the server: a third of psycopg's CPU for one array per column
                picks = ", ".join(f"(r->>{i})::{_PG_KINDS[k]}" for i, k in enumerate(kinds))
                self._run(f"{head} SELECT {picks} FROM json_array_elements(%s::json) AS r{tail}",
                          [json.dumps(rows, default=str, separators=(",", ":"))])
                return
            arrays = ", ".join(f"%s::{_PG_KINDS[k]}[]" for k in kinds)  # (JSON has no NaN nor infinity)
            self._run(f"{head} SELECT * FROM unnest({arrays}){tail}", [[r[i] for r in rows] for i in range(len(kinds))])

        return Rows(execute, insert_many, "%s", lambda: self._run("BEGIN"), lambda: self._run("COMMIT"),
                    lambda: self._run("ROLLBACK"), analyze=True)


# ---------------------------------------------------------------------------- helpers


#: PostgreSQL types of the stored rows' column kinds (see :mod:`.rows`).
_PG_KINDS = {"text": "text", "int": "bigint", "float": "double precision", "bool": "boolean", "time": "timestamp"}


def _server_label(params: dict[str, Any]) -> str:
    """``host:port/database`` of a connection, never its password."""
    host = str(params.get("host") or os.environ.get("PGHOST") or "localhost")
    port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
    user = params.get("user") or os.environ.get("PGUSER")
    db = str(params.get("dbname") or os.environ.get("PGDATABASE") or user or "postgres")
    return f"{host}:{port}/{db}"


def _base_type(pgtype: str) -> str:
    """``format_type`` text without array brackets and modifiers: ``character varying``."""
    return re.sub(r"\([^)]*\)", "", pgtype.removesuffix("[]")).strip()


def _fixed_numeric(pgtype: str) -> tuple[int, int] | None:
    found = re.fullmatch(r"numeric\((\d+),(\d+)\)", pgtype.removesuffix("[]"))
    return (int(found.group(1)), int(found.group(2))) if found else None


def _ibis_type(pgtype: str) -> dt.DataType:
    base, fixed = _base_type(pgtype), _fixed_numeric(pgtype)
    if fixed:
        inner: dt.DataType = dt.Decimal(*fixed)
    elif base in _TEXT_TYPES:
        inner = dt.string
    else:
        inner = _TYPES.get(base, dt.float64 if base == "numeric" else dt.string)
    return dt.Array(inner) if pgtype.endswith("[]") else inner


def _as_table(expr: ir.Expr) -> ir.Table:
    if isinstance(expr, ir.Table):
        return expr
    if isinstance(expr, (ir.Scalar, ir.Column)):
        return expr.as_table()
    raise TypeError(f"cannot run {type(expr).__name__}")


def _csv_item(q: str, dtype: dt.DataType) -> str:
    """A column as the CSV output writes it: booleans ``true``/``false``, lists ``[a, b]``."""
    if dtype.is_boolean():
        return f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END AS {q}"
    if dtype.is_array():
        return f"'[' || array_to_string({q}, ', ') || ']' AS {q}"
    return q


def _file_chunks(path: Path, d: CsvDialect) -> Iterator[bytes]:
    """The bytes of a CSV file as COPY reads them, UTF-8: valid UTF-8 as it is (a byte-order
    mark dropped), anything else converted (:func:`~icpkit.io.sources.utf8_chunks`)."""
    if d.encoding != "utf-8" or not d.native:
        yield from utf8_chunks(path, d.encoding)
        return
    with path.open("rb") as f:
        first = True
        while chunk := f.read(_CHUNK_BYTES):
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8):]
            first = False
            yield chunk


class _LineTap:
    """The lines of a text file, remembering those read since :meth:`take` was last called
    (the text of one CSV record) and how many were read."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._taken: list[str] = []
        self.count = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        self.count += 1
        return line

    def take(self) -> str:
        text = "".join(self._taken)
        self._taken = []
        return text


def _csv_records(path: Path, d: CsvDialect, on_error: OnError, rejects: list[ReadReject]) -> Iterator[tuple[Any, ...]]:
    """``(_row, fields...)`` of each well-formed record; a bad one is an error on its line
    (``on_error="fail"``) or recorded in ``rejects`` (``"skip"``)."""
    width = len(d.header)
    hint = "fix the line, or use --on-error skip to leave such lines out"
    with path.open(encoding="utf-8-sig" if d.encoding == "utf-8" else d.encoding, newline="",
                   errors="strict" if d.native else "replace") as f:
        tap = _LineTap(f)
        reader = csv.reader(tap, delimiter=d.delimiter, quotechar='"', doublequote=True)
        line, record = 1, 0
        try:
            next(reader, None)  # the header
            tap.take()
            line = tap.count + 1
            for fields in reader:
                text = tap.take().rstrip("\r\n")
                start, line = line, tap.count + 1
                if not fields:
                    continue  # a blank line
                record += 1
                if len(fields) == width:
                    yield (record, *[v if v != "" else None for v in fields])
                    continue
                if len(fields) > width:
                    column, message = "", f"expected {width} fields, found {len(fields)}"
                else:
                    column, message = d.header[len(fields)], f"expected {width} fields, found {len(fields)}"
                if on_error == "fail":
                    raise DataError(f"cannot read line {start}: {message}", where=f"{path}, line {start}", hint=hint)
                rejects.append(ReadReject(start, column, message, text))
        except csv.Error as exc:
            raise DataError(f"cannot read line {line}: {exc}", where=f"{path}, line {line}", hint=hint) from None
        except UnicodeDecodeError:
            raise DataError(f"the file is not valid {d.encoding_label} text (near line {tap.count + 1})",
                            where=f"{path}, line {tap.count + 1}", hint="save it as UTF-8") from None
