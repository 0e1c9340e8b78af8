"""Output files: checked before any work, written under a temporary name beside them, and
the clean-up of the temporary files that killed runs left.

:func:`check_output_file` refuses an output that cannot be written (a directory, a folder
that is a file, an unknown suffix) before a run reads anything. Every output icpkit writes (results, rejects, settings, JSON summaries) is first written
under a temporary name beside it, then renamed over it, so that a reader never sees half a
file. The temporary name says whose it is::

    .<name>.icp.<host>.<pid>.<ns>.tmp      e.g. .scores.csv.icp.3f2a9c1e.41327.88123456789.tmp

``host`` is a short hash of this machine's name and ``pid`` the writing process. A run
killed between the two steps (``kill -9``, a power cut) leaves its temporary file (or, for
Spark, directory) behind; the next write into the same folder removes those that are
clearly stale: named so, made on this machine, by a process that is no longer running.
Anything else (another machine's, on a shared disk; a live run's; a user's own dot-file)
is left alone.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import socket
import time
from pathlib import Path

from ..errors import DataError
from .sources import file_format

_STALE = re.compile(r"^\..+\.icp\.(?P<host>[0-9a-f]{8})\.(?P<pid>[0-9]+)\.[0-9]+\.tmp$")


@functools.cache
def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def check_output_file(target: str | Path, *, parquet_directory: bool = False) -> str:
    """The format (by suffix) of the output file ``target``, or a DataError naming it when
    it cannot be written there: it is a directory (a Parquet one is accepted with
    ``parquet_directory``, for Spark), its folder is a file, or its suffix is unknown.
    Nothing is made: a run checks its outputs before any work, and again when it writes."""
    out = Path(target)
    is_dir = out.is_dir() or str(target).endswith(("/", os.sep))
    if is_dir and not (parquet_directory and out.suffix.lower() in (".parquet", ".pq")):
        raise DataError("the output is a directory, not a file", where=str(out),
                        hint=f"give a file name for the output, e.g. {out / 'scores.csv'}")
    fmt = file_format(out, purpose="output")
    folder = next((p for p in out.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise DataError(f"cannot write the output here: {folder} is a file, not a folder", where=str(out),
                        hint="give an output path in a folder")
    return fmt


def temp_beside(out: Path) -> Path:
    """A new temporary name beside ``out`` to write it under (see the module docstring),
    after removing the stale temporary files of the folder (:func:`remove_stale`)."""
    out = Path(out)
    remove_stale(out.parent)
    return out.with_name(f".{out.name}.icp.{_host()}.{os.getpid()}.{time.monotonic_ns()}.tmp")


def remove_stale(folder: Path) -> list[Path]:
    """Remove the temporary files and directories in ``folder`` that runs on this machine
    left when they were killed (their process is gone); the paths removed. Errors (a file
    already gone, no permission) are ignored: the clean-up never stops a run."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = _STALE.match(entry.name)
        if found is None or found["host"] != _host():
            continue
        pid = int(found["pid"])
        if pid == os.getpid() or _running(pid):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (any user's)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end the process there: never tell, keep the files
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's), or we cannot tell: keep its files
    return True


__all__ = ["check_output_file", "remove_stale", "temp_beside"]
