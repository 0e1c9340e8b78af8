"""Recognising input files: format by suffix, and for CSV the encoding, delimiter and header.

CSV files are read by the engine with an explicit dialect found here rather than by its own
sniffer, so that a malformed row is reported as an error on its line instead of the whole
file being silently read as one column.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import DataError

Format = Literal["csv", "parquet", "jsonl"]

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}
_DELIMITERS = (",", ";", "\t", "|")
#: Cells starting with one of these run as a formula in a spreadsheet: CSV exports put an
#: apostrophe before them (``backends.base.csv_safe``, ``io.small_csv``).
FORMULA_CHARS = "=+-@\t\r"

_SAMPLE_BYTES = 1 << 20
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class TableName:
    """A table or view of the backend's own database: ``name`` or ``schema.name`` (or, on
    Spark, ``catalog.schema.name``). ``database`` names another DuckDB database file to read
    it from (the workspace's event store)."""

    name: str
    database: Path | None = None

    def __post_init__(self) -> None:
        parts = self.name.split(".")
        if not 1 <= len(parts) <= 3 or not all(_IDENT.match(p) for p in parts):
            raise DataError(f"'{self.name}' is not a table name",
                            hint="write it as name or schema.name (letters, digits and _)")

    @property
    def parts(self) -> list[str]:
        return self.name.split(".")

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class CsvDialect:
    encoding: Literal["utf-8", "utf-16", "latin-1"]
    delimiter: str
    header: tuple[str, ...]


def file_format(path: str | Path, *, purpose: str = "input") -> Format:
    """The format of ``path`` from its suffix, or a DataError listing the ones understood."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        known = ", ".join(sorted(_SUFFIXES))
        raise DataError(f"cannot tell the format of {purpose} file '{path}' from its suffix",
                        hint=f"use one of {known}")
    return _SUFFIXES[suffix]


def source_label(source: object) -> str:
    """How messages name an input: a file's path, a table's name, or "input table"."""
    if isinstance(source, (str, Path)):
        return str(source)
    return f"table {source}" if isinstance(source, TableName) else "input table"


def existing_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise DataError(f"file not found: {p}")
    if not p.is_file():
        raise DataError(f"not a file: {p}")
    return p


def sniff_csv(path: Path) -> CsvDialect:
    """Encoding (BOM, UTF-8 or Latin-1), delimiter and header names of a CSV file."""
    raw = path.read_bytes()[:_SAMPLE_BYTES] if path.stat().st_size <= _SAMPLE_BYTES else _head(path)
    if not raw.strip():
        raise DataError("the file is empty", where=str(path))
    encoding: Literal["utf-8", "utf-16", "latin-1"]
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, text = "utf-16", raw.decode("utf-16", errors="replace")
    else:
        try:
            text = raw.decode("utf-8-sig") if len(raw) < _SAMPLE_BYTES else _decode_prefix(raw)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding, text = "latin-1", raw.decode("latin-1")
    text = text.lstrip("\ufeff")
    lines = text.splitlines()[:50]
    if len(raw) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    delimiter = _delimiter(lines)
    header = next(csv.reader(lines[:1], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError("the first line holds no column names", where=f"{path}, line 1")
    return CsvDialect(encoding, delimiter, tuple(_unique(header)))


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(_SAMPLE_BYTES)


def _decode_prefix(raw: bytes) -> str:
    # A sample may end inside a multi-byte character: drop up to 3 trailing bytes.
    for cut in range(4):
        try:
            return raw[: len(raw) - cut].decode("utf-8-sig")
        except UnicodeDecodeError:
            if cut == 3:
                raise
    raise AssertionError("unreachable")


def _delimiter(lines: list[str]) -> str:
    """The candidate that splits the header into the most columns, consistently below it."""
    best, best_score = ",", (-1.0, 0)
    for d in _DELIMITERS:
        rows = list(csv.reader(lines, delimiter=d))
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (consistent if width > 1 else 0.0, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _unique(names: list[str]) -> list[str]:
    """Column names made unique (``Name``, ``Name_2``) and never empty."""
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n or f"column_{i + 1}"
        k = n.lower()
        seen[k] = seen.get(k, 0) + 1
        out.append(n if seen[k] == 1 else f"{n}_{seen[k]}")
    return out
