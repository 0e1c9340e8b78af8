"""Moving Arrow data into and out of PostgreSQL with COPY, as CSV text.

Loading: each Arrow column is mapped to a PostgreSQL type (:func:`pg_column_type`) and
prepared (:func:`prepare_batch`) so that Arrow's CSV writer, which is fast and writes
doubles in their shortest exact form, produces text that ``COPY ... FROM STDIN (FORMAT
csv)`` reads back to the same values: lists become array literals, timestamps UTC without
a zone, dictionaries their values. NULL is an empty unquoted field; an empty string is
written ``""``.

Fetching: a query is wrapped (:func:`output_projection`) so that ``COPY (...) TO STDOUT
(FORMAT csv)`` writes every column in a form Arrow's CSV reader parses to the type the
ibis schema gives (arrays as JSON, timestamps with a zone as UTC), then read back in
batches (:func:`read_batches`) with the same Arrow types DuckDB returns for the same
expression.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from ..errors import DataError

#: Arrow scalar types and the PostgreSQL type they are loaded as.
_SCALARS: list[tuple[Any, str]] = [
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_integer, "BIGINT"),
    (pa.types.is_floating, "DOUBLE PRECISION"),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t), "TEXT"),
    (pa.types.is_null, "TEXT"),
    (pa.types.is_timestamp, "TIMESTAMP"),
    (pa.types.is_date, "DATE"),
]

#: DuckDB names the item field of a list "l"; results use the same Arrow types.
LIST_ITEM = "l"


def _scalar_type(t: pa.DataType) -> str | None:
    if pa.types.is_dictionary(t):
        return _scalar_type(t.value_type)
    if pa.types.is_decimal(t) and t.precision <= 1000:
        return f"NUMERIC({t.precision}, {t.scale})"
    return next((pg for test, pg in _SCALARS if test(t)), None)


def pg_column_type(field: pa.Field) -> str:
    """The PostgreSQL type an Arrow column is loaded as, or a DataError naming it."""
    t = field.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = _scalar_type(t.value_type)
        if inner is not None and not inner.startswith(("TIMESTAMP", "DATE", "NUMERIC")):
            return inner + "[]"
    else:
        found = _scalar_type(t)
        if found is not None:
            return found
    raise DataError(f"column '{field.name}' has the type {t}, which icpkit cannot load into PostgreSQL",
                    hint="convert it to text, a number, a boolean, a date, a timestamp or a list of those")


def _plain(arr: pa.Array) -> pa.Array:
    """``arr`` without dictionary encoding, large offsets or views, floats as float64."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return _plain(arr.dictionary_decode())
    if pa.types.is_large_string(t) or pa.types.is_string_view(t) or pa.types.is_null(t):
        return arr.cast(pa.string())
    if pa.types.is_floating(t) and not pa.types.is_float64(t):
        return arr.cast(pa.float64())
    if pa.types.is_integer(t) and not pa.types.is_int64(t):
        return arr.cast(pa.int64())
    if pa.types.is_timestamp(t):
        # The instant in UTC, without a zone (Arrow stores zoned timestamps as UTC).
        return arr.cast(pa.timestamp(t.unit)).cast(pa.timestamp("us"), safe=False)
    if pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _plain(arr.cast(pa.list_(t.value_type)))
    return arr


def _array_literal(arr: pa.ListArray) -> pa.Array:
    """Each list as a PostgreSQL array literal (``{"a","b",NULL}``); a NULL list stays NULL."""
    items = _plain(arr.values)
    if pa.types.is_string(items.type):
        text = pc.replace_substring(pc.replace_substring(items, "\\", "\\\\"), '"', '\\"')
        text = pc.binary_join_element_wise('"', text, '"', "")
    elif pa.types.is_boolean(items.type):
        text = pc.if_else(items, "t", "f")
    else:
        text = items.cast(pa.string())
    text = pc.fill_null(text, "NULL")
    lists = pa.ListArray.from_arrays(arr.offsets, text, mask=arr.is_null())
    return pc.binary_join_element_wise("{", pc.binary_join(lists, ","), "}", "")


def prepare_batch(batch: pa.RecordBatch, first_row: int) -> pa.RecordBatch:
    """``batch`` with ``_row`` (from ``first_row``) first and columns ready for CSV text."""
    cols: list[pa.Array] = [pa.array(range(first_row, first_row + batch.num_rows), pa.int64())]
    for col in batch.columns:
        t = col.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            col = _array_literal(_plain(col) if not pa.types.is_list(t) else col)
        else:
            col = _plain(col)
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, names=[f"c{i}" for i in range(len(cols))])


def csv_bytes(batch: pa.RecordBatch) -> pa.Buffer:
    """``batch`` as CSV text without a header (strings quoted where needed, ``""`` for empty)."""
    out = pa.BufferOutputStream()
    pacsv.write_csv(batch, out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue()


# ----------------------------------------------------------------------------- results


def arrow_type(dtype: dt.DataType) -> pa.DataType:
    """The Arrow type of an ibis type, as DuckDB returns it (list items named ``l``)."""
    if dtype.is_array():
        return pa.list_(pa.field(LIST_ITEM, arrow_type(dtype.value_type)))
    if dtype.is_timestamp():
        unit = "us" if dtype.scale is None or dtype.scale == 6 else {0: "s", 3: "ms", 9: "ns"}.get(dtype.scale, "us")
        return pa.timestamp(unit, tz=dtype.timezone)
    return dtype.to_pyarrow()


def _is_simple(dtype: dt.DataType) -> bool:
    return (dtype.is_boolean() or dtype.is_integer() or dtype.is_floating() or dtype.is_string()
            or dtype.is_decimal() or dtype.is_date() or dtype.is_null())


def output_projection(schema: Any, quote: Any) -> list[str]:
    """One SELECT item per column making ``COPY ... TO STDOUT (FORMAT csv)`` parseable by
    :func:`read_batches`: arrays as JSON, zoned timestamps as UTC, other types as text."""
    items = []
    for name, dtype in schema.items():
        q = quote(name)
        if dtype.is_array():
            items.append(f"to_json({q})::text AS {q}")
        elif dtype.is_timestamp() and dtype.timezone is not None:
            items.append(f"({q} AT TIME ZONE 'UTC') AS {q}")
        elif _is_simple(dtype) or dtype.is_timestamp():
            items.append(q)
        else:
            items.append(f"CAST({q} AS TEXT) AS {q}")
    return items


class CopyStream(io.RawIOBase):
    """The rows a ``COPY ... TO STDOUT`` sends, as a readable binary stream."""

    def __init__(self, copy: Any) -> None:
        self._copy = copy
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        want = len(b)
        if not self._pending and not self._done:
            parts, size = [], 0
            while size < want:
                data = self._copy.read()
                if not data:
                    self._done = True
                    break
                parts.append(data)
                size += len(data)
            self._pending = memoryview(b"".join(parts))
        n = min(want, len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def read_batches(stream: io.RawIOBase, schema: Any) -> Iterator[pa.RecordBatch]:
    """Batches of the CSV text in ``stream`` (see :func:`output_projection`), typed by
    the ibis ``schema`` as DuckDB would type them."""
    names = list(schema.names)
    target = pa.schema([pa.field(n, arrow_type(t)) for n, t in schema.items()])
    read_types = {}
    for n, t in schema.items():
        if t.is_array():
            read_types[n] = pa.string()
        elif t.is_timestamp():
            read_types[n] = pa.timestamp("us")
        elif _is_simple(t):
            read_types[n] = target.field(n).type
        else:
            read_types[n] = pa.string()
    buffered = io.BufferedReader(stream, buffer_size=1 << 20)
    if not buffered.peek(1):
        return
    reader = pacsv.open_csv(
        buffered,
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22, use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),  # a lone NULL
        convert_options=pacsv.ConvertOptions(column_types=read_types, null_values=[""], true_values=["t"],
                                             false_values=["f"], strings_can_be_null=True,
                                             quoted_strings_can_be_null=False),
    )
    for batch in reader:
        cols = []
        for name, col in zip(names, batch.columns):
            want = target.field(name).type
            if schema[name].is_array():
                col = _json_lists(col, want)
            elif col.type != want:
                col = col.cast(want)
            cols.append(col)
        yield pa.RecordBatch.from_arrays(cols, schema=target)


def _json_lists(col: pa.Array, want: pa.DataType) -> pa.Array:
    """A column of JSON arrays (text, NULL for a NULL list) as an Arrow list column."""
    if len(col) == 0:
        return pa.array([], want)
    lines = pc.binary_join_element_wise('{"v":', pc.fill_null(col, "null"), "}", "")
    text = pc.binary_join(pa.ListArray.from_arrays([0, len(lines)], lines), "\n")[0].as_py()
    parsed = pajson.read_json(io.BytesIO(text.encode()), parse_options=pajson.ParseOptions(
        explicit_schema=pa.schema([("v", want)])), read_options=pajson.ReadOptions(use_threads=False))
    return parsed.column("v").combine_chunks()
