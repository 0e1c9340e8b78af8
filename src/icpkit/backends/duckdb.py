"""The embedded DuckDB backend (the default): reads inputs, runs plans, writes results.

Plans arrive as ibis expressions over named, unbound tables; this backend creates those
tables (temporary, per connection), compiles plans to DuckDB SQL and runs them. It knows
SQL and I/O, never the domain (see :mod:`.base` for the protocol). Files are read where they
are (a view), except a CSV file that is not valid UTF-8 or UTF-16: it is read from a
temporary UTF-8 copy into a temporary table, and the copy removed at once.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ..errors import DataError, DependencyError, WorkspaceError, located
from ..io.atomic import temp_beside
from ..io.sources import CsvDialect, existing_file, file_format, json_lines_error, sniff_csv, utf8_copy
from .base import (ROW, OnError, ProgressFn, ReadReject, Source, Target, TableName, check_name, csv_safe, output_file,
                   unbound, unsorted_by_row)
from .rows import Rows


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table_sql(target: TableName) -> str:
    return ".".join(quote_ident(p) for p in target.parts)


class DuckDBBackend:
    """DuckDB: an in-memory database, or a database file (the workspace's) when given."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, database: str | Path = ":memory:", *, read_only: bool = False,
                 threads: int | None = None) -> None:
        self.database = str(database)
        try:
            self.con = duckdb.connect(self.database, read_only=read_only)
        except duckdb.Error as exc:
            raise WorkspaceError(f"cannot open the database {database}: {exc}",
                                 hint="another icp process may hold it; DuckDB allows one writer") from None
        self.con.execute("SET TimeZone='UTC'")  # timestamps without an offset are UTC
        self.con.execute("SET enable_progress_bar=true")
        self.con.execute("SET enable_progress_bar_print=false")
        if threads is not None:  # a service's small statements: scheduling them on workers costs more than they do
            self.con.execute(f"SET threads={int(threads)}")
        if self.database == ":memory:":
            # Where a query beyond memory spills: a folder of the system's temporary files (made
            # when needed, removed on close), not DuckDB's default .tmp in the working directory.
            spill = Path(tempfile.gettempdir()) / f"icp-duckdb-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            self.con.execute(f"SET temp_directory={quote_str(str(spill))}")
        self._attached: dict[str, str] = {}
        self._dialects: dict[str, CsvDialect] = {}

    def close(self) -> None:
        self.con.close()

    def compile(self, expr: ir.Expr) -> str:
        return str(ibis.to_sql(expr, dialect=self.dialect, pretty=False))

    # -- reading ---------------------------------------------------------------------

    def read(self, source: Source, name: str, *, on_error: OnError = "fail") -> ir.Table:
        check_name(name)
        self._dialects.pop(name, None)
        if isinstance(source, pa.Table):
            self.con.register(f"{name}_arrow", source)
            scan = f"SELECT row_number() OVER () AS {ROW}, * FROM {name}_arrow"
        elif isinstance(source, TableName):
            scan = f"SELECT row_number() OVER () AS {ROW}, * FROM {self._table_of(source)}"
        else:
            path = existing_file(source)
            if file_format(path) == "csv":
                d = self._dialects[name] = sniff_csv(path)
                if not d.native:
                    self._read_converted(path, d, name, on_error)
                    return self._ref(name)
            scan = self._file_scan(path, name, on_error)
        self._drop_temp(name)
        self._run(f"CREATE TEMP VIEW {name} AS {scan}")
        return self._ref(name)

    def read_dialect(self, name: str) -> CsvDialect | None:
        return self._dialects.get(check_name(name))

    def _read_converted(self, path: Path, d: CsvDialect, name: str, on_error: OnError) -> None:
        """A CSV file engines cannot read as it is (a legacy encoding, bad UTF-8 bytes), read
        from a UTF-8 copy into a temporary table; the copy is removed at once."""
        with utf8_copy(path, d.encoding) as copy:
            scan = self._csv_scan(copy, CsvDialect("utf-8", d.delimiter, d.header), name, on_error)
            self._drop_temp(name)
            try:
                self.con.execute(f"CREATE TEMP TABLE {name} AS {scan}")
            except duckdb.Error as exc:
                err = _wrap(exc)
                if not isinstance(err, DataError):
                    raise err from None
                message = err.message.replace(str(copy), str(path))
                raise DataError(f"cannot read {path}: {message}", where=str(path),
                                hint="fix the file, or use --on-error skip to set bad rows aside") from None

    def _drop_temp(self, name: str) -> None:
        """Drop the temporary view or table ``name`` (a file read before may have left either)."""
        kinds = self.con.execute(
            "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = $1 "
            "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = $1", [name]).fetchall()
        for (kind,) in kinds:
            self._run(f"DROP {kind} IF EXISTS temp.main.{quote_ident(name)}")

    def _file_scan(self, path: Path, name: str, on_error: OnError) -> str:
        fmt = file_format(path)
        p = quote_str(str(path))
        if fmt == "parquet":
            return (f"SELECT file_row_number + 1 AS {ROW}, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({p}, file_row_number=true)")
        if fmt == "jsonl":
            return f"SELECT row_number() OVER () AS {ROW}, * FROM read_json({p}, format='newline_delimited')"
        return self._csv_scan(path, self._dialects[name], name, on_error)

    def _csv_scan(self, path: Path, d: CsvDialect, name: str, on_error: OnError) -> str:
        p = quote_str(str(path))
        columns = "{" + ", ".join(f"{quote_str(h)}: 'VARCHAR'" for h in d.header) + "}"
        opts = (f"columns={columns}, header=true, auto_detect=false, delim={quote_str(d.delimiter)}, "
                f"quote='\"', escape='\"', encoding={quote_str(d.encoding)}")
        if on_error == "skip":
            opts += f", ignore_errors=true, store_rejects=true, rejects_table='{name}_rejects', " \
                    f"rejects_scan='{name}_scan'"
        return f"SELECT row_number() OVER () AS {ROW}, * FROM read_csv({p}, {opts})"

    def _table_of(self, source: TableName) -> str:
        """The SQL name of a table (attaching another database file read-only), or a
        DataError naming it and listing the tables that exist."""
        prefix = ""
        if source.database is not None and Path(source.database).resolve() != self._own_path():
            key = str(Path(source.database).resolve())
            if key not in self._attached:
                alias = f"icp_db{len(self._attached)}"
                self._run(f"ATTACH {quote_str(key)} AS {alias} (READ_ONLY)")
                self._attached[key] = alias
            prefix = quote_ident(self._attached[key]) + "."
        full = prefix + _table_sql(source)
        try:
            self.con.execute(f"SELECT * FROM {full} LIMIT 0")
        except duckdb.CatalogException:
            names = [r[0] for r in self.con.execute(
                "SELECT DISTINCT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() "
                "WHERE NOT internal ORDER BY 1 LIMIT 20").fetchall()]
            listed = ", ".join(n for n in names if not n.startswith("icp_")) or "none"
            raise DataError(f"no table '{source}' in the database", where=self.database,
                            hint=f"the tables are: {listed}") from None
        return full

    def _own_path(self) -> Path | None:
        return None if self.database == ":memory:" else Path(self.database).resolve()

    def read_rejects(self, name: str) -> list[ReadReject]:
        check_name(name)
        if not self._exists(f"{name}_rejects"):
            return []
        return [ReadReject(line, col or "", err, text) for line, col, err, text in self.con.execute(
            f"SELECT line, column_name, error_message, csv_line FROM {name}_rejects ORDER BY line").fetchall()]

    def _exists(self, name: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])

    def has_table(self, target: TableName) -> bool:
        *schema, table = target.parts
        query = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?" + (" AND schema_name = ?" if schema else "")
        return bool(self.con.execute(query, [table, *schema[-1:]]).fetchall()[0][0])

    # -- running ---------------------------------------------------------------------

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        self._run(f"CREATE OR REPLACE TEMP VIEW {check_name(name)} AS {self.compile(expr)}")
        return unbound(name, expr.schema())

    def materialize(self, name: str, expr: ir.Table, *, progress: ProgressFn | None = None,
                    phase: str = "", in_order: bool = False) -> ir.Table:
        if in_order:  # sorted: a join inside (a lookup in a list, a trigger's, a view's) mixes them
            expr = expr.order_by(ROW)
        sql = f"CREATE OR REPLACE TEMP TABLE {check_name(name)} AS {self.compile(expr)}"
        with self._progress(progress, phase):
            self._run(sql)
        return unbound(name, expr.schema())

    def delete_rows(self, name: str, rows: ir.Table) -> None:
        self._run(f"DELETE FROM {check_name(name)} WHERE {ROW} IN (SELECT {ROW} FROM ({self.compile(rows)}))")

    def to_arrow(self, expr: ir.Expr, *, progress: ProgressFn | None = None, phase: str = "") -> pa.Table:
        with self._progress(progress, phase):
            try:
                table = self.con.sql(self.compile(expr)).to_arrow_table()
            except duckdb.Error as exc:
                raise _wrap(exc) from None
        return _as_declared(table, expr)

    def scalar(self, expr: ir.Scalar) -> Any:
        value = self.to_arrow(expr).column(0)
        if pa.types.is_decimal(value.type) and value.type.scale == 0 and expr.type().is_integer():
            value = value.cast(pa.int64())
        return value[0].as_py()

    def _ref(self, name: str) -> ir.Table:
        try:
            schema = self.con.sql(f"SELECT * FROM {quote_ident(name)} LIMIT 0").to_arrow_table().schema
        except duckdb.Error as exc:
            raise _wrap(exc) from None
        return unbound(name, schema)

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

    # -- writing ---------------------------------------------------------------------

    def write(self, expr: ir.Table, target: Target, *, progress: ProgressFn | None = None) -> str:
        # Rows asked for in input order (ORDER BY _row, as the runner writes scores) are
        # sorted a chunk of rows at a time and the chunks written one after the other:
        # DuckDB keeps no order through the plan's joins, and sorting every row at once
        # holds the whole result in memory (3 GB at 5M rows to CSV). See _in_order.
        if isinstance(target, TableName):
            expr, chunks = self._in_order(expr, None)
            with self._progress(progress, "writing results"):
                self._write_table(expr, target, chunks)
            return f"table '{target}'" + ("" if self.database == ":memory:" else f" in {self.database}")
        out, fmt, tmp = output_file(target)
        expr, chunks = self._in_order(expr, fmt)
        parts: list[Path] = []
        try:
            with self._progress(progress, "writing results"):
                if chunks is None:
                    self._copy(expr, tmp, fmt, header=True)
                elif fmt == "parquet":  # written in parts, then read in order into one file
                    parts = [temp_beside(out) for _ in chunks]
                    for chunk, part in zip(chunks, parts):
                        self._copy(chunk, part, fmt, header=True)
                    files = "[" + ", ".join(quote_str(str(p)) for p in parts) + "]"
                    self._run(f"COPY (SELECT * FROM read_parquet({files})) TO {quote_str(str(tmp))} "
                              f"({_COPY_OPTIONS[fmt]})")
                else:  # CSV and JSON lines: the parts appended to the first (one header)
                    self._copy(chunks[0], tmp, fmt, header=True)
                    for chunk in chunks[1:]:
                        parts.append(temp_beside(out))
                        self._copy(chunk, parts[-1], fmt, header=False)
                        _append(parts[-1], tmp)
                        parts.pop().unlink()
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
            for part in parts:
                part.unlink(missing_ok=True)
        return str(out)

    #: Rows sorted at a time when rows are written in input order (memory, not speed).
    chunk_rows = 500_000

    def _in_order(self, expr: ir.Table, fmt: str | None) -> tuple[ir.Table, list[ir.Table] | None]:
        """What to write for ``expr`` into a file of format ``fmt`` (None: a table): when
        ``expr`` is rows in input order, the rows unsorted if DuckDB keeps their order anyway
        (see :func:`_keeps_order`; not into JSON lines, whose writer then holds every row),
        else consecutive chunks of at most :attr:`chunk_rows` input rows, each sorted by
        ``_row``, when they do not fit in one; else ``expr`` as it is."""
        rows = unsorted_by_row(expr)
        if rows is None:
            return expr, None
        columns = [c for c in rows.columns if c != ROW]
        if fmt != "jsonl" and _keeps_order(rows):
            return rows.select(*columns), None
        first, last = self.con.sql(f"SELECT min({ROW}), max({ROW}) FROM ({self.compile(rows.select(ROW))})"
                                   ).fetchall()[0]
        if first is None or last - first < self.chunk_rows:
            return expr, None
        return expr, [rows.filter(rows[ROW].between(lo, min(lo + self.chunk_rows - 1, last))).order_by(ROW)
                      .select(*columns) for lo in range(first, last + 1, self.chunk_rows)]

    def _copy(self, expr: ir.Table, path: Path, fmt: str, *, header: bool) -> None:
        sql = self.compile(csv_safe(expr) if fmt == "csv" else expr)
        options = _COPY_OPTIONS[fmt] + ("" if fmt != "csv" else f", HEADER {str(header).lower()}")
        self._run(f"COPY ({sql}) TO {quote_str(str(path))} ({options})")

    def _write_table(self, expr: ir.Table, target: TableName, chunks: list[ir.Table] | None) -> None:
        """One statement, or one transaction of a statement per chunk: DuckDB replaces the
        table only when every part succeeds."""
        table = _table_sql(target)
        if chunks is None:
            self._run(f"CREATE OR REPLACE TABLE {table} AS {self.compile(expr)}")
            return
        self._run("BEGIN TRANSACTION")
        try:
            self._run(f"CREATE OR REPLACE TABLE {table} AS {self.compile(chunks[0])}")
            for chunk in chunks[1:]:
                self._run(f"INSERT INTO {table} {self.compile(chunk)}")
            self._run("COMMIT")
        except BaseException:
            self._run("ROLLBACK")
            raise

    def rows(self) -> Rows:
        """Keyed rows stored in this database (see :mod:`.rows`), for a long-running service."""

        def execute(sql: str, params: Any) -> list[tuple[Any, ...]]:
            try:
                cur = self.con.execute(sql, params)
                return cur.fetchall() if cur.description else []
            except duckdb.Error as exc:
                raise _wrap_stored(exc) from None

        def insert_many(head: str, kinds: list[str], rows: list[list[Any]], tail: str) -> None:
            batch = pa.table([pa.array([r[i] for r in rows], type=_ARROW_KINDS[k]) for i, k in enumerate(kinds)],
                             names=[f"c{i}" for i in range(len(kinds))])
            name = f"icp_rows_{uuid.uuid4().hex[:12]}"
            try:
                self.con.register(name, batch)
                self.con.execute(f"{head} SELECT * FROM {quote_ident(name)}{tail}")
            except duckdb.Error as exc:
                raise _wrap_stored(exc) from None
            finally:
                self.con.unregister(name)

        return Rows(execute, insert_many, "?", lambda: self._run("BEGIN TRANSACTION"),
                    lambda: self._run("COMMIT"), lambda: self._run("ROLLBACK"), single_writer=True,
                    listed_values=_LISTED_VALUES)

    def append(self, target: TableName, expr: ir.Table, *, key: str) -> int:
        table, k = _table_sql(target), quote_ident(key)
        sql = self.compile(expr)
        self._run("BEGIN TRANSACTION")
        try:
            self._run(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({sql}) LIMIT 0")
            before = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            self._run(f"INSERT INTO {table} SELECT * FROM ({sql}) e WHERE NOT EXISTS "
                      f"(SELECT 1 FROM {table} s WHERE s.{k} = e.{k})")
            after = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            self._run("COMMIT")
        except BaseException:
            self._run("ROLLBACK")
            raise
        return after - before

    @contextmanager
    def splink_api(self) -> Iterator[Any]:
        """A Splink ``DuckDBAPI`` on this connection, for entity resolution
        (:mod:`icpkit.enrich.dedupe`). The tables and views Splink makes while it is in use
        (all named ``__splink__...``), and the inputs registered through it, are dropped after."""
        try:
            from splink.backends.duckdb import DuckDBAPI
        except ImportError:
            raise DependencyError("deduplication needs Splink", hint="pip install icpkit[enrich]") from None
        before = self._splink_objects()
        try:
            yield DuckDBAPI(connection=self.con)
        finally:
            for kind, *parts in sorted(self._splink_objects() - before):
                self._run(f"DROP {kind} IF EXISTS {'.'.join(quote_ident(p) for p in parts)}")

    def _splink_objects(self) -> set[tuple[str, str, str, str]]:
        return set(self.con.execute(
            "SELECT 'TABLE', database_name, schema_name, table_name FROM duckdb_tables() "
            "WHERE starts_with(table_name, '__splink__') UNION ALL SELECT 'VIEW', database_name, schema_name, view_name "
            "FROM duckdb_views() WHERE starts_with(view_name, '__splink__')").fetchall())


#: Stored rows inserted as one list of parameters up to this many values, else as an Arrow
#: table: registering a table costs DuckDB ~0.7 ms more than a few rows of parameters.
_LISTED_VALUES = 100
#: Arrow types of the stored rows' column kinds (see :mod:`.rows`).
_ARROW_KINDS = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
                "time": pa.timestamp("us")}

_COPY_OPTIONS = {"csv": "FORMAT csv", "parquet": "FORMAT parquet, COMPRESSION zstd", "jsonl": "FORMAT json"}


def _keeps_order(expr: ir.Table) -> bool:
    """Whether DuckDB gives ``expr``'s rows in the order its table is stored: columns and
    filters of one table, cross joined with others (the one-row tables of a plan). A
    table's scan keeps its insertion order (``preserve_insertion_order``), and so do
    projections, filters and a cross product's streaming side; a hash join, an aggregate
    or a window does not."""
    import ibis.expr.operations as ops

    kept = (ops.Project, ops.Filter, ops.JoinChain, ops.JoinReference, ops.UnboundTable, ops.DatabaseTable)
    for node in expr.op().find(ops.Relation):
        if not isinstance(node, kept) or (isinstance(node, ops.JoinChain) and
                                          any(link.how != "cross" for link in node.rest)):
            return False
    return True


def _append(part: Path, whole: Path) -> None:
    """The bytes of the file ``part`` added to the end of the file ``whole``."""
    with open(part, "rb") as source, open(whole, "ab") as sink:
        shutil.copyfileobj(source, sink, 8 << 20)


def _as_declared(table: pa.Table, expr: ir.Expr) -> pa.Table:
    """``table`` with the types the expression declares where DuckDB widened them (a sum of
    BIGINT is a HUGEINT, which Arrow reads as a decimal)."""
    if not isinstance(expr, ir.Table):
        return table
    declared = expr.schema().to_pyarrow()
    if table.schema.equals(declared) or table.schema.names != declared.names:
        return table
    fields = [d if pa.types.is_decimal(a.type) and pa.types.is_integer(d.type) else a
              for a, d in zip(table.schema, declared)]
    return table.cast(pa.schema(fields))


_DATA_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException,
                duckdb.OutOfRangeException)


_MALFORMED_JSON = re.compile(r'Malformed JSON in file "(?P<path>[^"]+)"')


def _wrap_stored(exc: duckdb.Error) -> Exception:
    """A stored row that breaks a constraint (a key stored twice) is a DataError."""
    if isinstance(exc, duckdb.ConstraintException):
        return DataError(str(exc).split("\n")[0].replace("Constraint Error: ", ""))
    return _wrap(exc)


def _wrap(exc: duckdb.Error) -> Exception:
    """Errors caused by the data become DataError; anything else is a bug and stays as it is."""
    if not isinstance(exc, _DATA_ERRORS):
        return exc
    text = str(exc).split("\n\n")[0].strip()
    json_file = _MALFORMED_JSON.search(text)
    if json_file:  # DuckDB's line numbers are off: name the line that does not parse
        located = json_lines_error(Path(json_file["path"]))
        if located is not None:
            return located
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "Binder Error: ", "IO Error: "):
        text = text.replace(prefix, "")
    return DataError(text.replace("\n", "; "))


__all__ = ["DuckDBBackend", "located", "quote_ident", "quote_str"]
