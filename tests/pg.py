"""A real PostgreSQL server for the tests: one per test run, one schema per test.

The server is started on first use and stopped when the process exits: with the
``pgserver`` wheel when it is installed (it ships PostgreSQL and runs as root), else with
the Debian binaries (``pg_ctl``/``initdb`` on the PATH or under ``/usr/lib/postgresql``),
as the ``postgres`` user when run as root. Without either, the tests that need it are
skipped, or fail when ``ICP_REQUIRE_ENGINES=1`` (CI sets it).

    from tests.pg import pg_url, pg_schema  # noqa: F401  (pytest fixtures)

``pg_schema`` gives each test a fresh schema (dropped after it) and a URL whose
``search_path`` starts with it, so tables a test writes never meet another test's.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

_SERVER: tuple[str, Callable[[], None]] | None = None
_FAILED: str | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _debian_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return versions[-1].parent if versions else None


def _start_pgserver(base: Path) -> tuple[str, Callable[[], None]]:
    import pgserver

    server = pgserver.get_server(base / "pgdata", cleanup_mode="stop")
    return server.get_uri(), server.cleanup


def _start_debian(bindir: Path, base: Path) -> tuple[str, Callable[[], None]]:
    """initdb and pg_ctl from ``bindir``, as ``postgres`` when root (initdb refuses root)."""
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam("postgres")
        for d in (base, data, sock):
            os.chown(d, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale")
    options = f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off -c synchronous_commit=off " \
              "-c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start")

    def stop() -> None:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)

    return f"postgresql://postgres@/postgres?host={quote(str(sock))}&port={port}", stop


def start_server() -> str:
    """The URL of this process's server, started on first call; raises RuntimeError when
    no PostgreSQL can be started here."""
    global _SERVER, _FAILED
    if _SERVER is not None:
        return _SERVER[0]
    if _FAILED is not None:
        raise RuntimeError(_FAILED)
    base = Path(tempfile.mkdtemp(prefix="icp-pg-"))
    try:
        try:
            import pgserver  # noqa: F401

            _SERVER = _start_pgserver(base)
        except ImportError:
            bindir = _debian_bin()
            if bindir is None:
                raise RuntimeError("no PostgreSQL: install the pgserver wheel (pip install icpkit[postgres]) "
                                   "or Debian's postgresql package") from None
            _SERVER = _start_debian(bindir, base)
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        _FAILED = f"cannot start PostgreSQL: {detail.strip()[:500]}"
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(_FAILED) from None
    stop = _SERVER[1]

    def cleanup() -> None:
        stop()
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(cleanup)
    return _SERVER[0]


def server_or_skip() -> str:
    """The server's URL; without one the test is skipped, or fails under ICP_REQUIRE_ENGINES=1."""
    try:
        return start_server()
    except RuntimeError as exc:
        if os.environ.get("ICP_REQUIRE_ENGINES") == "1":
            pytest.fail(f"{exc} (ICP_REQUIRE_ENGINES=1)")
        pytest.skip(str(exc))


def with_search_path(url: str, schema: str) -> str:
    """``url`` connecting with ``schema`` first on the search path."""
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema},public')}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The URL of the test run's PostgreSQL server (its ``postgres`` database)."""
    return server_or_skip()


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """``(schema, url)``: a schema of its own for one test, dropped after it, and a URL
    whose search path starts with it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema, with_search_path(pg_url, schema)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")
