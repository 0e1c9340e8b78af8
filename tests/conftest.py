"""Fixtures every test folder may use: the engines (see tests/engines.py)."""

from tests.engines import engine  # noqa: F401
from tests.pg import pg_schema, pg_url  # noqa: F401
from tests.spark import spark, spark_session  # noqa: F401
