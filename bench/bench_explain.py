"""How long `icp explain DOMAIN` takes after `icp score`, on the People Data Labs company
sample (21,000 rows, ``../shared/data/companies_pdl_top21k``; see its SOURCE.md).

    .venv/bin/python bench/bench_explain.py [--repeat 5]

Scores the sample once with ``bench/pdl-profile.yaml`` (``--on-error skip``: 10% of the rows
have no domain, a few repeat one) into ``bench/out/pdl-scores.csv`` with the workspace
``bench/out/.icp-explain``, then times, as fresh processes (wall time, start-up included):

- ``icp explain DOMAIN``: answered from the last run's output;
- ``icp explain DOMAIN --profile P --accounts A``: the accounts scored again (what every
  ``icp explain`` did before it answered from the output).

for a few domains (first, middle and last of the output), and reports the medians. To
measure another copy of icpkit, put its ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, REPO, icpkit_source, median, rel  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "companies_pdl_top21k" / "companies_sorted_top21000.csv"
PROFILE = REPO / "bench" / "pdl-profile.yaml"
WORKSPACE = OUT / ".icp-explain"
SCORES = OUT / "pdl-scores.csv"


def icp(*args: str) -> float:
    """Wall seconds of one ``icp`` command (a fresh process); fails loudly."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "icpkit.cli", *args], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"icp {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} is not here: the benchmark needs ../shared/data")
    print(f"icpkit from {icpkit_source()}")
    OUT.mkdir(parents=True, exist_ok=True)
    ws = ["--workspace", rel(WORKSPACE)]
    seconds = icp("score", "--profile", rel(PROFILE), "--accounts", str(DATA), "--out", rel(SCORES),
                  "--on-error", "skip", "--quiet", *ws)
    print(f"icp score: {seconds:.2f} s")
    with open(SCORES, encoding="utf-8", newline="") as f:
        domains = [row["domain"] for row in csv.DictReader(f)]
    picked = [domains[0], domains[len(domains) // 2], domains[-1]]
    quick, again = [], []
    for _ in range(args.repeat):
        for domain in picked:
            quick.append(icp("explain", domain, *ws))
            again.append(icp("explain", domain, "--profile", rel(PROFILE), "--accounts", str(DATA), *ws))
    print(f"icp explain DOMAIN (the last run's output), median of {len(quick)}: {median(quick):.2f} s "
          f"(min {min(quick):.2f}, max {max(quick):.2f})")
    print(f"icp explain DOMAIN --profile --accounts (scored again), median of {len(again)}: {median(again):.2f} s "
          f"(min {min(again):.2f}, max {max(again):.2f})")


if __name__ == "__main__":
    main()
