"""The history of scoring runs, kept in a workspace as ``runs.jsonl``: one JSON line a run.

Every run that scores into a workspace (``icp score`` with its ``--workspace``, default
``.icp``) adds one line: its number, when, the profile (name and version hash), the input,
the as-of instant, the number of records and the run's
:class:`~icpkit.monitor.snapshot.Snapshot` (a few hundred numbers), so that years of
weekly runs stay small. A plain file needs no engine (a small input is scored without
one) and no database a server may hold. Lines are added while the workspace is locked and
written whole with one write; a line a crash cut short is skipped when read. ``icp runs``
lists the runs; ``icp drift`` compares any two.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, WorkspaceError
from .snapshot import Snapshot

FILE = "runs.jsonl"


@dataclass(frozen=True)
class Run:
    """One recorded run."""

    run_id: int
    recorded_at: datetime
    profile_name: str
    profile_hash: str
    source: str
    as_of: datetime | None
    snapshot: Snapshot

    @property
    def rows(self) -> int:
        return self.snapshot.rows

    def to_dict(self, *, with_snapshot: bool = False) -> dict[str, Any]:
        d = {"run_id": self.run_id, "recorded_at": self.recorded_at.isoformat(), "profile_name": self.profile_name,
             "profile_hash": self.profile_hash, "source": self.source,
             "as_of": self.as_of.isoformat() if self.as_of else None, "rows": self.rows}
        return d | ({"snapshot": self.snapshot.to_dict()} if with_snapshot else {"tiers": self.snapshot.tiers})


class History:
    """The runs recorded in the workspace directory ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.file = Path(path) / FILE

    def record(self, snapshot: Snapshot, *, profile_name: str, profile_hash: str, source: str,
               as_of: datetime | None = None, at: datetime | None = None) -> int:
        """Add a run (the caller holds the workspace's lock); its number."""
        runs = self.runs()
        run_id = runs[-1].run_id + 1 if runs else 1
        line = {"run_id": run_id, "recorded_at": _utc(at or datetime.now(UTC)).isoformat(),
                "profile_name": profile_name, "profile_hash": profile_hash, "source": source,
                "as_of": _utc(as_of).isoformat() if as_of else None, "snapshot": snapshot.to_dict()}
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size and not _ends_with_newline(self.file):
                    data = b"\n" + data  # after a line a crash cut short
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise WorkspaceError(f"cannot record the run in {self.file}: {exc.strerror or exc}") from None
        return run_id

    def runs(self) -> list[Run]:
        """Every run, oldest first (lines that cannot be read are skipped)."""
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"cannot read {self.file}: {exc}") from None
        out = []
        for line in text.splitlines():
            try:
                out.append(_run(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def run(self, run_id: int) -> Run:
        runs = self.runs()
        for r in runs:
            if r.run_id == run_id:
                return r
        latest = ", ".join(str(r.run_id) for r in runs[-5:])
        raise NotFoundError(f"no run {run_id} in the history of {self.file.parent}",
                            hint=f"the latest runs are {latest} (`icp runs`)" if runs
                            else "no run is recorded yet: `icp score` records one in its workspace")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _run(d: dict[str, Any]) -> Run:
    return Run(int(d["run_id"]), datetime.fromisoformat(d["recorded_at"]), str(d["profile_name"]),
               str(d["profile_hash"]), str(d["source"]), datetime.fromisoformat(d["as_of"]) if d.get("as_of") else None,
               Snapshot.from_dict(d["snapshot"]))
