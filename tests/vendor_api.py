"""A company-data API on loopback for the enrichment tests: a real HTTP server in a thread
whose answer for a domain depends on the domain's first label:

* ``ok-*``: 200 with ``{"company": {"employees": N, "industry": "Software"}}``
* ``missing-*``: 404
* ``flaky-*``: 429 (Retry-After: 0) the first time, then as ``ok-``
* ``down-*``: 503 every time
* ``bad-*``: 200 with text that is not JSON
* ``wrongtype-*``: 200 with ``"employees": "lots"``
* ``slow-*``: answers after 2 s (past the tests' timeout)
* ``empty-*``: 200 with ``{"company": null}`` (no match)

Every request is recorded (domain, API key header) so tests can count what was paid for.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class VendorApi:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        self.hang = threading.Event()  # set: every request waits until cleared
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                domain = parse_qs(urlsplit(self.path).query).get("domain", [""])[0]
                with api.lock:
                    api.requests.append((domain, self.headers.get("Authorization")))
                    seen = sum(d == domain for d, _ in api.requests)
                while api.hang.is_set():
                    time.sleep(0.02)
                kind = domain.split("-", 1)[0]
                if kind == "slow":
                    time.sleep(2)
                if kind == "missing":
                    return self._send(404, b'{"error": "not found"}')
                if kind == "flaky" and seen == 1:
                    return self._send(429, b'{"error": "slow down"}', {"Retry-After": "0"})
                if kind == "down":
                    return self._send(503, b"unavailable")
                if kind == "bad":
                    return self._send(200, b"{not json")
                if kind == "empty":
                    return self._send(200, b'{"company": null}')
                employees = "lots" if kind == "wrongtype" else 10 + len(domain)
                body = {"company": {"employees": employees, "industry": "Software", "domain": domain}}
                self._send(200, json.dumps(body).encode())

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/companies?domain={{domain}}"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(d for d, _ in self.requests)


@contextmanager
def vendor_api() -> Iterator[VendorApi]:
    api = VendorApi()
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.hang.clear()
        api.server.shutdown()
        api.server.server_close()
