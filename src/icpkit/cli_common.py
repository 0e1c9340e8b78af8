"""What the ``icp`` commands share: their option types and the workspace they open."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .cli_render import err, escape
from .errors import IcpError
from .workspace import DEFAULT_LOCK_TIMEOUT_S, Workspace

WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", envvar="ICP_WORKSPACE",
                                            help="Workspace directory (database and settings).")]
ProfileArg = Annotated[Path, typer.Argument(help="Profile file (YAML).", show_default=False)]
ProfileOpt = Annotated[Path, typer.Option("--profile", "-p", help="Profile file (YAML).")]
DataOpt = Annotated[Path, typer.Option("--data", "-d", help="Labelled accounts: CSV, Parquet or JSON lines.")]
LabelOpt = Annotated[str, typer.Option("--label", "-l", help="The outcome column: 1/0, won/lost, yes/no, true/false.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="A date column; with --split-at, for an out-of-sample test.")]
SplitAtOpt = Annotated[str | None, typer.Option("--split-at",
                                                help="Evaluate only rows dated on or after this date (YYYY-MM-DD).")]
EventsOpt = Annotated[str | None, typer.Option(
    "--events", "-e", help="Events for the profile's intent and triggers: CSV, Parquet or JSON lines (or a table "
                           "with a database --backend).")]
BackendOpt = Annotated[str | None, typer.Option(
    "--backend", "-b", envvar="ICP_DATABASE_URL", show_default=False,
    help="Where to run: duckdb (default, embedded), a postgresql://user@host/db URL, spark (local), or a Spark "
         "master URL.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Score as of this moment (YYYY-MM-DD = 00:00 UTC, or an ISO timestamp); later events are "
                    "ignored. Default: now.")]
ContactsOpt = Annotated[str | None, typer.Option(
    "--contacts", help="Contacts for the profile's personas: email, title, seniority, department.")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")]
JsonOpt = Annotated[Path | None, typer.Option(
    "--json", help="Also write every figure to this JSON file; '-' writes it to standard output (and the report "
                   "to standard error).")]


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"


EventsOnErrorOpt = Annotated[OnError, typer.Option(
    "--on-error", help="fail: stop at the first unreadable event; skip: leave such events out.")]


def _workspace(path: Path) -> Workspace:
    """The workspace of ``--workspace``: a run that finds it in use by another one waits
    (``ICP_LOCK_TIMEOUT_S`` seconds, default 300) and says so on standard error."""
    text = os.environ.get("ICP_LOCK_TIMEOUT_S", "").strip()
    try:
        timeout = float(text) if text else DEFAULT_LOCK_TIMEOUT_S
    except ValueError:
        raise IcpError(f"ICP_LOCK_TIMEOUT_S={text!r} is not a number of seconds") from None
    return Workspace(path, lock_timeout_s=timeout,
                     on_wait=lambda message: err.print(f"[yellow]{escape(message)}[/]"))
