"""Opening a server's store and running it under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..backends import backend_label, connect
from ..errors import DependencyError
from ..workspace import Workspace
from .service import Service
from .settings import Settings
from .store import Store


@contextmanager
def open_service(workspace: Workspace, settings: Settings | None = None) -> Iterator[Service]:
    """The service on the workspace's DuckDB file, or on PostgreSQL when the settings name
    a database (``ICP_DATABASE_URL``); its tables are migrated first. Closed after."""
    settings = settings or Settings.from_env()
    if settings.database_url:
        backend = connect(settings.database_url)
    else:
        # One thread: DuckDB spends more scheduling a stored score's small statements on
        # worker threads than running them (half the CPU of a store, measured).
        backend = connect("duckdb", database=workspace.ensure().database, threads=1)
    try:
        service = Service(Store(backend.rows()), settings)
        try:
            yield service
        finally:
            service.close()
    finally:
        backend.close()


def store_label(workspace: Workspace, settings: Settings) -> str:
    return backend_label(settings.database_url) if settings.database_url else str(workspace.database)


def publish_at_start(service: Service, profile: Path) -> int | None:
    """Store and publish ``profile`` when no profile is active yet; its version, or None
    when one was active already."""
    if service.store.active_version() is not None:
        return None
    from ..profile.load import load_profile

    text = profile.read_text(encoding="utf-8-sig")
    load_profile(profile)  # errors name the file
    version = service.create_profile(text, "icp serve --profile")["version"]
    service.publish(version, "icp serve --profile")
    return int(version)


def run(service: Service, host: str, port: int) -> None:
    try:
        import uvicorn
    except ImportError:
        raise DependencyError("the server needs FastAPI and uvicorn", hint="pip install icpkit[server]") from None
    from .app import create_app

    uvicorn.run(create_app(service), host=host, port=port, log_level="info", access_log=False)
