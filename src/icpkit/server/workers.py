"""The server's background threads: delivering alerts, rescoring the accounts new events
touched, watching for drift. Each is a :class:`Worker` running one pass of its work over
and over."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Worker:
    """A daemon thread running ``work`` again and again: at once while a pass says there is
    more to do (returns True), else after ``every_s`` seconds or when :meth:`wake` is
    called. A pass that fails (the store away) is tried again on the next one. With
    ``wait_first`` the first pass comes after a wait too."""

    def __init__(self, name: str, work: Callable[[], bool], every_s: float, *, wait_first: bool = False,
                 join_s: float = 30.0) -> None:
        self.name, self.work, self.every_s = name, work, every_s
        self.wait_first, self.join_s = wait_first, join_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.join_s)

    def _loop(self) -> None:
        more = not self.wait_first
        while True:
            if not more:
                self._wake.wait(self.every_s)
                self._wake.clear()
            if self._stop.is_set():
                return
            try:
                more = bool(self.work())
            except Exception:  # noqa: BLE001 - see the class docstring
                more = False
