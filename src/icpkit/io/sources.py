"""Recognising input files: format by suffix, and for CSV the encoding, delimiter and header.

CSV files are read by the engine with an explicit dialect found here rather than by its own
sniffer, so that a malformed row is reported as an error on its line instead of the whole
file being silently read as one column.

The encoding is decided over the whole file, never a prefix (:func:`detect_encoding`):

- a byte-order mark says UTF-8 or UTF-16;
- a file that is valid UTF-8 is UTF-8. This is checked in chunks at memory speed (an ASCII
  chunk is only tested for high bytes), so a large clean file pays one quick pass;
- a file that is UTF-8 apart from a few bad bytes (at least as many valid multi-byte
  characters as invalid bytes) stays UTF-8: the bad bytes are read as U+FFFD and the cells
  that hold them are reported, never the whole file re-read in another encoding;
- anything else is a legacy encoding. A file with bare-CR line endings comes from classic
  Mac OS or Excel for Mac's "CSV (Macintosh)", which write Mac Roman; otherwise
  charset-normalizer measures how garbled the lines holding non-ASCII bytes (taken from the
  whole file) read in each candidate, and the most common candidate among the least garbled
  wins (Windows-1252 first: short samples rarely tell Western code pages apart).

Engines read UTF-8 and UTF-16 themselves; any other file is converted to UTF-8 on the way in
(:func:`utf8_chunks`, or :func:`utf8_copy`, a temporary file that is always removed).
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import DataError, Problem

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
#: Bytes read at a time when a whole file is checked or converted.
_CHUNK_BYTES = 1 << 20
#: Files of this size or more are checked for UTF-8 by Arrow (small ones by Python, which
#: does not import Arrow: the small-file path of ``icp score`` must start fast).
_ARROW_CHECK_BYTES = 8 << 20
#: At most this much of the lines holding non-ASCII bytes is given to charset-normalizer.
_LEGACY_SAMPLE_BYTES = 32 << 10
_LEGACY_LINES_PER_CHUNK = 32
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
#: Legacy encodings tried for a file that is not UTF-8, most common first; a later one wins
#: only when it reads clearly less garbled (by more than :data:`_GARBLE_MARGIN`).
_LEGACY = ("cp1252", "latin_1", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
           "cp1258", "cp932", "gb18030", "big5", "cp949", "euc_jp", "koi8_r", "cp850", "cp437")
_GARBLE_MARGIN = 0.05
#: How messages name encodings.
_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "mac_roman": "Mac Roman", "latin_1": "Latin-1",
          "cp1252": "Windows-1252", "cp1250": "Windows-1250", "cp1251": "Windows-1251", "cp1253": "Windows-1253",
          "cp1254": "Windows-1254", "cp1255": "Windows-1255", "cp1256": "Windows-1256", "cp1257": "Windows-1257",
          "cp1258": "Windows-1258", "cp932": "Shift JIS", "gb18030": "GB18030", "big5": "Big5", "cp949": "EUC-KR",
          "euc_jp": "EUC-JP", "koi8_r": "KOI8-R", "cp850": "DOS 850", "cp437": "DOS 437"}
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
class Encoding:
    """How a file's bytes are text: ``name`` is a Python codec (``"utf-8"``, ``"utf-16"``,
    ``"mac_roman"``, ``"cp1252"``...); ``replaced`` counts the bytes that are not valid in it
    (a UTF-8 file with a few bad bytes), read as U+FFFD; ``bare_cr``: lines end with a lone
    carriage return (classic Mac)."""

    name: str
    replaced: int = 0
    bare_cr: bool = False

    @property
    def native(self) -> bool:
        """Engines read the file as it is (valid UTF-8, or UTF-16); else it is converted."""
        return self.name in ("utf-8", "utf-16") and not self.replaced

    @property
    def label(self) -> str:
        return _NAMES.get(self.name, self.name)


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is read: its encoding (a Python codec, see :class:`Encoding`), delimiter
    and column names; ``replaced`` and ``bare_cr`` as in :class:`Encoding`."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    replaced: int = 0
    bare_cr: bool = False

    @property
    def native(self) -> bool:
        """Engines read the file as it is; else it is converted to UTF-8 (:func:`utf8_chunks`)."""
        return Encoding(self.encoding, self.replaced).native

    @property
    def encoding_label(self) -> str:
        return _NAMES.get(self.encoding, self.encoding)


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
    """Encoding (over the whole file, see the module docstring), delimiter and header names
    of a CSV file. Two columns of the same name (ignoring case, as engines do) are an error
    naming both."""
    enc = detect_encoding(path)
    raw = _head(path)
    if not raw.strip():
        raise DataError("the file is empty", where=str(path))
    codec = "utf-8-sig" if enc.name == "utf-8" else enc.name
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(raw)  # a cut last character waits
    text = text.lstrip("\ufeff")
    lines = text.splitlines()[:50]
    if len(raw) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    with _long_fields():
        delimiter = _delimiter(lines)
        header = next(csv.reader(lines[:1], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError("the first line holds no column names", where=f"{path}, line 1")
    _check_distinct(header, path)
    return CsvDialect(enc.name, delimiter, tuple(_unique(header)), enc.replaced, enc.bare_cr)


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(_SAMPLE_BYTES)


def _check_distinct(header: list[str], path: Path) -> None:
    """A DataError naming every pair of columns with the same name (engines compare column
    names ignoring case, and the profile could not say which one it means)."""
    first: dict[str, int] = {}
    problems = []
    for i, name in enumerate(header):
        if not name:
            continue
        seen = first.setdefault(name.casefold(), i)
        if seen != i:
            problems.append(Problem(f"column {seen + 1} '{header[seen]}' and column {i + 1} '{name}' "
                                    "have the same name", f"{path}, line 1"))
    if problems:
        raise DataError(problems[0].message if len(problems) == 1 else f"{len(problems)} column names are repeated",
                        where=f"{path}, line 1", problems=problems if len(problems) > 1 else [],
                        hint="rename one of each pair: a column is read by its name")


# ---------------------------------------------------------------------------------- encodings

def detect_encoding(path: Path) -> Encoding:
    """The encoding of a text file, decided over all of it (see the module docstring)."""
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return Encoding("utf-16")
        f.seek(0)
        valid = _valid_utf8_prefix if path.stat().st_size >= _ARROW_CHECK_BYTES else _decodes_utf8_prefix
        lf = cr = False
        rest = b""  # a character cut by the end of a chunk
        while chunk := f.read(_CHUNK_BYTES):
            lf = lf or b"\n" in chunk
            cr = cr or b"\r" in chunk
            if rest or not chunk.isascii():
                data = rest + chunk if rest else chunk
                cut = valid(data)
                if cut is None:
                    return _not_utf8(path)
                rest = data[len(data) - cut:] if cut else b""
        if rest:
            return _not_utf8(path)
    return Encoding("utf-8", bare_cr=cr and not lf)


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` start a UTF-8 character they do not finish."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:
            return 0 if back >= (2 if byte < 0xE0 else 3 if byte < 0xF0 else 4) else back
    return 0


def _decodes_utf8_prefix(data: bytes) -> int | None:
    """The length of the cut character at the end of ``data`` when the rest is valid UTF-8,
    else None (Python's decoder: small files, which must not import pyarrow)."""
    tail = _incomplete_tail(data)
    try:
        data[: len(data) - tail].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return tail


def _valid_utf8_prefix(data: bytes) -> int | None:
    """:func:`_decodes_utf8_prefix` by Arrow's UTF-8 validation, without decoding (about
    four times faster than Python's decoder on text with accents)."""
    import pyarrow as pa

    tail = _incomplete_tail(data)
    offsets = pa.array([0, len(data) - tail], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return None
    return tail


def _not_utf8(path: Path) -> Encoding:
    """A file that is not valid UTF-8: UTF-8 with a few bad bytes (its valid multi-byte
    characters outnumber the bytes that are not UTF-8), or a legacy encoding."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    invalid = valid = 0  # bytes that are not UTF-8; valid multi-byte characters (weighted by length - 1)
    lf = cr = False
    sample: list[bytes] = []
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            lf = lf or b"\n" in chunk
            cr = cr or b"\r" in chunk
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            pending = len(decoder.getstate()[0])
            text = decoder.decode(chunk)
            decoded = len(text.encode("utf-8"))
            invalid += pending + len(chunk) - len(decoder.getstate()[0]) - decoded
            valid += decoded - len(text)
            sample += _non_ascii_lines(chunk, first=f.tell() == len(chunk), last=len(chunk) < _CHUNK_BYTES)
        invalid += len(decoder.getstate()[0])  # a character cut by the end of the file
    bare_cr = cr and not lf
    if valid >= invalid:
        return Encoding("utf-8", replaced=invalid, bare_cr=bare_cr)
    # lines from every part of the file, evenly, within the sample's budget
    step = max(1, sum(len(line) + 1 for line in sample) // _LEGACY_SAMPLE_BYTES + 1)
    return Encoding(_legacy_encoding(b"\n".join(sample[::step]), bare_cr), bare_cr=bare_cr)


def _non_ascii_lines(chunk: bytes, *, first: bool, last: bool) -> list[bytes]:
    """Whole lines of ``chunk`` that hold a non-ASCII byte (its first line is cut unless it
    is the file's first chunk, its last unless it is the last): up to
    :data:`_LEGACY_LINES_PER_CHUNK`, spread over the chunk."""
    nl = b"\n" if b"\n" in chunk else b"\r"
    lines: list[bytes] = []
    pos = 0
    for target in range(0, len(chunk), max(1, len(chunk) // _LEGACY_LINES_PER_CHUNK)):
        m = _HIGH_BYTE.search(chunk, max(pos, target))
        if m is None:
            break
        start = chunk.rfind(nl, 0, m.start()) + 1
        end = chunk.find(nl, m.start())
        cut = end < 0
        end = len(chunk) if cut else end
        if (start > 0 or first) and (not cut or last):
            lines.append(chunk[start:end].rstrip(b"\r"))
        pos = end + 1
    return lines


def _legacy_encoding(sample: bytes, bare_cr: bool) -> str:
    """The legacy encoding of the lines ``sample`` (see the module docstring)."""
    if bare_cr:
        # charset-normalizer cannot tell Mac Roman from the Windows code pages on names (and
        # Excel exports keep earlier mojibake such as "Ã©", which it reads as garbled).
        return "mac_roman"
    if not sample:
        return "cp1252"
    from charset_normalizer import from_bytes

    chunk = 4096
    scores: list[tuple[float, str]] = []
    for codec in _LEGACY:
        try:
            sample.decode(codec)
        except UnicodeDecodeError:
            continue
        match = from_bytes(sample, cp_isolation=[codec], threshold=1.0, chunk_size=min(chunk, max(len(sample), 1)),
                           steps=max(1, min(len(sample) // chunk, 8)), preemptive_behaviour=False,
                           enable_fallback=False).best()
        if match is not None:
            scores.append((match.chaos, codec))
    if not scores:
        return "cp1252" if _decodes(sample, "cp1252") else "latin_1"
    least = min(chaos for chaos, _ in scores)
    return next(codec for chaos, codec in scores if chaos <= least + _GARBLE_MARGIN)


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def utf8_chunks(path: Path, encoding: str) -> Iterator[bytes]:
    """The bytes of a text file in ``encoding`` as UTF-8, chunk by chunk: a byte-order mark
    dropped, bytes that are not valid in the encoding read as U+FFFD."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            yield decoder.decode(chunk).encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")


@contextmanager
def utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """A temporary UTF-8 copy of a text file (:func:`utf8_chunks`), removed on leaving the
    block whatever happens, for engines that read only UTF-8 from a path."""
    fd, name = tempfile.mkstemp(prefix="icp-utf8-", suffix=path.suffix)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in utf8_chunks(path, encoding):
                out.write(chunk)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def undecodable_note(label: str, encoding: str, cells: list[tuple[int, str]], total: int) -> str:
    """The warning of a file with bytes that are not valid in its encoding: how many rows hold
    them and where the first are (row, column)."""
    shown = "; ".join(f"row {row}, column '{column}'" for row, column in cells)
    rest = total - len({row for row, _ in cells})
    more = f"; and {rest} more row(s)" if rest > 0 else ""
    return (f"{label}: {total} row(s) hold bytes that are not valid {_NAMES.get(encoding, encoding)} text, "
            f"read as '\ufffd' ({shown}{more}); save the file as UTF-8 to keep those characters")


def encoding_note(label: str, dialect: CsvDialect) -> str | None:
    """The note of a CSV file that is not UTF-8 or UTF-16: the encoding it was read in."""
    if dialect.encoding in ("utf-8", "utf-16"):
        return None
    return (f"{label}: the file is not UTF-8; it was read as {dialect.encoding_label}"
            + (" (bare-CR line endings: a classic Mac file)" if dialect.bare_cr else " (detected)"))


def json_lines_error(path: Path) -> DataError | None:
    """The first line of a JSON-lines file that does not hold one JSON value, as a DataError
    naming its line and column (engines' own line numbers are off); None when every line
    parses."""
    try:
        with path.open("rb") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    json.loads(line)
                except json.JSONDecodeError as exc:
                    return DataError(f"not valid JSON: {exc.msg} at column {exc.pos + 1}",
                                     where=f"{path}, line {number}", hint="each line must hold one JSON object")
                except ValueError:  # not UTF-8
                    return DataError("not valid UTF-8 text", where=f"{path}, line {number}",
                                     hint="save the file as UTF-8")
    except OSError:
        return None
    return None


@contextmanager
def _long_fields() -> Iterator[None]:
    """Cells of any length (the csv module refuses those over 128 KB, a process-wide limit:
    restored after)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


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
