"""The JSON API server (``icp serve``) under load from a second process on loopback: one
record per request through POST /v1/score, and batches of events through POST /v1/events
into PostgreSQL and DuckDB.

    .venv/bin/python bench/bench_server.py            # ~5 minutes
    .venv/bin/python bench/bench_server.py --quick    # ~1 minute
    .venv/bin/python bench/bench_server.py --cprofile # where the servers' time goes (times inflated)

**The server** runs in its own process with one uvicorn worker, as ``icp serve`` runs it
(``icpkit.server.serve.open_service`` then ``serve.run``: FastAPI under uvicorn with uvloop
and httptools, access log off), started by this script as a child (``--serve-child``): it
opens the store (a fresh workspace's DuckDB file under ``bench/out/``, or a fresh schema of
a PostgreSQL server through ``ICP_DATABASE_URL``), publishes the profile, makes an admin key
and prints it. ``ICP_RATE_LIMIT_PER_S`` is raised to 1,000,000 for the run: the default
(100 requests a second per key) would refuse most of the load, which comes from one key.

**The load** comes from this process: asyncio on uvloop, keep-alive connections,
``Authorization: Bearer <key>``, through a lean HTTP/1.1 client written here on asyncio
streams (``RawClient``: ~0.05 ms of CPU a request). ``--client httpx`` uses
``httpx.AsyncClient`` instead, but it takes 1-2 ms of CPU a request on this machine, so on
2 cores it cannot send 500 requests a second while leaving a core to the server: with it,
the client is what is measured.

1. *One record, seed rubric* (``examples/seed-rubric.yaml``; a record as an export has it,
   e.g. ``{"domain": "acme.com", "industry": "Internet", "employees": "51-200",
   "technologies": "Salesforce; Slack", "country": "United States", "days_since_funding":
   30}``, a new domain per request), with ``?store=false`` (the server parses the body,
   checks the key, reads the active profile version from the store, scores through the
   one-record ``Scorer`` and renders JSON) and stored (the same, then in one transaction
   it reads the account and its tier history, upserts the account and adds a tier change;
   then it reads the ABM split of the tier from the stored accounts), on the DuckDB store
   (the issue's target) and, for comparison, on PostgreSQL:

   - *open loop*: request *i* is sent at ``t0 + i / rate`` whatever happened to the
     earlier ones (each its own task, up to 64 connections), and its latency runs from that
     scheduled instant to the end of the response, so time queued in the server counts.
     "client late" counts requests this process sent more than 5 ms after their slot. When
     more than half a second of requests is outstanding, the server has fallen behind: no
     more are sent, and the ones not sent are counted as "not sent". When the target is not
     met at ``--rate``, lower rates (50, 100, 200, 300, 400 a second, ``--sweep-seconds``
     each) are tried in turn, up to the first that misses it, for the rate one worker holds
     within the target;
   - *closed loop*: ``--connections`` clients each send the next request as soon as the
     last is answered: the throughput one worker holds, and the latency at it.

   The baselines: ``icpkit.Scorer(profile).score(record)`` in this process before any server
   starts, each call timed alone on the same records; and the *HTTP floor*: a bare ASGI
   app (no FastAPI, no store, a fixed JSON answer) under the same uvicorn in its own
   process, loaded the same way, which is what the client, loopback and uvicorn cost.
2. *Event batches*: the server runs ``examples/intent.yaml`` (intent only); ``--accounts``
   accounts (a domain each) are stored first through POST /v1/score in batches of 1,000, then
   ``--event-connections`` clients send batches of ``--batch`` new events (a unique
   ``event_id``, one of those domains at random, one of the profile's four signal types,
   ``occurred_at`` in the last 30 days) for ``--event-seconds``. For each batch the server
   checks the events, then in one transaction stores the new ones (a read of the ids, then
   an insert) and marks the stored accounts they touch. Its rescoring thread meanwhile
   takes the marked accounts 200 at a time, reads them and *all* their stored events,
   scores them with the Scorer (the store free for event batches meanwhile) and stores
   them. When the load stops, this process polls ``GET /v1/health`` until no account is
   marked (its answer may be up to 0.2 s old). The target's figure: the events stored over the time until every account they
   touched was rescored (the load's seconds plus those the backlog took to clear).
3. *Breakdown* (no HTTP, in this process, on each events store): ``Service.score`` of one
   stored record and ``Service.add_events`` of 1,000 events, with each store statement
   timed (the calls of ``backends.rows.Rows``' private statement functions are wrapped),
   then a batch again after ``--preload`` more events are stored (the rescoring reads all
   of each touched account's events, so a batch slows as events pile up).

Each phase is warmed up first (not timed). The CPU used by the server process and by this
one, and the busy share of the whole machine (``/proc/stat``, all cores), are printed with
each phase, so a reader sees which side was the limit. The figures go to
``bench/out/server-results.json`` (``server-results-quick.json`` with ``--quick``), the
servers' logs to ``bench/out/server-*.log``.
``--cprofile`` runs the servers under cProfile (``bench/out/server-<phase>.prof``, the top
functions are printed); those runs' times are inflated and are not the figures to quote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import OUT, REPO, RUBRIC, icpkit_source, rel  # noqa: E402

INTENT = REPO / "examples" / "intent.yaml"
SIGNALS = ("pricing_page_view", "demo_request", "security_doc_view", "careers_page_view")
SIGNAL_WEIGHTS = (50, 5, 30, 15)
INDUSTRIES = ("Internet", "Computer Software", "information technology and services", "Marketing and Advertising",
              "Retail", " internet ", "Banking", None)
EMPLOYEES = ("51-200", "11-50", "201-500", "501-1000", "1,234", 40, 75, None)
TECHNOLOGIES = ("Salesforce; Slack", "HubSpot; Zendesk", "Slack", "", "Salesforce", None)
COUNTRIES = ("United States", "Canada", "GB", "Ireland", "Germany", "US", "Australia", None)
#: A request sent this late after its slot counts as "client late".
LATE_MS = 5.0
#: Connections of the open-loop client.
OPEN_CONNECTIONS = 64
#: The latency target of one record at the target rate.
TARGET_P99_MS = 15.0
TARGET_EVENTS_PER_S = 20_000


# ----------------------------------------------------------------------- the server children

def serve_child(args: argparse.Namespace) -> None:
    """In the server's own process: open the store, publish, make a key, serve as ``icp serve``."""
    from icpkit.server.serve import open_service, publish_at_start, run
    from icpkit.server.settings import Settings
    from icpkit.workspace import Workspace

    with open_service(Workspace(Path(args.workspace)), Settings.from_env()) as service:
        publish_at_start(service, Path(args.profile))
        key, _ = service.create_key("admin", "bench")
        print(f"KEY {key}", flush=True)
        profiled(args.cprofile_out, lambda: run(service, "127.0.0.1", args.port))


def floor_child(args: argparse.Namespace) -> None:
    """The HTTP floor: a bare ASGI app (reads the body, answers a fixed JSON body) under uvicorn."""
    import uvicorn

    body = json.dumps({"results": [{"domain": "acme.com", "fit_score": 80.0, "tier": "high", "route": "ae_queue",
                                    "reasons": "industry: internet (+25); employees: in 50-500 (+20)"}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    print("KEY icp_floor_floor", flush=True)
    profiled(args.cprofile_out, lambda: uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info",
                                                    access_log=False))


def profiled(out: str | None, run: Callable[[], None]) -> None:
    if not out:
        run()
        return
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    try:
        run()
    finally:
        prof.disable()
        prof.dump_stats(out)


class Server:
    """A server child process: its URL, key and pid; stopped with SIGINT (uvicorn's
    graceful shutdown)."""

    def __init__(self, name: str, profile: Path | None, database_url: str | None, cprofile: Path | None) -> None:
        self.name = name
        self.workspace = OUT / f"server-ws-{name}-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_")}
        env["ICP_RATE_LIMIT_PER_S"] = "1000000"
        if database_url:
            env["ICP_DATABASE_URL"] = database_url
        cmd = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port)]
        cmd += ["--floor-child"] if profile is None else ["--serve-child", "--workspace", str(self.workspace),
                                                          "--profile", str(profile)]
        if cprofile:
            cmd += ["--cprofile-out", str(cprofile)]
        self.log_path = OUT / f"server-{name}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env, cwd=REPO)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("KEY "):
            self.stop()
            raise SystemExit(f"the server did not start: see {rel(self.log_path)}")
        self.key = line.split()[1]
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server did not answer: see {rel(self.log_path)}")
            time.sleep(0.05)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.workspace, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class Meter:
    """CPU of the server and of this process, and the machine's busy share, over a phase."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.s0, self.c0, self.m0, self.t0 = server.cpu_s(), time.process_time(), machine_busy(), time.perf_counter()

    def done(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        m1 = machine_busy()
        return {"server_cpu_pct": 100 * (self.server.cpu_s() - self.s0) / wall,
                "client_cpu_pct": 100 * (time.process_time() - self.c0) / wall,
                "machine_busy_pct": 100 * (m1[0] - self.m0[0]) / max(1, m1[1] - self.m0[1])}


# ---------------------------------------------------------------------------- records

def records(n: int, tag: str, seed: int = 11) -> list[dict[str, Any]]:
    """``n`` seed-rubric records as an export has them, each with a domain of its own."""
    rnd = random.Random(seed)
    return [{"domain": f"{tag}{i}.com", "industry": rnd.choice(INDUSTRIES), "employees": rnd.choice(EMPLOYEES),
             "technologies": rnd.choice(TECHNOLOGIES), "country": rnd.choice(COUNTRIES),
             "days_since_funding": rnd.choice((30, 90, 91, 200, 365, 400, None))} for i in range(n)]


def event_batch(domains: list[str], size: int, tag: str, rnd: random.Random, now: datetime) -> list[dict[str, Any]]:
    """``size`` new events of the accounts ``domains``, in the last 30 days."""
    return [{"event_id": f"{tag}-{j}", "domain": rnd.choice(domains),
             "type": rnd.choices(SIGNALS, SIGNAL_WEIGHTS)[0],
             "occurred_at": (now - timedelta(seconds=rnd.randrange(30 * 86400))).strftime("%Y-%m-%dT%H:%M:%SZ")}
            for j in range(size)]


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by nearest rank; NaN when empty."""
    if not values:
        return math.nan
    xs = sorted(values)
    return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))]


def summary(lat_ms: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(lat_ms, 0.50), "p95_ms": pct(lat_ms, 0.95), "p99_ms": pct(lat_ms, 0.99),
            "max_ms": max(lat_ms) if lat_ms else math.nan}


def in_process(recs: list[dict[str, Any]], repeat: int = 3) -> dict[str, float]:
    """``Scorer(profile).score(record)`` on each record, each call timed alone; the median
    of ``repeat`` passes' percentiles."""
    import icpkit

    scorer = icpkit.Scorer(RUBRIC)
    for r in recs[:500]:
        scorer.score(r)
    runs = []
    for _ in range(repeat):
        lat = []
        for r in recs:
            t = time.perf_counter_ns()
            scorer.score(r)
            lat.append((time.perf_counter_ns() - t) / 1e6)
        runs.append(summary(lat))
    return {k: sorted(run[k] for run in runs)[len(runs) // 2] for k in runs[0]}


# ------------------------------------------------------------------------------ load

class RawClient:
    """A lean HTTP/1.1 client on asyncio streams: ``connections`` keep-alive connections,
    requests waiting their turn for a free one (first come, first served). It reads the
    responses by their Content-Length, which is how uvicorn sends every answer of this API.
    About 0.05 ms of CPU a request here, where ``httpx.AsyncClient`` takes 1-2 ms."""

    def __init__(self, server: Server, connections: int) -> None:
        self.port, self.key = server.port, server.key
        self.connections = connections
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self.opened = 0
        self.all: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for w in self.all:
            w.close()

    async def _conn(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.free.empty() and self.opened < self.connections:
            self.opened += 1
            try:
                conn = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.opened -= 1
                raise
            self.all.append(conn[1])
            return conn
        return await self.free.get()

    async def post(self, path: str, obj: Any) -> tuple[int, bytes]:
        payload = json.dumps(obj, separators=(",", ":")).encode()
        head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\ncontent-type: application/json\r\n"
                f"authorization: Bearer {self.key}\r\ncontent-length: {len(payload)}\r\n\r\n").encode()
        reader, writer = await self._conn()
        try:
            writer.write(head + payload)
            lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            status = int(lines[0].split(None, 2)[1])
            fields = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
            data = await reader.readexactly(int(fields[b"content-length"]))
        except BaseException:
            writer.close()
            self.opened -= 1
            raise
        if fields.get(b"connection", b"").lower() == b"close":
            writer.close()
            self.opened -= 1
        else:
            self.free.put_nowait((reader, writer))
        return status, data


class HttpxClient:
    """The same calls through ``httpx.AsyncClient`` (``--client httpx``)."""

    def __init__(self, server: Server, connections: int) -> None:
        import httpx

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.c = httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {server.key}"},
                                   limits=limits, timeout=120)

    async def __aenter__(self) -> HttpxClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.c.aclose()

    async def post(self, path: str, obj: Any) -> tuple[int, bytes]:
        r = await self.c.post(path, json=obj)
        return r.status_code, r.content


CLIENTS = {"raw": RawClient, "httpx": HttpxClient}
CLIENT = "raw"


def client(server: Server, connections: int) -> Any:
    return CLIENTS[CLIENT](server, connections)


async def warm(server: Server, path: str, bodies: Callable[[], Any], n: int) -> None:
    async with client(server, 4) as c:
        for _ in range(n):
            status, data = await c.post(path, bodies())
            if status != 200:
                raise SystemExit(f"POST {path}: {status} {data[:300]!r}")


async def open_loop(server: Server, path: str, bodies: Callable[[], Any], rate: float,
                    seconds: float) -> dict[str, Any]:
    """Send request i at t0 + i / rate; latency from that instant to the response's end."""
    n = int(rate * seconds)
    lat: list[float] = []
    lags: list[float] = []
    failed = 0
    outstanding = 0
    meter = Meter(server)
    async with client(server, OPEN_CONNECTIONS) as c:
        t0 = time.perf_counter() + 0.05

        async def one(due: float) -> None:
            nonlocal failed, outstanding
            lags.append((time.perf_counter() - due) * 1e3)
            try:
                ok = (await c.post(path, bodies()))[0] == 200
            except Exception:  # noqa: BLE001 - counted as failed
                ok = False
            end = time.perf_counter()
            outstanding -= 1
            if ok:
                lat.append((end - due) * 1e3)
            else:
                failed += 1

        tasks = []
        behind_at = None
        for i in range(n):
            due = t0 + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            if outstanding > rate / 2:  # over half a second of requests unanswered: the server fell behind
                behind_at = due - t0
                break
            outstanding += 1
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    return {"mode": "open", "rate": rate, "seconds": seconds, "planned": n, "sent": len(tasks),
            "not_sent": n - len(tasks), "fell_behind_at_s": behind_at, "ok": len(lat), "failed": failed,
            "achieved_per_s": len(lat) / elapsed, "client_late": sum(1 for x in lags if x > LATE_MS),
            "over_target": sum(1 for x in lat if x > TARGET_P99_MS), "lag_p99_ms": pct(lags, 0.99),
            **summary(lat), **meter.done()}


async def closed_loop(server: Server, path: str, bodies: Callable[[], Any], connections: int,
                      seconds: float) -> dict[str, Any]:
    """``connections`` clients, each sending the next request when the last is answered."""
    lat: list[float] = []
    failed = 0
    meter = Meter(server)
    async with client(server, connections) as c:
        t0 = time.perf_counter()
        stop = t0 + seconds

        async def worker() -> None:
            nonlocal failed
            while time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    ok = (await c.post(path, bodies()))[0] == 200
                except Exception:  # noqa: BLE001
                    ok = False
                if ok:
                    lat.append((time.perf_counter() - start) * 1e3)
                else:
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    return {"mode": "closed", "connections": connections, "seconds": elapsed, "ok": len(lat), "failed": failed,
            "achieved_per_s": len(lat) / elapsed, **summary(lat), **meter.done()}


SWEEP = (50, 100, 200, 300, 400)


def within_target(r: dict[str, Any]) -> bool:
    return bool(r["p99_ms"] < TARGET_P99_MS and not r["failed"] and not r["not_sent"])


def show(label: str, r: dict[str, Any]) -> None:
    extra = ""
    if r["mode"] == "open":
        extra = f"  late {r['client_late']}  >{TARGET_P99_MS:g}ms {r['over_target']}"
        if r["not_sent"]:
            extra += f"  not sent {r['not_sent']} (fell behind at {r['fell_behind_at_s']:.1f} s)"
    print(f"{label:34} {r['achieved_per_s']:6.0f}/s  p50 {r['p50_ms']:7.2f}  p95 {r['p95_ms']:7.2f}  "
          f"p99 {r['p99_ms']:7.2f}  max {r['max_ms']:7.1f} ms  failed {r['failed']}{extra}  |  cpu: server "
          f"{r['server_cpu_pct']:.0f}% client {r['client_cpu_pct']:.0f}% machine {r['machine_busy_pct']:.0f}%",
          flush=True)


def load_phases(server: Server, label: str, path: str, bodies: Callable[[], Any],
                args: argparse.Namespace) -> dict[str, Any]:
    """Warm-up, the open loop at ``--rate``, then a closed loop per ``--connections``."""
    asyncio.run(warm(server, path, bodies, 300))
    res = {"open": asyncio.run(open_loop(server, path, bodies, args.rate, args.open_seconds))}
    show(f"  {label:13} open loop {args.rate:g}/s", res["open"])
    held = None
    if not within_target(res["open"]) and args.sweep_seconds:
        for rate in (r for r in SWEEP if r < args.rate):
            got = res[f"open_{rate}"] = asyncio.run(open_loop(server, path, bodies, rate, args.sweep_seconds))
            show(f"  {label:13} open loop {rate:g}/s", got)
            if not within_target(got):
                break
            held = rate
    else:
        held = args.rate if within_target(res["open"]) else None
    res["held_within_target"] = held
    for conns in args.connections:
        res[f"closed_{conns}"] = asyncio.run(closed_loop(server, path, bodies, conns, args.closed_seconds))
        show(f"  {label:13} closed, {conns} conn", res[f"closed_{conns}"])
    return res


def one_record_phases(args: argparse.Namespace, pg_url: Callable[[], tuple[str, Callable[[], None]]],
                      cprofile: Callable[[str], Path | None]) -> dict[str, Any]:
    """Phase 1: one record per POST /v1/score: the floor, then each store, unstored and stored."""
    out: dict[str, Any] = {}
    pool = records(5000, "pool")
    counter = iter(range(10**9))

    def body(tag: str) -> Callable[[], dict[str, Any]]:
        def make() -> dict[str, Any]:
            j = next(counter)  # a new domain per request
            return {"accounts": [{**pool[j % len(pool)], "domain": f"{tag}{j}.com"}]}
        return make

    if args.floor:
        server = Server("floor", None, None, cprofile("floor"))
        try:
            print(f"\nHTTP floor: a bare ASGI app under uvicorn, same client (server pid {server.proc.pid})")
            out["floor"] = load_phases(server, "floor", "/v1/score", body("f"), args)
        finally:
            server.stop()
    for store in args.score_stores:
        url, drop = pg_url() if store == "postgres" else (None, lambda: None)
        server = Server(f"score-{store}", RUBRIC, url, cprofile(f"score-{store}"))
        try:
            print(f"\nPOST /v1/score, one record, one uvicorn worker, {store} store (server pid {server.proc.pid})")
            out[store] = {
                "store=false": load_phases(server, "store=false", "/v1/score?store=false", body("n"), args),
                "stored": load_phases(server, "stored", "/v1/score", body("s"), args)}
        finally:
            server.stop()
            drop()
    return out


# ---------------------------------------------------------------------------- events

async def send_events(server: Server, domains: list[str], connections: int, seconds: float,
                      batch: int) -> dict[str, Any]:
    """``connections`` clients sending batches of ``batch`` new events for ``seconds``."""
    rnd = random.Random(5)
    now = datetime.now(UTC)
    lat: list[float] = []
    ends: list[tuple[float, int]] = []  # (seconds from the start, events added)
    failed = added = rescored = counter = 0
    run = uuid.uuid4().hex[:6]
    meter = Meter(server)
    async with client(server, connections) as c:
        t0 = time.perf_counter()
        stop = t0 + seconds

        async def worker() -> None:
            nonlocal failed, counter, added, rescored
            while time.perf_counter() < stop:
                counter += 1
                body = {"events": event_batch(domains, batch, f"{run}-{counter}", rnd, now)}
                start = time.perf_counter()
                try:
                    status, data = await c.post("/v1/events", body)
                    ok = status == 200
                except Exception:  # noqa: BLE001
                    ok = False
                end = time.perf_counter()
                if ok:
                    got = json.loads(data)
                    added += got["added"]
                    rescored += got.get("rescoring", 0)
                    lat.append((end - start) * 1e3)
                    ends.append((end - t0, got["added"]))
                else:
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    cpu = meter.done()
    backlog, drained = await asyncio.to_thread(drain, server)
    fifths = [0] * 5  # events/s in each fifth of the run: does the rate hold as events pile up?
    for t, n in ends:
        fifths[min(4, int(5 * t / elapsed))] += n
    return {"connections": connections, "batch": batch, "seconds": elapsed, "batches": len(lat), "failed": failed,
            "events_added": added, "rescored": rescored, "events_per_s": added / elapsed,
            "batches_per_s": len(lat) / elapsed, "events_per_s_by_fifth": [n / (elapsed / 5) for n in fifths],
            "backlog_at_end": backlog, "drained_s": drained,
            # the events over the time until every account they touched was rescored
            "rescored_events_per_s": None if drained is None else added / (elapsed + drained),
            **summary(lat), **cpu}


def drain(server: Server, limit_s: float = 120.0) -> tuple[int, float | None]:
    """The accounts still marked for rescoring when the load stops, and the seconds the
    server's rescoring thread then takes to clear them (None: not within ``limit_s``)."""
    import httpx

    started = time.perf_counter()
    backlog = None
    with httpx.Client(base_url=server.url, timeout=30) as h:
        while time.perf_counter() - started < limit_s:
            pending = h.get("/v1/health").json()["rescore_pending"]
            backlog = pending if backlog is None else backlog
            if not pending:
                return backlog, time.perf_counter() - started
            time.sleep(0.1)
    return backlog or 0, None


async def store_accounts(server: Server, n: int) -> tuple[list[str], float]:
    domains = [f"acct{i}.com" for i in range(n)]
    t = time.perf_counter()
    async with client(server, 1) as c:
        for i in range(0, n, 1000):
            status, data = await c.post("/v1/score", {"accounts": [{"domain": d} for d in domains[i:i + 1000]]})
            if status != 200:
                raise SystemExit(f"POST /v1/score: {status} {data[:300]!r}")
    return domains, time.perf_counter() - t


def event_phases(args: argparse.Namespace, pg_url: Callable[[], tuple[str, Callable[[], None]]],
                 cprofile: Callable[[str], Path | None]) -> dict[str, Any]:
    """Phase 2: batches of events on each store, the touched accounts rescored."""
    out: dict[str, Any] = {}
    for store in args.event_stores:
        url, drop = pg_url() if store == "postgres" else (None, lambda: None)
        server = Server(f"events-{store}", INTENT, url, cprofile(f"events-{store}"))
        try:
            print(f"\nPOST /v1/events, batches of {args.batch}, {args.event_connections} connections, {store} store "
                  f"(server pid {server.proc.pid})")
            domains, took = asyncio.run(store_accounts(server, args.accounts))
            print(f"  stored {len(domains):,} accounts through POST /v1/score (1,000 a request) in {took:.1f} s "
                  f"({len(domains) / took:,.0f} accounts/s)")
            res = asyncio.run(send_events(server, domains, args.event_connections, args.event_seconds, args.batch))
            res |= {"accounts": len(domains), "accounts_stored_per_s": len(domains) / took}
            out[store] = res
            print(f"  {res['events_per_s']:8,.0f} events/s  {res['batches_per_s']:5.1f} batches/s  "
                  f"({res['batches']} batches, {res['events_added']:,} events, {res['rescored']:,} accounts "
                  f"marked for rescoring, {res['failed']} failed); a batch: p50 {res['p50_ms']:.0f} ms, p99 {res['p99_ms']:.0f} "
                  f"ms  |  cpu: server {res['server_cpu_pct']:.0f}% client {res['client_cpu_pct']:.0f}% "
                  f"machine {res['machine_busy_pct']:.0f}%")
            print("  events/s in each fifth of the run: "
                  + ", ".join(f"{x:,.0f}" for x in res["events_per_s_by_fifth"]), flush=True)
            drained = "not within 120 s" if res["drained_s"] is None else f"in {res['drained_s']:.1f} s"
            print(f"  rescoring backlog when the load stopped: {res['backlog_at_end']:,} accounts, cleared {drained}",
                  flush=True)
            if res["rescored_events_per_s"] is not None:
                print(f"  {res['rescored_events_per_s']:8,.0f} events/s counting the time until every account they "
                      "touched was rescored", flush=True)
        finally:
            server.stop()
            drop()
    return out


# ------------------------------------------------------------------------- breakdown

def timed_statements(rows: Any) -> dict[str, list[float]]:
    """Wrap the store's statement functions (private to ``backends.rows.Rows``) so each
    statement's calls and seconds add up under its first words."""
    found: dict[str, list[float]] = {}
    for name in ("_execute", "_insert_many", "_begin", "_commit"):
        f = getattr(rows, name, None)
        if f is None:
            continue

        def wrapped(*a: Any, _f: Any = f, _name: str = name) -> Any:
            sql = a[0] if a and isinstance(a[0], str) else ""
            words = sql.replace('"', "").split()
            label = {"_begin": "BEGIN", "_commit": "COMMIT"}.get(_name) or " ".join(words[:4])[:60]
            if words[:1] == ["SELECT"] and "FROM" in words:
                label = f"SELECT ... FROM {words[words.index('FROM') + 1]}"
                label += " WHERE " + words[words.index("WHERE") + 1] if "WHERE" in words else ""
                label += " ORDER BY" if "ORDER" in words else ""
            t = time.perf_counter()
            try:
                return _f(*a)
            finally:
                x = found.setdefault(label, [0, 0.0])
                x[0] += 1
                x[1] += time.perf_counter() - t
        setattr(rows, name, wrapped)
    return found


def breakdown(args: argparse.Namespace, pg_url: Any) -> dict[str, Any]:
    """In this process, without HTTP: where a stored one-record score and a batch of 1,000
    events spend their time, statement by statement, on each store."""
    from icpkit.server.serve import open_service, publish_at_start
    from icpkit.server.settings import Settings
    from icpkit.workspace import Workspace

    out: dict[str, Any] = {}
    print("\nBreakdown in this process (no HTTP): the service's calls, and the store's statements in them")
    for store in args.event_stores or ["duckdb"]:
        for what in ("one record, stored", "1,000 events"):
            url, drop = pg_url() if store == "postgres" else (None, lambda: None)
            ws = Workspace(OUT / f"server-ws-breakdown-{uuid.uuid4().hex[:8]}")
            try:
                with open_service(ws, Settings(database_url=url)) as svc:
                    publish_at_start(svc, RUBRIC if what.startswith("one") else INTENT)
                    extra: dict[str, float] = {}
                    if what.startswith("one"):
                        pool = records(1000, "b")
                        for i in range(200):
                            svc.score([pool[i]])
                        stmts = timed_statements(svc.store.rows)
                        n, t = 300, time.perf_counter()
                        for i in range(n):
                            svc.score([{**pool[i], "domain": f"bs{i}.com"}])
                        total = (time.perf_counter() - t) / n
                        stmts = {k: list(v) for k, v in stmts.items()}  # those of the stored calls only
                        t = time.perf_counter()
                        for i in range(n):
                            svc.score([pool[i]], store=False)
                        extra["service.score(store=False)"] = (time.perf_counter() - t) / n
                    else:
                        domains = [f"acct{i}.com" for i in range(args.accounts)]
                        for i in range(0, len(domains), 1000):
                            svc.score([{"domain": d} for d in domains[i:i + 1000]])
                        rnd, now = random.Random(3), datetime.now(UTC)
                        for i in range(2):
                            svc.add_events(event_batch(domains, 1000, f"w{i}", rnd, now))
                        stmts = timed_statements(svc.store.rows)
                        n, t = 10, time.perf_counter()
                        for i in range(n):
                            svc.add_events(event_batch(domains, 1000, f"b{i}", rnd, now))
                        total = (time.perf_counter() - t) / n
                        from icpkit.intent.record import event_rows

                        batch = event_batch(domains, 1000, "x", rnd, now)
                        t = time.perf_counter()
                        event_rows(batch)
                        extra["checking the events (intent.record.event_rows)"] = time.perf_counter() - t
                        stmts = {k: list(v) for k, v in stmts.items()}
                        if args.preload:  # more events stored: the batches read all of each account's
                            from icpkit.io import record as rv
                            from icpkit.server.store import now as stamp

                            for i in range(0, args.preload, 10_000):
                                rows = event_rows(event_batch(domains, 10_000, f"pre{i}", rnd, now))
                                svc.store.add_events([{**r, "occurred_at": rv.from_micros(r["occurred_at"]),
                                                       "received_at": stamp()} for r in rows])
                            t = time.perf_counter()
                            for i in range(5):
                                svc.add_events(event_batch(domains, 1000, f"a{i}", rnd, now))
                            extra[f"a batch after {args.preload:,} more events stored "
                                  f"({args.preload // len(domains)} more an account)"] = (time.perf_counter() - t) / 5
            finally:
                shutil.rmtree(ws.path, ignore_errors=True)
                drop()
            in_sql = sum(v[1] for v in stmts.values()) / n
            out[f"{store}: {what}"] = {"total_ms": total * 1e3, "statements_ms": in_sql * 1e3,
                                       "by_statement": {k: {"calls": c / n, "ms": sec / n * 1e3}
                                                        for k, (c, sec) in stmts.items()},
                                       **{k: v * 1e3 for k, v in extra.items()}}
            print(f"  {store}, {what}: {total * 1e3:.1f} ms each, {in_sql * 1e3:.1f} ms of it in "
                  f"{sum(v[0] for v in stmts.values()) / n:.0f} statements; the rest is Python")
            for k, (c, sec) in sorted(stmts.items(), key=lambda kv: -kv[1][1]):
                print(f"    {sec / n * 1e3:7.2f} ms  {k}" + (f" (x{c / n:.0f})" if c != n else ""))
            for k, v in extra.items():
                print(f"    ({k}: {v * 1e3:.2f} ms)")
    return out


# ------------------------------------------------------------------------------ main

def postgres(args: argparse.Namespace) -> tuple[Callable[[], tuple[str, Callable[[], None]]], dict[str, str]]:
    """A function giving a fresh schema's URL and its drop, and the server's settings."""
    import psycopg

    from tests.pg import start_server, with_search_path

    base = args.url or start_server()
    with psycopg.connect(base, autocommit=True) as con:
        info = {s: str(con.execute(f"SHOW {s}").fetchone()[0])  # type: ignore[index]
                for s in ("server_version", "fsync", "synchronous_commit", "shared_buffers")}

    def fresh() -> tuple[str, Callable[[], None]]:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")

        def drop() -> None:
            with psycopg.connect(base, autocommit=True) as con:
                con.execute(f"DROP SCHEMA {schema} CASCADE")
        return with_search_path(base, schema), drop

    return fresh, info


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print(f"\n{rel(path)}: the top {top} by own time")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)


def changed_src() -> list[str]:
    found = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"], capture_output=True,
                           text=True).stdout
    return [line[3:] for line in found.splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a ~1 minute run: shorter phases, DuckDB only for "
                    "one record, fewer accounts")
    ap.add_argument("--rate", type=float, default=500, help="open-loop requests a second (default 500)")
    ap.add_argument("--open-seconds", type=float, help="open-loop seconds per phase (default 10; quick 4)")
    ap.add_argument("--sweep-seconds", type=float, help="seconds of each lower rate tried when the target is "
                    "missed (default 4; quick 0: none)")
    ap.add_argument("--closed-seconds", type=float, help="closed-loop seconds per phase (default 6; quick 3)")
    ap.add_argument("--connections", help="closed-loop connections, comma-separated (default 1,8; quick 8)")
    ap.add_argument("--score-stores", help="stores for one record (default duckdb,postgres; quick duckdb)")
    ap.add_argument("--no-floor", dest="floor", action="store_false", help="skip the HTTP floor")
    ap.add_argument("--accounts", type=int, help="accounts stored before the events (default 10000; quick 2000)")
    ap.add_argument("--batch", type=int, default=1000, help="events per request (default 1000, the server's max)")
    ap.add_argument("--event-seconds", type=float, help="seconds of events per store (default 30; quick 8)")
    ap.add_argument("--event-connections", type=int, default=4, help="concurrent event clients (default 4)")
    ap.add_argument("--event-stores", help="stores for the events (default postgres,duckdb)")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="raw", help="the load's HTTP client: raw (a lean "
                    "asyncio HTTP/1.1 client, the default) or httpx (httpx.AsyncClient)")
    ap.add_argument("--preload", type=int, default=200_000, help="events stored before the breakdown's last "
                    "batches (default 200,000; 0: none)")
    ap.add_argument("--no-breakdown", dest="breakdown", action="store_false", help="skip the breakdown by "
                    "statement (in this process, no HTTP; skipped by --quick)")
    ap.add_argument("--url", help="a PostgreSQL server (default: start a throwaway one, as tests/pg.py does)")
    ap.add_argument("--cprofile", action="store_true", help="run the servers under cProfile (times inflated)")
    for hidden in ("--serve-child", "--floor-child"):
        ap.add_argument(hidden, action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--workspace", "--profile", "--cprofile-out"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_child or args.floor_child:
        (serve_child if args.serve_child else floor_child)(args)
        return
    q = args.quick
    args.open_seconds = args.open_seconds or (4 if q else 10)
    args.closed_seconds = args.closed_seconds or (3 if q else 6)
    args.sweep_seconds = (0 if q else 4) if args.sweep_seconds is None else args.sweep_seconds
    args.connections = [int(x) for x in (args.connections or ("8" if q else "1,8")).split(",") if x]
    args.score_stores = [s for s in (("duckdb" if q else "duckdb,postgres") if args.score_stores is None
                                     else args.score_stores).split(",") if s]
    args.accounts = args.accounts or (2000 if q else 10_000)
    args.event_seconds = args.event_seconds or (8 if q else 30)
    args.event_stores = [s for s in ("postgres,duckdb" if args.event_stores is None else args.event_stores).split(",")
                         if s]
    OUT.mkdir(parents=True, exist_ok=True)
    global CLIENT
    CLIENT = args.client
    # httpcore tries `import sniffio` on every request when sniffio is not installed (a search of
    # sys.path each time, ~0.5 ms); a None entry makes that import fail at once, as it would anyway.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    import httpx
    import uvloop

    uvloop.install()
    profiles: list[Path] = []

    def cprofile(name: str) -> Path | None:
        if not args.cprofile:
            return None
        profiles.append(OUT / f"server-{name}.prof")
        return profiles[-1]

    started = time.perf_counter()
    source, changed = icpkit_source(), changed_src()
    print(f"icpkit {source}" + (f" ({', '.join(changed)})" if changed else "")
          + f"; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; client: "
          + (f"httpx {httpx.__version__}" if CLIENT == "httpx" else "lean asyncio HTTP/1.1") + " on uvloop"
          + ("; SERVERS UNDER cProfile" if args.cprofile else ""))
    results: dict[str, Any] = {
        "icpkit": source, "changed_src": changed, "cores": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "load_start": os.getloadavg()[0],
        "args": {k: v for k, v in vars(args).items() if k not in ("serve_child", "floor_child", "workspace", "profile",
                                                                 "port", "cprofile_out")}}
    pg_url = None
    if "postgres" in (*args.score_stores, *args.event_stores):  # the breakdown's stores are the events'

        pg_url, info = postgres(args)
        results["postgres"] = info
        print("PostgreSQL {server_version} (fsync {fsync}, synchronous_commit {synchronous_commit}, shared_buffers "
              "{shared_buffers})".format(**info))
    base = in_process(records(5000, "inproc"))
    results["in_process"] = base
    print(f"In-process Scorer(seed-rubric).score(record), 5,000 records: p50 {base['p50_ms'] * 1e3:.0f} us, "
          f"p99 {base['p99_ms'] * 1e3:.0f} us")
    if args.score_stores or args.floor:
        results["score"] = one_record_phases(args, pg_url, cprofile)  # type: ignore[arg-type]
    if args.event_stores:
        results["events"] = event_phases(args, pg_url, cprofile)  # type: ignore[arg-type]
    if args.breakdown and not q:
        results["breakdown"] = breakdown(args, pg_url)
    results["load_end"] = os.getloadavg()[0]
    results["wall_s"] = time.perf_counter() - started

    print(f"\nTargets (the server's p99 under {TARGET_P99_MS:g} ms at {args.rate:g} requests/s, one record; "
          f"{TARGET_EVENTS_PER_S:,} events/s with the accounts rescored):")
    for store, phases in results.get("score", {}).items():
        for label, res in (phases.items() if store != "floor" else [("", phases)]):
            o = res["open"]
            best = max(v["achieved_per_s"] for k, v in res.items() if k.startswith("closed"))
            name = f"{store} {label}".strip()
            held = res["held_within_target"]
            one = res.get("closed_1")
            met = "met" if within_target(o) else "NOT met"
            print(f"  {name:20} p99 {o['p99_ms']:9.2f} ms at {args.rate:g}/s: {met:7}"
                  f"  within {TARGET_P99_MS:g} ms up to: {f'{held:g}/s' if held else '-':>6}  most held (closed "
                  f"loop): {best:6,.0f}/s  p50 / in-process p50: {o['p50_ms'] / base['p50_ms']:,.0f}x at "
                  f"{args.rate:g}/s" + (f", {one['p50_ms'] / base['p50_ms']:,.0f}x one at a time" if one else ""))
    for store, res in results.get("events", {}).items():
        rescored = res["rescored_events_per_s"] or 0.0
        met = rescored >= TARGET_EVENTS_PER_S
        print(f"  events {store:13} {rescored:9,.0f} events/s stored and rescored: {'met' if met else 'NOT met'} "
              f"({res['events_per_s']:,.0f}/s stored while the load ran)")
    path = OUT / ("server-results-quick.json" if q else "server-results.json")
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"Figures in {rel(path)} ({results['wall_s']:.0f} s in all; load {results['load_end']:.1f} at the end)")
    for p in profiles:
        if p.exists():
            print_profile(p)


if __name__ == "__main__":
    main()
