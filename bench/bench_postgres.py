"""Fit scoring of N accounts on PostgreSQL, table to table, with examples/seed-rubric.yaml:
icpkit's PostgreSQL backend against a lean hand-written PostgreSQL query of the same rubric.

    .venv/bin/python bench/bench_postgres.py [--rows 1000000] [--repeat 3] [--url postgresql://...]

Without ``--url`` a throwaway server is started for the run (the test suite's helper,
``tests/pg.py``: the ``pgserver`` wheel or Debian's binaries, ``fsync=off``).

The accounts (``bench/out/accounts-<N>.parquet``, the same synthetic input as
``bench_score.py``: some industries in odd case or with stray spaces, NULLs everywhere) are
loaded once into the table ``bench.accounts``, and icpkit's canonical form of them (values
trimmed, blanks NULL, countries ISO codes, lists lower-cased) once into
``bench.accounts_canonical`` (neither is timed). Then, in turns within each repeat (the
median is reported), two comparisons:

1. **From the raw table.** *icpkit* does what a scoring run does through the backend, to the
   table ``bench.scores_icpkit``: ``read`` the table (a view with ``_row``), canonicalise it
   (``icpkit.run.read_accounts``: domains normalised and checked, text trimmed with blanks
   as NULL, countries to ISO codes, lists lower-cased, a ``_bad`` flag per row), build the
   plan, materialise its first step (one narrow row per account: the combination of
   outcomes) and its second (points, fit score, tier, route and reasons once per
   combination), and ``write`` the last (joined back, ABM tiers A/B/C from a top-N,
   profile version, time of scoring) to the table atomically (a new table swapped in).
   Compiling the plans to SQL is included.
2. **From the canonical table.** *icpkit* runs the scoring plan alone (``read``, the
   plan's three steps, the atomic ``write``) on ``bench.accounts_canonical``.

In both, the baseline is a **hand-written PostgreSQL** query of the same table: one
``CREATE TABLE ... AS`` statement into ``bench.scores_hand`` with CASE expressions for the
five criteria's points (over lower/trim of industry, country and the technology items on
the raw table; over lower-cased industries and the values as they are on the canonical
one), the fit score (sum, clamped), tier and route. Each level is computed once per row
(``OFFSET 0``: PostgreSQL would otherwise repeat a CASE wherever its column is used, as it
has no common subexpression elimination). No reasons, ABM tiers or value checks: the
leanest competent query.

The results are compared on every account (fit score, tier, route, points) before the
ratios are printed. Peak memory is not reported: the work happens in the server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import POINTS, RUBRIC, ensure_input, icpkit_source, rate, rel  # noqa: E402

HAND_SQL = """
CREATE TABLE {out} AS
SELECT domain, name, fit_score,
  CASE WHEN fit_score >= 70 THEN 'high' WHEN fit_score >= 40 THEN 'monitor' ELSE 'disqualify' END AS tier,
  CASE WHEN fit_score >= 70 THEN 'ae_queue' WHEN fit_score >= 40 THEN 'nurture' ELSE 'suppress' END AS route,
  p_ind AS points_industry, p_emp AS points_employees, p_tech AS points_technologies,
  p_ctry AS points_country, p_fund AS points_days_since_funding
FROM (
  SELECT *, least(greatest(p_ind + p_emp + p_tech + p_ctry + p_fund, 0), 100) AS fit_score
  FROM (
    SELECT domain, name,
      CASE {industry}
        WHEN 'computer software' THEN 25 WHEN 'internet' THEN 25
        WHEN 'information technology and services' THEN 12 WHEN 'marketing and advertising' THEN 12
        ELSE 0 END::float8 AS p_ind,
      CASE WHEN employees BETWEEN 50 AND 500 THEN 20
           WHEN employees >= 37.5 AND employees < 50 OR employees > 500 AND employees <= 625 THEN 10
           ELSE 0 END::float8 AS p_emp,
      CASE WHEN technologies IS NULL THEN 5
           WHEN {has_salesforce} THEN 20
           WHEN {has_hubspot} THEN 10
           ELSE 5 END::float8 AS p_tech,
      CASE {country} WHEN 'US' THEN 15 WHEN 'CA' THEN 15
        WHEN 'GB' THEN 7 WHEN 'IE' THEN 7 WHEN 'AU' THEN 7 ELSE 0 END::float8 AS p_ctry,
      CASE WHEN days_since_funding <= 90 THEN 20
           WHEN days_since_funding >= 91 AND days_since_funding <= 365 THEN 10
           ELSE 0 END::float8 AS p_fund
    FROM {inp}
    OFFSET 0  -- computed once per row (PostgreSQL would otherwise repeat each CASE where it is used)
  ) AS points
  OFFSET 0
) AS scored
"""


#: How the hand-written query reads each table: the raw one needs its values normalised;
#: the canonical one only its industries lower-cased (canonical text keeps its case).
HAND_READS = {
    "bench.accounts": {
        "industry": "lower(trim(industry))", "country": "upper(trim(country))",
        "has_salesforce": "EXISTS (SELECT FROM unnest(technologies) AS t WHERE lower(trim(t)) = 'salesforce')",
        "has_hubspot": "EXISTS (SELECT FROM unnest(technologies) AS t WHERE lower(trim(t)) = 'hubspot')",
    },
    "bench.accounts_canonical": {
        "industry": "lower(industry)", "country": "country",
        "has_salesforce": "'salesforce' = ANY (technologies)", "has_hubspot": "'hubspot' = ANY (technologies)",
    },
}


def start(url: str | None) -> str:
    if url:
        return url
    from tests.pg import start_server

    return start_server()


def rows_in(con: Any, table: str) -> int | None:
    """The rows of ``table``, or None when there is no such table."""
    if con.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
        return None
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def load(url: str, inp: Path) -> int:
    """``bench.accounts`` from the Parquet input and ``bench.accounts_canonical`` from it,
    unless they already hold the same rows."""
    import psycopg
    import pyarrow.parquet as pq

    from icpkit.backends.base import TableName
    from icpkit.backends.postgres import PostgresBackend
    from icpkit.profile.load import load_profile
    from icpkit.run import read_accounts

    n = pq.ParquetFile(inp).metadata.num_rows
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS bench")
        held = all(rows_in(con, f"bench.{t}") == n for t in ("accounts", "accounts_canonical"))
    if held:
        return n
    backend = PostgresBackend(url)
    try:
        started = time.perf_counter()
        t = backend.read(inp, "icp_load")
        backend.write(t.drop("_row"), TableName("bench.accounts"))
        backend.con.execute("ANALYZE bench.accounts")
        print(f"Loaded {n:,} accounts into bench.accounts in {time.perf_counter() - started:.1f} s (COPY via Arrow)")
        loaded = read_accounts(backend, TableName("bench.accounts"), load_profile(RUBRIC))
        a = loaded.accounts
        backend.write(a.select(*[c for c in a.columns if not c.startswith("_")]), TableName("bench.accounts_canonical"))
        backend.con.execute("ANALYZE bench.accounts_canonical")
    finally:
        backend.close()
    return n


def run_icpkit(backend: Any, table: str, canonical: bool) -> tuple[float, dict[str, float]]:
    from icpkit.backends.base import TableName
    from icpkit.profile.load import load_profile
    from icpkit.run import read_accounts
    from icpkit.scoring.plan import build_plan

    profile = load_profile(RUBRIC)
    steps: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        steps[name] = now - last
        last = now

    if canonical:
        accounts = backend.read(TableName(table), "icp_accounts")
    else:
        accounts = read_accounts(backend, TableName(table), profile).accounts
    plan = build_plan(profile, accounts)
    lap("read and plan")
    rows, combos, final = plan.steps
    backend.materialize(rows.name, rows.expr)
    lap("rows (one pass: values read, outcomes per row)")
    backend.materialize(combos.name, combos.expr)
    lap("combinations (points, score, tier, reasons)")
    out = final.expr
    backend.write(out.select(*[c for c in out.columns if not c.startswith("_")]), TableName("bench.scores_icpkit"))
    lap("write (rows joined back, ABM tiers, to a new table)")
    return time.perf_counter() - started, steps


def write_floor(con: Any, table: str) -> tuple[float, float]:
    """Seconds to copy ``table`` into a new table, and its size in MB: the cost of writing
    such a result, whatever computes it."""
    con.execute("DROP TABLE IF EXISTS bench.floor")
    started = time.perf_counter()
    con.execute(f"CREATE TABLE bench.floor AS SELECT * FROM {table}")
    seconds = time.perf_counter() - started
    size = con.execute("SELECT pg_total_relation_size('bench.floor')").fetchone()[0] / 1e6
    con.execute("DROP TABLE bench.floor")
    return seconds, size


def run_hand(con: Any, table: str) -> float:
    con.execute("DROP TABLE IF EXISTS bench.scores_hand")
    started = time.perf_counter()
    con.execute(HAND_SQL.format(inp=table, out="bench.scores_hand", **HAND_READS[table]))
    return time.perf_counter() - started


def agreement(con: Any) -> dict[str, str]:
    same = {"fit_score, tier, route": "a.fit_score = b.fit_score AND a.tier = b.tier AND a.route = b.route",
            "points": " AND ".join(f"a.{p} = b.{p}" for p in POINTS)}
    sums = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in same.values())
    total, *hits = con.execute(f"SELECT count(*), {sums} FROM bench.scores_icpkit a "
                               "JOIN bench.scores_hand b USING (domain)").fetchone()
    return {name: f"{hit}/{total}" for name, hit in zip(same, hits)}


APPROACHES = {  # name: (label, table, runs icpkit, canonical input)
    "icpkit": ("icpkit: canonicalise + score + write", "bench.accounts", True, False),
    "hand": ("hand-written PostgreSQL (raw table)", "bench.accounts", False, False),
    "icpkit_plan": ("icpkit: score + write (canonical table)", "bench.accounts_canonical", True, True),
    "hand_canonical": ("hand-written PostgreSQL (canonical table)", "bench.accounts_canonical", False, True),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="accounts to score (default 1M)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each approach; the median is reported")
    ap.add_argument("--url", help="a PostgreSQL server to use (default: start a throwaway one)")
    args = ap.parse_args()

    import psycopg

    from icpkit.backends.postgres import PostgresBackend

    inp = ensure_input(args.rows)
    url = start(args.url)
    print(f"Input: {rel(inp)}; icpkit: {icpkit_source()}")
    n = load(url, inp)
    with psycopg.connect(url, autocommit=True) as con:
        settings = [con.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                    for name in ("server_version", "work_mem", "max_parallel_workers_per_gather")]
        print("Server: PostgreSQL {}, work_mem {}, max_parallel_workers_per_gather {}".format(*settings))
        backend = PostgresBackend(url)
        times: dict[str, list[float]] = {a: [] for a in APPROACHES}
        steps: dict[str, list[dict[str, float]]] = {a: [] for a in APPROACHES}
        same: dict[str, dict[str, str]] = {}
        loads = [os.getloadavg()[0]]
        try:
            for rep in range(args.repeat):
                for name, (_, table, is_icpkit, canonical) in APPROACHES.items():
                    if is_icpkit:
                        sec, laps = run_icpkit(backend, table, canonical)
                        steps[name].append(laps)
                    else:
                        sec = run_hand(con, table)
                    times[name].append(sec)
                    loads.append(os.getloadavg()[0])
                    print(f"  run {rep + 1}/{args.repeat} {name:15} {sec:7.2f} s", flush=True)
                    if not is_icpkit and rep == 0:  # icpkit's result of the same table is in place
                        same[table] = agreement(con)
            floors = {name: write_floor(con, f"bench.{name}") for name in ("scores_icpkit", "scores_hand")}
        finally:
            backend.close()
    for table, counts in same.items():
        print(f"Agreement of icpkit with the hand-written query on {table} ({n:,} accounts): "
              + ", ".join(f"{k}: {v}" for k, v in counts.items()))
        if any(v.split("/")[0] != v.split("/")[1] or v.split("/")[1] != str(n) for v in counts.values()):
            raise SystemExit("the two do not score alike; fix that before reading the times")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nFit scoring of {n:,} accounts, PostgreSQL table to table; median of {args.repeat} "
          f"(1-minute load average during the runs: {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores)")
    for name, (label, *_rest) in APPROACHES.items():
        print(f"  {label:44} {med[name]:7.2f} s  {rate(n, med[name]):>7} rows/s  "
              f"runs {[round(t, 2) for t in times[name]]}")
    for name in ("icpkit", "icpkit_plan"):
        print(f"  where {APPROACHES[name][0]} spends it (median s):")
        for step in steps[name][0]:
            print(f"    {step:52} {statistics.median(r[step] for r in steps[name]):6.2f}")
    (ifs, imb), (hfs, hmb) = floors["scores_icpkit"], floors["scores_hand"]
    print(f"  writing a result alone (CREATE TABLE AS SELECT * of it): icpkit's {ifs:.2f} s ({imb:.0f} MB: "
          f"reasons, ABM tier, name, version, time), the hand-written's {hfs:.2f} s ({hmb:.0f} MB)")
    print(f"icpkit / hand-written PostgreSQL (raw table): {med['icpkit'] / med['hand']:.2f} x  (target <= 1.3 x)")
    print(f"icpkit / hand-written PostgreSQL (canonical table): {med['icpkit_plan'] / med['hand_canonical']:.2f} x  "
          "(target <= 1.3 x)")


if __name__ == "__main__":
    main()
