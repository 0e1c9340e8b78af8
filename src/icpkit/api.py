"""The Python API: the same engine the ``icp`` command runs, for notebooks and pipelines.

>>> import icpkit
>>> profile = icpkit.load_profile("examples/seed-rubric.yaml")
>>> scores = icpkit.score(profile, "accounts.csv")          # a pyarrow.Table
>>> scores = icpkit.score(profile, accounts_df)            # pandas in, pandas out (polars too)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import ibis
import pyarrow as pa

from .backends.duckdb import DuckDBBackend, EventsRead, Loaded, ProgressFn, Rejects, quote_ident, quote_str
from .errors import DataError, IcpError
from .intent.plan import blend, intent_plan, needed_events, persona_plan, trigger_plan
from .intent.store import has_stored_events
from .io.sources import file_format
from .io.values import normalize_domain
from .profile.load import load_profile
from .profile.model import Intent, Profile
from .scoring.plan import ROW, ROW_KEY, ScoringPlan, build_plan, key_column, utc_naive
from .workspace import Workspace, is_table_name

OnError = Literal["fail", "skip"]
Accounts = Any  # a path, a pyarrow.Table, a pandas or polars DataFrame


@dataclass
class ScoreRun:
    """What a scoring run did: where the results went, and what it left out or noticed."""

    rows: int
    output: str
    profile_version: str
    seconds: float
    tiers: dict[str, int]
    rejects: Rejects
    rejects_file: Path | None = None
    warnings: list[str] = field(default_factory=list)
    crm_source: str | None = None
    top: list[dict[str, Any]] = field(default_factory=list)
    events: EventsRead | None = None  # with intent or triggers


def score(
    profile: Profile | str | Path,
    accounts: Accounts,
    *,
    on_error: OnError = "fail",
    explain: bool = False,
    scored_at: datetime | None = None,
    events: Any = None,
    as_of: datetime | None = None,
    contacts: Any = None,
) -> Any:
    """Score ``accounts`` with ``profile`` and return the scores with their reasons.

    ``accounts`` is a file path (CSV, Parquet, JSON lines), a ``pyarrow.Table`` or a pandas
    or polars DataFrame; the result is of the same kind as the input (a ``pyarrow.Table`` for
    a path). ``explain=True`` adds one ``reason_<criterion>`` column per criterion. A
    profile with an intent section needs ``events`` (a path or table); ``as_of`` scores as of
    that moment (default: now), ignoring later events.
    """
    prof = _profile(profile)
    kind, table = _as_arrow(accounts)
    backend = DuckDBBackend()
    try:
        scored = score_rows(backend, prof, table if table is not None else accounts, on_error=on_error,
                            explain=explain, scored_at=scored_at, events=_source(events), as_of=as_of,
                            contacts=_source(contacts))
        result = backend.to_arrow(scored.sql(in_input_order=True))
    finally:
        backend.close()
    return _from_arrow(result, kind)


def score_to(
    profile: Profile | str | Path,
    accounts: Accounts,
    out: str | Path,
    *,
    workspace: Workspace | None = None,
    on_error: OnError = "fail",
    progress: ProgressFn | None = None,
    scored_at: datetime | None = None,
    top: int = 5,
    events: Any = None,
    as_of: datetime | None = None,
    contacts: Any = None,
) -> ScoreRun:
    """Score ``accounts`` into ``out``: a CSV, Parquet or JSON-lines file chosen by suffix, or a
    table of the workspace when ``out`` is a bare name such as ``scores``.

    Files are written atomically; with ``on_error="skip"`` the rows set aside are written
    next to the output as ``<out>.rejects.csv``.
    """
    started = time.perf_counter()
    prof = _profile(profile)
    ws = workspace or Workspace()
    to_table = is_table_name(str(out))
    if to_table and str(out).lower().startswith("icp_"):
        raise IcpError(f"'{out}' is a reserved table name (names starting with icp_ are icpkit's own)",
                       hint="choose another name, e.g. scores")
    if (prof.intent is not None or prof.triggers) and events is None and has_stored_events(ws):
        events = ws
    backend = DuckDBBackend(ws.ensure().database) if to_table else DuckDBBackend()
    try:
        scored = score_rows(backend, prof, _source(accounts), on_error=on_error, progress=progress,
                            scored_at=scored_at, events=_source(events), as_of=as_of, contacts=_source(contacts))
        # Rows go out in the input's order: DuckDB keeps it when it writes the fit plan to
        # Parquet; other outputs, and plans joining intent, are sorted
        # (tests/backends/test_output_order.py holds each to it).
        in_order = to_table or prof.intent is not None or file_format(Path(out), purpose="output") != "parquet"
        loaded, sql = scored.loaded, scored.sql(in_input_order=in_order)
        if to_table:
            backend.execute(f"CREATE OR REPLACE TABLE {quote_ident(str(out))} AS {sql}", progress, "writing results")
            output = f"table '{out}' in workspace {ws.path}"
        else:
            backend.write(sql, Path(out), progress)
            output = str(out)
        if prof.priority is not None and prof.priority.tiers_on != "fit":
            counts = dict(backend.rows(f"SELECT tier, count(*) FROM ({sql}) GROUP BY tier"))
            tiers = {t.name: counts[t.name] for t in prof.ordered_tiers if t.name in counts}
            best = backend.to_arrow(f"SELECT domain, fit_score, tier, abm_tier, reasons FROM ({sql}) "
                                    f"ORDER BY priority DESC, domain LIMIT {int(top)}").to_pylist()
        elif scored.plan is not None:
            tiers = dict(backend.rows(backend.compile(scored.plan.tier_counts())))
            best = backend.to_arrow(backend.compile(
                scored.plan.top(top).select(key_column(scored.plan.expr), "fit_score", "tier", "abm_tier",
                                            "reasons"))).to_pylist()
        else:
            tiers = {}
            best = backend.to_arrow(f"SELECT domain, intent_score, buying_group, intent_reasons FROM ({sql}) "
                                    f"ORDER BY intent_score DESC, domain LIMIT {int(top)}").to_pylist()
        rejects_file = None
        if loaded.rejects.rows:
            rejects_file = _rejects_path(out, ws)
            _write_rejects(backend, loaded.rejects, rejects_file)
    finally:
        backend.close()
    if isinstance(accounts, (str, Path)):
        def path(p: Any) -> str | None:
            return str(Path(p).resolve()) if isinstance(p, (str, Path)) else None

        ws.update_settings(last_run={"profile": path(profile), "accounts": path(accounts), "output": output,
                                     "events": path(events), "contacts": path(contacts),
                                     "as_of": as_of.isoformat() if as_of else None})
    return ScoreRun(loaded.rows, output, prof.version_hash, time.perf_counter() - started, tiers,
                    loaded.rejects, rejects_file, loaded.warnings, loaded.canonical.crm_source, best, scored.events)


def explain(profile: Profile | str | Path, accounts: Accounts, domain: str, *, events: Any = None,
            as_of: datetime | None = None, contacts: Any = None, workspace: Workspace | None = None) -> dict[str, Any]:
    """The full breakdown of one account: every criterion's points and reason, and with an
    intent section its intent as of ``as_of`` (default now) from ``events`` (default: the
    workspace's store). In an input without domains, ``domain`` is the account's row number."""
    prof = _profile(profile)
    ws = workspace or Workspace()
    if (prof.intent is not None or prof.triggers) and events is None and has_stored_events(ws):
        events = ws
    backend = DuckDBBackend()
    try:
        scored = score_rows(backend, prof, _source(accounts), on_error="skip", explain=True, events=_source(events),
                            as_of=as_of, contacts=_source(contacts))
        sql = scored.sql()
        if scored.loaded.canonical.keyed:
            wanted = _normal_domain(backend, domain) or domain.strip()
            rows = backend.to_arrow(f"SELECT * FROM ({sql}) WHERE domain = {quote_str(wanted)}").to_pylist()
        elif domain.strip().isdigit():
            wanted = domain.strip()
            rows = backend.to_arrow(f"SELECT * FROM ({sql}) WHERE {ROW_KEY} = {int(wanted)}").to_pylist()
        else:
            raise DataError(f"the accounts have no domain column, so '{domain}' cannot be found",
                            where=scored.loaded.label, hint="give the account's row number instead")
    finally:
        backend.close()
    if not rows:
        what = "domain" if scored.loaded.canonical.keyed else "row"
        raise DataError(f"no account with {what} '{wanted}' in the accounts",
                        hint="check the spelling; domains are compared without scheme, www. and path")
    return rows[0]


#: Columns of the scored rows that are for the engine, not for the user.
PRIVATE = (ROW, "_bad", "_country_unknown")


@dataclass(frozen=True)
class Scored:
    """What was read, and the SQL of the scored rows (the plan's final step). ``plan`` is
    None for a profile without criteria (intent only)."""

    loaded: Loaded
    plan: ScoringPlan | None
    final_sql: str
    columns: list[str]  # the columns a user sees; the final step also has PRIVATE ones
    events: EventsRead | None = None  # what was read of the events (intent or triggers)

    def sql(self, *, in_input_order: bool = False) -> str:
        cols = ", ".join(quote_ident(c) for c in self.columns)
        order = f" ORDER BY {ROW}" if in_input_order else ""
        return f"SELECT {cols} FROM ({self.final_sql}){order}"


def score_rows(
    backend: DuckDBBackend, profile: Profile, source: Any, *, on_error: OnError = "fail",
    progress: ProgressFn | None = None, explain: bool = False, scored_at: datetime | None = None,
    events: Any = None, as_of: datetime | None = None, contacts: Any = None,
) -> Scored:
    """Score ``source`` up to the rows' final step, which the caller streams where it wants.

    Values are read and reduced to per-row outcomes in one pass (the plan's first step,
    kept as a narrow table); bad values and duplicate domains are found there and stop the
    run, or with ``on_error="skip"`` are set aside before anything is ranked. The returned
    SQL streams the final rows, so they are never held in memory twice.

    A profile with an intent section also needs ``events`` (a file, a table, or a
    :class:`~icpkit.workspace.Workspace` to read its event store): the intent score of every
    account as of ``as_of`` (default: now) is joined to its row; accounts without events
    score 0.
    """
    when = scored_at or datetime.now(UTC)
    instant = utc_naive(as_of or when)
    read = None
    if profile.intent is not None or profile.triggers:
        if events is None:
            what = "an intent section" if profile.intent is not None else "triggers"
            raise IcpError(f"the profile has {what}: give the events (--events FILE)",
                           hint="events need type, occurred_at and domain or email columns; or load them into "
                                "the workspace once with `icp events load FILE`")
        if isinstance(events, Workspace):
            backend.stored_events(events.database)
        else:
            backend.prepare_events(events, on_error=on_error, needed=needed_events(profile, instant), progress=progress)
        read = backend.events_read()
    features = None
    if profile.triggers:
        triggers = trigger_plan(profile.triggers, backend.table_ref("icp_events"), instant)
        backend.execute(f"CREATE OR REPLACE TEMP TABLE icp_triggers AS {backend.compile(triggers)}")
        features = "icp_triggers"
    loaded = backend.prepare_accounts(source, profile, on_error=on_error, features=features)
    if profile.intent is not None and not loaded.canonical.keyed:
        raise DataError("intent needs accounts keyed by domain: the accounts have no domain column",
                        where=loaded.label, hint="add the accounts' domains (map them with `columns: {domain: ...}`)")
    plan = None
    if profile.criteria:
        plan = build_plan(profile, backend.table_ref(loaded.name), explain=explain, scored_at=when)
        rows_step, combos_step, final = plan.steps
        backend.materialize(rows_step, loaded, progress, "reading and scoring")
        backend.check(loaded, on_error, rows_step.name)
        backend.materialize(combos_step, loaded)
        scored = final.expr
    else:
        keep = [c for c in ("domain", "name") if c in backend.table_ref(loaded.name).columns]
        backend.execute(f"CREATE OR REPLACE TEMP TABLE icp_rows AS SELECT {ROW}, {', '.join(keep)}, _bad, "
                        f"_country_unknown FROM {loaded.name}", progress, "reading")
        backend.check(loaded, on_error, "icp_rows")
        rows = backend.table_ref("icp_rows")
        scored = rows.select(*keep, profile_version=ibis.literal(profile.version_hash),
                             scored_at=ibis.literal(utc_naive(when), type="timestamp"), **{ROW: rows[ROW]})
    if profile.intent is not None:
        accounts = backend.table_ref(loaded.name)
        sizes = accounts if "employees" in accounts.columns and "domain" in accounts.columns else None
        intent = intent_plan(profile.intent, backend.table_ref("icp_events"), instant, sizes=sizes)
        backend.execute(f"CREATE OR REPLACE TEMP TABLE icp_intent AS {backend.compile(intent)}", progress,
                        "scoring intent")
        personas = None
        if profile.personas:
            if contacts is None:
                raise IcpError("the profile has personas: give the contacts (--contacts FILE)",
                               hint="contacts need an email column, and title, seniority or department")
            backend.prepare_contacts(contacts)
            per = persona_plan(profile, backend.table_ref("icp_contacts"), backend.table_ref("icp_events"), instant)
            backend.execute(f"CREATE OR REPLACE TEMP TABLE icp_personas AS {backend.compile(per)}")
            personas = backend.table_ref("icp_personas")
        scored = blend(profile, scored, backend.table_ref("icp_intent"), backend.table_ref(loaded.name), personas)
        if not backend.rows("SELECT count(*) FROM icp_intent")[0][0] and (
                personas is None or not backend.rows("SELECT count(*) FROM icp_personas WHERE persona_points <> 0")[0][0]):
            loaded.warnings.append(_no_intent(profile.intent, instant))
    columns = [c for c in scored.columns if c not in PRIVATE]
    return Scored(loaded, plan, backend.compile(scored), columns, read)


def _no_intent(intent: Intent, instant: datetime) -> str:
    """The warning of a run where no account has intent."""
    return (f"no account has intent: none of the events is of the profile's types "
            f"({', '.join(sorted(intent.event_types))}) on or before {instant:%Y-%m-%d %H:%M} UTC "
            "and attributed to an account; check the event types (`icp events types FILE` lists them) and --as-of")


def _normal_domain(backend: DuckDBBackend, domain: str) -> str | None:
    """``domain`` normalised exactly as input domains are (scheme, www., path, case)."""
    backend.con.register("icp_probe", pa.table({"x": [domain]}))
    probe = ibis.table({"x": "string"}, name="icp_probe")
    return backend.rows(backend.compile(probe.select(d=normalize_domain(probe.x))))[0][0]


def _profile(profile: Profile | str | Path) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def _source(accounts: Accounts) -> Any:
    """A path (or workspace, or None) as it is, anything else as an Arrow table."""
    if accounts is None or isinstance(accounts, Workspace):
        return accounts
    _, table = _as_arrow(accounts)
    return table if table is not None else accounts


def _as_arrow(data: Accounts) -> tuple[str, pa.Table | None]:
    """The kind of input ("path", "arrow", "pandas", "polars") and its Arrow table."""
    if isinstance(data, (str, Path)):
        return "path", None
    if isinstance(data, pa.Table):
        return "arrow", data
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return "pandas", pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return "polars", data.to_arrow()
    if isinstance(data, pa.RecordBatch):
        return "arrow", pa.Table.from_batches([data])
    raise IcpError(f"cannot score a {type(data).__name__}",
                   hint="pass a file path, a pyarrow.Table, or a pandas or polars DataFrame")


def _from_arrow(table: pa.Table, kind: str) -> Any:
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def _rejects_path(out: str | Path, ws: Workspace) -> Path:
    if is_table_name(str(out)):
        return ws.path / f"{out}.rejects.csv"
    p = Path(out)
    return p.with_name(p.name + ".rejects.csv")


def _write_rejects(backend: DuckDBBackend, rejects: Rejects, path: Path) -> None:
    backend.con.register("icp_rejects_arrow", rejects.to_arrow())
    backend.write("SELECT * FROM icp_rejects_arrow", path)
