"""An enrichment run: accounts read, the configuration's waterfalls run for every account
with a domain, the accounts written back with the fields filled in and where each value
came from.

The output keeps every input column and row, in order; a field the input already has
(``employees``, or a CRM header for it such as ``Number of Employees``) is filled where it
is blank (``overwrite: true`` replaces every value), any other field becomes a new column.
Per field, ``<field>_source`` names the provider (or ``input``) and ``<field>_fetched_at``
when it was fetched; ``enrich_problems`` lists, per account, what went wrong (a provider's
timeout, a value of the wrong kind, the budget). The output is written atomically: an
interrupted or failed run leaves no half-written file, and what it paid for is in the
workspace cache for the next run (see :mod:`icpkit.enrich.cache`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .backends import connect
from .backends.base import Backend, ProgressFn, Target
from .backends.rows import Rows
from .enrich.cache import Cache
from .enrich.config import EnrichConfig, TableProvider, WebsiteProvider
from .enrich.providers import HttpLookup, Provider, TableLookup, WebsiteLookup
from .enrich.waterfall import Budget, Filled, Tally, Waterfall, run_all
from .errors import DataError
from .io.canonical import ROW
from .io.crm import canonical_mapping, resolve_column
from .io.frames import as_source
from .io.record import account_domain
from .io.sources import TableName, source_label

#: The column listing each account's problems.
PROBLEMS = "enrich_problems"


@dataclass
class EnrichSummary:
    """What a run did (or, dry, would do)."""

    accounts: int
    domains: int
    without_domain: int
    dry_run: bool
    budget: float | None
    spent: float
    #: dry run: the most the lookups not cached would cost
    estimate: float
    fields: dict[str, dict[str, int]]  # field -> source ("input", a provider, "missing") -> accounts
    providers: dict[str, dict[str, Any]]
    out: str | None = None
    seconds: float = 0.0
    run_id: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def enrich(backend: Backend, accounts: Any, config: EnrichConfig, *, cache_rows: Rows | None, base_dir: Path,
           out: Target | None = None, dry_run: bool = False, progress: ProgressFn | None = None,
           fetcher_factory: Callable[[Any], Any] | None = None) -> EnrichSummary:
    """Enrich ``accounts`` (a file, a table name, a frame) as ``config`` says.

    ``cache_rows``: the workspace's stored rows for the cache (None: no cache, every remote
    answer asked again); ``base_dir``: the folder relative paths of the configuration are
    read from; ``out``: where the enriched accounts go (a dry run writes nothing)."""
    started = time.perf_counter()
    src = as_source(accounts)
    label = source_label(src)
    raw = backend.to_arrow(backend.read(src, "icp_enrich_accounts").order_by(ROW))
    headers = [c for c in raw.column_names if c != ROW]
    mapping = canonical_mapping(headers)
    domain_col = resolve_column("domain", headers, mapping.columns)
    if domain_col is None:
        raise DataError("the accounts have no domain or website column to look companies up by", where=label,
                        hint="add a 'domain' (or 'website') column")
    targets = {f: resolve_column(f, headers, mapping.columns) or f for f in config.fields}
    _check_new_columns(targets, headers, label)

    domains = [account_domain(None if v is None else str(v)) for v in raw.column(domain_col).to_pylist()]
    inputs = {f: raw.column(col).to_pylist() if col in headers else [None] * raw.num_rows
              for f, col in targets.items()}
    needed: dict[str, set[str]] = {}
    for i, d in enumerate(domains):
        if d is not None:
            want = needed.setdefault(d, set())
            want.update(f for f in config.fields if config.overwrite or _blank(inputs[f][i]))
    jobs = [(d, [f for f in config.fields if f in want]) for d, want in needed.items() if want]

    run_id = uuid.uuid4().hex[:12]
    providers = _providers(backend, config, base_dir, fetcher_factory)
    cache = Cache(cache_rows, ttl_days=config.cache_ttl_days) if cache_rows is not None else None
    tally, budget = Tally(), Budget(config.budget)
    fall = Waterfall(config, providers, cache, run_id, budget, tally, dry_run=dry_run)
    fall.preload([d for d, _ in jobs])

    def step(done: int) -> None:
        if progress is not None:
            progress("looking up accounts" if not dry_run else "estimating", 100.0 * done / max(len(jobs), 1))

    try:
        results = run_all(fall, jobs, concurrency=config.concurrency, progress=step)
    finally:
        for p in providers.values():
            fetcher = getattr(p, "fetcher", None)
            if fetcher is not None:
                fetcher.close()
    table = _output(raw, headers, config, targets, domains, inputs, results)
    written = None
    if out is not None and not dry_run:
        result = backend.read(table, "icp_enriched")
        written = backend.write(result.select(*table.column_names), out, progress=progress)
    return _summary(config, providers, tally, budget, domains, targets, table, len(needed), dry_run, written,
                    time.perf_counter() - started, run_id)


def _check_new_columns(targets: dict[str, str], headers: list[str], label: str) -> None:
    taken = {h.lower() for h in headers}
    for f in targets:
        for col in (f"{f}_source", f"{f}_fetched_at"):
            if col.lower() in taken:
                raise DataError(f"the accounts already have a column '{col}', which enrichment writes", where=label,
                                hint="rename that column")
    if PROBLEMS in taken:
        raise DataError(f"the accounts already have a column '{PROBLEMS}', which enrichment writes", where=label)


def _blank(value: Any) -> bool:
    return value is None or isinstance(value, str) and not value.strip()


def _providers(backend: Backend, config: EnrichConfig, base_dir: Path,
               fetcher_factory: Callable[[Any], Any] | None) -> dict[str, Provider]:
    made: dict[str, Provider] = {}
    fingerprints: dict[Path, Any] = {}
    make = fetcher_factory or _fetcher
    for name, p in config.providers.items():
        if isinstance(p, TableProvider):
            made[name] = TableLookup(name, _table_rows(backend, p, base_dir, name), p.key, p.fields)
        elif isinstance(p, WebsiteProvider):
            from .enrich.fingerprints import load_fingerprints

            path = _path(p.fingerprints, base_dir)
            if path not in fingerprints:
                fingerprints[path] = load_fingerprints(path)
            made[name] = WebsiteLookup(name, p, make(p), fingerprints[path])
        else:
            made[name] = HttpLookup(name, p, make(p))
    return made


def _fetcher(p: Any) -> Any:
    from .enrich.fetch import Fetcher

    return Fetcher(p.fetch)


def _path(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _table_rows(backend: Backend, p: TableProvider, base_dir: Path, name: str) -> list[dict[str, Any]]:
    where = f"providers.{name}.source"
    if p.database is None:
        source: Any = _path(p.source, base_dir)
        engine = backend
    else:
        source = TableName(p.source)
        engine = connect(p.database if "://" in p.database else None,
                         database=None if "://" in p.database else _path(p.database, base_dir), read_only=True)
    try:
        t = engine.read(source, f"icp_provider_{uuid.uuid4().hex[:8]}")
        missing = [c for c in (p.key, *p.fields.values()) if c not in t.columns]
        if missing:
            shown = source.name if isinstance(source, Path) else source_label(source)
            raise DataError(f"provider '{name}': no column '{missing[0]}' in {shown}",
                            where=where, hint=f"its columns: {', '.join(c for c in t.columns if c != ROW)}")
        return engine.to_arrow(t.select(*dict.fromkeys([p.key, *p.fields.values()]))).to_pylist()
    finally:
        if engine is not backend:
            engine.close()


def _output(raw: Any, headers: list[str], config: EnrichConfig, targets: dict[str, str], domains: list[str | None],
            inputs: dict[str, list[Any]], results: dict[str, Filled]) -> Any:
    import pyarrow as pa

    table = raw.select(headers)
    problems: list[str | None] = [None] * raw.num_rows
    for i, d in enumerate(domains):
        r = results.get(d) if d is not None else None
        if d is None:
            problems[i] = "no domain"
        elif r is not None and r.problems:
            problems[i] = "; ".join(dict.fromkeys(r.problems))
    for f, col in targets.items():
        kind = config.kind(f)
        values, sources, fetched = [], [], []
        for i, d in enumerate(domains):
            r = results.get(d) if d is not None else None
            own = inputs[f][i]
            if r is not None and f in r.values and (config.overwrite or _blank(own)):
                values.append(r.values[f])
                sources.append(r.sources[f])
                fetched.append(r.fetched_at[f])
            else:
                values.append(own)
                sources.append(None if _blank(own) else "input")
                fetched.append(None)
        column = _column(values, kind, raw.schema.field(col).type if col in headers else None)
        if col in headers:
            table = table.set_column(table.column_names.index(col), col, column)
        else:
            table = table.append_column(col, column)
        table = table.append_column(f"{f}_source", pa.array(sources, pa.string()))
        table = table.append_column(f"{f}_fetched_at", pa.array(fetched, pa.timestamp("us")))
    return table.append_column(PROBLEMS, pa.array(problems, pa.string()))


def _column(values: list[Any], kind: str, existing: Any) -> Any:
    import pyarrow as pa

    if kind == "list":
        values = ["; ".join(v) if isinstance(v, list) else v for v in values]
    if existing is not None:
        try:
            return pa.array(values, existing)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            return pa.array([None if v is None else str(v) for v in values], pa.string())
    types = {"integer": pa.int64(), "number": pa.float64(), "bool": pa.bool_()}
    return pa.array(values, types.get(kind, pa.string()))


def _summary(config: EnrichConfig, providers: dict[str, Provider], tally: Tally, budget: Budget,
             domains: list[str | None], targets: dict[str, str], table: Any, unique: int, dry_run: bool,
             written: str | None, seconds: float, run_id: str) -> EnrichSummary:
    fields: dict[str, dict[str, int]] = {}
    for f in targets:
        counts: dict[str, int] = {}
        for s in table.column(f"{f}_source").to_pylist():
            counts[s or "missing"] = counts.get(s or "missing", 0) + 1
        fields[f] = counts
    out: dict[str, dict[str, Any]] = {}
    estimate = 0.0
    for name, p in providers.items():
        errors = {reason: n for (prov, reason), n in tally.errors.items() if prov == name}
        out[name] = {"cost_per_lookup": p.cost, "asked": tally.asked[name], "found": tally.found[name],
                     "from_cache": tally.cached[name], "errors": errors}
        if dry_run:
            out[name]["would_ask"] = tally.would_ask[name]
            estimate += tally.would_ask[name] * p.cost
    warnings = []
    if any("budget" in e for e in out.values() for e in e["errors"]):
        warnings.append(f"the budget ({config.budget:g}) ran out: some lookups were skipped; run again with a "
                        "higher budget to fill them (nothing already paid for is asked again)")
    return EnrichSummary(len(domains), unique, sum(d is None for d in domains), dry_run, config.budget,
                         round(budget.spent, 6), round(estimate, 6), fields, out, written, round(seconds, 3), run_id,
                         warnings)
