"""A workspace: a directory holding the DuckDB database and the settings of past runs.

Every command takes ``--workspace DIR`` (default ``.icp``). Result tables written with
``--out TABLE`` live in ``DIR/icp.duckdb``; ``DIR/workspace.json`` remembers the last run so
that ``icp explain DOMAIN`` needs no other argument.

One run at a time writes to a workspace: a run that writes (a scoring run, loading events)
holds :meth:`Workspace.locked` (the lock file ``DIR/icp.lock``); another icp process that
wants the workspace meanwhile waits for it, up to ``lock_timeout_s``, after telling
``on_wait`` once that it is waiting. The settings are written to a temporary file of their
own, renamed over ``workspace.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import WorkspaceError
from .io.atomic import temp_beside

DEFAULT_DIR = ".icp"

#: How long a run waits for another one to finish with the workspace, by default.
DEFAULT_LOCK_TIMEOUT_S = 300.0


class Workspace:
    def __init__(self, path: str | Path = DEFAULT_DIR, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise WorkspaceError(f"the workspace {self.path} is a file, not a directory")
        self.lock_timeout_s = lock_timeout_s
        self.on_wait = on_wait

    @property
    def database(self) -> Path:
        return self.path / "icp.duckdb"

    @property
    def settings_file(self) -> Path:
        return self.path / "workspace.json"

    @property
    def lock_file(self) -> Path:
        return self.path / "icp.lock"

    @contextmanager
    def locked(self) -> Iterator[Workspace]:
        """Hold the workspace while a run writes to it (see the module docstring): wait for
        another icp process holding it, up to ``lock_timeout_s``, then a WorkspaceError.
        Holding it again in the same process does not wait."""
        from filelock import FileLock, Timeout

        self.ensure()
        lock = FileLock(self.lock_file, is_singleton=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            wait = max(0.0, self.lock_timeout_s)
            if self.on_wait is not None:
                self.on_wait(f"waiting for another icp run to finish with the workspace {self.path} "
                             f"(up to {wait:g} s)")
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise WorkspaceError(
                    f"the workspace {self.path} is still in use by another icp run after {wait:g} s",
                    where=str(self.path),
                    hint="let the other run finish, or use another --workspace; ICP_LOCK_TIMEOUT_S sets the wait",
                ) from None
        except OSError as exc:
            raise WorkspaceError(f"cannot lock the workspace {self.path}: {exc.strerror or exc}",
                                 where=str(self.lock_file)) from None
        try:
            yield self
        finally:
            lock.release()

    def ensure(self) -> Workspace:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create the workspace {self.path}: {exc.strerror}") from None
        return self

    def settings(self) -> dict[str, Any]:
        if not self.settings_file.exists():
            return {}
        try:
            data = json.loads(self.settings_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"cannot read {self.settings_file}: {exc}") from None
        return data if isinstance(data, dict) else {}

    def update_settings(self, **values: Any) -> None:
        """Merge ``values`` into the settings, written atomically through a temporary file
        of this process's own (two processes never write the same one)."""
        self.ensure()
        data = self.settings() | values
        tmp = temp_beside(self.settings_file)
        try:
            tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
            os.replace(tmp, self.settings_file)
        except OSError as exc:
            raise WorkspaceError(f"cannot write {self.settings_file}: {exc.strerror or exc}") from None
        finally:
            tmp.unlink(missing_ok=True)

