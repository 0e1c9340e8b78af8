"""Scores come out in the order of the input's rows, in every output format, also when the
input spans many row groups (read by several threads) and intent is joined to it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest

from icpkit.api import score_to
from icpkit.demo.canonical import write_accounts_parquet
from icpkit.profile.load import load_profile
from icpkit.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
ROWS = 150_000


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_accounts_parquet(tmp_path_factory.mktemp("order") / "accounts.parquet", ROWS, seed=5,
                                  row_group_size=10_000)


def written_domains(out: str, ws: Workspace) -> list[str]:
    if out.endswith(".csv"):
        return pacsv.read_csv(out).column("domain").to_pylist()
    if out.endswith(".jsonl"):
        return pajson.read_json(out).column("domain").to_pylist()
    if out.endswith(".parquet"):
        return pq.read_table(out).column("domain").to_pylist()
    with duckdb.connect(str(ws.database), read_only=True) as con:
        return [r[0] for r in con.execute(f"SELECT domain FROM {out}").fetchall()]


@pytest.mark.parametrize("kind", ["fit", "fit and intent"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ""])
def test_scores_keep_the_input_order(tmp_path: Path, accounts: Path, kind: str, suffix: str) -> None:
    domains = pq.read_table(accounts, columns=["domain"]).column("domain").to_pylist()
    profile = load_profile(ROOT / "examples" / "seed-rubric.yaml")
    events, as_of = None, None
    if kind == "fit and intent":
        intent = load_profile(ROOT / "examples" / "intent.yaml").intent
        profile = profile.model_copy(update={"intent": intent})
        many = domains * 2  # more events than accounts: DuckDB then builds its join on the accounts
        events = pa.table({"event_id": [f"e{i}" for i in range(len(many))], "domain": many,
                           "type": ["demo_request"] * len(many),
                           "occurred_at": ["2026-01-20T10:00:00Z"] * len(many)})
        as_of = datetime(2026, 1, 31, tzinfo=UTC)
    ws = Workspace(tmp_path / ".icp")
    out = str(tmp_path / f"scores{suffix}") if suffix else "scores"
    score_to(profile, accounts, out, workspace=ws, events=events, as_of=as_of)
    assert written_domains(out, ws) == domains


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_more_rows_than_one_pass_keeps_in_order(tmp_path: Path, suffix: str) -> None:
    # 300,000 rows: DuckDB's Parquet writer lost the order of the joined plan here (it kept
    # it at 150,000); the rows are now sorted a chunk at a time, the chunks in order.
    accounts = write_accounts_parquet(tmp_path / "accounts.parquet", 300_000, seed=9, row_group_size=10_000)
    ws = Workspace(tmp_path / ".icp")
    score_to(ROOT / "examples" / "seed-rubric.yaml", accounts, str(tmp_path / f"scores{suffix}"), workspace=ws)
    domains = pq.read_table(accounts, columns=["domain"]).column("domain").to_pylist()
    assert written_domains(str(tmp_path / f"scores{suffix}"), ws) == domains


def test_a_few_accounts_with_intent_keep_their_order(tmp_path: Path) -> None:
    domains = ["j.com", "c.com", "h.com", "a.com", "f.com", "b.com", "i.com", "e.com", "g.com", "d.com"]
    pq.write_table(pa.table({"domain": domains}), tmp_path / "a.parquet")
    events = pa.table({"event_id": [f"e{i}" for i in range(10)], "domain": sorted(domains),
                       "type": ["demo_request"] * 10, "occurred_at": ["2026-01-20T10:00:00Z"] * 10})
    ws = Workspace(tmp_path / ".icp")
    score_to(ROOT / "examples" / "intent.yaml", tmp_path / "a.parquet", str(tmp_path / "s.parquet"), workspace=ws,
             events=events, as_of=datetime(2026, 1, 31, tzinfo=UTC))
    assert written_domains(str(tmp_path / "s.parquet"), ws) == domains
