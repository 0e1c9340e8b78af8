"""The runner: the one place that sequences a scoring run, on a backend it is handed.

``score_rows`` reads the inputs, runs the plans (scoring, intent, personas, triggers) up to
the scored rows' final expression, and checks the input on the way; ``write_scores`` streams
that expression to a target and summarises the run. Every step is an ibis expression run
by the backend (:mod:`icpkit.backends.base`), so one run works on DuckDB, PostgreSQL and
Spark alike. Nothing here reads hidden state or writes anything it was not asked to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from .backends.base import Backend, OnError, ProgressFn, Target
from .errors import DataError, DuplicateKeyError, IcpError, Problem, located, quoted
from .intent.plan import blend, intent_plan, needed_events, persona_plan, trigger_plan
from .intent.reader import Events, EventsRead, events_read, read_contacts, read_events
from .io.canonical import CanonicalPlan, bad_flag, canonical_plan
from .io.notes import read_warnings
from .io.sources import source_label
from .io.values import industry_is_unrecognised
from .monitor.snapshot import Snapshot, from_counts
from .profile.model import Intent, Profile
from .rejects import Rejects
from .scoring.columns import any_of
from .scoring.plan import ROW, ROW_KEY, ScoringPlan, build_plan, key_column, utc_naive

_MAX_LISTED = 10

#: Columns of the scored rows that are for the engine, not for the user.
PRIVATE = (ROW, "_bad", "_country_unknown")


@dataclass
class Loaded:
    """Canonical accounts, ready to score (``accounts``); after :func:`check`, the number of
    rows scored, the rows set aside and warnings."""

    accounts: ir.Table  # _row, key, fields, _bad, _country_unknown
    raw: ir.Table  # the input as read
    canon: ir.Table  # canonical values with their _bad_<field> flags
    canonical: CanonicalPlan
    label: str
    rows: int = 0
    rejects: Rejects = field(default_factory=Rejects)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scored:
    """What was read, and the scored rows (``final``, with the PRIVATE columns). ``plan`` is
    None for a profile without criteria (intent only)."""

    loaded: Loaded
    plan: ScoringPlan | None
    final: ir.Table
    columns: list[str]  # the columns a user sees
    events: EventsRead | None = None  # what was read of the events (intent or triggers)

    def result(self, *, in_input_order: bool = False) -> ir.Table:
        """The scored rows as a user sees them, in the input's order when asked."""
        t = self.final.order_by(ROW) if in_input_order else self.final
        return t.select(*self.columns)


def read_accounts(backend: Backend, source: Any, profile: Profile, *, on_error: OnError = "fail",
                  features: ir.Table | None = None) -> Loaded:
    """Open ``source`` as canonical accounts: ``_row``, the fields the profile uses, typed,
    and ``_bad`` (a value could not be read or the domain is missing).

    Nothing is read yet: values are parsed once, when the plan's first step runs;
    :func:`check` then looks at that step's rows for bad values and duplicate domains."""
    label = source_label(source)
    raw = backend.read(source, "icp_raw", on_error=on_error)
    try:
        canon = canonical_plan(raw, profile, source=label, features=features)
    except IcpError as exc:
        exc.where = exc.where or label
        raise
    c = backend.view("icp_canon", canon.expr)
    flags = [c[bad_flag(f.name)] for f in canon.fields] + ([c.domain.isnull()] if canon.keyed else [])
    cols: dict[str, ir.Value] = {ROW: c[ROW]}
    if not canon.keyed:
        cols[ROW_KEY] = c[ROW_KEY]
    cols.update({f.name: c[f.name] for f in canon.fields})
    cols.update({f: c[f] for f in profile.trigger_fields()})
    cols["_bad"] = any_of(flags)
    cols["_country_unknown"] = c._country_unknown if "_country_unknown" in c.columns else ibis.literal(False)
    accounts = backend.view("icp_accounts", c.select(**cols))
    return Loaded(accounts, raw, c, canon, label)


def check(backend: Backend, loaded: Loaded, on_error: OnError, rows: ir.Table, name: str) -> None:
    """Bad values and duplicate domains among the rows of the table ``name`` (``rows``, with
    ``_row``, ``domain`` and ``_bad``): raised with their file, row and column
    (``on_error="fail"``), or recorded in ``loaded.rejects`` and deleted (``"skip"``)."""
    if on_error == "skip" and not loaded.rejects.rows:
        for r in backend.read_rejects("icp_raw"):
            loaded.rejects.add(None, r.column, r.text, f"line {r.line}: {r.message}")
    bad = rows.filter(rows._bad).select(ROW).order_by(ROW)
    bad_rows = backend.to_arrow(bad if on_error == "skip" else bad.limit(_MAX_LISTED))[ROW].to_pylist()
    dupes: list[tuple[str, list[int]]] = []
    if loaded.canonical.keyed:
        # Find the duplicated domains first, then list their rows: listing the rows of every
        # domain costs more than the whole scoring pass. Counting per 64-bit hash of the domain
        # holds a number, not the text, per domain (DuckDB: 0.4 GB less at 10M rows, and 15%
        # less time); only the rows of a repeated hash, few, are grouped by their domain.
        good = rows.filter(~rows._bad)
        per_hash = good.group_by(_h=good.domain.hash()).aggregate(_n=good.count())
        maybe = good.filter(good.domain.hash().isin(per_hash.filter(per_hash._n > 1)._h)).select("domain", ROW)
        repeated = maybe.group_by("domain").aggregate(_n=maybe.count(), _first=maybe[ROW].min())
        repeated = repeated.filter(repeated._n > 1)
        if on_error != "skip":
            repeated = repeated.order_by("_first").limit(_MAX_LISTED)
        listed = maybe.join(repeated, "domain").select("domain", ROW, "_first").order_by(["_first", ROW])
        for r in backend.to_arrow(listed).to_pylist():
            if not dupes or dupes[-1][0] != r["domain"]:
                dupes.append((r["domain"], []))
            dupes[-1][1].append(r[ROW])
    if bad_rows:
        _bad_values(backend, loaded, bad_rows, on_error)
    if dupes:
        _duplicates(loaded, dupes, on_error)
    if bad_rows:
        backend.delete_rows(name, rows.filter(rows._bad).select(ROW))
    if dupes:
        first = rows.group_by("domain").aggregate(_first=rows[ROW].min())
        later = rows.join(first, "domain").filter(lambda t: t[ROW] != t._first).select(ROW)
        backend.delete_rows(name, later)
    loaded.rows = backend.scalar(rows.count())
    loaded.warnings = read_warnings(backend, loaded.raw, loaded.label, keyed=loaded.canonical.keyed, name="icp_raw")
    loaded.warnings += _warnings(backend, loaded, rows)


def _bad_values(backend: Backend, loaded: Loaded, bad_rows: list[int], on_error: OnError) -> None:
    canon, c, raw = loaded.canonical, loaded.canon, loaded.raw
    checks = [(f, c[bad_flag(f.name)]) for f in canon.fields]
    if canon.keyed:
        checks.append((next(f for f in canon.fields if f.name == "domain"), c.domain.isnull()))
    values = backend.to_arrow(raw.filter(raw[ROW].isin(bad_rows)).select(
        ROW, **{f"v{i}": raw[f.header].cast("string") for i, (f, _) in enumerate(checks)})).to_pylist()
    by_row = {r[ROW]: r for r in values}
    flags = backend.to_arrow(c.filter(c[ROW].isin(bad_rows)).select(
        ROW, **{f"f{i}": hit for i, (_, hit) in enumerate(checks)}).order_by(ROW)).to_pylist()
    problems: list[Problem] = []
    for hits in flags:
        row = hits[ROW]
        for i, (f, _) in enumerate(checks):
            if not hits[f"f{i}"]:
                continue
            value = by_row[row][f"v{i}"]
            missing_domain = f.name == "domain" and i == len(checks) - 1 and canon.keyed
            reason = "the domain is missing" if missing_domain else _reason(f.kind, f.name, value)
            problems.append(Problem(reason, located(loaded.label, row, f.header)))
            loaded.rejects.add(row, f.header, value, reason)
    if on_error != "skip":
        raise DataError(f"{len(problems)} bad values in {loaded.label}" if len(problems) > 1 else problems[0].message,
                        where=problems[0].where, problems=problems,
                        hint="fix them, or use --on-error skip to set these rows aside in a rejects file")


def _duplicates(loaded: Loaded, dupes: list[tuple[str, list[int]]], on_error: OnError) -> None:
    header = loaded.canonical.header_of("domain")
    if on_error == "skip":
        for domain, rows in dupes:
            for r in rows[1:]:
                loaded.rejects.add(r, header, domain, f"duplicate domain: first seen on row {rows[0]}")
        return
    problems = [Problem(f"domain {quoted(d)} appears {len(rows)} times (rows {', '.join(map(str, rows[:8]))})",
                        located(loaded.label, column=header)) for d, rows in dupes]
    raise DuplicateKeyError(
        f"{len(dupes)} duplicate domains in {loaded.label}" if len(dupes) > 1 else problems[0].message,
        where=problems[0].where, problems=problems,
        hint="an account is keyed by its domain: merge the rows, or use --on-error skip to keep the first",
    )


def _reason(kind: str, name: str, value: object) -> str:
    if name == "domain":
        return f"{quoted(value)} is not a domain name"
    if kind == "number":
        return f"cannot read {quoted(value)} as a number"
    return f"cannot read {quoted(value)}"


def _warnings(backend: Backend, loaded: Loaded, rows: ir.Table) -> list[str]:
    out = []
    n = backend.scalar(rows._country_unknown.sum()) if "_country_unknown" in rows.columns else 0
    if n:
        a = loaded.accounts
        examples = backend.to_arrow(a.filter(a._country_unknown).select("country").distinct().limit(5))["country"]
        shown = ", ".join(f"'{e}'" for e in examples.to_pylist())
        out.append(f"{n} row(s) have a country that is not recognised as an ISO code or name ({shown}); "
                   "they earn no country points")
    if "industry" in (f.name for f in loaded.canonical.fields):
        out += _unknown_industries(backend, loaded)
    return out


def _unknown_industries(backend: Backend, loaded: Loaded) -> list[str]:
    """The warning for industries that are no known industry's spelling: counted per distinct
    value of the input's column (a few hundred, typically), not row by row."""
    raw = loaded.raw[loaded.canonical.header_of("industry")]
    per_value = loaded.raw.group_by(v=raw if raw.type().is_string() else raw.cast("string")).aggregate(
        n=loaded.raw.count())
    unknown = per_value.filter(industry_is_unrecognised(per_value.v))
    n = backend.scalar(unknown.n.sum())
    if not n:
        return []
    examples = backend.to_arrow(unknown.select(v=unknown.v.strip()).order_by("v").limit(5))["v"].to_pylist()
    return [f"{n} row(s) have an industry that is not a LinkedIn industry or a known spelling of one "
            f"({', '.join(map(quoted, examples))}); they match only profile values written the same way"]


def score_rows(
    backend: Backend, profile: Profile, source: Any, *, on_error: OnError = "fail",
    progress: ProgressFn | None = None, explain: bool = False, scored_at: datetime | None = None,
    events: Any = None, as_of: datetime | None = None, contacts: Any = None,
) -> Scored:
    """Score ``source`` up to the rows' final expression, which the caller streams where it wants.

    Values are read and reduced to per-row outcomes in one pass (the plan's first step,
    kept as a narrow table); bad values and duplicate domains are found there and stop the
    run, or with ``on_error="skip"`` are set aside before anything is ranked.

    A profile with an intent section also needs ``events`` (a source, or :class:`Events`
    already read, e.g. a workspace's store): the intent score of every account as of
    ``as_of`` (default: now) is joined to its row; accounts without events score 0.
    """
    when = scored_at or datetime.now(UTC)
    instant = utc_naive(as_of or when)
    ev: Events | None = None
    if profile.intent is not None or profile.triggers:
        if events is None:
            what = "an intent section" if profile.intent is not None else "triggers"
            raise IcpError(f"the profile has {what}: give the events (--events FILE)",
                           hint="events need type, occurred_at and domain or email columns; or load them into "
                                "the workspace once with `icp events load FILE`")
        ev = events if isinstance(events, Events) else read_events(
            backend, events, on_error=on_error, needed=needed_events(profile, instant), progress=progress)
    read = events_read(backend, ev) if ev is not None else None
    features = None
    if profile.triggers:
        assert ev is not None
        features = backend.materialize("icp_triggers", trigger_plan(profile.triggers, ev.table, instant))
    loaded = read_accounts(backend, source, profile, on_error=on_error, features=features)
    if profile.intent is not None and not loaded.canonical.keyed:
        raise DataError("intent needs accounts keyed by domain: the accounts have no domain column",
                        where=loaded.label, hint="add the accounts' domains (map them with `columns: {domain: ...}`)")
    plan = None
    if profile.criteria:
        plan = build_plan(profile, loaded.accounts, explain=explain, scored_at=when)
        rows_step, *middle, final = plan.steps
        rows = _materialize_rows(backend, rows_step.name, rows_step.expr, loaded, progress, "reading and scoring")
        check(backend, loaded, on_error, rows, rows_step.name)
        for step in middle:  # after the check: on_error="skip" takes bad rows out of the first
            backend.materialize(step.name, step.expr)
        scored = final.expr
    else:
        a = loaded.accounts
        keep = [c for c in ("domain", "name") if c in a.columns]
        rows = _materialize_rows(backend, "icp_rows", a.select(ROW, *keep, "_bad", "_country_unknown"), loaded,
                                 progress, "reading")
        check(backend, loaded, on_error, rows, "icp_rows")
        scored = rows.select(*keep, profile_version=ibis.literal(profile.version_hash),
                             scored_at=ibis.literal(utc_naive(when), type="timestamp"), **{ROW: rows[ROW]})
    if profile.intent is not None:
        assert ev is not None
        a = loaded.accounts
        sizes = a if "employees" in a.columns and "domain" in a.columns else None
        intent = backend.materialize("icp_intent", intent_plan(profile.intent, ev.table, instant, sizes=sizes),
                                     progress=progress, phase="scoring intent")
        personas = None
        if profile.personas:
            if contacts is None:
                raise IcpError("the profile has personas: give the contacts (--contacts FILE)",
                               hint="contacts need an email column, and title, seniority or department")
            people = read_contacts(backend, contacts)
            personas = backend.materialize("icp_personas", persona_plan(profile, people, ev.table, instant))
        scored = blend(profile, scored, intent, a, personas)
        if not backend.scalar(intent.count()) and (
                personas is None or not backend.scalar((personas.persona_points != 0).sum())):
            loaded.warnings.append(_no_intent(profile.intent, instant))
    columns = [c for c in scored.columns if c not in PRIVATE]
    return Scored(loaded, plan, scored, columns, read)


def _materialize_rows(backend: Backend, name: str, expr: ir.Table, loaded: Loaded, progress: ProgressFn | None,
                      phase: str) -> ir.Table:
    """The plan's first step: the one pass over the input, where unreadable files show."""
    try:
        return backend.materialize(name, expr, progress=progress, phase=phase, in_order=True)
    except DataError as exc:  # keep the line an engine or the reader located, and a better hint
        raise DataError(f"cannot read {loaded.label}: {exc.message}", where=exc.where or loaded.label,
                        hint=exc.hint or "fix the file, or use --on-error skip to set bad rows aside") from None


def _no_intent(intent: Intent, instant: datetime) -> str:
    """The warning of a run where no account has intent."""
    return (f"no account has intent: none of the events is of the profile's types "
            f"({', '.join(sorted(intent.event_types))}) on or before {instant:%Y-%m-%d %H:%M} UTC "
            "and attributed to an account; check the event types (`icp events types FILE` lists them) and --as-of")


@dataclass(frozen=True)
class Written:
    """Where the scores went and what they hold: tier counts, the best accounts, and (for a
    profile that keeps its training population) accounts per fit score."""

    output: str
    tiers: dict[str, int]
    top: list[dict[str, Any]]
    scores: dict[float, int] = field(default_factory=dict)
    snapshot: Snapshot | None = None


def write_scores(backend: Backend, profile: Profile, scored: Scored, target: Target, *,
                 progress: ProgressFn | None = None, top: int = 5, snapshot: bool = False) -> Written:
    """Stream the scored rows to ``target`` in the input's order, and summarise them; with
    ``snapshot``, also the run's snapshot (for the history: a fit-scoring profile only)."""
    # Always asked for in order: engines keep no order through the plan's joins (DuckDB's
    # Parquet writer lost it from about 1M rows). Backends stream the ordered rows with
    # memory flat in the row count (tests/backends/test_output_order.py holds the order).
    output = backend.write(scored.result(in_input_order=True), target, progress=progress)
    tiers, best = summary(backend, profile, scored, top)
    scores: dict[float, int] = {}
    snap = None
    if snapshot and scored.plan is not None:
        snap = from_counts(profile, backend.to_arrow(scored.plan.points_counts()).to_pylist())
        scores = dict(snap.scores) if profile.population is not None else {}
    elif profile.population is not None and scored.plan is not None:
        scores = {r["fit_score"]: r["accounts"] for r in backend.to_arrow(scored.plan.score_counts()).to_pylist()}
    return Written(output, tiers, best, scores, snap)


def summary(backend: Backend, profile: Profile, scored: Scored, top: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Accounts per tier (highest first) and the ``top`` best accounts of a scored run."""
    result = scored.result()
    if profile.priority is not None and profile.priority.tiers_on != "fit":
        per_tier = backend.to_arrow(result.group_by("tier").aggregate(n=result.count())).to_pylist()
        counts = {r["tier"]: r["n"] for r in per_tier}
        tiers = {t.name: counts[t.name] for t in profile.ordered_tiers if t.name in counts}
        best = result.order_by([ibis.desc("priority"), "domain"]).limit(top).select(
            "domain", "fit_score", "tier", "abm_tier", "reasons")
    elif scored.plan is not None:
        tiers = {r["tier"]: r["accounts"] for r in backend.to_arrow(scored.plan.tier_counts()).to_pylist()}
        best = scored.plan.top(top).select(key_column(scored.plan.expr), "fit_score", "tier", "abm_tier", "reasons")
    else:
        tiers = {}
        best = result.order_by([ibis.desc("intent_score"), "domain"]).limit(top).select(
            "domain", "intent_score", "buying_group", "intent_reasons")
    return tiers, backend.to_arrow(best).to_pylist()


def write_rejects(backend: Backend, rejects: Rejects, path: Path) -> None:
    """The rows set aside, as a CSV file (row, column, value, reason)."""
    backend.write(backend.read(rejects.to_arrow(), "icp_rejects").drop(ROW), path)
