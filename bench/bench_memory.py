"""Peak memory of ``icp score`` by output format and row count: does writing stream?

    .venv/bin/python bench/bench_memory.py [--rows 1000000 5000000] [--formats csv jsonl parquet] [--repeat 1]

Each run is a fresh ``python -m icpkit.cli score`` process (examples/seed-rubric.yaml,
Parquet input from ``bench/out/accounts-<N>.parquet``, written once and reused), measured
from outside: wall time, and peak resident memory (``ru_maxrss`` from ``wait4``; this parent
stays far smaller: it reads no output itself, since a child's ``ru_maxrss`` starts from its parent's
size). Every output is checked, in a child of its own, to hold the input's rows in the input's order.
To measure another copy of icpkit (e.g. the commit before a change, unpacked with
``git archive``), put its ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, REPO, RUBRIC, ensure_input, icpkit_source, median, rel  # noqa: E402


def run(inp: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak MB of one ``icp score`` of ``inp`` into ``out``."""
    cmd = [sys.executable, "-m", "icpkit.cli", "score", "--profile", rel(RUBRIC), "--accounts", rel(inp),
           "--out", rel(out), "--quiet", "--workspace", rel(OUT / ".icp-memory")]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"icp score failed:\n{output[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def in_input_order(inp: Path, out: Path) -> bool:
    """The output's domains are the input's, in the input's order (checked in a child)."""
    done = subprocess.run([sys.executable, rel(Path(__file__)), "--check", rel(inp), rel(out)], cwd=REPO,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def _check(inp: Path, out: Path) -> bool:
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    want = pq.read_table(inp, columns=["domain"]).column(0)
    if out.suffix == ".csv":
        got = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(include_columns=["domain"])).column(0)
    elif out.suffix == ".jsonl":
        got = pajson.read_json(out).column("domain")
    else:
        got = pq.read_table(out, columns=["domain"]).column(0)
    return got.combine_chunks().equals(want.combine_chunks())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl", "parquet"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--check", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        print(_check(*args.check))
        return
    print(f"icpkit from {icpkit_source()}")
    results = []
    for n in args.rows:
        inp = ensure_input(n)
        for fmt in args.formats:
            out = OUT / f"memory-{n}.{fmt}"
            runs = [run(inp, out) for _ in range(args.repeat)]
            ordered = in_input_order(inp, out)
            row = {"rows": n, "format": fmt, "seconds": median([r[0] for r in runs]),
                   "peak_mb": median([r[1] for r in runs]), "in_order": ordered}
            results.append(row)
            print(f"{n:>10,} rows  {fmt:8} {row['seconds']:7.2f} s  {row['peak_mb']:7.0f} MB  "
                  f"{'in input order' if ordered else 'NOT IN INPUT ORDER'}", flush=True)
            out.unlink(missing_ok=True)
    (OUT / "memory-results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
