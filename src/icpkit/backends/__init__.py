"""Engines. :func:`connect` picks one from a URL or a name; engines load lazily.

=================================  =========================================================
``None``, ``"duckdb"``             embedded DuckDB, in memory (the default)
``"duckdb:PATH"``                  DuckDB on a database file
``"postgresql://user@host/db"``    PostgreSQL (``pip install icpkit[postgres]``)
``"spark"``                        local Spark on every core (``pip install icpkit[spark]``)
``"spark://host:7077"``,           Spark with that master (``local[2]``, ``yarn``,
``"local[N]"``, ``"yarn"``         ``k8s://...``); under spark-submit, the session it made
=================================  =========================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IcpError

if TYPE_CHECKING:
    from .base import Backend

_SPARK_MASTERS = ("spark://", "local[", "k8s://", "mesos://")


def connect(target: str | None = None, *, database: str | Path | None = None, read_only: bool = False,
            threads: int | None = None) -> Backend:
    """The backend ``target`` names (see the module docstring). ``database`` is the DuckDB
    file to use when ``target`` is None or ``"duckdb"``; ``threads``, DuckDB's worker threads
    (default: one per core; a service running many small statements does best with 1)."""
    text = (target or "duckdb").strip()
    lower = text.lower()
    if lower == "duckdb" or lower.startswith("duckdb:"):
        from .duckdb import DuckDBBackend

        path = text[len("duckdb:"):] if lower.startswith("duckdb:") else None
        return DuckDBBackend(path or database or ":memory:", read_only=read_only, threads=threads)
    if lower.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresBackend

        return PostgresBackend(text)
    if lower == "spark" or lower.startswith(_SPARK_MASTERS) or lower in ("local", "yarn"):
        from .spark import SparkBackend

        return SparkBackend(None if lower == "spark" else text)
    raise IcpError(f"unknown backend '{target}'",
                   hint="use duckdb (the default), a postgresql://user@host/db URL, spark, or a Spark master URL")


def backend_label(target: str | None) -> str:
    """``target`` as it may be shown: a URL without its password."""
    if not target or "://" not in target:
        return target or "duckdb"
    scheme, rest = target.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        user, host = rest.split("@", 1)
        return f"{scheme}://{user.split(':', 1)[0]}@{host}"
    return target


@contextmanager
def using(backend: Any = None, *, database: str | Path | None = None) -> Iterator[Backend]:
    """The backend to run on: an open one as it is (the caller keeps it: not closed here), or
    the one :func:`connect` makes of a name, URL or None for the call, closed after it."""
    if backend is not None and not isinstance(backend, str):
        yield backend
        return
    b = connect(backend, database=database)
    try:
        yield b
    finally:
        b.close()
