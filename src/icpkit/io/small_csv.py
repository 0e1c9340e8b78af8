"""Small CSV files read and written in plain Python, exactly as the DuckDB backend reads and
writes them, for the small-input path of ``icp score`` (:mod:`icpkit.small`).

Reading follows the backend's ``read_csv`` call (``backends/duckdb.py``): the dialect found
by :func:`~icpkit.io.sources.sniff_csv` (encoding, delimiter, header), the first line a
header, quote and escape ``"``, every column text, an empty field (quoted or not) NULL.
Only the plainest files are read here; :func:`read_small_csv` gives up (None) on anything
the engine might read differently or reject, so that the engine reads it instead and
reports its own errors:

- a file over ``max_bytes`` or with more than ``max_rows`` data rows, or none;
- UTF-16, bytes that are not valid in the file's encoding (the engine reports the cells
  holding them), NUL bytes, a second byte-order mark, characters Python's ``splitlines``
  breaks lines at (the sniffer does, the engine does not);
- a line break inside a quoted field, a lone carriage return, ``\\n`` and ``\\r\\n`` mixed, an
  empty line;
- a quote inside an unquoted field or anything between a closing quote and the delimiter;
- a row with more or fewer fields than the header.

Writing follows the backend's ``COPY ... (FORMAT csv, HEADER true)`` of
:func:`~icpkit.backends.base.csv_safe` output: text starting with ``= + - @``, tab or
carriage return prefixed with ``'``; a field (or column name) quoted, ``"`` doubled, when
it holds the delimiter, a quote, ``#`` (DuckDB's comment mark), ``\\n`` or ``\\r``, or is the
empty string; NULL as nothing; doubles as their shortest round-trip form (Python's
``repr``, which is DuckDB's); timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` without
trailing zeros; ``\\n`` line ends; UTF-8; to a temporary file renamed over the target (named, and the
ones killed runs left cleaned up, by :func:`~icpkit.io.atomic.temp_beside`, as the backends do).
``tests/backends/test_small_inputs.py`` holds both to DuckDB.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import DataError
from .atomic import temp_beside
from .sources import FORMULA_CHARS, CsvDialect, sniff_csv

Record = dict[str, str | None]

#: What the sniffer reads as a line break besides \n and \r (``str.splitlines``), and NUL.
_ODD_CHARS = re.compile("[\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_QUOTE_IF = re.compile('[,"#\n\r]')


def read_small_csv(path: Path, *, max_rows: int, max_bytes: int) -> tuple[CsvDialect, list[Record]] | None:
    """The dialect (with the header as the sniffer names the columns) and data rows of a
    small, plain CSV file, read as the engine reads it (in a legacy encoding, as converted to
    UTF-8); None when the file is not small or not plain (see the module docstring): the
    engine reads it then."""
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        raw = path.read_bytes()
        dialect = sniff_csv(path)
    except (OSError, DataError):
        return None
    if dialect.encoding == "utf-16" or dialect.replaced or len(raw) > max_bytes:
        return None
    try:
        text = raw.decode(dialect.encoding)
    except UnicodeDecodeError:  # bytes the legacy encoding does not have: the engine reports them
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.startswith("\ufeff") or _ODD_CHARS.search(text):
        return None
    lines = _lines(text)
    if lines is None or len(lines) < 2 or len(lines) - 1 > max_rows:
        return None
    record = _record_pattern(dialect.delimiter)
    if not all(record.fullmatch(line) for line in lines):
        return None
    width = len(dialect.header)
    rows: list[Record] = []
    try:
        for i, fields in enumerate(csv.reader(lines, delimiter=dialect.delimiter, quotechar='"', doublequote=True,
                                              strict=True)):
            if len(fields) != width:
                return None
            if i:
                rows.append({h: v or None for h, v in zip(dialect.header, fields)})
    except csv.Error:  # a field over csv.field_size_limit()
        return None
    return dialect, rows


def _lines(text: str) -> list[str] | None:
    """The lines of ``text``, all ended by ``\\n`` or all by ``\\r\\n`` (the last may be
    unended); None when line ends are mixed, a carriage return stands alone, or a line is
    empty."""
    crlf = text.count("\r\n")
    if text.count("\r") != crlf or (crlf and crlf != text.count("\n")):
        return None
    lines = text.split("\r\n" if crlf else "\n")
    if lines and lines[-1] == "":
        lines.pop()
    return None if any(line == "" for line in lines) else lines


def _record_pattern(delimiter: str) -> re.Pattern[str]:
    """One line of plain fields: unquoted (no quote, no line break) or wholly quoted."""
    d = re.escape(delimiter)
    field = f'(?:"(?:[^"\r\n]|"")*"|[^"{d}\r\n]*)'
    return re.compile(f"{field}(?:{d}{field})*")


# ---------------------------------------------------------------------------------- writing

def csv_cell(value: Any) -> str:
    """One value as the DuckDB backend writes it to a CSV file (formula-neutralised)."""
    if value is None:
        return ""
    if value.__class__ is str:
        return _text("'" + value if value and value[0] in FORMULA_CHARS else value)
    if value.__class__ is float:
        if not math.isfinite(value):
            raise ValueError(f"no CSV form for {value!r}")
        return repr(value)
    if value.__class__ is int:
        return str(value)
    if value.__class__ is datetime and value.tzinfo is None and 1000 <= value.year:
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + f".{value.microsecond:06d}".rstrip("0") if value.microsecond else text
    raise ValueError(f"no CSV form for {value!r}")


def _text(text: str) -> str:
    """Text as a CSV field: quoted when it must be, or when it is empty (NULL is nothing)."""
    return '"' + text.replace('"', '""') + '"' if text == "" or _QUOTE_IF.search(text) else text


def write_csv(out: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Write a header and rows to the CSV file ``out`` as the DuckDB backend does: cells by
    :func:`csv_cell` (column names quoted alike, not neutralised), atomically (a temporary
    file renamed over ``out``). Returns ``out`` as text."""
    cell = csv_cell
    lines = [",".join(map(_text, columns))]
    lines.extend(",".join(map(cell, row)) for row in rows)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(out)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return str(out)


__all__ = ["csv_cell", "read_small_csv", "write_csv"]
