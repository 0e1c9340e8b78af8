"""``icp enrich``: fill in the accounts' fields from the providers of ``enrich.yaml`` (see
docs/enrich.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .cli_common import BackendOpt, JsonOpt, WorkspaceOpt, _workspace
from .cli_render import _count, _json_to_stdout, _progress, _write_json, err, escape, out
from .workspace import DEFAULT_DIR


def enrich(
    accounts: Annotated[str, typer.Option("--accounts", "-a", help="Accounts: CSV, Parquet or JSON lines (or a "
                                                                   "table with a database --backend).")],
    config: Annotated[Path, typer.Option("--config", "-c", help="The enrichment configuration (enrich.yaml).")],
    out_path: Annotated[str | None, typer.Option("--out", "-o", help="Where the enriched accounts go: a .csv, "
                                                                     ".parquet or .jsonl file, or a table.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Ask no remote provider: count the lookups a run would "
                                                            "make and what they would cost.")] = False,
    budget: Annotated[float | None, typer.Option(help="The most this run may spend (overrides the configuration's "
                                                      "budget).", min=0)] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Keep no answers in the workspace (every remote "
                                                              "answer is asked, and paid for, again).")] = False,
    json_out: JsonOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
    backend: BackendOpt = None,
) -> None:
    """Fill in size, industry, tech stack... from local tables, websites and HTTP APIs, with a
    cache, provenance per field and a budget."""
    import icpkit

    if out_path is None and not dry_run:
        raise typer.BadParameter("give --out (or --dry-run to estimate the cost first)", param_hint="--out")
    _json_to_stdout(json_out)
    with _progress(quiet or json_out == Path("-")) as progress:
        s = icpkit.enrich_accounts(accounts, config, out=out_path, workspace=None if no_cache else _workspace(workspace),
                                   dry_run=dry_run, budget=budget, backend=backend, progress=progress)
    if json_out is not None:
        _write_json(json_out, json.dumps(s.to_dict(), indent=2, default=str) + "\n")
    _render(s)


def _render(s: Any) -> None:
    what = f"{_count(s.accounts, 'account')} ({_count(s.domains, 'domain')}; {s.without_domain:,} without one)"
    if s.dry_run:
        out.print(f"Dry run over {what}: nothing was fetched or spent ({s.seconds:.1f} s).")
    else:
        out.print(f"Enriched {what} in {s.seconds:.1f} s.")
    t = Table(title="Fields: where each value came from", title_justify="left")
    t.add_column("field")
    t.add_column("filled from", overflow="fold")
    t.add_column("missing", justify="right")
    for field, counts in s.fields.items():
        filled = ", ".join(f"{escape(k)} {v:,}" for k, v in counts.items() if k != "missing")
        t.add_row(escape(field), filled or "-", f"{counts.get('missing', 0):,}")
    out.print(t)
    p = Table(title="Providers", title_justify="left")
    for name in ("provider", "asked", "found", "from cache", *(["would ask"] if s.dry_run else []), "cost each",
                 "problems"):
        p.add_column(name, justify="left" if name in ("provider", "problems") else "right")
    for name, d in s.providers.items():
        problems = ", ".join(f"{escape(k)} {v:,}" for k, v in d["errors"].items()) or "-"
        p.add_row(escape(name), f"{d['asked']:,}", f"{d['found']:,}", f"{d['from_cache']:,}",
                  *([f"{d['would_ask']:,}"] if s.dry_run else []), f"{d['cost_per_lookup']:g}", problems)
    out.print(p)
    limit = f" of a budget of {s.budget:g}" if s.budget is not None else ""
    if s.dry_run:
        out.print(f"A run would cost at most {s.estimate:g}{limit} (every lookup not cached assumed to be made).")
    else:
        out.print(f"Spent {s.spent:g}{limit}.")
        if s.out:
            out.print(f"Wrote {escape(s.out)}")
    for w in s.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
