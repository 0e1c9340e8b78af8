"""``icp match``: leads matched to accounts (registered in :mod:`icpkit.cli`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import BackendOpt, JsonOpt
from .cli_render import _json_to_stdout, _progress, _write_json, escape, out

#: What each method means, for the summary table.
_METHODS = {"email_domain": "e-mail domain", "website": "website", "exact_name": "company name, exact",
            "fuzzy_name": "company name, fuzzy"}


def match(
    leads: Annotated[Path, typer.Option("--leads", help="Leads: CSV, Parquet or JSON lines, with an e-mail and/or a "
                                        "company column (website and country help).", show_default=False)],
    accounts: Annotated[Path, typer.Option("--accounts", "-a", help="Accounts: CSV, Parquet or JSON lines, with a "
                                           "domain column (name and country for name matches).", show_default=False)],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output .csv or .parquet: every lead with email, "
                                           "domain, match_method and confidence.", show_default=False)],
    json_out: JsonOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    backend: BackendOpt = None,
) -> None:
    """Match leads to accounts: by e-mail domain, then website, then company name (exact, then fuzzy)."""
    from .match_run import run_match

    _json_to_stdout(json_out)
    with _progress(quiet) as progress:
        summary = run_match(leads, accounts, out_path, backend=backend, progress=progress)
    if json_out is not None:
        _write_json(json_out, json.dumps(summary.to_dict(), indent=2) + "\n", quiet=quiet)
    if quiet:
        return
    share = f" ({summary.matched / summary.leads:.1%})" if summary.leads else ""
    out.print(f"Matched [bold]{summary.matched:,}[/] of {summary.leads:,} leads{share} against {summary.accounts:,} "
              f"accounts in {summary.seconds:.1f} s -> {escape(summary.output)}")
    t = Table(title="Matches by method", title_justify="left")
    t.add_column("method")
    t.add_column("leads", justify="right")
    for method, label in _METHODS.items():
        t.add_row(label, f"{summary.methods.get(method, 0):,}")
    t.add_row("unmatched", f"{summary.unmatched:,}")
    out.print(t)
    notes = []
    if summary.free_mail or summary.disposable:
        notes.append(f"{summary.free_mail:,} free-mail and {summary.disposable:,} disposable address(es): matched by "
                     "website or company name only")
    if summary.accounts_without_domain:
        notes.append(f"{summary.accounts_without_domain:,} account(s) without a usable domain left out")
    notes += [f"the leads' column '{escape(a)}' is written as '{escape(b)}'" for a, b in summary.renamed.items()]
    for note in notes:
        out.print(f"[dim]{note}[/]")
