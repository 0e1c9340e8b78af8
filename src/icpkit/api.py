"""The Python API: the same engine the ``icp`` command runs, for notebooks and pipelines.

>>> import icpkit
>>> profile = icpkit.load_profile("examples/seed-rubric.yaml")
>>> scores = icpkit.score(profile, "accounts.csv")          # a pyarrow.Table
>>> scores = icpkit.score(profile, accounts_df)            # pandas in, pandas out (polars too)
>>> icpkit.score_to(profile, "crm.accounts", "crm.scores", backend="postgresql://app@db/crm")

Each call runs on a backend: the embedded DuckDB by default, or the one ``backend`` names
(a URL or name, see :func:`icpkit.backends.connect`, or a backend object the caller keeps
open). Nothing is written to a workspace unless one is given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from .backends import using
from .discover.tam import Tam, TamLimits, judge
from .errors import DataError, IcpError
from .io.sources import TableName, file_format
from .profile.load import as_profile as _profile
from .profile.model import Profile
from .rejects import Rejects
from .workspace import Workspace

# The engine side (ibis, pyarrow) loads when a call needs it: a small file scored in-process
# (icpkit.small) and `import icpkit.api` load no engine.
if TYPE_CHECKING:
    from .backends.base import Backend, OnError, ProgressFn, Target
    from .discover.backtest import Backtest, Comparison
    from .discover.discover import Discovery
    from .discover.learn import Learned
    from .discover.shift import Shift
    from .intent.reader import EventsRead
    from .monitor.drift import Drift
    from .monitor.snapshot import Snapshot
    from .review_run import Review
    from .run import Loaded

Accounts = Any  # a path, a table name, a pyarrow.Table, a pandas or polars DataFrame
BackendArg: TypeAlias = "str | Backend | None"


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
    shift: Shift | None = None  # for a learned profile, on 1,000 records or more
    run_id: int | None = None  # its number in the workspace's history (`icp runs`), when recorded

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON data (``icp score --json``); the rows set aside are counted."""
        from dataclasses import asdict

        return {"ok": True, "rows": self.rows, "output": self.output, "profile_version": self.profile_version,
                "seconds": round(self.seconds, 3), "tiers": self.tiers, "rejected": len(self.rejects.rows),
                "rejects_file": str(self.rejects_file) if self.rejects_file else None, "warnings": self.warnings,
                "crm_source": self.crm_source, "top": self.top,
                "events": asdict(self.events) if self.events is not None else None,
                "shift": self.shift.to_dict() if self.shift is not None else None, "run_id": self.run_id}


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
    backend: BackendArg = None,
) -> Any:
    """Score ``accounts`` with ``profile`` and return the scores with their reasons.

    ``accounts`` is a file path (CSV, Parquet, JSON lines), a ``pyarrow.Table`` or a pandas
    or polars DataFrame; the result is of the same kind as the input (a ``pyarrow.Table`` for
    a path). ``explain=True`` adds one ``reason_<criterion>`` column per criterion. A
    profile with an intent section needs ``events`` (a path or table); ``as_of`` scores as of
    that moment (default: now), ignoring later events.
    """
    from .io.frames import as_arrow, as_source, from_arrow
    from .run import score_rows

    prof = _profile(profile)
    kind, _ = as_arrow(accounts) if not isinstance(accounts, TableName) else ("path", None)
    with using(backend) as b:
        scored = score_rows(b, prof, as_source(accounts), on_error=on_error, explain=explain, scored_at=scored_at,
                            events=as_source(events), as_of=as_of, contacts=as_source(contacts))
        result = b.to_arrow(scored.result(in_input_order=True))
    return from_arrow(result, kind)


def score_to(
    profile: Profile | str | Path,
    accounts: Accounts,
    out: str | Path,
    *,
    workspace: Workspace | None = None,
    backend: BackendArg = None,
    on_error: OnError = "fail",
    progress: ProgressFn | None = None,
    scored_at: datetime | None = None,
    top: int = 5,
    events: Any = None,
    as_of: datetime | None = None,
    contacts: Any = None,
) -> ScoreRun:
    """Score ``accounts`` into ``out``: a CSV, Parquet or JSON-lines file chosen by suffix, or
    a table: of the database of a PostgreSQL or Spark ``backend`` (``schema.table``), or of
    the ``workspace`` when ``out`` is a bare name such as ``scores`` on the default engine.

    Outputs are written atomically; with ``on_error="skip"`` the rows set aside are written
    next to the output as ``<out>.rejects.csv``. With a ``workspace``, the run is remembered
    there (for ``icp explain``), recorded in its history (``icp runs``, ``icp drift``; a
    fit-scoring profile), and its stored events are used when ``events`` is not given.
    Without a ``backend``, a small CSV file is scored in-process when it can be, with the
    engine's result (:mod:`icpkit.small`); ``backend="duckdb"`` always runs the engine.
    """
    started = time.perf_counter()
    prof = _profile(profile)
    target = _target(out, backend, workspace)
    in_workspace = isinstance(target, TableName) and not _is_database(backend)
    if in_workspace and str(out).lower().startswith("icp_"):
        raise IcpError(f"'{out}' is a reserved table name (names starting with icp_ are icpkit's own)",
                       hint="choose another name, e.g. scores")
    _check_outputs(out, target, backend, workspace, on_error)  # before any work
    with workspace.locked() if workspace is not None else nullcontext():  # one writer at a time
        small = None
        if backend is None and events is None and contacts is None:
            from .small import score_small  # a small CSV file in-process, exactly as the engine scores it

            small = score_small(prof, accounts, target, scored_at=scored_at, top=top)
        if small is not None:
            run = ScoreRun(small.rows, small.output, prof.version_hash, 0.0, small.tiers, small.rejects,
                           warnings=small.warnings, crm_source=small.crm_source, top=small.top)
            scores, snapshot = small.scores, small.snapshot
        else:
            run, scores, snapshot = _score_on_engine(prof, accounts, out, target, workspace, backend, on_error,
                                                     progress, scored_at, top, events, as_of, contacts)
        if prof.population is not None:
            from .discover.shift import shift

            run.shift, note = shift(prof, scores, run.tiers)
            run.warnings += ([note] if note else []) + (run.shift.warnings if run.shift is not None else [])
        if workspace is not None and snapshot is not None:
            run.run_id, note = _record_run(workspace, prof, snapshot, accounts, as_of)
            run.warnings += [note] if note else []
        if workspace is not None and isinstance(accounts, (str, Path)):
            from .lastrun import last_run

            workspace.update_settings(last_run=last_run(profile, prof, accounts, run.output, target, events,
                                                        contacts, as_of, rejected=len(run.rejects.rows)))
    run.seconds = time.perf_counter() - started
    return run


def _check_outputs(out: str | Path, target: Target, backend: BackendArg, workspace: Workspace | None,
                   on_error: OnError) -> None:
    """The output file and the rejects file can be written (not a directory...), or a DataError."""
    from .io.atomic import check_output_file

    spark = _is_database(backend) and not str(backend if isinstance(backend, str) else getattr(backend, "name", "")
                                                ).lower().startswith("postgres")
    if isinstance(target, Path):
        check_output_file(target, parquet_directory=spark)
    if on_error == "skip":
        check_output_file(_rejects_path(out, workspace))


def _score_on_engine(prof: Profile, accounts: Accounts, out: str | Path, target: Target, workspace: Workspace | None,
                     backend: BackendArg, on_error: OnError, progress: ProgressFn | None, scored_at: datetime | None,
                     top: int, events: Any, as_of: datetime | None, contacts: Any
                     ) -> tuple[ScoreRun, dict[float, int], Snapshot | None]:
    """:func:`score_to` on a backend, the accounts per fit score and, with a workspace, the
    run's snapshot (see ``run.Written``)."""
    from .intent.store import workspace_events
    from .io.frames import as_source
    from .run import score_rows, write_rejects, write_scores

    in_workspace = isinstance(target, TableName) and not _is_database(backend)
    database = workspace.ensure().database if in_workspace and workspace is not None else None
    with using(backend, database=database) as b:
        ev = as_source(events)
        if ev is None and (prof.intent is not None or prof.triggers) and _uses_store(b, workspace):
            assert workspace is not None
            ev = workspace_events(b, workspace)
        scored = score_rows(b, prof, as_source(accounts), on_error=on_error, progress=progress,
                            scored_at=scored_at, events=ev, as_of=as_of, contacts=as_source(contacts))
        written = write_scores(b, prof, scored, target, progress=progress, top=top, snapshot=workspace is not None)
        loaded = scored.loaded
        rejects_file = None
        if loaded.rejects.rows:
            rejects_file = _rejects_path(out, workspace)
            write_rejects(b, loaded.rejects, rejects_file)
    return ScoreRun(loaded.rows, written.output, prof.version_hash, 0.0, written.tiers, loaded.rejects, rejects_file,
                    loaded.warnings, loaded.canonical.crm_source, written.top, scored.events), written.scores, \
        written.snapshot


def _record_run(workspace: Workspace, prof: Profile, snapshot: Snapshot, accounts: Accounts,
                as_of: datetime | None) -> tuple[int | None, str | None]:
    """Record a run in the workspace's history: its number, or None and why it was not."""
    from .monitor.history import History

    source = str(accounts) if isinstance(accounts, (str, Path, TableName)) else type(accounts).__name__
    try:
        return History(workspace.path).record(snapshot, profile_name=prof.name, profile_hash=prof.version_hash,
                                              source=source, as_of=as_of), None
    except IcpError as exc:
        return None, f"the run is not recorded in the workspace's history: {exc.message}"


def explain(profile: Profile | str | Path, accounts: Accounts, domain: str, *, events: Any = None,
            as_of: datetime | None = None, contacts: Any = None, workspace: Workspace | None = None,
            backend: BackendArg = None) -> dict[str, Any]:
    """The full breakdown of one account: every criterion's points and reason, and with an
    intent section its intent as of ``as_of`` (default now) from ``events`` (default: the
    ``workspace``'s store). In an input without domains, ``domain`` is the account's row number."""
    import pyarrow as pa

    from .intent.store import workspace_events
    from .io.frames import as_source
    from .io.values import normalize_domain, with_registrable
    from .run import score_rows
    from .scoring.plan import ROW_KEY

    prof = _profile(profile)
    with using(backend) as b:
        ev = as_source(events)
        if ev is None and (prof.intent is not None or prof.triggers) and _uses_store(b, workspace):
            assert workspace is not None
            ev = workspace_events(b, workspace)
        scored = score_rows(b, prof, as_source(accounts), on_error="skip", explain=True, events=ev,
                            as_of=as_of, contacts=as_source(contacts))
        t = scored.result()
        if scored.loaded.canonical.keyed:
            probe = b.read(pa.table({"x": [domain]}), "icp_probe")
            host = with_registrable(probe.select(x=normalize_domain(probe.x)), "x")
            wanted = b.scalar(host.x.max()) or domain.strip()
            rows = b.to_arrow(t.filter(t.domain == wanted)).to_pylist()
        elif domain.strip().isdigit():
            wanted = domain.strip()
            rows = b.to_arrow(t.filter(t[ROW_KEY] == int(wanted))).to_pylist()
        else:
            raise DataError(f"the accounts have no domain column, so '{domain}' cannot be found",
                            where=scored.loaded.label, hint="give the account's row number instead")
    if not rows:
        what = "domain" if scored.loaded.canonical.keyed else "row"
        raise DataError(f"no account with {what} '{wanted}' in the accounts",
                        hint="check the spelling; domains are compared without scheme, www. and path")
    return rows[0]


def backtest(profile: Profile | str | Path, data: Any, label: str, *, date: str | None = None,
             split_at: str | None = None, events: Any = None, as_of: datetime | None = None, contacts: Any = None,
             backend: BackendArg = None) -> Backtest:
    """Score labelled history ``data`` with ``profile`` and measure the scores against the
    ``label`` column (see :mod:`icpkit.discover.backtest`).

    With ``date`` and ``split_at`` only rows whose date is on or after ``split_at`` (the
    out-of-sample period) are evaluated; a row with a missing or unreadable date is an error.
    A profile with intent is scored from ``events`` as of ``as_of`` (give the moment the
    outcomes were still unknown, so that no later event leaks in); the score measured is the
    one its tiers use: the fit score, or the priority or intent score.
    """
    from .discover.backtest import check_as_of, check_split, labelled_counts, summary_of
    from .io.frames import as_source
    from .run import score_rows

    prof = _profile(profile)
    check_as_of(prof, as_of)
    cutoff = check_split(date, split_at)
    with using(backend) as b:
        scored = score_rows(b, prof, as_source(data), events=as_source(events), as_of=as_of,
                            contacts=as_source(contacts), scored_at=as_of)
        counts = labelled_counts(b, prof, scored, label, date, cutoff)
    return summary_of(prof, counts)


def learn(data: Any, label: str, *, exclude: Sequence[str] = (), allow: Sequence[str] = (), date: str | None = None,
          name: str | None = None, min_share: float = 0.05, leak_auc: float = 0.80, seed: int = 0,
          backend: BackendArg = None) -> Learned:
    """Learn a points scorecard from labelled records ``data`` (a path, table name, Arrow
    table or DataFrame) and their ``label`` column, as ``icp learn`` does (see
    :mod:`icpkit.discover.learn`): constrained bins of at least ``min_share`` of the rows,
    leaky columns left out unless in ``allow``, forward-chaining validation with ``date``.
    The result holds the profile, its evidence and the validation; nothing is written."""
    from .discover.learn import learn as learn_scorecard

    with using(backend) as b:
        return learn_scorecard(data, label, exclude=exclude, allow=allow, date=date, name=name, seed=seed,
                               min_share=min_share, leak_auc=leak_auc, backend=b)


def discover(accounts: Any, *, deals: Any = None, outcomes: Any = None, best: str = "won", top_share: float = 0.25,
             key: str = "domain", exclude: Sequence[str] = (), min_support: int | None = None, seed: int = 0,
             backend: BackendArg = None) -> Discovery:
    """Compare the best accounts with the rest, as ``icp discover`` does (see
    :mod:`icpkit.discover.discover`): evidence per attribute, the signal test, and a
    proposed profile when there is a signal."""
    from .discover.discover import discover as find

    with using(backend) as b:
        return find(accounts, deals=deals, outcomes=outcomes, best=best, top_share=top_share, key=key,
                    exclude=exclude, min_support=min_support, seed=seed, backend=b)


def compare(a: Profile | str | Path, b: Profile | str | Path, data: Any, label: str, *,
            date: str | None = None, split_at: str | None = None, backend: BackendArg = None) -> Comparison:
    """Backtest profiles ``a`` and ``b`` on the same labelled rows, test whether one ranks
    better (paired DeLong) and count the records that change tier, as ``icp compare`` does."""
    return compare_profiles(a, b, data, label, date=date, split_at=split_at, backend=backend)


def tam(profile: Profile | str | Path, universe: Any, *, limits: TamLimits = TamLimits(), on_error: OnError = "skip",
        progress: ProgressFn | None = None, backend: BackendArg = None) -> Tam:
    """Size the total addressable market of ``profile`` in ``universe``, as ``icp tam`` does
    (see :func:`size_tam`)."""
    return size_tam(profile, universe, limits=limits, on_error=on_error, progress=progress, backend=backend)


def compare_profiles(a: Profile | str | Path, b: Profile | str | Path, data: Any, label: str, *,
                     date: str | None = None, split_at: str | None = None, backend: BackendArg = None) -> Comparison:
    """Backtest profiles ``a`` and ``b`` on the same labelled rows, test the difference of
    their AUCs (DeLong's paired test) and count tier changes."""
    from .discover.backtest import check_split, comparison, labelled_counts
    from .io.frames import as_source
    from .run import score_rows

    pa_, pb = _profile(a), _profile(b)
    cutoff = check_split(date, split_at)
    with using(backend) as eng:
        da = labelled_counts(eng, pa_, score_rows(eng, pa_, as_source(data)), label, date, cutoff, keep_rows=True)
        db = labelled_counts(eng, pb, score_rows(eng, pb, as_source(data)), label, date, cutoff, keep_rows=True)
    return comparison(pa_, pb, da, db)


def size_tam(profile: Profile | str | Path, universe: Any, *, limits: TamLimits = TamLimits(),
             on_error: OnError = "skip", progress: ProgressFn | None = None, backend: BackendArg = None) -> Tam:
    """Count the companies of ``universe`` per tier and judge the top tier's size; break
    each tier down by industry group, country and size band, where the universe has those
    columns (one aggregate query each, see :mod:`icpkit.discover.segments`).

    Universes are large and imperfect, so rows that cannot be scored (no domain, a
    duplicate) are set aside by default and counted in ``rejected``.
    """
    from .discover.segments import breakdowns, segment_queries
    from .io.frames import as_source
    from .run import score_rows

    prof = _profile(profile)
    with using(backend) as b:
        scored = score_rows(b, prof, as_source(universe), on_error=on_error, progress=progress)
        if scored.plan is None:
            raise IcpError("TAM sizing needs a profile with criteria", hint="add criteria to the profile")
        counts = {r["tier"]: r["accounts"] for r in b.to_arrow(scored.plan.tier_counts()).to_pylist()}
        tiers = {t.name: counts.get(t.name, 0) for t in prof.ordered_tiers}
        segments: dict[str, dict[str, dict[str, int]]] = {t: {} for t in tiers}
        for q in segment_queries(prof, scored.loaded.raw, scored.plan.fit_scores()):
            rows = b.to_arrow(q.expr, progress=progress, phase=f"counting by {q.dimension.replace('_', ' ')}")
            for tier, by_value in breakdowns(q.dimension, rows.to_pylist(), tiers).items():
                segments[tier][q.dimension] = by_value
    return judge(prof, counts, limits=limits, warnings=scored.loaded.warnings,
                 rejected=len(scored.loaded.rejects.rows), segments=segments)


def validate_accounts(profile: Profile | str | Path, accounts: Accounts, *, backend: BackendArg = None) -> Loaded:
    """Read and check ``accounts`` for ``profile`` as a scoring run would (columns, values,
    duplicate keys): what was read, or the error a run would stop with."""
    from .io.frames import as_source
    from .run import score_rows

    with using(backend) as b:
        return score_rows(b, _profile(profile), as_source(accounts)).loaded


#: ``icp sql`` dialect names -> ibis dialects.
DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres", "spark": "pyspark",
            "pyspark": "pyspark", "databricks": "databricks", "snowflake": "snowflake", "bigquery": "bigquery",
            "trino": "trino"}


def drift(profile: Profile | str | Path, baseline: str, current: str, *, data: Any = None, label: str | None = None,
          date: str | None = None, every: str = "month", workspace: Workspace | None = None,
          min_support: int | None = None, exclude: Sequence[str] = (), backend: BackendArg = None) -> Drift:
    """Compare two populations scored by ``profile``, as ``icp drift`` does: each a file, a
    run of the ``workspace``'s history (``run:3``) or a period of the dated ``data`` file
    (``2026-Q1``); see :mod:`icpkit.drift_run` and :mod:`icpkit.monitor.drift`. Columns in
    ``exclude`` are not searched for segments."""
    from .drift_run import check_columns, kind_of, side
    from .monitor.drift import check_every
    from .monitor.drift import drift as compare_sides

    check_every(every)
    prof = _profile(profile)
    cache: dict[str, Any] = {}
    with using(backend) as b:
        if all(kind_of(t, data is not None) == "file" for t in (baseline, current)):
            check_columns(b, baseline, current)
        base, cur = (side(b, prof, text, what=what, data=data, label=label, date_col=date, exclude=exclude,
                          workspace=workspace, cache=cache)
                     for text, what in ((baseline, "baseline"), (current, "current")))
    return compare_sides(prof, base, cur, every=every, min_records=min_support)


def review(profile: Profile | str | Path, history: Any, *, label: str, date: str,
           previous: Profile | str | Path | None = None,
           universe: Any = None, every: str = "quarter", backend: BackendArg = None) -> Review:
    """The quarterly review of ``profile`` on a labelled, dated ``history``, as ``icp review``
    does (see :mod:`icpkit.review_run`): backtest, drift of the latest period, segments, TAM
    by segment (of ``universe``, else of the history) and, with ``previous``, the changelog."""
    from .monitor.drift import check_every
    from .review_run import review as gather

    check_every(every)
    prof = _profile(profile)
    prev = _profile(previous) if previous is not None else None
    with using(backend) as b:
        bt = backtest(prof, history, label, backend=b).to_dict()
        comparison = compare_profiles(prev, prof, history, label, backend=b).to_dict() if prev is not None else None
        sized = size_tam(prof, universe if universe is not None else history, backend=b).to_dict() \
            if prof.criteria else None
        name = (previous.name if isinstance(previous, Profile) else str(previous)) if previous is not None else None
        return gather(b, prof, history, label=label, date=date, every=every, previous=prev, previous_name=name,
                      tam=sized, tam_of=str(universe) if universe is not None else "", backtest=bt,
                      comparison=comparison)


def scoring_sql(profile: Profile | str | Path, table: str, dialect: str, *, text_columns: bool = False,
                scored_at: datetime | None = None) -> str:
    """One SQL statement (a CTE per step) that scores the accounts ``table`` of a warehouse
    with ``profile``, in ``dialect``: the same columns and values as ``icp score`` (fit
    score, tier, ABM tier, route, disqualifier, reasons, points). The table has the
    profile's fields under their names (or the ``columns:`` mapping's headers), typed by
    kind (text, DOUBLE numbers, arrays of text for lists), or all text with
    ``text_columns`` (as loaded from a CSV file). Intent needs events: use a backend."""
    from .scoring.sql import fit_sql

    prof = _profile(profile)
    target = DIALECTS.get(dialect.strip().lower())
    if target is None:
        raise IcpError(f"unknown dialect '{dialect}'", hint="use one of " + ", ".join(sorted(DIALECTS)))
    if prof.intent is not None or prof.triggers:
        raise IcpError("icp sql writes fit scoring only; intent and triggers need the events",
                       hint="run icp score with --backend on the database that holds them")
    return fit_sql(prof, TableName(table), target, text_columns=text_columns, scored_at=scored_at)


def enrich_accounts(accounts: Any, config: Any, *, out: str | Path | None = None,
                    workspace: Workspace | None = None, dry_run: bool = False, budget: float | None = None,
                    backend: BackendArg = None, progress: ProgressFn | None = None) -> Any:
    """Fill in the fields of ``accounts`` from the providers of ``config`` (an ``enrich.yaml``
    path or an :class:`~icpkit.enrich.config.EnrichConfig`), as ``icp enrich`` does (see
    :mod:`icpkit.enrich_run`). Remote answers are cached in the ``workspace`` (none given:
    nothing is cached); ``budget`` overrides the configuration's; ``dry_run`` asks no remote
    provider and estimates what a run would cost."""
    from .enrich.config import EnrichConfig, load_config
    from .enrich_run import enrich

    cfg = config if isinstance(config, EnrichConfig) else load_config(config)
    base = Path.cwd() if isinstance(config, EnrichConfig) else Path(config).resolve().parent
    if budget is not None:
        cfg = cfg.model_copy(update={"budget": budget})
    target = _target(out, backend, workspace) if out is not None else None
    with ExitStack() as stack:
        if workspace is not None:
            stack.enter_context(workspace.locked())
        b = stack.enter_context(using(backend, database=workspace.database if workspace and backend is None else None))
        rows = None
        if workspace is not None:  # the cache: the workspace's database, this backend's when it is that one
            store = b if backend is None else stack.enter_context(using("duckdb", database=workspace.database))
            rows = store.rows()
        return enrich(b, accounts, cfg, cache_rows=rows, base_dir=base, out=target, dry_run=dry_run,
                      progress=progress)


def match_leads(leads: Any, accounts: Any, out: str | Path, *, backend: BackendArg = None,
                progress: ProgressFn | None = None) -> Any:
    """Match ``leads`` (people) to ``accounts`` and write them to ``out`` with the matched
    account's domain, the method and the confidence, as ``icp match`` does (see
    :mod:`icpkit.enrich.match`)."""
    from .match_run import run_match

    return run_match(leads, accounts, out, backend=backend, progress=progress)


def dedupe_accounts(accounts: Any, out: str | Path, *, clusters_out: str | Path | None = None, rules: Any = None,
                    threshold: float | None = None, backend: BackendArg = None,
                    progress: ProgressFn | None = None) -> Any:
    """Cluster duplicate ``accounts`` and write one merged record per cluster to ``out``, as
    ``icp dedupe`` does (see :mod:`icpkit.enrich.dedupe` and :mod:`icpkit.enrich.survivorship`)."""
    from .dedupe_run import run_dedupe

    return run_dedupe(accounts, out, clusters_out=clusters_out, rules=rules, threshold=threshold, backend=backend,
                      progress=progress)


def _is_database(backend: BackendArg) -> bool:
    """A backend with a database of its own to write tables to (PostgreSQL, Spark)."""
    if backend is None:
        return False
    name = backend if isinstance(backend, str) else backend.name
    return not name.lower().startswith("duckdb")


def _target(out: str | Path, backend: BackendArg, workspace: Workspace | None) -> Target:
    """A file (by its suffix or a path separator) or a table."""
    text = str(out)
    if isinstance(out, Path) or "/" in text or "\\" in text or _has_file_suffix(text):
        return Path(out)
    table = TableName(text)
    if not _is_database(backend):
        if "." in text:
            raise IcpError(f"cannot tell the format of output '{out}'",
                           hint="use a .csv, .parquet or .jsonl file, or a bare name for a workspace table")
        if workspace is None:
            raise IcpError(f"'{out}' names a table, and no workspace was given to hold it",
                           hint="pass workspace=Workspace(DIR), or give a .csv, .parquet or .jsonl file")
    return table


def _has_file_suffix(text: str) -> bool:
    try:
        file_format(text, purpose="output")
        return True
    except DataError:
        return False


def _uses_store(backend: Backend, workspace: Workspace | None) -> bool:
    """Whether to read the workspace's stored events (kept in its DuckDB database)."""
    from .intent.store import has_stored_events

    return workspace is not None and backend.name == "duckdb" and has_stored_events(workspace)


def _rejects_path(out: str | Path, ws: Workspace | None) -> Path:
    if not isinstance(out, Path) and "/" not in str(out) and not _has_file_suffix(str(out)):
        name = f"{out}.rejects.csv"
        return ws.path / name if ws is not None else Path(name)
    p = Path(out)
    return p.with_name(p.name + ".rejects.csv")
