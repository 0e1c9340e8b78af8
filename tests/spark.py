"""A real local Spark for the tests: one session per test run (``local[2]``, 2 shuffle
partitions), and a fresh :class:`~icpkit.backends.spark.SparkBackend` on it per test.

Tests that use these fixtures skip, with the reason, when PySpark or Java is missing, and
fail instead when ``ICP_REQUIRE_ENGINES=1`` (CI sets it). ``tests/conftest.py`` makes the
fixtures available to every test folder.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest


def spark_missing() -> str | None:
    """Why a local Spark cannot run here, or None when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install icpkit[spark])"
    from icpkit.backends.spark import java_available

    if not java_available():
        return "no Java runtime for Spark (install Java 17 or set JAVA_HOME)"
    return None


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = spark_missing()
    if reason is not None:
        if os.environ.get("ICP_REQUIRE_ENGINES") == "1":
            pytest.fail(f"Spark is required here (ICP_REQUIRE_ENGINES=1): {reason}")
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    spark = (SparkSession.builder.master("local[2]").appName("icpkit-tests")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
             .config("spark.sql.warehouse.dir", str(warehouse))
             .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture
def spark(spark_session: Any) -> Iterator[Any]:
    """A SparkBackend of its own (its own temporary views) on the test run's session."""
    from icpkit.backends.spark import SparkBackend

    backend = SparkBackend()
    try:
        yield backend
    finally:
        backend.close()
