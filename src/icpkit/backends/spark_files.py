"""The files the Spark backend writes: Spark's part files checked for input order, merged
into the one file asked for (Parquet by copying row groups, CSV and JSON lines by
concatenation), and directories swapped into place."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from .base import ROW


def merge_parquet(spark: Any, parts: list[Path], out: Path, columns: list[str], *, drop: str | None = None) -> None:
    """The Parquet files ``parts`` as one file ``out``, in order, without the column
    ``drop``: their row groups copied as they are, or (when that fails: no part files,
    Parquet's Java classes not as expected) decoded and written again."""
    try:
        _copy_row_groups(spark, parts, out, drop=drop)
    except Exception:
        out.unlink(missing_ok=True)
        _rewrite_parquet(parts, out, columns, drop=drop)


def parts_in_row_order(parts: list[Path]) -> list[Path] | None:
    """The part files holding rows (each in increasing ``_row`` order) in the order of their
    rows, or None when a part is not in order or two parts' rows interleave."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ranges = []
    for part in parts:
        rows = pq.read_table(part, columns=[ROW]).column(0)
        if len(rows) == 0:
            continue
        if rows.null_count or (len(rows) > 1 and not pc.all(pc.greater(rows[1:], rows[:-1])).as_py()):
            return None
        ranges.append((rows[0].as_py(), rows[-1].as_py(), part))
    ranges.sort(key=lambda r: r[0])
    if any(a[1] >= b[0] for a, b in zip(ranges, ranges[1:])):
        return None
    return [r[2] for r in ranges] or parts[:1]


def _copy_row_groups(spark: Any, parts: list[Path], out: Path, *, drop: str | None = None) -> None:
    """The row groups of the Parquet files ``parts`` copied into one file ``out`` as they
    are (no decoding, no compression), in order, without the column ``drop`` (Parquet's
    own Java classes, which Spark carries)."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    parquet = jvm.org.apache.parquet
    HadoopPath = jvm.org.apache.hadoop.fs.Path
    files = [parquet.hadoop.util.HadoopInputFile.fromPath(HadoopPath(p.resolve().as_uri()), conf) for p in parts]
    readers = []
    try:
        readers = [parquet.hadoop.ParquetFileReader.open(f) for f in files]
        meta = readers[0].getFooter().getFileMetaData()
        schema = meta.getSchema()
        fields = jvm.java.util.ArrayList()
        for field in schema.getFields():
            if field.getName() != drop:
                fields.add(field)
        mode = getattr(parquet.hadoop, "ParquetFileWriter$Mode").CREATE
        writer = parquet.hadoop.ParquetFileWriter(
            parquet.hadoop.util.HadoopOutputFile.fromPath(HadoopPath(out.resolve().as_uri()), conf),
            parquet.schema.MessageType(schema.getName(), fields), mode, 128 << 20, 0)
        writer.start()
        for file, reader in zip(files, readers):
            stream = file.newStream()
            try:
                writer.appendRowGroups(stream, reader.getFooter().getBlocks(), True)
            finally:
                stream.close()
        extra = jvm.java.util.HashMap()
        for key, value in dict(meta.getKeyValueMetaData()).items():
            if key == "org.apache.spark.sql.parquet.row.metadata":  # Spark's schema of the file
                spark_schema = json.loads(value)
                spark_schema["fields"] = [f for f in spark_schema.get("fields", []) if f.get("name") != drop]
                value = json.dumps(spark_schema, separators=(",", ":"))
            extra.put(key, value)
        writer.end(extra)
    finally:
        for reader in readers:
            reader.close()


def _rewrite_parquet(parts: list[Path], out: Path, columns: list[str], *, drop: str | None = None) -> None:
    """The Parquet files ``parts`` decoded and written again as one file ``out`` (in part
    order), without the column ``drop``."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for part in parts:
            source = pq.ParquetFile(part)
            keep = [n for n in source.schema_arrow.names if n != drop]
            for batch in source.iter_batches(batch_size=1 << 17, columns=keep):
                if writer is None:
                    writer = pq.ParquetWriter(out, batch.schema.remove_metadata(), compression="zstd")
                writer.write_batch(batch.replace_schema_metadata(None))
        if writer is None:  # no rows: an empty file with the columns
            if parts:
                schema = pq.read_schema(parts[0])
                schema = schema.remove(schema.get_field_index(drop)) if drop in schema.names else schema
            else:
                schema = pa.schema([(c, pa.string()) for c in columns])
            writer = pq.ParquetWriter(out, schema.remove_metadata(), compression="zstd")
    finally:
        if writer is not None:
            writer.close()


def merge_text(fmt: str, parts: list[Path], out: Path, columns: list[str]) -> None:
    """The CSV or JSON-lines part files Spark wrote, as one file ``out`` (in part order)."""
    with open(out, "wb") as sink:
        if fmt == "csv":
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow(columns)
            sink.write(header.getvalue().encode("utf-8"))
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, sink, 1 << 20)


def swap_directory(new: Path, out: Path) -> None:
    """Put the directory ``new`` in the place of the directory ``out`` (the old one is kept
    until the new one is in place, and put back if that fails)."""
    old = out.with_name(f".{out.name}.{os.getpid()}.{time.monotonic_ns()}.old")
    os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def first_json_keys(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    return []
                return list(first) if isinstance(first, dict) else []
    return []
