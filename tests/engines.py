"""Every engine for the parity suite: the ``engine`` fixture is a fresh backend on DuckDB,
PostgreSQL and Spark in turn (PostgreSQL in a schema of its own, Spark on the test run's
session). An engine that cannot run here is skipped with the reason, or fails the test
under ``ICP_REQUIRE_ENGINES=1`` (CI sets it).

Spark runs each job in 0.1-1 s, so property tests draw fewer, larger examples there:
:func:`examples` scales a test's count per engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from icpkit.backends import connect
from tests.pg import server_or_skip, with_search_path

ENGINES = ["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.spark)]
_SHARE = {"duckdb": 1.0, "postgres": 0.5, "spark": 0.15}


def examples(engine: Any, n: int) -> int:
    """How many hypothesis examples a test that draws ``n`` on DuckDB draws on ``engine``."""
    return max(3, round(n * _SHARE[engine.name]))


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    name = request.param
    if name == "duckdb":
        backend = connect()
        try:
            yield backend
        finally:
            backend.close()
    elif name == "postgres":
        import psycopg

        url = server_or_skip()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")
        backend = connect(with_search_path(url, schema))
        try:
            yield backend
        finally:
            backend.close()
            with psycopg.connect(url, autocommit=True) as con:
                con.execute(f"DROP SCHEMA {schema} CASCADE")
    else:
        request.getfixturevalue("spark_session")  # one session per test run; skips without Spark
        backend = connect("spark")
        try:
            yield backend
        finally:
            backend.close()
