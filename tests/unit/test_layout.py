"""The engine seam holds: DuckDB lives in its backend, SQL text in the backends, and
``import icpkit`` / ``icp --help`` load no engine."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "icpkit"
ENGINE = re.compile(r"^\s*(import duckdb|from duckdb|import psycopg|from psycopg|import pyspark|from pyspark)", re.M)
SQL = re.compile(r"\b(SELECT .* FROM|INSERT INTO|DELETE FROM|CREATE (OR REPLACE )?(TEMP )?(TABLE|VIEW)|COPY \()")


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "backends" not in p.relative_to(SRC).parts)


def test_no_engine_is_imported_outside_the_backends() -> None:
    found = [str(p.relative_to(SRC)) for p in modules() if ENGINE.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_no_module_outside_the_backends_makes_a_backend_of_its_own() -> None:
    found = [str(p.relative_to(SRC)) for p in modules()
             if re.search(r"DuckDBBackend|PostgresBackend|SparkBackend|backends\.duckdb|backends\.postgres|"
                          r"backends\.spark", p.read_text(encoding="utf-8"))]
    assert found == []


def test_no_sql_text_outside_the_backends() -> None:
    found = []
    for p in modules():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and SQL.search(node.value):
                found.append(f"{p.relative_to(SRC)}:{node.lineno}")
    assert found == []


def test_importing_icpkit_and_the_command_loads_no_engine() -> None:
    code = ("import sys, icpkit, icpkit.cli; "
            "print(sorted(m for m in ('duckdb', 'ibis', 'pyarrow', 'pandas', 'psycopg', 'pyspark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
