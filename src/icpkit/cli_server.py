"""``icp serve`` and ``icp keys``: the server and its API keys (see docs/server.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import WorkspaceOpt, _workspace
from .cli_render import err, escape, out
from .workspace import DEFAULT_DIR

keys_app = typer.Typer(help="API keys of the server (`icp serve`).", no_args_is_help=True)


def serve(
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
    profile: Annotated[Path | None, typer.Option("--profile", "-p", help="Publish this profile at start "
                                                 "when none is active.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the JSON API: score accounts and leads as they arrive, take events, publish profiles.

    Stores in the workspace's DuckDB, or in PostgreSQL when ICP_DATABASE_URL is set; see
    docs/server.md for the endpoints and settings."""
    from .server.serve import open_service, publish_at_start, run, store_label
    from .server.settings import Settings

    settings = Settings.from_env()
    ws = _workspace(workspace)
    with open_service(ws, settings) as service:
        if profile is not None:
            version = publish_at_start(service, profile)
            if version is not None:
                err.print(f"Published {escape(str(profile))} as profile version {version}.")
        if not service.store.keys():
            err.print("[yellow]No API key yet: make one with `icp keys create --scope admin`.[/]")
        err.print(f"Serving on http://{escape(host)}:{port} (store: {escape(store_label(ws, settings))}; "
                  f"API documents at /docs and /openapi.json).")
        run(service, host, port)


ScopeOpt = Annotated[str, typer.Option("--scope", "-s", help="read, write or admin (each includes the ones before).")]


@keys_app.command("create")
def keys_create(scope: ScopeOpt = "read",
                name: Annotated[str, typer.Option(help="A label for the key.")] = "",
                workspace: WorkspaceOpt = Path(DEFAULT_DIR)) -> None:
    """Make an API key; it is printed once, as the last line (only its hash is stored)."""
    from .server.keys import check_scope
    from .server.serve import open_service

    check_scope(scope)
    with open_service(_workspace(workspace)) as service:
        key, key_id = service.create_key(scope, name)
    err.print(f"Made key {key_id} with the '{scope}' scope. Keep it: it is not shown again.")
    print(key)


@keys_app.command("list")
def keys_list(workspace: WorkspaceOpt = Path(DEFAULT_DIR)) -> None:
    """List the API keys (ids, scopes, names, dates; never the keys)."""
    from .server.serve import open_service

    with open_service(_workspace(workspace)) as service:
        found = service.list_keys()
    t = Table(title="API keys", title_justify="left")
    for name in ("id", "scope", "name", "created (UTC)", "revoked (UTC)"):
        t.add_column(name)
    for k in found:
        t.add_row(k["key_id"], k["scope"], escape(k["name"] or ""), str(k["created_at"] or "")[:19],
                  str(k["revoked_at"] or "")[:19])
    out.print(t)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (see `icp keys list`).")],
                workspace: WorkspaceOpt = Path(DEFAULT_DIR)) -> None:
    """Revoke an API key: requests with it are refused from then on."""
    from .server.serve import open_service

    with open_service(_workspace(workspace)) as service:
        service.revoke_key(key_id)
    out.print(f"Revoked key {escape(key_id)}.")
