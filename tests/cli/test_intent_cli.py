"""`icp score` with an intent profile, events and --as-of, as a user runs it."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.test_cli import icp
from tests.oracle import duck_round2

ROOT = Path(__file__).resolve().parents[2]
INTENT = str(ROOT / "examples" / "intent.yaml")
AS_OF = datetime(2026, 1, 31, tzinfo=UTC)

ACCOUNTS = "Company,Website\nAcme,https://www.acme.com\nBeta,beta.io\nGamma,gamma.co.uk\nQuiet,quiet.com\nGmail,gmail.com\n"

EVENTS = [  # event_id, domain, email, type, occurred_at
    ("1", "acme.com", "", "pricing_page_view", "2026-01-29T23:59:59Z"),
    ("2", "", "ann@acme.com", "Pricing_Page_View", "2026-01-30T00:59:59+01:00"),  # 23:59:59 UTC on the 29th
    ("3", "acme.com", "", "pricing_page_view", "2026-01-29 23:59:59"),  # no offset: UTC
    ("4", "acme.com", "", "pricing_page_view", "2026-01-29T12:00:00Z"),  # the first three of the 29th
    ("5", "acme.com", "", "pricing_page_view", "2026-01-30T00:00:00Z"),  # the 30th
    ("5", "acme.com", "", "pricing_page_view", "2026-01-30T00:00:00Z"),  # the same id again
    ("6", "acme.com", "", "demo_request", "2026-01-31T00:00:01Z"),  # after the as-of instant
    ("7", "", "ann@beta.io", "security_doc_view", "2026-01-31"),  # at the as-of instant
    ("8", "", "BOB@beta.io", "security_doc_view", "2026-01-17T00:00:00Z"),  # exactly 14 days before
    ("9", "", "carl@beta.io", "demo_request", "2026-01-30T12:00:00Z"),
    ("10", "", "dora@gmail.com", "demo_request", "2026-01-30T12:00:00Z"),  # free mail: nobody's
    ("11", "gamma.co.uk", "", "careers_page_view", "2026-01-30T12:00:00Z"),
    ("12", "", "eve@gamma.co.uk", "webinar_view", "2026-01-30T12:00:00Z"),  # not a signal
]


def w(at: str) -> float:
    moment = datetime.fromisoformat(at)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return 0.5 ** ((AS_OF - moment).total_seconds() / 86400 / 14)


EXPECTED = {  # domain: (intent_score, buying_group)
    "acme.com": (duck_round2(10 * (w("2026-01-29T12:00:00Z") + 2 * w("2026-01-29T23:59:59Z") + w("2026-01-30T00:00:00Z"))),
                 "false"),
    "beta.io": (duck_round2(5 + 5 * 0.5 + 30 * w("2026-01-30T12:00:00Z") + 20), "true"),
    "gamma.co.uk": (0.0, "false"),
    "quiet.com": (0.0, "false"),
    "gmail.com": (0.0, "false"),
}


def write_events(path: Path, rows: list[tuple[str, ...]], header: str = "event_id,domain,email,type,occurred_at") -> Path:
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    write_events(tmp_path / "events.csv", EVENTS)
    return tmp_path


def read_scores(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {r["domain"]: r for r in csv.DictReader(f)}


def one_line(text: str) -> str:
    return " ".join(text.split())


def score(files: Path, *args: str, profile: str = INTENT, events: str | None = "events.csv",
          as_of: str = "2026-01-31") -> subprocess.CompletedProcess[str]:
    """``icp score`` of accounts.csv into O.csv, with ``events`` as of ``as_of``."""
    given = ("-e", events) if events else ()
    return icp("score", "-p", profile, "-a", "accounts.csv", *given, "--as-of", as_of, "-o", "O.csv", *args, cwd=files)


def test_score_with_events_as_of_a_date(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")  # the machine's zone must not matter
    run = icp("score", "--profile", INTENT, "--accounts", "accounts.csv", "--events", "events.csv",
              "--as-of", "2026-01-31", "--out", "O.csv", cwd=files)
    assert run.returncode == 0, run.stderr
    scores = read_scores(files / "O.csv")
    assert {"domain", "intent_score", "buying_group"} <= set(next(iter(scores.values())))
    assert set(scores) == set(EXPECTED)
    for domain, (score, group) in EXPECTED.items():
        text = scores[domain]["intent_score"]
        assert float(text) == score and len(text.partition(".")[2]) <= 2, (domain, text, score)
        assert scores[domain]["buying_group"] == group, domain
    assert EXPECTED["beta.io"][1] == "true" and 0 < EXPECTED["acme.com"][0] < 40


def test_as_of_with_an_offset_and_json_lines_give_the_same_scores(files: Path) -> None:
    keys = ("event_id", "domain", "email", "type", "occurred_at")
    (files / "events.jsonl").write_text("".join(json.dumps(dict(zip(keys, r))) + "\n" for r in EVENTS), encoding="utf-8")
    run = score(files, "-q", events="events.jsonl", as_of="2026-01-31T01:00:00+01:00")
    assert run.returncode == 0, run.stderr
    scores = read_scores(files / "O.csv")
    assert {d: (float(r["intent_score"]), r["buying_group"]) for d, r in scores.items()} == EXPECTED


@pytest.mark.parametrize("header,bad_row,where,what", [
    ("event_id,domain,email,type,Timestamp", ("x", "acme.com", "", "demo_request", "yesterday"),
     "row 3, column 'Timestamp'", "cannot read 'yesterday' as a timestamp"),
    ("event_id,domain,email,type,occurred_at", ("x", "acme.com", "", "", "2026-01-30"), "row 3, column 'type'",
     "the event type is missing"),
    ("event_id,domain,email,type,occurred_at", ("x", "", "", "demo_request", "2026-01-30"), "row 3, column 'domain'",
     "neither a domain nor an e-mail"),
])
def test_bad_events_exit_1_with_file_row_and_column(files: Path, header: str, bad_row: tuple[str, ...], where: str,
                                                    what: str) -> None:
    write_events(files / "bad.csv", [*EVENTS[:2], bad_row, *EVENTS[2:]], header)
    run = score(files, events="bad.csv")
    assert run.returncode == 1, run.stderr
    message = one_line(run.stderr)
    assert f"bad.csv, {where}" in message and what in message, message
    assert not (files / "O.csv").exists()


def test_events_without_an_occurred_at_column(files: Path) -> None:
    write_events(files / "bad.csv", [r[:4] for r in EVENTS], "event_id,domain,email,type")
    run = score(files, events="bad.csv")
    assert run.returncode == 1, run.stderr
    message = one_line(run.stderr)
    assert "bad.csv" in message and "'occurred_at'" in message, message
    assert not (files / "O.csv").exists()


def test_events_that_cannot_count_are_named_in_a_warning(files: Path) -> None:
    # the types are right but every event is after the as-of instant: all scores 0, and a warning says why
    run = score(files, as_of="2025-01-01")
    assert run.returncode == 0, run.stderr
    message = one_line(run.stderr)
    assert "no account has intent" in message and "pricing_page_view" in message and "2025-01-01" in message, message
    assert {float(r["intent_score"]) for r in read_scores(files / "O.csv").values()} == {0.0}


def test_intent_profile_without_events(files: Path) -> None:
    run = score(files, events=None)
    assert run.returncode == 1 and "--events" in run.stderr, run.stderr
    assert not (files / "O.csv").exists()


@pytest.mark.parametrize("as_of", ["garbage", "2026-02-30", "31/01/2026"])
def test_as_of_garbage(files: Path, as_of: str) -> None:
    run = score(files, as_of=as_of)
    assert run.returncode == 1 and "--as-of" in run.stderr and as_of in run.stderr, run.stderr
    assert not (files / "O.csv").exists()


def test_personas_need_contacts_and_read_them(files: Path) -> None:
    profile = (Path(INTENT).read_text(encoding="utf-8") + "\npersonas:\n"
               "  - {name: buyer, when: {field: title, contains_any: [vp]}, points: 10}\n"
               "committee: {roles: [buyer]}\n")
    (files / "p.yaml").write_text(profile, encoding="utf-8")
    run = score(files, profile="p.yaml")
    assert run.returncode == 1 and "--contacts" in run.stderr, run.stderr
    (files / "contacts.csv").write_text("email,Job Title\nann@acme.com,VP Sales\n", encoding="utf-8")
    run = score(files, "--contacts", "contacts.csv", "-q", profile="p.yaml")
    assert run.returncode == 0, run.stderr
    acme = read_scores(files / "O.csv")["acme.com"]
    assert acme["personas"] == "buyer*" and acme["committee_engaged"] == "1.0"
    assert float(acme["intent_score"]) == round(EXPECTED["acme.com"][0] + 10, 2)


def test_the_summary_says_what_was_read_of_the_events(files: Path) -> None:
    run = score(files)
    assert run.returncode == 0, run.stderr
    # 12 ids; not read: one after the as-of instant, one of a type the profile does not use
    line = one_line(run.stdout)
    assert "Events: 10 read" in line and "1 repeated id ignored" in line and "1 event without an account" in line, line


def test_explain_shows_intent_from_the_last_run(files: Path) -> None:
    run = score(files, "-q")
    assert run.returncode == 0, run.stderr
    run = icp("explain", "beta.io", cwd=files)  # the last run's profile, accounts, events and as-of instant
    assert run.returncode == 0, run.stderr
    line = one_line(run.stdout)
    assert f"intent score {EXPECTED['beta.io'][0]:g}, buying group of 3" in line, line
    assert "3 people viewed security docs or asked for a demo in the last 14 days (+20)" in line, line


def test_events_types_lists_what_signals_can_name(files: Path) -> None:
    run = icp("events", "types", "events.csv", cwd=files)
    assert run.returncode == 0, run.stderr
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:7]]
            for line in run.stdout.splitlines() if line.startswith("│")}
    # demo_request: ids 6, 9 and 10; two accounts (the free-mail one is nobody's), two people
    assert rows["demo_request"] == ["3", "2", "2", "2026-01-30", "2026-01-31"], rows
    assert rows["pricing_page_view"][0] == "5" and "webinar_view" in rows  # id 5 once; every type, used or not
    run = icp("events", "types", cwd=files)  # no file, and nothing stored
    assert run.returncode == 1 and "icp events load" in run.stderr, run.stderr


def test_backtest_of_intent_sees_only_events_before_the_as_of_instant(tmp_path: Path) -> None:
    # won accounts asked for a demo before 2026-01-31; lost ones only after it
    lines = ["domain,won"] + [f"a{i}.com,{'yes' if i % 2 == 0 else 'no'}" for i in range(60)]
    (tmp_path / "history.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_events(tmp_path / "events.csv", [
        (str(i), f"a{i}.com", "", "demo_request", "2026-01-20T10:00:00Z" if i % 2 == 0 else "2026-02-10T10:00:00Z")
        for i in range(60)])

    def auc(*as_of: str) -> float:
        run = icp("backtest", "-p", INTENT, "-d", "history.csv", "-l", "won", "-e", "events.csv", *as_of,
                  "--json", "bt.json", cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        return float(json.loads((tmp_path / "bt.json").read_text())["auc"])

    assert auc("--as-of", "2026-01-31") == 1.0
    assert auc("--as-of", "2026-03-01") < 0.7  # scored after the fact, both kinds asked for a demo
    run = icp("backtest", "-p", INTENT, "-d", "history.csv", "-l", "won", "-e", "events.csv", cwd=tmp_path)
    assert run.returncode == 1 and "--as-of" in run.stderr, run.stderr


# -- times no reader can hold (issue 10) ---------------------------------------------------------------

def typed_events(path: Path, times: list[str]) -> Path:
    """A Parquet events file whose times are typed timestamps (numpy spells any year)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    micros = np.array(times, dtype="datetime64[us]").astype("int64")
    pq.write_table(pa.table({"event_id": [f"t{i}" for i in range(len(times))], "domain": ["acme.com"] * len(times),
                             "type": ["demo_request"] * len(times),
                             "occurred_at": pa.array(micros, pa.timestamp("us"))}), path)
    return path


@pytest.mark.parametrize("year", ["0000", "99999", "1899"])
def test_events_load_refuses_times_outside_1900_to_2200_and_the_store_stays_readable(files: Path,
                                                                                      year: str) -> None:
    assert icp("events", "load", "events.csv", "-w", "ws", cwd=files).returncode == 0
    typed_events(files / "typed.parquet", ["2026-01-05T10:00:00", f"{year}-06-01T00:00:00", "2026-01-06T10:00:00"])
    run = icp("events", "load", "typed.parquet", "-w", "ws", cwd=files)
    assert run.returncode == 1, run.stderr
    message = one_line(run.stderr)
    assert "typed.parquet, row 2, column 'occurred_at'" in message and "outside the years 1900-2200" in message
    types = icp("events", "types", "-w", "ws", cwd=files)  # once stored, such a time broke this for good
    assert types.returncode == 0, types.stderr
    assert "demo_request" in types.stdout and "2026-01-31" in types.stdout  # the first load, and nothing more
    run = icp("events", "load", "typed.parquet", "-w", "ws", "--on-error", "skip", cwd=files)
    assert run.returncode == 0 and "2 new events stored" in one_line(run.stdout), run.stdout + run.stderr
    assert icp("events", "types", "-w", "ws", cwd=files).returncode == 0
    run = icp("events", "types", "typed.parquet", cwd=files)
    assert run.returncode == 1 and "row 2" in run.stderr, run.stderr


@pytest.mark.parametrize("when,ok", [
    ("1900-01-01T00:00:00Z", True), ("2200-12-31T23:59:59Z", True), ("1899-12-31T23:59:59Z", False),
    ("2201-01-01", False), ("1900-01-01T00:30:00+01:00", False),  # 23:30 UTC on the last day of 1899
    ("0001-01-01", False), ("9999-12-31T23:59:59Z", False),
])
def test_scoring_refuses_event_times_outside_1900_to_2200(files: Path, when: str, ok: bool) -> None:
    write_events(files / "e.csv", [*EVENTS[:3], ("x", "acme.com", "", "demo_request", when), *EVENTS[3:]])
    run = score(files, "-q", events="e.csv", as_of="2300-01-01")  # every time is before it: each one is read
    if ok:
        assert run.returncode == 0, run.stderr
    else:
        assert run.returncode == 1, run.stderr
        message = one_line(run.stderr)
        assert f"e.csv, row 4, column 'occurred_at': the time '{when}' is outside the years 1900-2200" in message
        assert not (files / "O.csv").exists()
