"""A workspace: a directory holding the DuckDB database and the settings of past runs.

Every command takes ``--workspace DIR`` (default ``.icp``). Result tables written with
``--out TABLE`` live in ``DIR/icp.duckdb``; ``DIR/workspace.json`` remembers the last run so
that ``icp explain DOMAIN`` needs no other argument.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import WorkspaceError

DEFAULT_DIR = ".icp"


class Workspace:
    def __init__(self, path: str | Path = DEFAULT_DIR) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise WorkspaceError(f"the workspace {self.path} is a file, not a directory")

    @property
    def database(self) -> Path:
        return self.path / "icp.duckdb"

    @property
    def settings_file(self) -> Path:
        return self.path / "workspace.json"

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
        """Merge ``values`` into the settings, written atomically."""
        self.ensure()
        data = self.settings() | values
        tmp = self.settings_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, self.settings_file)

