"""Where icpkit's time goes when scoring Parquet to Parquet (a companion of bench_score.py).

    .venv/bin/python bench/profile_icpkit.py [--rows 1000000]

1. Every SQL statement ``icpkit.api.score_to`` runs, timed, and the time spent compiling
   expressions to SQL (the backend's methods are wrapped here; icpkit's source is untouched).
2. A second ``score_to`` with DuckDB's JSON profiling (``EXPLAIN ANALYZE``'s operator
   timings) on its heaviest statement.
3. The input normalisation icpkit applies (``icpkit.io.values``), one column at a time,
   next to a plain copy of the column and to what the hand-written query does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import ibis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, RUBRIC, ensure_input, rel  # noqa: E402

from icpkit.api import score_to  # noqa: E402
from icpkit.backends.duckdb import DuckDBBackend  # noqa: E402
from icpkit.io import values  # noqa: E402
from icpkit.workspace import Workspace  # noqa: E402

LOG: list[tuple[str, float]] = []
PROFILE_OF: dict[str, Path] = {}  # statement label -> its JSON profile, when asked for


def _label(sql: str) -> str:
    text = " ".join(sql.split())
    if text.startswith("COPY ("):
        return "COPY (result) TO Parquet"
    if text.startswith("CREATE OR REPLACE TEMP TABLE"):
        return "create table " + text.split()[5] + " AS <...>"
    return text[:100]


def _wrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    def run(self: DuckDBBackend, sql: str, *args: Any, **kwargs: Any) -> Any:
        label = _label(sql)
        if label in PROFILE_OF:
            self.con.execute("PRAGMA enable_profiling='json'")
            self.con.execute(f"PRAGMA profiling_output='{PROFILE_OF[label]}'")
        started = time.perf_counter()
        try:
            return method(self, sql, *args, **kwargs)
        finally:
            LOG.append((label, time.perf_counter() - started))
            if label in PROFILE_OF:
                self.con.execute("PRAGMA disable_profiling")
    return run


COMPILING = [0.0]  # seconds spent compiling expressions to SQL


def _compiling(method: Callable[..., Any]) -> Callable[..., Any]:
    def compile(self: DuckDBBackend, expr: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(self, expr, *args, **kwargs)
        finally:
            COMPILING[0] += time.perf_counter() - started
    return compile


def _querying(method: Callable[..., Any]) -> Callable[..., Any]:
    """``to_arrow`` (the checks' and the summary's queries), timed without its compiling."""
    def to_arrow(self: DuckDBBackend, expr: Any, *args: Any, **kwargs: Any) -> Any:
        compiled, started = COMPILING[0], time.perf_counter()
        try:
            return method(self, expr, *args, **kwargs)
        finally:
            seconds = time.perf_counter() - started - (COMPILING[0] - compiled)
            after = COMPILING[0]
            label = "query: " + _label(self.compile(expr))
            COMPILING[0] = after  # compiling for the label is not the run's
            LOG.append((label, seconds))
    return to_arrow


def statements(inp: Path, out: Path) -> str:
    """Time each statement of one ``score_to``; returns the label of the heaviest."""
    started = time.perf_counter()
    score_to(RUBRIC, inp, out, workspace=Workspace(OUT / ".icp"))
    total = time.perf_counter() - started
    print(f"1. score_to: {total:.2f} s; its SQL statements over 1% of that:")
    for label, sec in sorted(LOG, key=lambda x: -x[1]):
        if sec >= total / 100:
            print(f"   {sec:7.2f} s {100 * sec / total:5.1f}%  {label}")
    print(f"   {COMPILING[0]:7.2f} s compiling expressions to SQL")
    print(f"   {total - sum(s for _, s in LOG) - COMPILING[0]:7.2f} s other (Python: profile, plans, small queries)")
    return max(LOG, key=lambda x: x[1])[0]


def operators(inp: Path, out: Path, label: str) -> None:
    PROFILE_OF[label] = OUT / "profile-heaviest.json"
    LOG.clear()
    COMPILING[0] = 0.0
    score_to(RUBRIC, inp, out, workspace=Workspace(OUT / ".icp"))
    ops: list[tuple[float, str, int]] = []

    def walk(node: dict[str, Any]) -> None:
        info = node.get("extra_info", {})
        ops.append((node.get("timing", 0.0), node.get("type", "?"), info.get("Estimated Cardinality", "")))
        for c in node.get("children", []):
            walk(c)

    for node in json.loads(PROFILE_OF[label].read_text())["operator"]:
        walk(node)
    cpu = sum(t for t, _, _ in ops)
    print(f"\n2. operators of '{label}' (profiled run, {cpu:.2f} s summed over operators and threads):")
    for t, kind, card in sorted(ops, key=lambda o: -o[0])[:6]:
        print(f"   {t:7.2f} s {100 * t / cpu:5.1f}%  {kind:22} ~{card} rows")


def normalisers(inp: Path) -> None:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet('{inp}')")
    t = ibis.table(ibis.Schema.from_pyarrow(con.sql("SELECT * FROM raw LIMIT 0").to_arrow_table().schema), name="raw")

    def run(sql: str) -> float:
        started = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE probe AS {sql}")
        return time.perf_counter() - started

    def icp(**cols: Any) -> float:
        return run(str(ibis.to_sql(t.select(**cols), dialect="duckdb")))

    dom, ctry = values.normalize_domain(t.domain), values.normalize_country(t.country)
    cases = [
        ("domain", "domain", "domain", dict(d=dom, bad=values.domain_is_invalid(t.domain, dom))),
        ("country", "country", "upper(trim(country))",
         dict(c=ctry, unknown=values.country_is_unrecognised(t.country, ctry))),
        ("industry", "industry", "lower(trim(industry))", dict(i=values.normalize_text(t.industry))),
        ("name", "name", "name", dict(n=values.normalize_text(t.name))),
        ("technologies", "technologies", "list_transform(technologies, lambda x: lower(trim(x)))",
         dict(t=values.normalize_list(t.technologies))),
    ]
    print("\n3. input normalisation, one column at a time (CREATE TEMP TABLE AS SELECT ...), seconds:")
    print(f"   {'column':14} {'plain copy':>10} {'hand-written':>12} {'icpkit':>8}")
    for name, copy, hand, exprs in cases:
        print(f"   {name:14} {run(f'SELECT {copy} FROM raw'):10.2f} {run(f'SELECT {hand} FROM raw'):12.2f} "
              f"{icp(**exprs):8.2f}")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    inp = ensure_input(args.rows)
    out = OUT / f"scores-profile-{args.rows}.parquet"
    print(f"Profiling icpkit on {rel(inp)} ({args.rows:,} accounts)\n")
    setattr(DuckDBBackend, "_run", _wrapped(DuckDBBackend._run))
    setattr(DuckDBBackend, "compile", _compiling(DuckDBBackend.compile))
    setattr(DuckDBBackend, "to_arrow", _querying(DuckDBBackend.to_arrow))
    heaviest = statements(inp, out)
    operators(inp, out, heaviest)
    normalisers(inp)


if __name__ == "__main__":
    main()
