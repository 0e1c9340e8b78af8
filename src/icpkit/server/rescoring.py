"""The server's rescoring thread: accounts touched by new events are rescored soon after
the events are stored, in batches, so that a stream of event batches is stored at the
speed of the store and each account is rescored once for all the events that arrived
meanwhile. The marks live in the store (``icp_pending``), written with the events: after a
restart the thread finishes what was marked."""

from __future__ import annotations

import threading

from .service import Service

#: Accounts rescored per transaction: small, so that the requests storing events (which
#: share the store's connection) wait little for one.
BATCH = 200
#: How often the marks are looked at when nothing wakes the thread (after a restart, or
#: marks made by another server on the same PostgreSQL).
POLL_S = 1.0


class Rescorer:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.service.on_pending = self._wake.set
        self._thread = threading.Thread(target=self._loop, name="icp-rescore", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.service.on_pending = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.service.rescore_pending(BATCH)
            except Exception:  # noqa: BLE001 - the store away: try again on the next pass
                done = 0
            if not done:
                self._wake.wait(POLL_S)
                self._wake.clear()
