"""The last run of a workspace: what ``icp score`` records, and ``icp explain`` answered from
that run's output instead of scoring the whole input again.

:func:`last_run` is what a scoring run writes into the workspace's settings: its profile,
accounts, output, events and contacts, the profile's version, and fingerprints (size and
modification time) of the files, so that a later answer can tell they are unchanged.

:func:`explain_from_last_run` answers ``icp explain DOMAIN`` in a fraction of a second when
it can: the account's row of the output file (fit score, tier, ABM tier, route, points,
intent) and, for the one line of reason per criterion that the output does not hold, the
account's input record scored alone by the one-record :class:`~icpkit.scoring.record.Scorer`
(held to bulk scoring exactly by the parity suite). It gives None, and the caller scores as
before, whenever the answer could differ from a new run's: no last run, a table output, a
profile, accounts or output file changed since, a profile with triggers (their points need
the events), an account not found, or the record's points not those of the output row.
Nothing here imports an engine.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import IcpError
from .profile.model import Profile
from .workspace import Workspace


@dataclass(frozen=True)
class Explained:
    """One account's breakdown, answered from the last run's output."""

    profile: Profile
    profile_file: Path
    row: dict[str, Any]
    output: Path


def fingerprint(path: str | Path | None) -> list[int] | None:
    """A file's size and modification time (ns), or None when it is not a file."""
    if not isinstance(path, (str, Path)):
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def last_run(profile: Any, prof: Profile, accounts: Any, output: str, target: Any, events: Any, contacts: Any,
             as_of: datetime | None, *, rejected: int = 0) -> dict[str, Any]:
    """The ``last_run`` settings of a scoring run (see the module docstring)."""

    def path(p: Any) -> str | None:
        return str(Path(p).resolve()) if isinstance(p, (str, Path)) else None

    out_file = path(target) if isinstance(target, Path) else None  # else a table: its label
    size = fingerprint(out_file)
    return {"profile": path(profile), "accounts": path(accounts), "output": out_file or output,
            "events": path(events), "contacts": path(contacts), "as_of": as_of.isoformat() if as_of else None,
            "version": prof.version_hash, "rejected": rejected,
            "files": {"profile": fingerprint(profile), "accounts": fingerprint(accounts),
                      "events": fingerprint(events), "contacts": fingerprint(contacts),
                      "output": size[:1] if size else None}}


def explain_from_last_run(workspace: Workspace, domain: str) -> Explained | None:
    """The breakdown of the account ``domain`` from the workspace's last run, or None when
    it cannot be answered exactly that way (see the module docstring)."""
    try:
        return _explain(workspace, domain)
    except (IcpError, OSError, ValueError, KeyError, TypeError, UnicodeError, csv.Error):
        return None  # anything unexpected: score as before, which reports real errors


def _explain(workspace: Workspace, domain: str) -> Explained | None:
    from .io import record as rv

    last = workspace.settings().get("last_run") or {}
    files = last.get("files") or {}
    profile_file, accounts, output = last.get("profile"), last.get("accounts"), last.get("output")
    if not (profile_file and accounts and output and files.get("output")):
        return None  # no run recorded, or its output is a table
    fp = fingerprint(output)
    if fp is None or fp[:1] != files.get("output") or any(
            fingerprint(last.get(k)) != files.get(k) for k in ("profile", "accounts", "events", "contacts")):
        return None
    wanted = rv.account_domain(domain)
    if wanted is None:
        return None
    from .profile.load import load_profile
    from .scoring.record import Scorer

    prof = load_profile(profile_file)
    if prof.version_hash != last.get("version") or prof.triggers or not prof.criteria:
        return None
    out_row = _output_row(Path(output), wanted)
    if out_row is None or out_row.get("profile_version") != prof.version_hash:
        return None
    scorer = Scorer(prof)
    scored = _input_row(scorer, Path(accounts), wanted)
    if scored is None:
        return None
    out_row = {k: _typed(v, scored.get(k)) for k, v in out_row.items()}
    if not _same_scores(scored, out_row):
        return None
    row = dict(scored)
    row.update({k: v for k, v in out_row.items() if k not in ("domain", "name") and not k.startswith("reason_")})
    return Explained(prof, Path(profile_file), row, Path(output))


def _typed(value: Any, like: Any) -> Any:
    """A CSV cell (text) as the type of ``like``, the same column scored alone; other values
    as they are."""
    if not isinstance(value, str) or like is None or isinstance(like, str):
        return value
    if isinstance(like, bool):
        return value == "true"
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def _same_scores(scored: dict[str, Any], out_row: dict[str, Any]) -> bool:
    """The record scored alone has the fit score and points of the output's row."""
    keys = ["fit_score"] + [k for k in scored if k.startswith("points_")]
    return all(k in out_row and out_row[k] is not None and float(out_row[k]) == float(scored[k]) for k in keys)


# ----------------------------------------------------------------------- the output's row

def _output_row(path: Path, domain: str) -> dict[str, Any] | None:
    """The row of the output file for ``domain`` (values typed as written), or None."""
    from .io.sources import FORMULA_CHARS, file_format

    fmt = file_format(path, purpose="output")
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as f:
            for line in f:
                if domain in line:
                    row = json.loads(line)
                    if row.get("domain") == domain:
                        return row
        return None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, filters=[("domain", "==", domain)])
        return table.to_pylist()[0] if table.num_rows == 1 else None
    with open(path, encoding="utf-8", newline="") as f:  # as written: UTF-8, a header, "," and '"'
        rows = csv.reader(f)
        header = next(rows, [])
        if "domain" not in header:
            return None
        at = header.index("domain")
        for cells in rows:
            if len(cells) == len(header) and cells[at] == domain:
                # NULL is an empty cell; undo the apostrophe put before text a spreadsheet would run
                return {h: (v[1:] if len(v) > 1 and v[0] == "'" and v[1] in FORMULA_CHARS else v) if v else None
                        for h, v in zip(header, cells)}
    return None


# ------------------------------------------------------------------------ the input's record

def _input_row(scorer: Any, path: Path, domain: str) -> dict[str, Any] | None:
    """The first readable record of the accounts file whose domain is ``domain``, scored
    alone with its reasons (``explain=True``), or None."""
    for record in _candidates(scorer, path, domain):
        try:
            scored = scorer.score(record, explain=True)
        except IcpError:
            continue  # a row the run set aside (a bad value): the next one of the domain was kept
        if scored.get("domain") == domain:
            return scored
    return None


def _candidates(scorer: Any, path: Path, domain: str) -> Any:
    """The records of the accounts file whose domain column mentions ``domain``, in order."""
    from .io.sources import file_format

    fmt = file_format(path)
    if fmt == "csv":
        from .io.sources import sniff_csv

        dialect = sniff_csv(path)
        header = list(dialect.header)
        column = scorer.columns(header).get("domain")
        if column is None:
            return
        at = header.index(column)
        with open(path, encoding=dialect.encoding, errors="replace", newline="") as f:
            rows = csv.reader(f, delimiter=dialect.delimiter, quotechar='"', doublequote=True)
            next(rows, None)
            for cells in rows:
                if len(cells) == len(header) and domain in cells[at].lower():
                    yield {h: (v if v != "" else None) for h, v in zip(header, cells)}
    elif fmt == "parquet":
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        column = scorer.columns(names).get("domain")
        if column is None:
            return
        values = pq.read_table(path, columns=[column]).column(0).cast("string")
        hits = pc.indices_nonzero(pc.fill_null(pc.match_substring(values, domain, ignore_case=True), False))
        if len(hits):
            table = pq.read_table(path)
            for i in hits.to_pylist():
                yield table.slice(i, 1).to_pylist()[0]
    else:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if domain in line.lower() and line.strip():
                    record = json.loads(line)
                    if isinstance(record, dict):
                        yield record


__all__ = ["Explained", "explain_from_last_run", "fingerprint", "last_run"]
