"""Start-up: the wall time of short ``icp`` commands, each in a fresh process, as a user waits.

    .venv/bin/python bench/bench_startup.py [--runs 10]

Times (median, and min-max, of ``--runs`` fresh processes each, after one untimed warm-up):

1. ``icp --help`` (target 0.5 s) and ``icp --version`` (target 0.5 s);
2. ``python -c "import icpkit"``, and whether that loaded an engine (ibis, duckdb, sqlglot,
   pyarrow: it must not);
3. ``icp score --profile examples/seed-rubric.yaml --accounts five.csv --out out.csv --quiet``
   (target 0.6 s): a 5-row CSV scored in-process by the small-input path (``icpkit.small``),
   and the same command with ``--backend duckdb``, which forces the engine; their ratio.
   Before timing, both commands run once with ``--as-of`` and their outputs are compared
   byte for byte, and the small path's process is checked to load no engine.

The commands run the way an installed package runs: with compiled bytecode. This checkout
may run with ``PYTHONDONTWRITEBYTECODE`` (every module compiled from source at every start,
~0.1 s more); the children get a private bytecode cache instead (``PYTHONPYCACHEPREFIX`` in a
temporary directory, filled by the warm-up), so nothing is written to the source tree.
Other work on the machine shows in wall times: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUBRIC = REPO / "examples" / "seed-rubric.yaml"
ICP = str(Path(sys.executable).parent / "icp")
ENGINES = ("ibis", "duckdb", "sqlglot", "pyarrow")

FIVE = (
    "Company name,Website,Industry,Number of Employees,Country/Region,Technologies,days_since_funding\n"
    "Acme,https://www.acme.com,Computer Software,120,United States,Salesforce;Slack,30\n"
    "Beta,beta.io,Retail,8,DE,,\n"
    "Gamma,gamma.co.uk,Internet,600,GB,HubSpot,200\n"
    '"Delta, Inc",delta.dev,Internet,1.5k,n/a,"Salesforce, HubSpot",90.5\n'
    "Epsilon,epsilon.fr,internet,51-200,France,hubspot,365\n"
)


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr}")
    return seconds, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> list[tuple[float, float]]:
    run(cmd, cwd, env)  # warm-up: fills the bytecode cache
    return [run(cmd, cwd, env) for _ in range(runs)]


def loaded_engines(code: str, cwd: Path, env: dict[str, str]) -> list[str]:
    probe = f"{code}\nimport sys\nprint('ENGINES', [m for m in {ENGINES!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("ENGINES "))
    return json.loads(line.split(" ", 1)[1].replace("'", '"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="icp-startup-") as tmp:
        work = Path(tmp)
        (work / "five.csv").write_text(FIVE, encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONDONTWRITEBYTECODE", "ICP_DATABASE_URL", "ICP_WORKSPACE")}
        env |= {"PYTHONPYCACHEPREFIX": str(work / "pycache"), "NO_COLOR": "1"}
        def score_cmd(out: str, *extra: str) -> list[str]:
            return [ICP, "score", "--profile", str(RUBRIC), "--accounts", "five.csv", "--out", out, "--quiet", *extra]

        score, engine = score_cmd("out.csv"), score_cmd("out.csv", "--backend", "duckdb")
        # The same bytes both ways (a fixed --as-of fixes scored_at), and no engine on the small path.
        run(score_cmd("small.csv", "--as-of", "2026-01-31"), work, env)
        run(score_cmd("engine.csv", "--as-of", "2026-01-31", "--backend", "duckdb"), work, env)
        same = (work / "small.csv").read_bytes() == (work / "engine.csv").read_bytes()
        cli = "from icpkit.cli import main\nmain({!r})"
        small_engines = loaded_engines(cli.format(score[1:]), work, env)
        import_engines = loaded_engines("import icpkit", work, env)

        cases = [
            ("icp --help", [ICP, "--help"], 0.5),
            ("icp --version", [ICP, "--version"], 0.5),
            ('python -c "import icpkit"', [sys.executable, "-c", "import icpkit"], None),
            ("icp score, 5 rows (small path)", score, 0.6),
            ("icp score, 5 rows --backend duckdb", engine, None),
        ]
        results = {}
        for label, cmd, _ in cases:
            results[label] = timed(cmd, work, env, args.runs)

    load = os.getloadavg()
    print(f"Start-up, {args.runs} fresh processes each: wall time median (min-max), and CPU time (user + "
          f"system) median; {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    for label, _, target in cases:
        times = [wall for wall, _ in results[label]]
        med = statistics.median(times)
        cpu = statistics.median(c for _, c in results[label])
        verdict = "" if target is None else f"  target {target:.1f} s: {'ok' if med < target else 'MISSED'}"
        print(f"  {label:38s} {med:6.3f} s  ({min(times):.3f}-{max(times):.3f})  CPU {cpu:.3f} s{verdict}")
    fast = statistics.median(wall for wall, _ in results["icp score, 5 rows (small path)"])
    slow = statistics.median(wall for wall, _ in results["icp score, 5 rows --backend duckdb"])
    print(f"\n  small path / engine: {fast / slow:.2f} ({slow / fast:.1f}x faster)")
    print(f"  `import icpkit` loaded an engine: {'yes: ' + ', '.join(import_engines) if import_engines else 'no'}")
    print(f"  small path loaded an engine: {'yes: ' + ', '.join(small_engines) if small_engines else 'no'}")
    print(f"  outputs identical (small path vs engine, --as-of 2026-01-31): {'yes' if same else 'NO'}")
    if import_engines or small_engines or not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
