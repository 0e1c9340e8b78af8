"""Intent scoring of N accounts from M events with examples/intent.yaml, as of a fixed instant:
icpkit against a hand-written DuckDB query of the same rules; then incremental rescoring.

    .venv/bin/python bench/bench_intent.py [--events 100000000] [--accounts 1000000] [--repeat 3]

1. **Intent scores.** icpkit does what ``icp score`` does for the intent part: it reads the
   events Parquet with the backend's ``prepare_events`` and the events the profile needs
   (``needed_events``: its types, up to the as-of instant; first copies of each id, normalised
   and checked, as the view ``icp_events``), then compiles ``intent_plan`` and runs it into a
   temporary table (one row per account). The baseline is one hand-written DuckDB
   statement of the same rules, from the same Parquet file into a temporary table. Both run
   in this process on the same DuckDB connection (the backend's, with its settings); they take
   turns within each repeat, and the median is reported. Both results are then compared on
   every account. ``icpkit.api.score_to`` (accounts and events Parquet in, scores Parquet out)
   is timed once, end to end, in a child process (``--skip-score-to`` leaves it out).
2. **Incremental rescoring.** A batch of ``--batch`` new events touching a few thousand
   accounts is read with ``prepare_events`` and appended to the events icpkit read in part 1
   (ids already held are not added again). Then ``intent_plan(..., only=<the batch's
   domains>)`` over those events (batch included) is timed against a full rescore, and the rescored accounts are checked
   against the full rescore's values.

Peak memory is this process's ``VmHWM``, reset before each run (``/proc/self/clear_refs``), so
it is the peak during that run (it includes what the process held when the run started, shown
as "at start"). With ``--explain`` every statement of both approaches is profiled once more
(DuckDB's JSON profile, saved to ``bench/out/explain-intent-<M>/``) and the costliest operators
are printed. The events are written once to ``bench/out/events-<M>-<N>.parquet`` (git-ignored),
chunk by chunk, and reused while the parameters are the same.

The events: account activity is log-normal (most accounts have a few events, some tens of
thousands); 45% of the events carry only a domain, 30% a domain and an e-mail, 20% only an
e-mail of the account's domain, 5% only a free-mail address (not attributed); 1% of the rows
repeat an event id (an exact copy, as a re-delivered event is); the times cover the 180 days
before the as-of instant, denser towards it, and 0.5% fall in the 7 days after it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, REPO, _q, ensure_input, icpkit_source, median, peak_mb, rate, rel  # noqa: E402

from icpkit.scoring.plan import utc_naive  # noqa: E402

PROFILE = REPO / "examples" / "intent.yaml"
AS_OF = datetime(2026, 1, 31, 12, 0, 0, tzinfo=UTC)  # a fixed instant (noon: the as-of day is cut in two)
GENERATOR = "intent-events-v1"  # bump when the generated events change
CHUNK = 2_000_000  # events generated and written at a time

TYPES = ["pricing_page_view", "security_doc_view", "demo_request", "careers_page_view",
         "blog_view", "email_open", "webinar_registration", "product_login"]
TYPE_SHARES = [0.30, 0.08, 0.015, 0.08, 0.25, 0.20, 0.05, 0.025]
FIRST = ["anna", "ben", "carla", "dev", "emma", "farid", "grace", "hugo", "ines", "jon", "kim", "liam", "maya",
         "nils", "olga", "pablo", "quinn", "rosa", "sam", "tara", "umar", "vera", "will", "xia", "yusuf", "zoe"]
LAST = ["smith", "garcia", "chen", "muller", "rossi", "dubois", "khan", "silva", "novak", "tanaka", "olsen",
        "kowalski", "nguyen", "cohen", "murphy", "singh", "ivanova", "berg", "costa", "haddad"]
FREE = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com"]

# ------------------------------------------------------------------- the hand-written baseline

HAND_SQL = """
CREATE OR REPLACE TEMP TABLE bench_hand_intent AS
WITH ev AS (  -- the account: the event's domain, else its e-mail's unless that is free mail
  SELECT event_id, lower(type) AS type, occurred_at, lower(email) AS email,
         coalesce(domain, CASE WHEN split_part(lower(email), '@', 2) IN ({free_mail}) THEN NULL
                               ELSE nullif(split_part(lower(email), '@', 2), '') END) AS domain
  FROM read_parquet({events})
),
relevant AS (  -- attributed events of the listed types up to the as-of instant, each id once
  SELECT * FROM ev
  WHERE domain IS NOT NULL AND occurred_at <= {at}
    AND type IN ('pricing_page_view', 'demo_request', 'security_doc_view', 'careers_page_view')
  QUALIFY row_number() OVER (PARTITION BY event_id) = 1
),
counted AS (  -- pricing page views: only the first 3 per account and UTC day
  SELECT domain, type, occurred_at FROM relevant WHERE type <> 'pricing_page_view'
  UNION ALL
  SELECT domain, type, occurred_at FROM relevant WHERE type = 'pricing_page_view'
  QUALIFY row_number() OVER (PARTITION BY domain, occurred_at::DATE ORDER BY occurred_at, event_id) <= 3
),
per_type AS (  -- points x 0.5 ^ (age in days / 14)
  SELECT domain, type, count(*) AS n,
         sum(CASE type WHEN 'pricing_page_view' THEN 10.0 WHEN 'demo_request' THEN 30.0
                       WHEN 'security_doc_view' THEN 5.0 ELSE -15.0 END
             * pow(0.5, (epoch({at}) - epoch(occurred_at)) / 86400.0 / 14.0)) AS points
  FROM counted GROUP BY domain, type
),
per_account AS (
  SELECT domain, sum(points) AS signal_points,
         string_agg(type || ' x' || n || ' (' || {signed} || ')', '; ' ORDER BY abs(points) DESC, type) AS signal_text
  FROM per_type GROUP BY domain
),
buying_group AS (  -- >= 3 people with a security doc view or a demo request in the 14 days before
  SELECT domain, count(DISTINCT email) AS people FROM relevant
  WHERE type IN ('security_doc_view', 'demo_request') AND email IS NOT NULL
    AND occurred_at >= {at} - INTERVAL 14 DAY
  GROUP BY domain HAVING count(DISTINCT email) >= 3
)
SELECT coalesce(a.domain, g.domain) AS domain,
       round(greatest(least(coalesce(a.signal_points, 0) + CASE WHEN g.people IS NULL THEN 0 ELSE 20 END,
                            100), 0), 2) AS intent_score,
       g.people IS NOT NULL AS buying_group, coalesce(g.people, 0) AS buying_group_people,
       concat_ws('; ', g.people || ' people viewed security docs or asked for a demo in the last 14 days (+20)',
                 a.signal_text) AS intent_reasons
FROM per_account a FULL JOIN buying_group g ON a.domain = g.domain
"""

# points rounded to 1 decimal with their sign, without ".0" (as in icpkit's reasons)
SIGNED = ("CASE WHEN round(points, 1) >= 0 THEN '+' ELSE '' END || CASE WHEN round(points, 1) = "
          "round(points, 1)::BIGINT THEN round(points, 1)::BIGINT::VARCHAR ELSE round(points, 1)::VARCHAR END")


def hand_sql(events: Path) -> str:
    from icpkit.intent.events import FREE_MAIL  # the analyst pastes the same list of providers

    return HAND_SQL.format(events=_q(events), at=f"TIMESTAMP '{utc_naive(AS_OF):%Y-%m-%d %H:%M:%S}'",
                           free_mail=", ".join(_q(d) for d in sorted(FREE_MAIL)), signed=SIGNED)


# ---------------------------------------------------------------------------------- the events

def events_path(n_events: int, n_accounts: int) -> Path:
    return OUT / f"events-{n_events}-{n_accounts}.parquet"


def batch_path(n_batch: int, n_events: int, n_accounts: int) -> Path:
    return OUT / f"events-batch-{n_batch}-{n_events}-{n_accounts}.parquet"


def ensure_events(n_events: int, n_accounts: int, n_batch: int, seed: int = 11) -> tuple[Path, Path, Path]:
    """The accounts, the events and the batch of new events: written once, reused while the
    parameters (kept in the Parquet metadata) are the same."""
    import pyarrow.parquet as pq

    accounts = ensure_input(n_accounts)
    wanted = {"generator": GENERATOR, "events": n_events, "accounts": n_accounts, "seed": seed,
              "as_of": AS_OF.isoformat()}
    main, batch = events_path(n_events, n_accounts), batch_path(n_batch, n_events, n_accounts)
    for path, params in ((main, wanted), (batch, wanted | {"batch": n_batch})):
        if path.exists():
            meta = pq.ParquetFile(path).schema_arrow.metadata or {}
            if json.loads(meta.get(b"icpkit-bench", b"{}")) == params:
                continue
        started = time.perf_counter()
        domains = pq.read_table(accounts, columns=["domain"]).column("domain").combine_chunks()
        write_events(path, params, domains)
        print(f"Wrote {rel(path)} ({path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.0f} s",
              flush=True)
    return accounts, main, batch


def write_events(path: Path, params: dict[str, Any], domains: Any) -> None:
    """Write the events (or, with ``batch`` in ``params``, the batch of new events) chunk by chunk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    n_events, seed, batch = params["events"], params["seed"], params.get("batch")
    rng = np.random.default_rng([seed, 0])  # the same account weights for the events and the batch
    n_acc = len(domains)
    weight = rng.lognormal(0.0, 2.0, n_acc)
    expected = weight / weight.sum() * n_events  # events per account
    people = np.clip(np.round(2 + np.sqrt(expected) / 2), 2, 60).astype(np.int64)
    cum = np.cumsum(weight / weight.sum())
    unique_total = round(n_events / 1.01)
    if batch:
        rng = np.random.default_rng([seed, 2])
        touched = rng.choice(n_acc, size=3000, replace=False, p=weight / weight.sum())
        sizes, first_id, ages = [batch], unique_total, (0.0, 3.0)
    else:
        rng = np.random.default_rng([seed, 1])
        touched = None
        sizes = [min(CHUNK, n_events - i) for i in range(0, n_events, CHUNK)]
        first_id, ages = 0, (0.0, 180.0)
    schema = pa.schema([("event_id", pa.string()), ("type", pa.string()), ("occurred_at", pa.timestamp("us")),
                        ("domain", pa.string()), ("email", pa.string())],
                       metadata={"icpkit-bench": json.dumps(params)})
    at_us = int(utc_naive(AS_OF).replace(tzinfo=UTC).timestamp()) * 1_000_000
    types, first, last = pa.array(TYPES), pa.array(FIRST), pa.array(LAST)
    free = pa.array(FREE)
    tmp = path.with_name(path.name + ".tmp")
    next_id = first_id
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for size in sizes:
                k = round(size / 1.01)  # unique events; the rest repeat some of them
                if touched is None:
                    acc = np.minimum(np.searchsorted(cum, rng.random(k)), n_acc - 1)
                else:
                    acc = touched[rng.integers(0, len(touched), k)]
                gid = np.arange(next_id, next_id + k, dtype=np.uint64)
                next_id += k
                scrambled = gid * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x632BE59BD9B4E019)  # a bijection
                event_id = pc.binary_join_element_wise("evt_", pa.array(scrambled).cast(pa.string()), "")
                kind = rng.random(k)  # < .45 domain only, < .75 domain and e-mail, < .95 e-mail only, else free mail
                person = np.floor(rng.random(k) ** 1.5 * people[acc]).astype(np.int64)
                local = pc.binary_join_element_wise(
                    first.take(pa.array(person % len(FIRST))), last.take(pa.array((person // len(FIRST) + acc)
                                                                                  % len(LAST))), ".")
                dom = domains.take(pa.array(acc))
                free_dom = free.take(pa.array(rng.integers(0, len(FREE), k)))
                work_mail = pc.binary_join_element_wise(local, dom, "@")
                free_mail = pc.binary_join_element_wise(
                    pc.binary_join_element_wise(local, pa.array(acc % 97).cast(pa.string()), ""), free_dom, "@")
                email = pc.if_else(pa.array(kind < 0.45), pa.nulls(k, pa.string()),
                                           pc.if_else(pa.array(kind < 0.95), work_mail, free_mail))
                domain = pc.if_else(pa.array(kind < 0.75), dom, pa.nulls(k, pa.string()))
                lo, hi = ages
                age_days = lo + (hi - lo) * rng.random(k) ** 1.5
                later = rng.random(k) < (0.005 if touched is None else 0.0)
                offset = np.where(later, -rng.random(k) * 7, age_days) * 86400e6
                when = pa.array(at_us - offset.astype(np.int64), pa.timestamp("us"))
                typ = types.take(pa.array(rng.choice(len(TYPES), k, p=TYPE_SHARES)))
                table = pa.table([event_id, typ, when, domain, email], schema=schema)
                again = rng.integers(0, k, size - k)  # re-delivered events: exact copies, later in the file
                table = pa.concat_tables([table, table.take(pa.array(again))])
                writer.write_table(table, row_group_size=1 << 20)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- measuring helpers

def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ``clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@contextmanager
def measured(into: dict[str, Any]) -> Iterator[None]:
    """Time the block, its peak memory (VmHWM since a reset) and the load around it."""
    into["load"] = [os.getloadavg()[0]]
    into["rss_start_mb"] = rss_mb()
    into["peak_reset"] = reset_peak()
    started = time.perf_counter()
    yield
    into["seconds"] = time.perf_counter() - started
    into["peak_mb"] = peak_mb()
    into["load"].append(os.getloadavg()[0])


class Statements:
    """Records each statement the backend runs (its kind and seconds), and, while ``profile_dir``
    is set, profiles each one into its own JSON file. Instrumentation of this backend instance
    only: its ``_run`` and ``rows`` methods are wrapped, icpkit is unchanged."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.log: list[tuple[str, float]] = []
        self.profile_dir: Path | None = None
        self.profiles: list[tuple[str, Path]] = []
        for name in ("_run",):
            setattr(backend, name, self._wrap(getattr(backend, name)))

    def _wrap(self, method: Callable[[str], Any]) -> Callable[[str], Any]:
        def run(sql: str) -> Any:
            kind = statement_kind(sql)
            prof = None
            if self.profile_dir is not None and kind != "other":
                prof = self.profile_dir / f"{len(self.profiles) + 1:02d}-{kind.split(':')[0].replace(' ', '_')}.json"
                self.backend.con.execute("SET enable_profiling='json'")
                self.backend.con.execute(f"SET profiling_output={_q(str(prof))}")
            started = time.perf_counter()
            try:
                return method(sql)
            finally:
                self.log.append((kind, time.perf_counter() - started))
                if prof is not None:
                    self.backend.con.execute("PRAGMA disable_profiling")
                    self.profiles.append((kind, prof))
        return run

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for kind, sec in self.log:
            out[kind] = out.get(kind, 0.0) + sec
        return out


def statement_kind(sql: str) -> str:
    s = " ".join(sql.split())[:200]
    for marker, kind in (("TEMP VIEW icp_events_raw", "raw view"),
                         ("TEMP TABLE icp_event_copies AS", "ids seen twice (all rows)"),
                         ("TEMP TABLE icp_events_read AS", "events read (first copies of needed ones)"),
                         ("FROM icp_events_read e JOIN icp_events_raw", "bad-value checks (3)"),
                         ("TEMP TABLE bench_icp_intent AS", "intent plan"),
                         ("TEMP TABLE bench_hand_intent AS", "hand-written query")):
        if marker in s:
            return kind
    return "other"


# ---------------------------------------------------------------------------------- the runs

def run_icpkit(backend: Any, profile: Any, events: Path) -> None:
    """What ``icp score`` does for the intent part: read the events the profile needs, run
    the intent plan."""
    from icpkit.intent.plan import intent_plan, needed_events
    from icpkit.intent.reader import read_events

    ev = read_events(backend, events, needed=needed_events(profile, AS_OF))
    backend.materialize("bench_icp_intent", intent_plan(profile.intent, ev.table, utc_naive(AS_OF)))


def drop(backend: Any, *names: str) -> None:
    """Drop these tables or views, and the events' raw view."""
    for name in (*names, "icp_events_raw"):
        kind = backend.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                                   [name]).fetchall()
        if kind:
            backend.con.execute(f"DROP {'VIEW' if kind[0][0] == 'VIEW' else 'TABLE'} {name}")


def compare(con: Any, a: str, b: str) -> dict[str, Any]:
    """Accounts of tables ``a`` and ``b`` (domain, intent_score, buying_group, buying_group_people,
    intent_reasons) and how many differ, column by column."""
    row = con.execute(f"""
        SELECT count(*),
          count(*) FILTER (WHERE a.domain IS NULL), count(*) FILTER (WHERE b.domain IS NULL),
          count(*) FILTER (WHERE a.intent_score IS DISTINCT FROM b.intent_score),
          max(abs(a.intent_score - b.intent_score)),
          count(*) FILTER (WHERE a.buying_group IS DISTINCT FROM b.buying_group),
          count(*) FILTER (WHERE a.buying_group_people IS DISTINCT FROM b.buying_group_people),
          count(*) FILTER (WHERE a.intent_reasons IS DISTINCT FROM b.intent_reasons)
        FROM {a} a FULL JOIN {b} b ON a.domain = b.domain""").fetchall()[0]
    keys = ("accounts", "only_in_b", "only_in_a", "intent_score", "max_score_diff", "buying_group",
            "buying_group_people", "intent_reasons")
    out = dict(zip(keys, row))
    if any(out[k] for k in keys[1:] if k != "max_score_diff"):
        out["examples"] = con.execute(f"""
            SELECT coalesce(a.domain, b.domain), a.intent_score, b.intent_score, a.intent_reasons, b.intent_reasons
            FROM {a} a FULL JOIN {b} b ON a.domain = b.domain
            WHERE a.domain IS NULL OR b.domain IS NULL OR a.intent_score IS DISTINCT FROM b.intent_score
               OR a.buying_group_people IS DISTINCT FROM b.buying_group_people
               OR a.intent_reasons IS DISTINCT FROM b.intent_reasons
            LIMIT 5""").fetchall()
    return out


def agreement_line(res: dict[str, Any], a: str, b: str) -> str:
    n = res["accounts"]
    diffs = {k: res[k] for k in ("only_in_a", "only_in_b", "intent_score", "buying_group", "buying_group_people",
                                 "intent_reasons")}
    if not any(diffs.values()):
        return f"identical on all {n:,} accounts (score, buying group, people, reasons)"
    text = ", ".join(f"{k}: {v:,}" for k, v in diffs.items() if v)
    return (f"DIFFERENCES among {n:,} accounts ({text}; largest score difference {res['max_score_diff']}); "
            f"examples (domain, {a} score, {b} score, {a} reasons, {b} reasons): {res.get('examples')}")


def profile_summary(path: Path, top: int = 8) -> list[str]:
    """The costliest operators of a DuckDB JSON profile, one line each."""
    doc = json.loads(path.read_text())
    nodes: list[tuple[float, str, int, str]] = []

    def walk(node: dict[str, Any]) -> None:
        extra = node.get("extra_info") or {}
        brief = "; ".join(f"{k}: {v if isinstance(v, str) else ', '.join(map(str, v))}"[:110]
                          for k, v in extra.items() if k in ("Partition By", "Order By", "Groups", "Aggregates",
                                                             "Function", "Join Type", "Conditions", "Table",
                                                             "Filters", "Projections") and v)
        nodes.append((float(node.get("timing") or 0.0), node.get("type", "?"), int(node.get("intermediate_rows") or 0),
                      brief))
        for child in node.get("children", []):
            walk(child)

    for op in doc.get("operator", []) if isinstance(doc.get("operator"), list) else [doc]:
        walk(op)
    q, system = doc.get("query", {}), doc.get("system", {})
    lines = [f"wall {q.get('total_time', 0):.2f} s, operator time {q.get('cpu_time', 0):.2f} s, peak buffer memory "
             f"{system.get('peak_buffer_memory', 0) / 2**20:,.0f} MB, peak temp dir {system.get('peak_temp_dir_size', 0) / 2**20:,.0f} MB"]
    for sec, typ, rows, brief in sorted(nodes, reverse=True)[:top]:
        lines.append(f"  {sec:8.2f} s  {typ:28} {rows:>13,} rows  {brief[:240]}")
    return lines


# --------------------------------------------------------------------------------- main parts

def intent_scores(backend: Any, stmts: Statements, profile: Any, events: Path, repeat: int) -> dict[str, Any]:
    names = ("icpkit", "hand")
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    breakdown: list[dict[str, float]] = []
    hand = hand_sql(events)
    for rep in range(repeat):
        # Take turns; the last repeat ends with icpkit, whose events the incremental part reuses.
        order = names if (repeat - 1 - rep) % 2 else names[::-1]
        for name in order:
            res: dict[str, Any] = {}
            if name == "icpkit":
                drop(backend, "icp_events", "icp_events_read", "icp_event_copies", "bench_icp_intent")
                stmts.log.clear()
                with measured(res):
                    run_icpkit(backend, profile, events)
                breakdown.append(stmts.summary())
            else:
                drop(backend, "bench_hand_intent")
                with measured(res):
                    backend._run(hand)
            runs[name].append(res)
            print(f"  run {rep + 1}/{repeat} {name:7} {res['seconds']:8.2f} s  peak {res['peak_mb']:7,.0f} MB "
                  f"(at start {res['rss_start_mb']:,.0f} MB)  load {res['load'][0]:.1f}-{res['load'][1]:.1f}",
                  flush=True)
    return {"runs": runs, "breakdown": breakdown}


def incremental(backend: Any, intent: Any, batch: Path, repeat: int) -> dict[str, Any]:
    """Append the batch to the events, then rescore only its accounts and rescore all."""
    from icpkit.intent.plan import intent_plan

    con = backend.con
    con.execute("CREATE OR REPLACE TEMP TABLE bench_events AS SELECT * FROM icp_events")
    started = time.perf_counter()
    from icpkit.intent.reader import loaded_events, read_events

    read = loaded_events(backend, read_events(backend, batch))
    con.execute("INSERT INTO bench_events SELECT * FROM icp_events e WHERE NOT EXISTS "
                "(SELECT 1 FROM bench_events s WHERE s.event_id = e.event_id)")
    con.execute("CREATE OR REPLACE TEMP TABLE bench_batch_domains AS SELECT DISTINCT domain FROM icp_events "
                "WHERE domain IS NOT NULL")
    load_seconds = time.perf_counter() - started
    n_domains = con.execute("SELECT count(*) FROM bench_batch_domains").fetchall()[0][0]
    events = backend._ref("bench_events")
    only = backend._ref("bench_batch_domains")
    full_sql = backend.compile(intent_plan(intent, events, utc_naive(AS_OF)))
    only_sql = backend.compile(intent_plan(intent, events, utc_naive(AS_OF), only=only))
    runs: dict[str, list[dict[str, Any]]] = {"only": [], "full": []}
    for rep in range(repeat):
        for name in ("only", "full") if rep % 2 == 0 else ("full", "only"):
            res: dict[str, Any] = {}
            sql = only_sql if name == "only" else full_sql
            with measured(res):
                backend._run(f"CREATE OR REPLACE TEMP TABLE bench_{name} AS {sql}")
            runs[name].append(res)
            print(f"  run {rep + 1}/{repeat} {name:5} {res['seconds']:8.2f} s  peak {res['peak_mb']:7,.0f} MB  "
                  f"load {res['load'][0]:.1f}-{res['load'][1]:.1f}", flush=True)
    # The rescored accounts against the full rescore's rows of the batch's accounts.
    con.execute("CREATE OR REPLACE TEMP TABLE bench_full_batch AS SELECT * FROM bench_full "
                "WHERE domain IN (SELECT domain FROM bench_batch_domains)")
    same = compare(con, "bench_only", "bench_full_batch")
    changed = con.execute("SELECT count(*) FROM bench_full f FULL JOIN bench_icp_intent p ON f.domain = p.domain "
                          "WHERE f.intent_score IS DISTINCT FROM p.intent_score").fetchall()[0][0]
    outside = con.execute("SELECT count(*) FROM bench_only WHERE domain NOT IN "
                          "(SELECT domain FROM bench_batch_domains)").fetchall()[0][0]
    stored = con.execute("SELECT count(*) FROM bench_events").fetchall()[0][0]
    return {"runs": runs, "read": dataclasses.asdict(read), "load_seconds": load_seconds, "domains": n_domains,
            "agreement": same, "changed_by_batch": changed, "outside_batch": outside, "events_after": stored}


def explain(backend: Any, stmts: Statements, profile: Any, events: Path, out_dir: Path) -> None:
    """Profile every statement of both approaches once (not timed) and print the costliest operators."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.glob("*.json"):
        f.unlink()
    drop(backend, "icp_events", "icp_events_read", "icp_event_copies", "bench_events", "bench_full", "bench_only",
         "bench_full_batch")
    stmts.profiles.clear()
    stmts.profile_dir = out_dir
    try:
        backend._run(hand_sql(events))
        run_icpkit(backend, profile, events)
    finally:
        stmts.profile_dir = None
    print(f"\nProfiles (DuckDB JSON, in {rel(out_dir)}/), costliest operators first; operator times add up "
          "the threads:")
    for kind, path in stmts.profiles:
        if not path.exists():
            continue
        print(f"- {kind} ({path.name}):")
        print("\n".join("  " + line for line in profile_summary(path)))


def score_to_child(accounts: Path, events: Path, out: Path) -> dict[str, Any]:
    """``icpkit.api.score_to`` once, in a fresh process (cwd bench/out, where DuckDB may spill)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--only", "score_to", "--accounts-file", str(accounts),
           "--events-file", str(events), "--out-file", str(out)]
    proc = subprocess.run(cmd, cwd=OUT, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stdout + proc.stderr)[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_score_to(accounts: Path, events: Path, out: Path) -> None:
    from icpkit.api import score_to
    from icpkit.workspace import Workspace

    load = [os.getloadavg()[0]]
    started = time.perf_counter()
    run = score_to(PROFILE, accounts, out, events=events, as_of=AS_OF, workspace=Workspace(OUT / ".icp"))
    seconds = time.perf_counter() - started
    load.append(os.getloadavg()[0])
    print(json.dumps({"seconds": seconds, "rows": run.rows, "peak_mb": peak_mb(), "load": load}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000_000, help="event rows (default 100M)")
    ap.add_argument("--accounts", type=int, default=1_000_000, help="accounts (default 1M)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each approach; the median is reported")
    ap.add_argument("--batch", type=int, default=10_000, help="new events of the incremental part")
    ap.add_argument("--explain", action="store_true", help="profile every statement once more and print hot spots")
    ap.add_argument("--skip-score-to", action="store_true", help="leave out the end-to-end score_to run")
    ap.add_argument("--only", help=argparse.SUPPRESS)
    ap.add_argument("--accounts-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--events-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only == "score_to":
        child_score_to(args.accounts_file, args.events_file, args.out_file)
        return

    import pyarrow.parquet as pq

    from icpkit.backends.duckdb import DuckDBBackend
    from icpkit.profile.load import load_profile

    OUT.mkdir(parents=True, exist_ok=True)
    accounts, events, batch = ensure_events(args.events, args.accounts, args.batch)
    rows = pq.ParquetFile(events).metadata.num_rows
    print(f"Events: {rel(events)} ({rows:,} rows, {events.stat().st_size / 1e6:,.0f} MB); accounts: "
          f"{rel(accounts)} ({args.accounts:,}); as of {AS_OF:%Y-%m-%d %H:%M} UTC")
    print(f"icpkit: {icpkit_source()}; profile {rel(PROFILE)}")
    profile = load_profile(PROFILE)
    intent = profile.intent
    assert intent is not None

    backend = DuckDBBackend()
    tmp_dir = OUT / ".tmp"  # where DuckDB spills, for both approaches (its default is .tmp in the cwd)
    backend.con.execute(f"SET temp_directory={_q(str(tmp_dir))}")
    settings = backend.con.execute("SELECT current_setting('threads'), current_setting('memory_limit')").fetchall()[0]
    print(f"DuckDB {backend.con.execute('PRAGMA version').fetchall()[0][0]}: threads {settings[0]}, memory limit "
          f"{settings[1]}, one connection for both approaches; {os.cpu_count()} cores", flush=True)
    stmts = Statements(backend)

    # 1. Intent scores: icpkit against the hand-written query.
    print(f"\n1. Intent scores of {args.accounts:,} accounts from {rows:,} events ({args.repeat} runs each, "
          "taking turns):")
    main_res = intent_scores(backend, stmts, profile, events, args.repeat)
    runs = main_res["runs"]
    med = {n: median([r["seconds"] for r in runs[n]]) for n in runs}
    loads = [x for n in runs for r in runs[n] for x in r["load"]]
    same = compare(backend.con, "bench_icp_intent", "bench_hand_intent")
    steps = {k: median([b.get(k, 0.0) for b in main_res["breakdown"]]) for k in main_res["breakdown"][-1]}
    scored = backend.con.execute("SELECT count(*), count(*) FILTER (WHERE buying_group), avg(intent_score) "
                                 "FROM bench_hand_intent").fetchall()[0]

    # 2. Incremental rescoring of a batch's accounts.
    print(f"\n2. Incremental: a batch of {args.batch:,} new events, rescoring its accounts against all "
          f"({args.repeat} runs each):")
    inc = incremental(backend, intent, batch, args.repeat)
    inc_med = {n: median([r["seconds"] for r in inc["runs"][n]]) for n in inc["runs"]}

    hand_copy = OUT / f"intent-hand-{args.events}.parquet"
    backend.con.execute(f"COPY bench_hand_intent TO {_q(str(hand_copy))} (FORMAT parquet)")
    if args.explain:
        explain(backend, stmts, profile, events, OUT / f"explain-intent-{args.events}")
    backend.close()

    # 3. End to end, once, in a fresh process.
    e2e = None
    if not args.skip_score_to:
        print("\n3. icpkit.api.score_to end to end (accounts + events Parquet in, scores Parquet out), once, in a "
              f"child process (this one now holds {rss_mb():,.0f} MB):", flush=True)
        out = OUT / f"intent-scores-{args.events}.parquet"
        e2e = score_to_child(accounts, events, out)
        if "error" not in e2e:
            import duckdb

            con = duckdb.connect()
            e2e["agreement"] = con.execute(f"""
                SELECT count(*), count(*) FILTER (WHERE s.intent_score = coalesce(h.intent_score, 0))
                FROM read_parquet({_q(str(out))}) s LEFT JOIN read_parquet({_q(str(hand_copy))}) h
                  ON s.domain = h.domain""").fetchall()[0]
            con.close()

    # Report.
    print(f"\nIntent scores of {args.accounts:,} accounts from {rows:,} events, as of {AS_OF:%Y-%m-%d %H:%M} UTC; "
          f"median of {args.repeat} (1-minute load average during the runs: {min(loads):.1f}-{max(loads):.1f} "
          f"on {os.cpu_count()} cores)")
    print(f"{'approach':52} {'seconds':>8} {'events/s':>9} {'peak MB':>8}  runs (s)")
    labels = {"icpkit": "icpkit (prepare_events + intent_plan)", "hand": "hand-written DuckDB SQL (one statement)"}
    for n in ("icpkit", "hand"):
        print(f"{labels[n]:52} {med[n]:>8.2f} {rate(rows, med[n]):>9} "
              f"{median([r['peak_mb'] for r in runs[n]]):>8,.0f}  {[round(r['seconds'], 2) for r in runs[n]]}")
    print("  icpkit's statements (median s): " + "; ".join(f"{k} {v:.2f}" for k, v in steps.items()))
    ratio = med["icpkit"] / med["hand"]
    print(f"icpkit intent / hand-written DuckDB SQL: {ratio:.2f}x  (target <= 1.1x: "
          f"{'met' if ratio <= 1.1 else 'NOT met'})")
    print(f"Agreement, icpkit vs hand-written: {agreement_line(same, 'icpkit', 'hand')}")
    print(f"  ({scored[0]:,} accounts have intent, {scored[1]:,} a buying group, mean score {scored[2]:.2f}; "
          f"the other {args.accounts - scored[0]:,} score 0 in both)")
    r = inc["read"]
    print(f"\nIncremental: batch of {r['rows']:,} rows ({r['events']:,} events, {r['free_mail']:,} free mail) "
          f"touching {inc['domains']:,} accounts; read and appended in {inc['load_seconds']:.2f} s "
          f"({inc['events_after']:,} events after)")
    for n, label in (("only", "rescore the batch's accounts (only=)"), ("full", "full rescore")):
        print(f"  {label:40} {inc_med[n]:8.2f} s  peak {median([x['peak_mb'] for x in inc['runs'][n]]):7,.0f} MB  "
              f"runs {[round(x['seconds'], 2) for x in inc['runs'][n]]}")
    print(f"  speed-up of rescoring only the batch's accounts: {inc_med['full'] / inc_med['only']:.1f}x")
    print(f"  rescored vs full rescore: {agreement_line(inc['agreement'], 'only', 'full')}; rows outside the batch: "
          f"{inc['outside_batch']}; the batch changed {inc['changed_by_batch']:,} accounts' scores")
    if e2e is not None:
        if "error" in e2e:
            print(f"\nscore_to failed:\n{e2e['error']}")
        else:
            total, equal = e2e["agreement"]
            print(f"\nscore_to end to end: {e2e['seconds']:.2f} s, peak {e2e['peak_mb']:,.0f} MB, {e2e['rows']:,} "
                  f"accounts (load {e2e['load'][0]:.1f}-{e2e['load'][1]:.1f}); intent_score equal to the "
                  f"hand-written query's (0 without events) on {equal:,}/{total:,}")
    (OUT / f"intent-results-{args.events}.json").write_text(json.dumps(
        {"events": rows, "accounts": args.accounts, "repeat": args.repeat, "icpkit": icpkit_source(),
         "median": med, "ratio": ratio, "steps": steps, "runs": runs, "agreement": same, "incremental": inc,
         "incremental_median": inc_med, "score_to": e2e}, indent=2, default=str))
    print(f"\n(figures saved to {rel(OUT / f'intent-results-{args.events}.json')})")


if __name__ == "__main__":
    main()
