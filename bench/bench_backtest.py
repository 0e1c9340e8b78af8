"""Backtest of N labelled accounts with examples/seed-rubric.yaml, against scoring them alone.

    .venv/bin/python bench/bench_backtest.py [--rows 10000000] [--repeat 3]

The input is the benchmark's accounts (``bench/out/accounts-<N>.parquet``) plus a ``won``
label (10% wins, at random), written once to ``bench/out/labelled-<N>.parquet``. In the same
process it times ``icpkit.discover.backtest.run_backtest`` (score, read and count the labels
per fit score and tier, every statistic), the scoring pass it starts with alone
(``icpkit.api.score_rows``: read, score, check, nothing written), and, as the baseline,
``icpkit.api.score_to`` of the same file to Parquet, and prints the ratios. Median of
``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, RUBRIC, ensure_input, median  # noqa: E402

import icpkit  # noqa: E402
from icpkit.api import backtest as run_backtest  # noqa: E402
from icpkit.backends import connect  # noqa: E402
from icpkit.run import score_rows  # noqa: E402


def labelled_input(n: int) -> Path:
    out = OUT / f"labelled-{n}.parquet"
    if not out.exists():
        accounts = ensure_input(n)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar=false")
        con.execute("SELECT setseed(0.7)")
        con.execute(f"COPY (SELECT *, (random() < 0.1)::INT AS won FROM read_parquet('{accounts}')) "
                    f"TO '{out}' (FORMAT parquet)")
        con.close()
    return out


def scoring_pass(profile: icpkit.Profile, data: Path) -> None:
    """What run_backtest runs before its own queries: read, score and check every row."""
    backend = connect()
    try:
        score_rows(backend, profile, data, on_error="fail")
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = labelled_input(args.rows)
    profile = icpkit.load_profile(RUBRIC)
    times: dict[str, list[float]] = {"backtest": [], "scoring": [], "score_to": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = run_backtest(profile, data, "won")
        times["backtest"].append(time.perf_counter() - started)
        started = time.perf_counter()
        scoring_pass(profile, data)
        times["scoring"].append(time.perf_counter() - started)
        started = time.perf_counter()
        icpkit.score_to(profile, data, OUT / "backtest-baseline.parquet",
                        workspace=icpkit.api.Workspace(OUT / ".icp"))
        times["score_to"].append(time.perf_counter() - started)
    bt, sc = median(times["backtest"]), median(times["score_to"])
    print(f"Backtest of {args.rows:,} labelled accounts (median of {args.repeat}; AUC {result.auc:.3f})")
    for name, runs in times.items():
        print(f"  {name:10s} {median(runs):7.2f} s  {args.rows / median(runs) / 1e6:5.2f}M rows/s  "
              f"runs {[round(r, 2) for r in runs]}")
    print(f"icpkit backtest / scoring alone (score_to): {bt / sc:.2f}x")
    print(f"backtest beyond its scoring pass (labels, counts, statistics): {bt - median(times['scoring']):.2f} s")
    print(f"target: backtest of 10M rows under 10 s: {'met' if bt < 10 else 'not met'} ({bt:.1f} s)")


if __name__ == "__main__":
    main()
