"""Fit scoring of N accounts with examples/seed-rubric.yaml, Parquet in and Parquet out:
icpkit (library and command) against a hand-written DuckDB query, polars and pandas.

    .venv/bin/python bench/bench_score.py [--rows 10000000] [--repeat 3]

Every measurement runs in a fresh child process (this script with ``--only NAME``, or the
``icp`` command itself), so each approach's peak memory is its own: the child's ``VmHWM``,
or for the command ``ru_maxrss`` from ``wait4`` (this parent stays at ~16 MB, below any
child). Approaches take turns within each repeat and the median is reported, because
other work may share the machine. Library approaches are timed inside the child around
the call (imports excluded); the command is timed from outside (wall time, start-up
included). Competitors are checked against icpkit's output on a small input first. The
input is written once to ``bench/out/`` and reused while it has the same number of rows.
To measure another copy of icpkit, put its ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    LIST_FORMS,
    OUT,
    REPO,
    RUBRIC,
    agreement,
    ensure_input,
    floor_sql,
    hand_sql,
    icpkit_source,
    list_test,
    median,
    pandas_score,
    peak_mb,
    lower_bound_sql,
    polars_frame,
    rate,
    rel,
)

APPROACHES = ("io_floor", "lower_bound", "icpkit", "icp_command", "duckdb_sql", "polars_same", "polars",
              "polars_reasons", "pandas_apply")
LABELS = {
    "io_floor": "I/O floor (DuckDB: read, write back)",
    "lower_bound": "(d) rubric on the values as stored",
    "icpkit": "icpkit library (score_to)",
    "icp_command": "icp score command (wall)",
    "duckdb_sql": "(a) hand-written DuckDB SQL",
    "polars_same": "(c) polars, the same work",
    "polars": "(c) polars expressions",
    "polars_reasons": "(c) polars + reasons (list.eval)",
    "pandas_apply": "(b) pandas row-wise apply *",
}


# ------------------------------------------------------------- in the child process

def run_one(name: str, inp: Path, out: Path, sample: int) -> dict[str, Any]:
    """Run one approach once; returns its seconds and rows."""
    if name == "icpkit":
        from icpkit.api import score_to
        from icpkit.workspace import Workspace

        started = time.perf_counter()
        run = score_to(RUBRIC, inp, out, workspace=Workspace(OUT / ".icp"))
        return {"seconds": time.perf_counter() - started, "rows": run.rows}
    if name in ("duckdb_sql", "io_floor", "lower_bound"):
        import duckdb

        con = duckdb.connect()
        con.execute("SET enable_progress_bar=false")
        sql = {"duckdb_sql": hand_sql, "io_floor": floor_sql, "lower_bound": lower_bound_sql}[name](inp, out)
        started = time.perf_counter()
        rows = con.execute(sql).fetchone()[0]  # type: ignore[index]
        return {"seconds": time.perf_counter() - started, "rows": rows}
    if name.startswith("polars"):
        reasons = {"polars": False, "polars_reasons": True, "polars_same": "same"}[name]
        started = time.perf_counter()
        polars_frame(inp, reasons=reasons).sink_parquet(out, compression="zstd")
        seconds = time.perf_counter() - started
        import pyarrow.parquet as pq

        return {"seconds": seconds, "rows": pq.ParquetFile(out).metadata.num_rows}
    if name == "pandas_apply":
        started = time.perf_counter()
        df = pandas_score(inp, sample)
        return {"seconds": time.perf_counter() - started, "rows": len(df)}
    if name == "lists":
        return run_lists(inp)
    if name == "prepare":  # the input, then the agreement check on a small one
        started, n = time.perf_counter(), int(inp.stem.split("-")[-1])
        ensure_input(n)
        print(f"Input: {rel(inp)} ({n:,} accounts, {inp.stat().st_size / 1e6:.0f} MB; "
              f"ready in {time.perf_counter() - started:.1f} s)")
        source = icpkit_source()
        print(f"icpkit: {source}")
        check(sample, out)
        return {"icpkit": source}
    raise SystemExit(f"unknown approach {name!r}")


def run_lists(inp: Path, repeat: int = 3) -> dict[str, Any]:
    """The technologies criterion alone over an in-memory table, each way of testing lists."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    con.execute(f"CREATE TABLE l AS SELECT technologies AS t FROM read_parquet('{inp}')")
    rows = con.execute("SELECT count(*) FROM l").fetchone()[0]  # type: ignore[index]
    queries = {}
    for form in LIST_FORMS:
        sf, hs = list_test(form, ["salesforce"]), list_test(form, ["hubspot"])
        queries[("criterion", form)] = \
            f"SELECT sum(CASE WHEN t IS NULL THEN 5 WHEN {sf} THEN 20 WHEN {hs} THEN 10 ELSE 5 END) FROM l"
        queries[("any of 3", form)] = \
            f"SELECT count_if({list_test(form, ['salesforce', 'hubspot', 'pipedrive'])}) FROM l"
    times: dict[tuple[str, str], list[float]] = {k: [] for k in queries}
    answers: dict[tuple[str, str], Any] = {}
    for _ in range(repeat):
        for key, sql in queries.items():
            started = time.perf_counter()
            answers[key] = con.execute(sql).fetchone()[0]  # type: ignore[index]
            times[key].append(time.perf_counter() - started)
    for test in ("criterion", "any of 3"):
        if len({answers[(test, f)] for f in LIST_FORMS}) != 1:
            raise SystemExit(f"list forms disagree on {test}: {answers}")
    return {"rows": rows, "plan_emits": plan_list_function(),
            "lists": [[test, form, median(times[(test, form)])] for test, form in queries]}


# ------------------------------------------------------------ in the parent process

def child(name: str, inp: Path, out: Path, sample: int) -> dict[str, Any]:
    """Run ``name`` in a fresh process; adds its peak RSS (MB) and, for the command, its wall time."""
    if name == "icp_command":
        icp = Path(sys.executable).parent / "icp"
        cmd = [str(icp) if icp.exists() else shutil.which("icp") or "icp", "score", "--profile", rel(RUBRIC),
               "--accounts", rel(inp), "--out", rel(out), "--quiet", "--workspace", rel(OUT / ".icp")]
    else:
        cmd = [sys.executable, rel(Path(__file__)), "--only", name, "--input", rel(inp), "--out", rel(out),
               "--sample", str(sample)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)  # not proc.wait(): wait4 also gives the child's rusage
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise SystemExit(f"{name} failed ({code}):\n{output[-3000:]}")
    if name == "icp_command":  # ru_maxrss of the command (this parent stays far smaller)
        return {"seconds": wall, "peak_mb": usage.ru_maxrss / 1024, "wall": wall}
    *messages, last = output.strip().splitlines()
    if messages:
        print(*messages, sep="\n")
    return json.loads(last) | {"wall": wall}


def check(rows: int, sample_out: Path) -> None:
    """Run every competitor on a small input and compare it with icpkit's output, row by row."""
    from icpkit.api import score_to
    from icpkit.workspace import Workspace

    inp = ensure_input(rows)
    ref = sample_out / "check-icpkit.parquet"
    score_to(RUBRIC, inp, ref, workspace=Workspace(OUT / ".icp"))
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    con.execute(hand_sql(inp, sample_out / "check-sql.parquet"))
    polars_frame(inp, reasons=True).sink_parquet(sample_out / "check-polars.parquet")
    polars_frame(inp, reasons="same").sink_parquet(sample_out / "check-polars-same.parquet")
    results = {"duckdb_sql": agreement(ref, sample_out / "check-sql.parquet"),
               "polars_reasons": agreement(ref, sample_out / "check-polars.parquet"),
               "polars_same": agreement(ref, sample_out / "check-polars-same.parquet"),
               "pandas_apply": agreement(ref, pandas_score(inp, rows))}
    print(f"Agreement with icpkit on {rows:,} accounts (rows equal / rows):")
    for name, same in results.items():
        print(f"  {LABELS[name]:36} " + ", ".join(f"{k}: {v}" for k, v in same.items()))
        if any(v.split("/")[0] != v.split("/")[1] for k, v in same.items() if k != "reasons"):
            raise SystemExit(f"{name} does not score like icpkit; fix it before timing")


def plan_list_function() -> str:
    """Which list function icpkit's compiled plan uses for the technologies criterion."""
    import ibis

    from icpkit.demo.canonical import ACCOUNT_SCHEMA
    from icpkit.profile.load import load_profile
    from icpkit.scoring.plan import build_plan

    table = ibis.table(ibis.Schema.from_pyarrow(ACCOUNT_SCHEMA), name="icp_accounts")
    sql = build_plan(load_profile(RUBRIC), table).sql("duckdb")
    found = sorted(set(re.findall(r"\b(LIST_HAS_ANY|ARRAY_CONTAINS|LIST_CONTAINS|LIST_BOOL_OR|ARRAY_HAS_ANY)\(",
                                  sql.upper())))
    return ", ".join(found) or "none"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="accounts to score (default 10M)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each approach; the median is reported")
    ap.add_argument("--sample", type=int, default=200_000, help="rows for pandas apply (extrapolated)")
    ap.add_argument("--check-rows", type=int, default=10_000, help="rows of the agreement check")
    ap.add_argument("--skip", nargs="*", default=[], choices=[*APPROACHES, "lists"], help="approaches to leave out")
    ap.add_argument("--only", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only:  # child process: run once, print one JSON line
        result = run_one(args.only, args.input.resolve(), args.out.resolve(), args.sample)
        print(json.dumps(result | {"peak_mb": peak_mb()}))
        return

    n = args.rows
    OUT.mkdir(parents=True, exist_ok=True)
    inp = OUT / f"accounts-{n}.parquet"  # written by the first child when absent or of another size
    info = child("prepare", inp, OUT, args.check_rows)
    names = [a for a in APPROACHES if a not in args.skip]
    runs: dict[str, list[dict[str, Any]]] = {a: [] for a in names}
    loads = [os.getloadavg()[0]]
    for rep in range(args.repeat):
        for name in names:
            res = child(name, inp, OUT / f"scores-{name}-{n}.parquet", args.sample)
            runs[name].append(res)
            loads.append(os.getloadavg()[0])
            print(f"  run {rep + 1}/{args.repeat} {name:15} {res['seconds']:8.2f} s  {res['peak_mb']:7.0f} MB",
                  flush=True)
    summary = {a: {"rows": runs[a][0]["rows"] if a != "icp_command" else n,
                   "seconds": median([r["seconds"] for r in runs[a]]),
                   "all_seconds": [round(r["seconds"], 2) for r in runs[a]],
                   "peak_mb": median([r["peak_mb"] for r in runs[a]])} for a in names}
    print(f"\nFit scoring of {n:,} accounts, Parquet in and out; median of {args.repeat} "
          f"(1-minute load average during the runs: {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores)")
    print(f"{'approach':38} {'rows':>11} {'seconds':>8} {'rows/s':>8} {'peak MB':>8}  runs (s)")
    for a, s in summary.items():
        print(f"{LABELS[a]:38} {s['rows']:>11,} {s['seconds']:>8.2f} {rate(s['rows'], s['seconds']):>8} "
              f"{s['peak_mb']:>8.0f}  {s['all_seconds']}")
    print("* pandas scored a sample of the first rows; its rows/s is extrapolated to the full input below.\n")

    # Seconds for all n rows (pandas scored a sample: extrapolated at its rate).
    full = {a: s["seconds"] * n / s["rows"] for a, s in summary.items()}
    wanted = [  # (label, numerator, denominator, note): a ratio of times
        ("icp score command / I/O floor", "icp_command", "io_floor", "target <= 1.3x"),
        ("(d) rubric on the values as stored / I/O floor", "lower_bound", "io_floor",
         "what the target leaves above it for normalisation, checks and ABM tiers"),
        ("icpkit library / I/O floor", "icpkit", "io_floor", ""),
        ("icp score command / polars doing the same work", "icp_command", "polars_same", "target < 1x"),
        ("icpkit / hand-written DuckDB SQL", "icpkit", "duckdb_sql", "target <= 1.2x"),
        ("icp score command / hand-written DuckDB SQL", "icp_command", "duckdb_sql", "target <= 1.5x"),
        ("icpkit / polars expressions", "icpkit", "polars", "time ratio"),
        ("icpkit / polars + reasons", "icpkit", "polars_reasons", "time ratio"),
        ("speed-up of icpkit over pandas apply (extrapolated)", "pandas_apply", "icpkit", ""),
    ]
    ratios = [(label, full[a] / full[b], note) for label, a, b, note in wanted if a in full and b in full]
    for label, value, note in ratios:
        print(f"{label}: {value:.2f}x  {note}")
    if "icp_command" in summary and "io_floor" in summary:
        mem = summary["icp_command"]["peak_mb"] / summary["io_floor"]["peak_mb"]
        print(f"peak memory, icp score command / I/O floor: {mem:.2f}x  target <= 1.2x")

    lists = None
    if "lists" not in args.skip:
        lists = child("lists", inp, OUT / "unused", 0)
        print(f"\nList membership, technologies column in a DuckDB table ({lists['rows']:,} rows, median of 3):")
        fastest: dict[str, float] = {}
        for test, _, sec in lists["lists"]:
            fastest[test] = min(fastest.get(test, sec), sec)
        for test, form, sec in lists["lists"]:
            print(f"  {test:10} {form:30} {sec:7.3f} s {rate(lists['rows'], sec):>8} rows/s "
                  f"{sec / fastest[test]:5.2f}x the fastest")
        print(f"  icpkit's plan emits: {lists['plan_emits']}")
    print(f"\n(peak memory of this parent process: {peak_mb():.0f} MB)")
    (OUT / f"results-{n}.json").write_text(json.dumps(
        {"rows": n, "repeat": args.repeat, "icpkit": info["icpkit"], "load": [min(loads), max(loads)], "summary": summary,
         "ratios": ratios, "lists": lists}, indent=2))


if __name__ == "__main__":
    main()
