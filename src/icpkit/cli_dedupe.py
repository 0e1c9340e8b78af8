"""``icp dedupe``: find duplicate accounts and merge each cluster into one (see
:mod:`icpkit.dedupe_run`; the rules file is described in :mod:`icpkit.enrich.survivorship`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import BackendOpt, JsonOpt
from .cli_render import _count, _json_to_stdout, _progress, _write_json, err, escape, out


def dedupe(
    accounts: Annotated[Path, typer.Option("--accounts", "-a", help="Accounts: CSV, Parquet or JSON lines.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The merged accounts: a .csv, .parquet or .jsonl file "
                                                               "(one row per company).")],
    clusters: Annotated[Path | None, typer.Option(
        "--clusters", help="Also write every input row with its cluster_id and cluster_size here.")] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", help="A dedupe.yaml: the threshold, the columns compared, the survivorship rule of each column "
                        "(most_complete, most_frequent, longest, max, min, most_recent, source_priority).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="The match probability at which two accounts are one (default: the rules', else 0.9); "
                            "lower finds more duplicates and more mistakes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    backend: BackendOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Find duplicate accounts (same company written differently) and merge each cluster into one record."""
    import json

    from .dedupe_run import run_dedupe

    _json_to_stdout(json_out)
    with _progress(quiet) as progress:
        summary = run_dedupe(accounts, out_file, clusters_out=clusters, rules=rules, threshold=threshold,
                             backend=backend, progress=progress)
    for note in summary.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if json_out is not None:
        _write_json(json_out, json.dumps(summary.to_dict(), indent=2, default=str) + "\n", quiet=quiet)
    if quiet:
        return
    compared = ", ".join(f"{field} ({escape(header)})" if header != field else field
                         for field, header in summary.columns.items())
    out.print(f"Read {_count(summary.rows, 'account')} from {escape(summary.source)}; compared on {compared}.")
    out.print(f"Found {_count(summary.duplicate_rows, 'duplicate row')}; [bold]{_count(summary.accounts, 'account')}[/] "
              f"after merging (match probability {summary.threshold:g} or more; {summary.pairs.compared:,} pairs "
              f"compared, {summary.pairs.matched:,} matched; parameters {summary.training}) in {summary.seconds:.1f} s.")
    if summary.examples:
        t = Table(title="Largest clusters", title_justify="left")
        for name in ("cluster", "rows", "names"):
            t.add_column(name, overflow="fold")
        for e in summary.examples:
            t.add_row(str(e["cluster_id"]), escape(e["rows"]), escape(" | ".join(e["names"])))
        out.print(t)
    out.print(f"Wrote {escape(summary.output)}")
    if summary.clusters_output:
        out.print(f"Wrote {escape(summary.clusters_output)}")
