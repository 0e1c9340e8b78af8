"""Data frames in and out: what the Python API accepts besides files and tables.

A pandas or polars DataFrame (or an Arrow record batch) is read as an Arrow table, and a
result goes back as the kind of frame it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import IcpError
from .sources import TableName


def as_arrow(data: Any) -> tuple[str, pa.Table | None]:
    """The kind of input ("path", "arrow", "pandas", "polars") and its Arrow table (None
    for a path)."""
    if isinstance(data, (str, Path)):
        return "path", None
    if isinstance(data, pa.Table):
        return "arrow", data
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return "pandas", pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return "polars", data.to_arrow()
    if isinstance(data, pa.RecordBatch):
        return "arrow", pa.Table.from_batches([data])
    raise IcpError(f"cannot score a {type(data).__name__}",
                   hint="pass a file path, a pyarrow.Table, or a pandas or polars DataFrame")


def as_source(data: Any) -> Any:
    """A path, a backend table name or None as it is; a frame as an Arrow table."""
    if data is None or isinstance(data, (str, Path, TableName)):
        return data
    return as_arrow(data)[1]


def from_arrow(table: pa.Table, kind: str) -> Any:
    """``table`` as the ``kind`` of frame an input was."""
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table
