"""A real server for the API tests: uvicorn on loopback in a thread of the test process,
over a store on the workspace's DuckDB file or on PostgreSQL (a schema of its own), in
turn. ``api`` is the running server with an admin, a write and a read key."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from icpkit.server.app import create_app
from icpkit.server.serve import open_service
from icpkit.server.service import Service
from icpkit.server.settings import Settings
from icpkit.workspace import Workspace
from tests.pg import server_or_skip, with_search_path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-rubric.yaml"
STORES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Live:
    """A running server: its URL, its service (for checking the store) and three keys."""

    url: str
    service: Service
    admin: str
    writer: str
    reader: str

    def client(self, key: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=auth | headers, timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    """(workspace, settings values) for a store of each kind."""
    if request.param == "duckdb":
        yield Workspace(tmp_path / "ws"), {}
        return
    import psycopg

    url = server_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Workspace(tmp_path / "ws"), {"database_url": with_search_path(url, schema)}
    finally:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def start(service: Service) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture
def api_settings() -> dict[str, Any]:
    """Settings a test overrides (e.g. a low rate limit)."""
    return {}


@pytest.fixture
def api(store_settings: tuple[Workspace, dict[str, Any]], api_settings: dict[str, Any]) -> Iterator[Live]:
    workspace, values = store_settings
    with open_service(workspace, Settings(**(values | api_settings))) as service:
        admin = service.create_key("admin", "test admin")[0]
        writer = service.create_key("write", "test writer")[0]
        reader = service.create_key("read", "test reader")[0]
        url, server, thread = start(service)
        try:
            yield Live(url, service, admin, writer, reader)
        finally:
            server.should_exit = True
            thread.join(10)
