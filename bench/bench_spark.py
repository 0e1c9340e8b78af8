"""Fit scoring of N accounts with examples/seed-rubric.yaml on Spark, Parquet in and Parquet out:
icpkit through its Spark backend against a hand-written Spark SQL query of the same rubric,
in the same Spark session (local, 2 cores by default).

    .venv/bin/python bench/bench_spark.py [--rows 10000000] [--repeat 3] [--master local[2]]

What each side computes:

- **icpkit** runs what ``icp score --backend spark`` runs (``icpkit.run.score_rows`` then
  ``write_scores``): reads the Parquet file, finds the columns and normalises every value
  (domains, industry text, country names to ISO codes, technology lists), checks every row
  for unreadable values and the file for duplicate domains, scores (points, fit score, tier,
  route, reasons, ABM tiers from a top-N), writes one Parquet file in the input's order
  (atomically: part files in a temporary directory, merged, renamed into place), then counts
  the tiers and lists the top 5 for the run summary.
- **hand-written Spark SQL** is one statement an analyst would write: ``lower(trim())`` on
  industry, ``upper(trim())`` on country, lower-cased list items, ``CASE`` per criterion,
  the rounded and clamped sum, tier and route; written with ``DataFrame.write.parquet`` as
  Spark writes (a directory of part files, in no particular order). No domain
  normalisation, no checks, no reasons, no ABM tiers, no summary.

Both are checked against each other on ``--check-rows`` accounts first (fit score, tier,
route and points on every row), and the timed outputs of the last repeat on every row.
They take turns within each repeat; the median is reported. The fixed start-up cost
(importing PySpark and icpkit, starting the JVM and the Spark context) is timed once and
left out of both, and stated; so is the first run (the agreement check: JIT warm-up).
The input is written once to ``bench/out/accounts-<N>.parquet`` and reused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, RUBRIC, agreement, ensure_input, icpkit_source, median, peak_mb, rate, rel  # noqa: E402

SCORED_AT = datetime(2026, 1, 31, 12, 0, 0, tzinfo=UTC)

HAND_SQL = """
WITH norm AS (
  SELECT domain, name, lower(trim(industry)) AS industry, employees,
         transform(technologies, x -> lower(trim(x))) AS technologies,
         upper(trim(country)) AS country, days_since_funding
  FROM hand_input
),
pts AS (
  SELECT domain, name,
    CASE WHEN industry IN ('computer software', 'internet') THEN 25
         WHEN industry IN ('information technology and services', 'marketing and advertising') THEN 12
         ELSE 0 END AS p_ind,
    CASE WHEN employees BETWEEN 50 AND 500 THEN 20
         WHEN employees >= 37.5 AND employees < 50 OR employees > 500 AND employees <= 625 THEN 10
         ELSE 0 END AS p_emp,
    CASE WHEN technologies IS NULL THEN 5
         WHEN array_contains(technologies, 'salesforce') THEN 20
         WHEN array_contains(technologies, 'hubspot') THEN 10
         ELSE 5 END AS p_tech,
    CASE WHEN country IN ('US', 'CA') THEN 15 WHEN country IN ('GB', 'IE', 'AU') THEN 7 ELSE 0 END AS p_ctry,
    CASE WHEN days_since_funding <= 90 THEN 20
         WHEN days_since_funding >= 91 AND days_since_funding <= 365 THEN 10
         ELSE 0 END AS p_fund
  FROM norm
),
scored AS (
  SELECT *, CAST(least(greatest(round(p_ind + p_emp + p_tech + p_ctry + p_fund, 2), 0), 100) AS DOUBLE) AS fit_score
  FROM pts
)
SELECT domain, name, fit_score,
  CASE WHEN fit_score >= 70 THEN 'high' WHEN fit_score >= 40 THEN 'monitor' ELSE 'disqualify' END AS tier,
  CASE WHEN fit_score >= 70 THEN 'ae_queue' WHEN fit_score >= 40 THEN 'nurture' ELSE 'suppress' END AS route,
  CAST(p_ind AS DOUBLE) AS points_industry, CAST(p_emp AS DOUBLE) AS points_employees,
  CAST(p_tech AS DOUBLE) AS points_technologies, CAST(p_ctry AS DOUBLE) AS points_country,
  CAST(p_fund AS DOUBLE) AS points_days_since_funding
FROM scored
"""


def run_icpkit(backend: Any, profile: Any, inp: Path, out: Path) -> dict[str, float]:
    """What ``icp score --backend spark`` does; the seconds of its two phases."""
    from icpkit.run import score_rows, write_scores

    started = time.perf_counter()
    scored = score_rows(backend, profile, inp, scored_at=SCORED_AT)
    read = time.perf_counter()
    write_scores(backend, profile, scored, out)
    done = time.perf_counter()
    return {"seconds": done - started, "score_rows": read - started, "write_scores": done - read}


def run_hand(backend: Any, inp: Path, out: Path) -> dict[str, float]:
    """The hand-written statement, read from and written to Parquet by Spark itself."""
    started = time.perf_counter()
    backend.spark.read.parquet(str(inp)).createOrReplaceTempView("hand_input")
    backend.spark.sql(HAND_SQL).write.mode("overwrite").option("compression", "zstd").parquet(str(out))
    return {"seconds": time.perf_counter() - started}


def jvm_peak_mb(backend: Any) -> float | None:
    """The peak resident memory of the Spark driver's JVM (a child of this process), in MB."""
    proc = getattr(getattr(backend.spark.sparkContext, "_gateway", None), "proc", None)
    try:
        with open(f"/proc/{proc.pid}/status") as status:  # type: ignore[union-attr]
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except (AttributeError, OSError, StopIteration):
        return None


def check(backend: Any, profile: Any, rows: int) -> None:
    """Both sides on a small input, compared row by row before anything is timed."""
    inp = ensure_input(rows)
    ref, hand = OUT / "spark-check-icpkit.parquet", OUT / "spark-check-hand.parquet"
    run_icpkit(backend, profile, inp, ref)
    run_hand(backend, inp, hand)
    same = agreement(ref, hand / "*.parquet")
    print(f"Agreement on {rows:,} accounts (rows equal / rows): " + ", ".join(f"{k}: {v}" for k, v in same.items()))
    if any(v.split("/")[0] != v.split("/")[1] for v in same.values()):
        raise SystemExit("the hand-written query does not score like icpkit; fix it before timing")
    shutil.rmtree(hand, ignore_errors=True)
    ref.unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="accounts to score (default 10M)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; the median is reported")
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2]: 2 cores)")
    ap.add_argument("--driver-memory", default="6g", help="the driver JVM's heap (local mode runs in it)")
    ap.add_argument("--check-rows", type=int, default=10_000, help="rows of the agreement check")
    args = ap.parse_args()

    started = time.perf_counter()
    import pyspark.sql  # noqa: F401  (timed here: part of the start-up)

    import icpkit.run  # noqa: F401
    from icpkit.backends.spark import SparkBackend
    from icpkit.profile.load import load_profile

    imports = time.perf_counter() - started
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    inp = ensure_input(args.rows)
    print(f"Input: {rel(inp)} ({args.rows:,} accounts, {inp.stat().st_size / 1e6:.0f} MB; "
          f"ready in {time.perf_counter() - started:.1f} s)")
    print(f"icpkit: {icpkit_source()}")
    backend = SparkBackend(args.master, conf={"spark.driver.memory": args.driver_memory})
    spark = backend.spark
    print(f"Spark {spark.version} on {args.master} (driver memory {args.driver_memory}, shuffle partitions "
          f"{spark.conf.get('spark.sql.shuffle.partitions')}); session start-up: {backend.start_seconds:.1f} s")
    profile = load_profile(RUBRIC)
    started = time.perf_counter()
    check(backend, profile, args.check_rows)
    first = time.perf_counter() - started

    outs = {"icpkit": OUT / f"spark-scores-icpkit-{args.rows}.parquet",
            "hand": OUT / f"spark-scores-hand-{args.rows}.parquet"}
    runs: dict[str, list[dict[str, float]]] = {"icpkit": [], "hand": []}
    loads = [os.getloadavg()[0]]
    for rep in range(args.repeat):
        order = ("icpkit", "hand") if rep % 2 == 0 else ("hand", "icpkit")
        for name in order:
            res = run_icpkit(backend, profile, inp, outs[name]) if name == "icpkit" else \
                run_hand(backend, inp, outs[name])
            runs[name].append(res)
            loads.append(os.getloadavg()[0])
            extra = f"  (score_rows {res['score_rows']:.2f} s, write_scores {res['write_scores']:.2f} s)" \
                if name == "icpkit" else ""
            print(f"  run {rep + 1}/{args.repeat} {name:7} {res['seconds']:8.2f} s{extra}", flush=True)
    same = agreement(outs["icpkit"], outs["hand"] / "*.parquet")

    med = {n: median([r["seconds"] for r in rs]) for n, rs in runs.items()}
    print(f"\nFit scoring of {args.rows:,} accounts on Spark ({args.master}), Parquet in and out; median of "
          f"{args.repeat} (1-minute load average during the runs: {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores)")
    labels = {"icpkit": "icpkit (score_rows + write_scores)", "hand": "hand-written Spark SQL (one statement)"}
    print(f"{'approach':42} {'seconds':>8} {'rows/s':>8}  runs (s)")
    for n in ("icpkit", "hand"):
        print(f"{labels[n]:42} {med[n]:>8.2f} {rate(args.rows, med[n]):>8}  {[round(r['seconds'], 2) for r in runs[n]]}")
    phases = {k: median([r[k] for r in runs["icpkit"]]) for k in ("score_rows", "write_scores")}
    print(f"  icpkit's phases (median s): read, check and score {phases['score_rows']:.2f}; "
          f"write in input order and summarise {phases['write_scores']:.2f}")
    print(f"icpkit / hand-written Spark SQL: {med['icpkit'] / med['hand']:.2f} x")
    print(f"Fixed start-up cost (not in either time): {imports + backend.start_seconds:.1f} s = imports (PySpark, "
          f"icpkit) {imports:.1f} s + Spark session (JVM start, Spark context) {backend.start_seconds:.1f} s; "
          f"then the first jobs (both sides on {args.check_rows:,} accounts, JIT warm-up) took {first:.1f} s")
    print(f"Agreement of the timed outputs (rows equal / rows): " + ", ".join(f"{k}: {v}" for k, v in same.items()))
    jvm = jvm_peak_mb(backend)
    print(f"Peak memory: this process {peak_mb():,.0f} MB" + (f", the Spark driver JVM {jvm:,.0f} MB" if jvm else ""))
    print("What each side computes: see this script's docstring (icpkit also normalises, checks, explains, ranks "
          "ABM tiers, keeps the input order and summarises; the hand-written query scores only).")
    backend.close()
    for path in outs.values():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
