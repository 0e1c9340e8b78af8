"""What `icp` does with outputs, workspaces and the terminal when things are not as they
should be: an output that is a directory, files left by killed runs, two runs at once, huge
and hostile values; and `--json -` and shell completion."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-rubric.yaml"
ICP = shutil.which("icp", path=str(Path(sys.executable).parent)) or "icp"

ACCOUNTS = (
    "Company name,Website,Industry,Number of Employees,Country/Region,Technologies,days_since_funding\n"
    "Acme,https://www.acme.com,Computer Software,120,United States,Salesforce;Slack,30\n"
    "Beta,beta.io,Retail,8,DE,,\n"
    "Gamma,gamma.co.uk,Internet,600,GB,HubSpot,200\n"
)


def icp(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    full = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"} | (env or {})
    full.pop("ICP_WORKSPACE", None)
    return subprocess.run([ICP, *args], cwd=cwd, capture_output=True, text=True, env=full, timeout=timeout)


@pytest.fixture()
def accounts(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS, encoding="utf-8")
    return path


def score(tmp_path: Path, accounts: Path, out: str, *more: str) -> subprocess.CompletedProcess[str]:
    return icp("score", "-p", str(SEED), "-a", str(accounts), "-o", out, *more, cwd=tmp_path)


# ------------------------------------------------------------------------------- outputs

def test_an_output_that_is_a_directory_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "scores.csv").mkdir()
    bad = tmp_path / "bad.csv"  # scoring it would stop on its bad value: the output is checked first
    bad.write_text(ACCOUNTS.replace(",120,", ",lots,"), encoding="utf-8")
    for backend in ([], ["--backend", "duckdb"]):
        run = score(tmp_path, bad, "scores.csv", *backend)
        assert run.returncode == 1, run.stderr
        assert "scores.csv: the output is a directory" in run.stderr and "lots" not in run.stderr
        assert not (tmp_path / ".icp" / "workspace.json").exists()


def test_an_output_inside_a_file_is_a_user_error(tmp_path: Path, accounts: Path) -> None:
    run = score(tmp_path, accounts, "accounts.csv/scores.csv")
    assert run.returncode == 1, run.stderr
    assert "accounts.csv is a file, not a folder" in run.stderr and "internal error" not in run.stderr


def test_a_rejects_file_that_is_a_directory_is_refused_before_any_work(tmp_path: Path, accounts: Path) -> None:
    (tmp_path / "scores.csv.rejects.csv").mkdir()
    run = score(tmp_path, accounts, "scores.csv", "--on-error", "skip")
    assert run.returncode == 1 and "scores.csv.rejects.csv: the output is a directory" in run.stderr
    assert not (tmp_path / "scores.csv").exists()


def killed_runs_temporary_file(out: Path) -> Path:
    """The temporary file a run made beside ``out`` before it was killed (it exits at once,
    as after kill -9: nothing cleaned up)."""
    code = ("import os, sys; from pathlib import Path; from icpkit.io.atomic import temp_beside; "
            "tmp = temp_beside(Path(sys.argv[1])); tmp.write_text('half a file'); print(tmp.name, flush=True); "
            "os._exit(9)")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True)
    left = out.parent / done.stdout.strip()
    assert left.is_file()
    return left


@pytest.mark.parametrize("backend", [[], ["--backend", "duckdb"]], ids=["small", "engine"])
def test_temporary_files_of_killed_runs_are_removed_by_the_next_run(tmp_path: Path, accounts: Path,
                                                                    backend: list[str]) -> None:
    out = tmp_path / "scores.csv"
    left = killed_runs_temporary_file(out)
    other = killed_runs_temporary_file(tmp_path / "other.parquet")  # another output's, same folder
    host = left.name.split(".icp.")[1].split(".")[0]
    dead_pid = left.name.split(".")[-3]
    spark_dir = tmp_path / f".scores.parquet.icp.{host}.{dead_pid}.7.tmp"  # Spark writes a directory
    (spark_dir / "parts").mkdir(parents=True)
    (spark_dir / "parts" / "part-0.parquet").write_text("x")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        kept = [tmp_path / f".scores.csv.icp.{host}.{live.pid}.1.tmp",  # a run still writing
                tmp_path / f".scores.csv.icp.{'0' * 8 if host != '0' * 8 else '1' * 8}.{dead_pid}.1.tmp",  # elsewhere
                tmp_path / ".scores.csv.bak", tmp_path / ".scores.csv.123.456.tmp"]  # not named by icpkit
        for path in kept:
            path.write_text("keep me")
        run = score(tmp_path, accounts, "scores.csv", *backend)
        assert run.returncode == 0, run.stderr
        assert not left.exists() and not other.exists() and not spark_dir.exists()
        assert all(path.read_text() == "keep me" for path in kept)
    finally:
        live.kill()
        live.wait()


def test_a_run_killed_while_writing_leaves_nothing_after_the_next_run(tmp_path: Path) -> None:
    from icpkit.demo.canonical import write_accounts_parquet

    accounts = write_accounts_parquet(tmp_path / "accounts.parquet", 400_000, seed=3)
    cmd = [ICP, "score", "-p", str(SEED), "-a", str(accounts), "-o", "scores.csv", "-q"]
    run = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    left: list[Path] = []
    while not left and run.poll() is None and time.monotonic() < deadline:
        left = [p for p in tmp_path.iterdir() if p.name.startswith(".scores.csv.") and p.name.endswith(".tmp")]
        time.sleep(0.005)
    run.kill()  # kill -9 while it writes
    run.wait()
    assert left, "the run ended before it was seen writing"
    assert any(p.exists() for p in left) and not (tmp_path / "scores.csv").exists()
    again = icp("score", "-p", str(SEED), "-a", str(accounts), "-o", "other.csv", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.is_file()) == []


# ----------------------------------------------------------------------------- workspace

HOLD = """
import sys, time
import duckdb
from icpkit.workspace import Workspace
with Workspace(sys.argv[1]).locked() as ws:
    con = duckdb.connect(str(ws.database))  # as a run writing a table holds it
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
"""


def hold_workspace(ws: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(ws), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_run_waits_for_the_workspace_and_says_so(tmp_path: Path, accounts: Path) -> None:
    holder = hold_workspace(tmp_path / ".icp", 4)
    try:
        run = score(tmp_path, accounts, "scores")  # a table in the workspace's database
    finally:
        holder.wait(timeout=60)
    assert run.returncode == 0, run.stderr
    assert "waiting for another icp run to finish with the workspace .icp" in run.stderr
    assert "Scored 3 accounts" in run.stdout


def test_a_run_that_waits_too_long_gives_up_with_a_clear_error(tmp_path: Path, accounts: Path) -> None:
    holder = hold_workspace(tmp_path / ".icp", 120)
    try:
        started = time.monotonic()
        run = icp("score", "-p", str(SEED), "-a", str(accounts), "-o", "scores.csv", cwd=tmp_path,
                  env={"ICP_LOCK_TIMEOUT_S": "1"})
        assert time.monotonic() - started < 60
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode == 1, run.stderr
    assert "still in use by another icp run after 1 s" in run.stderr
    assert not (tmp_path / "scores.csv").exists()


def test_settings_written_at_the_same_time_by_several_processes(tmp_path: Path) -> None:
    code = ("import sys; from icpkit.workspace import Workspace; w = Workspace(sys.argv[1]); "
            "[w.update_settings(**{sys.argv[2]: i}) for i in range(300)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / ".icp"), f"k{j}"], stderr=subprocess.PIPE,
                              text=True) for j in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    settings = json.loads((tmp_path / ".icp" / "workspace.json").read_text(encoding="utf-8"))
    assert any(settings.get(f"k{j}") == 299 for j in range(4))
    assert [p.name for p in (tmp_path / ".icp").iterdir() if p.name.endswith(".tmp")] == []


# ------------------------------------------------------------------------------ terminal

def test_control_characters_in_data_do_not_reach_the_terminal(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(ACCOUNTS.replace("Acme,", "\"Acme\x1b]0;owned\x07\x1b[2J\u202e\",", 1), encoding="utf-8")
    assert score(tmp_path, accounts, "scores.csv").returncode == 0
    for extra in ([], ["--profile", str(SEED), "--accounts", str(accounts)]):  # from the output, and scored again
        run = icp("explain", "acme.com", *extra, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert "\x1b" not in run.stdout and "\x07" not in run.stdout and "\u202e" not in run.stdout
        assert "Acme\\x1b]0;owned\\x07\\x1b[2J\\u202e" in run.stdout


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_huge_bad_value_is_quoted_cut_to_80_characters(tmp_path: Path, suffix: str) -> None:
    accounts = tmp_path / f"accounts.{suffix}"
    if suffix == "csv":  # 1 MB in a cell (over the csv module's 128 KB limit, which sniffing lifts)
        accounts.write_text(ACCOUNTS.replace(",120,", "," + "9x" * 500_000 + ","), encoding="utf-8")
    else:  # 1 MB
        rows = [{"domain": "acme.com", "industry": "Internet", "employees": "9x" * 500_000, "country": "US",
                 "technologies": "Salesforce", "days_since_funding": 30}]
        accounts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = score(tmp_path, accounts, "scores.csv")
    assert run.returncode == 1, run.stderr
    assert len(run.stderr) < 2_000
    assert "cannot read '" + "9x" * 39 + "9\u2026' as a number" in run.stderr.replace("\n", "")


# ---------------------------------------------------------------------- json and completion

def test_json_to_standard_output(tmp_path: Path, accounts: Path) -> None:
    run = score(tmp_path, accounts, "scores.csv", "--json", "-")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["rows"] == 3 and summary["output"] == "scores.csv" and summary["rejected"] == 0
    assert summary["top"][0]["domain"] == "acme.com" and sum(summary["tiers"].values()) == 3
    assert "Scored 3 accounts" in run.stderr and not (tmp_path / "-").exists()
    tam = icp("tam", "-p", str(SEED), "-u", str(accounts), "--json", "-", cwd=tmp_path)
    assert tam.returncode == 0, tam.stderr
    assert json.loads(tam.stdout)["total"] == 3 and "TAM of" in tam.stderr and not (tmp_path / "-").exists()


def test_json_to_a_file_still_says_where(tmp_path: Path, accounts: Path) -> None:
    run = score(tmp_path, accounts, "scores.csv", "--json", "run.json")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["rows"] == 3
    assert "Wrote run.json" in run.stdout


def test_shell_completion_is_offered_and_completes_commands(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is not None:  # typed in bash, it gives bash's script (the shell is found from the process tree)
        shown = subprocess.run([bash, "-c", f"'{ICP}' --show-completion; exit $?"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=120)  # bash stays the parent
        assert shown.returncode == 0, shown.stderr
        assert "_ICP_COMPLETE=complete_bash" in shown.stdout and "complete -o default" in shown.stdout
    assert "--install-completion" in icp("--help", cwd=tmp_path).stdout
    done = icp(cwd=tmp_path, env={"_ICP_COMPLETE": "complete_bash", "COMP_WORDS": "icp exp", "COMP_CWORD": "1"})
    assert "explain" in done.stdout.split()
