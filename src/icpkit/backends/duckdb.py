"""The embedded DuckDB backend (the default): reads inputs, runs plans, writes results.

Plans arrive as ibis expressions over named, unbound tables; this backend creates those
tables (temporary, per connection), compiles plans to DuckDB SQL and runs them. It knows
SQL and I/O, never the domain (see :mod:`.base` for the protocol).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ..errors import DataError, WorkspaceError, located
from ..io.sources import existing_file, file_format, sniff_csv
from .base import (ROW, OnError, ProgressFn, ReadReject, Source, Target, TableName, check_name, csv_safe, output_file,
                   unbound)


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

    def __init__(self, database: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.database = str(database)
        try:
            self.con = duckdb.connect(self.database, read_only=read_only)
        except duckdb.Error as exc:
            raise WorkspaceError(f"cannot open the database {database}: {exc}",
                                 hint="another icp process may hold it; DuckDB allows one writer") from None
        self.con.execute("SET TimeZone='UTC'")  # timestamps without an offset are UTC
        self.con.execute("SET enable_progress_bar=true")
        self.con.execute("SET enable_progress_bar_print=false")
        self._attached: dict[str, str] = {}

    def close(self) -> None:
        self.con.close()

    def compile(self, expr: ir.Expr) -> str:
        return str(ibis.to_sql(expr, dialect=self.dialect, pretty=False))

    # -- reading ---------------------------------------------------------------------

    def read(self, source: Source, name: str, *, on_error: OnError = "fail") -> ir.Table:
        check_name(name)
        if isinstance(source, pa.Table):
            self.con.register(f"{name}_arrow", source)
            scan = f"SELECT row_number() OVER () AS {ROW}, * FROM {name}_arrow"
        elif isinstance(source, TableName):
            scan = f"SELECT row_number() OVER () AS {ROW}, * FROM {self._table_of(source)}"
        else:
            scan = self._file_scan(existing_file(source), name, on_error)
        self._run(f"CREATE OR REPLACE TEMP VIEW {name} AS {scan}")
        return self._ref(name)

    def _file_scan(self, path: Path, name: str, on_error: OnError) -> str:
        fmt = file_format(path)
        p = quote_str(str(path))
        if fmt == "parquet":
            return (f"SELECT file_row_number + 1 AS {ROW}, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({p}, file_row_number=true)")
        if fmt == "jsonl":
            return f"SELECT row_number() OVER () AS {ROW}, * FROM read_json({p}, format='newline_delimited')"
        d = sniff_csv(path)
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
                    phase: str = "") -> ir.Table:
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
        if isinstance(target, TableName):
            # One statement: DuckDB replaces the table only when the query succeeds.
            with self._progress(progress, "writing results"):
                self._run(f"CREATE OR REPLACE TABLE {_table_sql(target)} AS {self.compile(expr)}")
            return f"table '{target}'" + ("" if self.database == ":memory:" else f" in {self.database}")
        out, fmt, tmp = output_file(target)
        options = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet, COMPRESSION zstd",
                   "jsonl": "FORMAT json"}[fmt]
        sql = self.compile(csv_safe(expr) if fmt == "csv" else expr)
        try:
            with self._progress(progress, "writing results"):
                self._run(f"COPY ({sql}) TO {quote_str(str(tmp))} ({options})")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return str(out)

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


def _wrap(exc: duckdb.Error) -> Exception:
    """Errors caused by the data become DataError; anything else is a bug and stays as it is."""
    if not isinstance(exc, _DATA_ERRORS):
        return exc
    text = str(exc).split("\n\n")[0].strip()
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "Binder Error: ", "IO Error: "):
        text = text.replace(prefix, "")
    return DataError(text.replace("\n", "; "))


__all__ = ["DuckDBBackend", "located", "quote_ident", "quote_str"]
