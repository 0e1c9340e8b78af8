"""The Spark backend: plans compiled to Spark SQL and run by a Spark session (PySpark).

Plans are ibis expressions over named, unbound tables; here those names are temporary
views of the backend's own session (a new session sharing the Spark context of the active
one, so its views and settings never touch the caller's), compiled with
``ibis.to_sql(expr, dialect="pyspark")`` and run with ``spark.sql``. Under ``spark-submit``
the context is the one it made; otherwise a local one is started (``local[*]`` by default).

- ``read``: Parquet, CSV (every column text, in the dialect :func:`~icpkit.io.sources.sniff_csv`
  finds; a file is parsed by one task, since a quoted value may span lines; a file that is
  not valid UTF-8 or UTF-16 is read from a temporary UTF-8 copy, checkpointed before the
  copy is removed), JSON lines,
  Arrow tables and catalog tables. ``_row`` is the 1-based row in file (or scan) order:
  Parquet's own row index, else ``monotonically_increasing_id`` made consecutive with the
  row count of each partition.
- ``materialize`` checkpoints the result (computed once, kept by the executors, lineage cut)
  and names it: later steps read it and never recompute it. A small result (under Spark's
  broadcast threshold and much smaller than another result held) is marked for broadcast,
  so the joins reading it stream the large side in its order instead of shuffling both.
- ``write``: files are written into a temporary directory beside the target, then moved
  into place with a rename; Parquet part files are merged into the one file asked for by
  copying their row groups (an existing directory target is replaced by a directory of part
  files). Rows asked for in input order (``ORDER BY _row``) are written unsorted when they
  come out in that order (checked on the part files), and sorted by Spark otherwise. A
  table is saved under a temporary name and then swapped in.
- Errors caused by the data (a missing file or table, a missing column, a value that cannot
  be cast, a malformed CSV record) are :class:`~icpkit.errors.DataError` naming the file,
  table or column.

Timestamps are instants in UTC (the session time zone); naive timestamps in results (such
as ``scored_at``) are written and returned without a zone, as DuckDB does.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ..errors import DataError, DependencyError, MissingColumnError, located
from ..io.sources import CsvDialect, existing_file, file_format, json_lines_error, sniff_csv, utf8_copy
from . import spark_files as files
from .base import (ROW, OnError, ProgressFn, ReadReject, Source, Target, TableName, check_name, csv_safe, output_file,
                   unbound, unsorted_by_row, whole_phase)

#: At most this many tables are listed when a table is missing.
_MAX_LISTED = 20
#: A checkpointed result is broadcast to joins when it is this many times smaller (or more)
#: than another result the backend holds (and under Spark's broadcast threshold).
_BROADCAST_RATIO = 4
#: Where Spark keeps the partition index in ``monotonically_increasing_id``.
_PARTITION_SHIFT = 33

#: Spark's error classes for values the data holds (a bad cast, a malformed record...).
_DATA_ERROR_CLASSES = ("CAST_INVALID_INPUT", "CAST_OVERFLOW", "MALFORMED_RECORD", "ARITHMETIC_OVERFLOW",
                       "DIVIDE_BY_ZERO", "INVALID_ARRAY_INDEX", "DATETIME", "NUMERIC_VALUE_OUT_OF_RANGE",
                       "FAILED_READ_FILE", "CANNOT_PARSE", "INVALID_FORMAT", "CONVERSION_INVALID_INPUT",
                       "BINARY_ARITHMETIC_OVERFLOW", "INVALID_FRACTION_OF_SECOND")

#: Confs of the backend's session (SQL confs: they can be set at run time, per session).
_SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def _pyspark() -> Any:
    try:
        import pyspark
        from pyspark.sql import SparkSession  # noqa: F401
    except ImportError:
        raise DependencyError("the Spark backend needs PySpark", hint="pip install icpkit[spark]") from None
    return pyspark


def java_available() -> bool:
    """Whether a Java runtime can be found (JAVA_HOME, or ``java`` on the PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def _session(master: str | None, shuffle_partitions: int | None, conf: dict[str, str] | None) -> tuple[Any, bool]:
    """A Spark session of its own and whether this backend started the Spark context."""
    _pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active.newSession(), False
    if not java_available():
        raise DependencyError("Spark needs a Java runtime and none was found (JAVA_HOME is not set and there "
                              "is no java on the PATH)", hint="install Java 17 (e.g. apt-get install "
                              "openjdk-17-jre-headless) or set JAVA_HOME")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = master or "local[*]"
    builder = SparkSession.builder.master(master).appName("icpkit").config("spark.ui.enabled", "false") \
        .config("spark.ui.showConsoleProgress", "false")
    if shuffle_partitions is None and master.startswith("local"):
        shuffle_partitions = 2 * _local_cores(master)
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in {**_SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start
        raise DependencyError(f"cannot start Spark ({master}): {str(exc).strip().splitlines()[0]}",
                              hint="check the Java 17 installation and JAVA_HOME") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark, True


def _local_cores(master: str) -> int:
    found = re.match(r"local\[(\d+)", master)
    return int(found.group(1)) if found else (os.cpu_count() or 2)


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _table_sql(target: TableName) -> str:
    return ".".join(_quote(p) for p in target.parts)


class SparkBackend:
    """Plans on Spark: ``SparkBackend()`` runs locally on every core; ``SparkBackend("spark://host:7077")``
    (or ``local[2]``, ``yarn``...) on that master; under spark-submit, on its context."""

    name = "spark"
    dialect = "pyspark"

    def __init__(self, master: str | None = None, *, shuffle_partitions: int | None = None,
                 conf: dict[str, str] | None = None) -> None:
        started = time.perf_counter()
        self.spark, self._owns_context = _session(master, shuffle_partitions, conf)
        for key, value in _SESSION_CONF.items():
            self.spark.conf.set(key, value)
        if shuffle_partitions is not None:
            self.spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
        ibis.pyspark  # noqa: B018 (registers ibis's pyspark options, which its compiler reads)
        self.start_seconds = time.perf_counter() - started
        self._frames: dict[str, Any] = {}  # temporary view -> its checkpointed DataFrame
        self._labels: dict[str, str] = {}  # temporary view -> the file or table it reads
        self._rejects: dict[str, Any] = {}  # temporary view -> DataFrame of CSV records left out
        self._dialects: dict[str, CsvDialect] = {}  # temporary view -> how its CSV file was decoded
        self._seq = 0

    def close(self) -> None:
        for name in set(self._frames) | set(self._labels):
            self.spark.catalog.dropTempView(name)
        for df in self._frames.values():
            _release(df)
        self._frames.clear()
        self._labels.clear()
        self._rejects.clear()
        if self._owns_context:
            self.spark.stop()

    def compile(self, expr: ir.Expr) -> str:
        return str(ibis.to_sql(expr, dialect=self.dialect))

    # -- reading ---------------------------------------------------------------------

    def read(self, source: Source, name: str, *, on_error: OnError = "fail") -> ir.Table:
        check_name(name)
        self._rejects.pop(name, None)
        self._dialects.pop(name, None)
        if isinstance(source, pa.Table):
            df, label = self._arrow_frame(source), "input table"
        elif isinstance(source, TableName):
            df, label = self._table_frame(source), f"table {source}"
        else:
            path = existing_file(source)
            df, label = self._file_frame(path, name, on_error), str(path)
        df.createOrReplaceTempView(name)
        self._labels[name] = label
        return self._ref(name, df)

    def _arrow_frame(self, table: pa.Table) -> Any:
        table = _spark_arrow(table)
        numbered = table.add_column(0, ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))
        if table.num_rows == 0:  # Spark infers nothing from an empty Arrow table
            from ibis.backends.pyspark.datatypes import PySparkSchema

            schema = PySparkSchema.from_ibis(ibis.Schema.from_pyarrow(numbered.schema))
            return self.spark.createDataFrame([], schema)  # type: ignore[arg-type]
        return self.spark.createDataFrame(numbered)

    def _table_frame(self, source: TableName) -> Any:
        if source.database is not None:  # a DuckDB file (the workspace's event store): through Arrow
            import duckdb

            try:
                with duckdb.connect(str(source.database), read_only=True) as con:
                    table = con.sql(f"SELECT * FROM {'.'.join(chr(34) + p + chr(34) for p in source.parts)}"
                                    ).to_arrow_table()
            except duckdb.Error as exc:
                raise DataError(f"cannot read table '{source}': {str(exc).splitlines()[0]}",
                                where=str(source.database)) from None
            return self._arrow_frame(table)
        if not self.has_table(source):
            listed = ", ".join(sorted(t.name for t in self.spark.catalog.listTables()
                                      if not t.isTemporary)[:_MAX_LISTED]) or "none"
            raise DataError(f"no table '{source}' in the Spark catalog", where=f"table {source}",
                            hint=f"the tables are: {listed}")
        return _numbered(self.spark.table(_table_sql(source)))

    def _file_frame(self, path: Path, name: str, on_error: OnError) -> Any:
        from pyspark.sql import functions as F

        fmt = file_format(path)
        where = str(path.resolve())
        with self._errors(str(path)):
            if fmt == "parquet":
                df = self.spark.read.parquet(where)
                cols = [F.col(_quote(c)) for c in df.columns]
                return df.select((F.col("_metadata.row_index") + 1).alias(ROW), *cols)
            if fmt == "jsonl":
                df = self.spark.read.json(where, mode="FAILFAST")
                first = files.first_json_keys(path)  # Spark sorts the inferred columns: back to the file's order
                order = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
                return _numbered(df.select(*[F.col(_quote(c)) for c in order]))
            return self._csv_frame(path, where, name, on_error)

    def _csv_frame(self, path: Path, where: str, name: str, on_error: OnError) -> Any:
        d = self._dialects[name] = sniff_csv(path)
        if not d.native:  # a legacy encoding or bad UTF-8 bytes: read a UTF-8 copy, held before it goes
            with utf8_copy(path, d.encoding) as copy:
                try:
                    df = self._csv_dialect_frame(str(copy.resolve()), CsvDialect("utf-8", d.delimiter, d.header),
                                                 name, on_error)
                    return df.localCheckpoint(eager=True)
                except Exception as exc:  # name the file read, not its copy
                    err = self._data_error(exc, str(path))
                    if not isinstance(err, DataError):
                        raise
                    err.message = err.message.replace(copy.resolve().as_uri(), str(path)).replace(
                        str(copy.resolve()), str(path))
                    raise err from None
        return self._csv_dialect_frame(where, d, name, on_error)

    def _csv_dialect_frame(self, where: str, d: CsvDialect, name: str, on_error: OnError) -> Any:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        corrupt = "_icp_corrupt_record"
        fields = [T.StructField(h, T.StringType()) for h in d.header]
        if on_error == "skip":
            fields.append(T.StructField(corrupt, T.StringType()))
        reader = self.spark.read.schema(T.StructType(fields)).options(
            header=True, sep=d.delimiter, encoding={"utf-8": "UTF-8", "utf-16": "UTF-16"}[d.encoding],
            quote='"', escape='"', multiLine=True, enforceSchema=True,
            mode="PERMISSIVE" if on_error == "skip" else "FAILFAST", columnNameOfCorruptRecord=corrupt)
        df = _numbered(reader.csv(where))
        if on_error != "skip":
            return df
        df = df.localCheckpoint(eager=True)  # Spark reads the corrupt-record column only from data it holds
        self._rejects[name] = df.filter(F.col(corrupt).isNotNull()).select(ROW, corrupt)
        return df.filter(F.col(corrupt).isNull()).drop(corrupt)

    def read_dialect(self, name: str) -> CsvDialect | None:
        return self._dialects.get(check_name(name))

    def read_rejects(self, name: str) -> list[ReadReject]:
        check_name(name)
        rejects = self._rejects.get(name)
        if rejects is None:
            return []
        # A record's line, as if no value spanned lines (the header is line 1).
        return [ReadReject(int(row) + 1, "", "malformed CSV record (wrong number of fields or bad quoting)",
                           str(text).rstrip("\r\n")) for row, text in sorted(rejects.collect())]

    def has_table(self, target: TableName) -> bool:
        return bool(self.spark.catalog.tableExists(target.name))

    # -- running ---------------------------------------------------------------------

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        sql = self.compile(expr)
        df = self._sql(sql)
        df.createOrReplaceTempView(check_name(name))
        self._labels[name] = self._source_of(sql)
        return self._ref(name, df)

    def materialize(self, name: str, expr: ir.Table, *, progress: ProgressFn | None = None,
                    phase: str = "", in_order: bool = False) -> ir.Table:
        check_name(name)
        sql = self.compile(expr)
        with whole_phase(progress, phase):
            df = self._checkpoint(self._sql(sql), self._source_of(sql))
        self._labels[name] = self._source_of(sql)
        return self._name(name, df)

    def _checkpoint(self, df: Any, label: str = "") -> Any:
        """``df`` computed now and kept by the executors, its lineage cut: what reads it later
        never recomputes it.

        Spark does not know how big a checkpointed result is (it keeps the estimate of the
        plan that made it: for the few hundred combinations of outcomes, the size of the
        input), so a join with it would shuffle and sort both sides. A result that turned
        out smaller than Spark's broadcast threshold, and much smaller than another one
        this backend holds (the rows it is joined to), is therefore marked to be broadcast:
        the joins that read it stream the other side, in its order."""
        with self._errors(label):
            df = df.localCheckpoint(eager=True)
        threshold = _bytes(self.spark.conf.get("spark.sql.autoBroadcastJoinThreshold", "10485760"))
        if threshold > 0:
            sizes = _stored_sizes(self.spark)
            size = sizes.get(_rdd_id(df), math.inf)
            largest = max((sizes.get(_rdd_id(f), 0.0) for f in self._frames.values()), default=0.0)
            if size <= threshold and size * _BROADCAST_RATIO <= largest:
                df = df.hint("broadcast")
        return df

    def _source_of(self, sql: str) -> str:
        """The file or table a query reads, through the views it names (when it is one)."""
        found = {self._labels[n] for n in re.findall(r"`(\w+)`", sql) if self._labels.get(n)}
        return found.pop() if len(found) == 1 else ""

    def _name(self, name: str, df: Any) -> ir.Table:
        old = self._frames.pop(name, None)
        df.createOrReplaceTempView(name)
        self._frames[name] = df
        if old is not None and old is not df:
            _release(old)
        return self._ref(name, df)

    def delete_rows(self, name: str, rows: ir.Table) -> None:
        check_name(name)
        keep = self._sql(f"SELECT * FROM {_quote(name)} WHERE {ROW} NOT IN "
                         f"(SELECT {ROW} FROM ({self.compile(rows)}) AS r WHERE {ROW} IS NOT NULL)")
        self._name(name, self._checkpoint(keep, self._labels.get(name, "")))

    def to_arrow(self, expr: ir.Expr, *, progress: ProgressFn | None = None, phase: str = "") -> pa.Table:
        schema = expr.schema() if isinstance(expr, ir.Table) else None
        sql = self.compile(expr)
        with whole_phase(progress, phase), self._errors(self._source_of(sql)):
            table = self._sql(sql).toArrow()
        return _naive_times(table, schema)

    def scalar(self, expr: ir.Scalar) -> Any:
        return self.to_arrow(expr).column(0)[0].as_py()

    def _ref(self, name: str, df: Any) -> ir.Table:
        from ibis.backends.pyspark.datatypes import PySparkSchema

        return unbound(name, PySparkSchema.to_ibis([(f.name, f.dataType) for f in df.schema.fields]))

    def _sql(self, sql: str) -> Any:
        with self._errors(self._source_of(sql)):
            return self.spark.sql(sql)

    @contextmanager
    def _errors(self, label: str | None = None) -> Iterator[None]:
        """Spark's errors caused by the data as DataError (naming the file, table or column)."""
        from pyspark.errors import PySparkException

        try:
            yield
        except PySparkException as exc:
            raise self._data_error(exc, label) from None
        except Exception as exc:  # py4j errors that PySpark does not convert
            if type(exc).__name__ in ("Py4JJavaError",):
                raise self._data_error(exc, label) from None
            raise

    def _data_error(self, exc: Exception, label: str | None) -> Exception:
        text = str(exc)
        klass = _error_class(exc)
        first = _first_line(text)
        where = label or self._label_in(text)
        if klass.startswith("UNRESOLVED_COLUMN"):
            column = _param(exc, "objectName").split(".")[-1].strip("`")
            proposal = _param(exc, "proposal")
            return MissingColumnError(f"no column '{column}'", where=where,
                                      hint=f"the columns are: {proposal}" if proposal else "")
        if klass.startswith(("PATH_NOT_FOUND", "TABLE_OR_VIEW_NOT_FOUND", "FAILED_READ_FILE.FILE_NOT_EXIST")) \
                or "FileNotFoundException" in text or "does not exist" in first:
            return DataError(f"not found: {_reason(text)}", where=where)
        if "Malformed" in text and _is_json_lines(where):
            bad_line = json_lines_error(Path(where))  # Spark names no line
            if bad_line is not None:
                return DataError(f"cannot read {where}: {bad_line.message}", where=bad_line.where, hint=bad_line.hint)
        if klass.startswith(_DATA_ERROR_CLASSES) or "Malformed" in text:
            column = _context_column(exc)
            return DataError(_reason(text), where=located(where or None, column=column),
                             hint="fix the value, or use --on-error skip to set bad rows aside")
        return exc

    def _label_in(self, text: str) -> str:
        """The label of a file or table this backend read that the error text names."""
        for label in self._labels.values():
            if label and (label in text or str(Path(label).resolve()) in text):
                return label
        return ""

    # -- writing ---------------------------------------------------------------------

    def write(self, expr: ir.Table, target: Target, *, progress: ProgressFn | None = None) -> str:
        with whole_phase(progress, "writing results"):
            if isinstance(target, TableName):
                self._write_table(expr, target)
                return f"table '{target}'"
            out, fmt, tmp = output_file(target, parquet_directory=True)
            try:
                if fmt == "parquet" and not out.is_dir() and self._write_parquet_in_row_order(expr, tmp, out):
                    return str(out)
                shown = _written(expr, csv=fmt == "csv")
                sql = self.compile(shown)
                df = _naive_columns(self._sql(sql), shown.schema(), text=fmt != "parquet")
                self._write_files(df, fmt, tmp / "parts", self._source_of(sql))
                if fmt == "parquet" and out.is_dir():
                    files.swap_directory(tmp / "parts", out)
                else:
                    single = tmp / "out"
                    parts = sorted((tmp / "parts").glob("part-*"))
                    if fmt == "parquet":
                        files.merge_parquet(self.spark, parts, single, df.columns)
                    else:
                        files.merge_text(fmt, parts, single, df.columns)
                    os.replace(single, out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return str(out)

    def _write_parquet_in_row_order(self, expr: ir.Table, tmp: Path, out: Path) -> bool:
        """``expr``, ordered by ``_row`` (the input's order), as one Parquet file ``out``,
        without Spark sorting it; False (nothing written) when ``expr`` is not so ordered or
        its rows do not come out in that order.

        A global sort costs a sampling pass over the whole plan and a shuffle of every row
        with every column. The rows mostly come out in order anyway: the input is scanned
        in file order, partition by partition, and the scored rows keep that order through
        the broadcast joins of the plan. So the rows are written unsorted with their
        ``_row``, each part file is checked to be in ``_row`` order and the parts are put in
        order of their first rows (their ranges must not overlap); then their row groups are
        copied into ``out`` as they are (no decoding), without ``_row``."""
        unsorted = unsorted_by_row(expr)
        if unsorted is None:
            return False
        sql = self.compile(unsorted)
        df = _naive_columns(self._sql(sql), unsorted.schema())
        self._write_files(df, "parquet", tmp / "rows", self._source_of(sql))
        parts = files.parts_in_row_order(sorted((tmp / "rows").glob("part-*")))
        if parts is None:
            shutil.rmtree(tmp / "rows", ignore_errors=True)
            return False
        single = tmp / "out"
        files.merge_parquet(self.spark, parts, single, [c for c in df.columns if c != ROW], drop=ROW)
        os.replace(single, out)
        return True

    def _write_files(self, df: Any, fmt: str, where: Path, label: str) -> None:
        writer = df.write.mode("error")
        with self._errors(label):
            if fmt == "parquet":
                writer.option("compression", "zstd").parquet(str(where))
            elif fmt == "csv":
                writer.options(header=False, quote='"', escape='"', escapeQuotes=True, nullValue="", emptyValue='""',
                               lineSep="\n").csv(str(where))
            else:
                writer.options(ignoreNullFields=False, lineSep="\n").json(str(where))

    def _write_table(self, expr: ir.Table, target: TableName) -> None:
        self._seq += 1
        *schema, table = target.parts
        tmp = TableName(".".join([*schema, f"{table}__icp_new_{os.getpid()}_{self._seq}"]))
        old = TableName(".".join([*schema, f"{table}__icp_old_{os.getpid()}_{self._seq}"]))
        sql = self.compile(expr)
        df = _naive_columns(self._sql(sql), expr.schema())
        try:
            with self._errors(self._source_of(sql)):
                df.write.mode("error").saveAsTable(tmp.name)
            if self.has_table(target):
                self.spark.sql(f"ALTER TABLE {_table_sql(target)} RENAME TO {_table_sql(old)}")
                try:
                    self.spark.sql(f"ALTER TABLE {_table_sql(tmp)} RENAME TO {_table_sql(target)}")
                except Exception:
                    self.spark.sql(f"ALTER TABLE {_table_sql(old)} RENAME TO {_table_sql(target)}")
                    raise
                self.spark.sql(f"DROP TABLE IF EXISTS {_table_sql(old)}")
            else:
                self.spark.sql(f"ALTER TABLE {_table_sql(tmp)} RENAME TO {_table_sql(target)}")
        finally:
            self.spark.sql(f"DROP TABLE IF EXISTS {_table_sql(tmp)}")

    def append(self, target: TableName, expr: ir.Table, *, key: str) -> int:
        df = self._checkpoint(_naive_columns(self._sql(self.compile(expr)), expr.schema()))
        if not self.has_table(target):
            with self._errors():
                df.write.mode("error").saveAsTable(target.name)
            return int(df.count())
        held = self.spark.table(_table_sql(target)).select(key)
        new = self._checkpoint(df.join(held, on=key, how="left_anti"))
        added = int(new.count())
        if added:
            with self._errors():
                new.select(*self.spark.table(_table_sql(target)).columns).write.insertInto(target.name)
        self.spark.catalog.refreshTable(target.name)
        return added


# -- helpers -------------------------------------------------------------------------------


def _numbered(df: Any) -> Any:
    """``df`` with ``_row`` first: its 1-based row number in scan order (file order for one
    file). ``monotonically_increasing_id`` counts within each partition from the partition's
    index shifted left by 33 bits; with more than one partition, each partition's row count
    (one pass over the input) turns it into consecutive numbers."""
    from pyspark.sql import functions as F

    cols = [F.col(_quote(c)) for c in df.columns]
    mid = F.monotonically_increasing_id()
    if df.rdd.getNumPartitions() <= 1:
        return df.select((mid + 1).alias(ROW), *cols)
    tagged = df.select(mid.alias("_icp_mid"), *cols)
    counts = dict(tagged.select(F.shiftright("_icp_mid", _PARTITION_SHIFT).alias("p")).groupBy("p").count().collect())
    offsets, total = [], 0
    for p in range(max(counts, default=-1) + 1):
        offsets.append(total)
        total += counts.get(p, 0)
    part = F.shiftright("_icp_mid", _PARTITION_SHIFT)
    within = F.col("_icp_mid") - F.shiftleft(part, _PARTITION_SHIFT)
    start = F.element_at(F.array(*[F.lit(o).cast("long") for o in offsets] or [F.lit(0).cast("long")]),
                         (part + 1).cast("int"))
    return tagged.select((start + within + 1).alias(ROW), *cols)


def _checkpointed_rdd(df: Any) -> Any:
    """The JVM RDD holding a checkpointed DataFrame's rows (under any hint), or None."""
    plan = df._jdf.queryExecution().analyzed()
    while plan.getClass().getSimpleName() == "ResolvedHint":
        plan = plan.child()
    return plan.rdd() if plan.getClass().getSimpleName() == "LogicalRDD" else None


def _rdd_id(df: Any) -> int | None:
    try:
        rdd = _checkpointed_rdd(df)
    except Exception:
        return None
    return None if rdd is None else int(rdd.id())


def _stored_sizes(spark: Any) -> dict[int | None, float]:
    """The bytes the executors hold of each RDD kept whole (checkpointed DataFrames' among
    them), by RDD id; empty when Spark does not tell."""
    try:
        return {int(i.id()): float(i.memSize() + i.diskSize()) for i in spark.sparkContext._jsc.sc().getRDDStorageInfo()
                if i.numCachedPartitions() == i.numPartitions()}
    except Exception:  # a Spark without this developer API: nothing is broadcast by size
        return {}


def _release(df: Any) -> None:
    """Free what the executors hold of a materialised DataFrame now (checkpointed blocks
    are otherwise only freed once the JVM's garbage collector finds them unreferenced)."""
    try:
        df.unpersist()
        rdd = _checkpointed_rdd(df)
        if rdd is not None:
            rdd.unpersist(True)
    except Exception:
        pass


def _bytes(text: str) -> float:
    """A Spark size setting (``10485760``, ``10m``, ``1g``, ``-1``) in bytes."""
    found = re.fullmatch(r"\s*(-?\d+)\s*([kmgtp]?)b?\s*", text.lower())
    if not found:
        return 0
    return int(found.group(1)) * 1024 ** " kmgtp".index(found.group(2) or " ")


def _spark_arrow(table: pa.Table) -> pa.Table:
    """Arrow types Spark reads: timestamps in microseconds, dictionaries decoded, columns
    of NULLs as text."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_timestamp(t) and t.unit != "us":
            t = pa.timestamp("us", tz=t.tz)
        elif pa.types.is_null(t):
            t = pa.string()
        elif pa.types.is_large_string(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema, safe=False)


def _naive_times(table: pa.Table, schema: ibis.Schema | None) -> pa.Table:
    """Timestamps as the plan types them: without a zone unless it has one (Spark returns
    every timestamp as an instant)."""
    cols = []
    for i, f in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            want = schema[f.name] if schema is not None and f.name in schema else None
            if want is None or not want.is_timestamp() or want.timezone is None:
                col = col.cast(pa.timestamp(f.type.unit))
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _written(expr: ir.Table, *, csv: bool) -> ir.Table:
    """``expr`` as it is written: for CSV, lists as ``;``-separated text and formulas
    neutralised."""
    if csv:
        expr = expr.select(**{n: (expr[n].join(";") if t.is_array() and t.value_type.is_string() else expr[n])
                              for n, t in expr.schema().items()})
        expr = csv_safe(expr)
    return expr


def _naive_columns(df: Any, schema: ibis.Schema, *, text: bool = False) -> Any:
    """``df`` with the timestamps its plan types without a zone as ``TIMESTAMP_NTZ`` (their
    UTC wall-clock time): Spark writes its plain timestamps as instants. With ``text``
    (CSV, JSON), as DuckDB writes them: ``2026-01-31 12:00:00``, fractions without zeros."""
    from pyspark.sql import functions as F

    cols = []
    for name in df.columns:
        t = schema[name] if name in schema else None
        col = F.col(_quote(name))
        if t is not None and t.is_timestamp() and t.timezone is None:
            col = col.cast("timestamp_ntz")
            col = (col.cast("string") if text else col).alias(name)
        cols.append(col)
    return df.select(*cols)


def _error_class(exc: Exception) -> str:
    get = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    try:
        return str(get() or "") if get else ""
    except Exception:
        return ""


def _param(exc: Exception, key: str) -> str:
    get = getattr(exc, "getMessageParameters", None)
    try:
        return str((get() or {}).get(key, "")) if get else ""
    except Exception:
        return ""


def _context_column(exc: Exception) -> str | None:
    """The column of the SQL fragment an error points at (``CAST(`t0`.`x` AS BIGINT)``: x)."""
    try:
        contexts = exc.getQueryContext()  # type: ignore[attr-defined]
    except Exception:
        return None
    for ctx in contexts or []:
        names = [n for n in re.findall(r"`([^`]+)`", ctx.fragment()) if not re.fullmatch(r"t\d+", n)]
        if names:
            return names[-1]
    return None


def _is_json_lines(where: str) -> bool:
    try:
        return bool(where) and file_format(where) == "jsonl" and Path(where).is_file()
    except DataError:
        return False


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "").split("SQLSTATE")[0].strip()


def _reason(text: str) -> str:
    """The part of a Spark error message a user can act on."""
    line = _first_line(text)
    line = re.sub(r"^\[[A-Z_.]+\]\s*", "", line)
    line = re.sub(r"\s*If necessary set \S+ to \S+ to bypass this error\.?", "", line)
    line = re.sub(r"\s*Use `try_cast` to tolerate malformed input and return NULL instead\.?", "", line)
    return line.strip().rstrip(".") or "the engine could not read a value"
