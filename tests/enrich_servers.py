"""Small HTTP servers on loopback addresses for the enrichment tests (real sockets, no mocks).

A :class:`Site` serves routes given as :class:`Reply` values or as functions of the request
handler, and records what reached it: the connections it accepted and every request (method,
path, headers, when), so that a test can show that a refused URL was never contacted.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """A fixed answer: status, headers (pairs, repeats allowed) and body."""

    status: int = 200
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it; header names in lower case."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


Route = Reply | Callable[[BaseHTTPRequestHandler], None]


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, headers=[("Location", location)])


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, site: Site) -> None:
        self.site = site
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.site.lock:
            self.site.connections += 1
        super().process_request(request, client_address)


class Site:
    """An HTTP/1.0 server (one request per connection) on ``host`` (127.0.0.1, 127.0.0.2, ...);
    HTTPS with ``tls`` (a server-side context)."""

    def __init__(self, routes: Mapping[str, Route], host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.routes, self.host = dict(routes), host
        self.connections, self.lock = 0, threading.Lock()
        self.requests: list[Seen] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                site._answer(self)

            def do_POST(self) -> None:  # noqa: N802
                site._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server((host, port), Handler, self)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
        with self.lock:
            self.requests.append(seen)
        route = self.routes.get(urlsplit(handler.path).path, Reply(404, b"not here"))
        if not isinstance(route, Reply):
            route(handler)
            return
        handler.send_response(route.status)
        for name, value in route.headers:
            handler.send_header(name, value)
        if not any(n.lower() == "content-length" for n, _ in route.headers):
            handler.send_header("Content-Length", str(len(route.body)))
        handler.end_headers()
        handler.wfile.write(route.body)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def silent_listener(host: str = "127.0.0.1") -> socket.socket:
    """A socket that accepts connections (the kernel's backlog) and never answers: for timeouts."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen(8)
    return sock


def self_signed(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for ``name`` made with the openssl command: (the server's context, a client
    context trusting only it)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))
