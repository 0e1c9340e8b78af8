"""What a user should know about how an accounts input was read: the encoding a CSV file was
read in when it is not UTF-8, the cells holding bytes that are not valid text, and an input
without a domain column (with the column that looks like one).

The notes are worded here once, for the engine path (:func:`read_warnings`, over the
backend's read of the input) and the in-process path for small files (:mod:`icpkit.small`),
which must say exactly the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .crm import domain_column_guess, no_domain_note
from .sources import CsvDialect, encoding_note, undecodable_note

if TYPE_CHECKING:  # the small-file path imports this module and must not pay for ibis
    import ibis.expr.types as ir

ROW = "_row"
#: Rows looked at to find a column that holds domains.
DOMAIN_SAMPLE_ROWS = 200
#: Cells with undecodable bytes named in the warning.
_CELLS_SHOWN = 5


def read_warnings(backend: Any, raw: ir.Table, label: str, *, keyed: bool, name: str) -> list[str]:
    """The notes of an input read by ``backend`` as the table ``name`` (``raw``)."""
    out: list[str] = []
    dialect: CsvDialect | None = backend.read_dialect(name)
    if dialect is not None:
        note = encoding_note(label, dialect)
        if note:
            out.append(note)
        if not dialect.native:  # converted to UTF-8: bytes that were not valid text are U+FFFD
            out.extend(_undecodable(backend, raw, label, dialect))
    if not keyed:
        text = [c for c, t in raw.schema().items() if c != ROW and t.is_string()]
        sample = backend.to_arrow(raw.order_by(ROW).limit(DOMAIN_SAMPLE_ROWS).select(*text)).to_pydict() if text else {}
        out.append(no_domain_note(label, domain_column_guess(sample)))
    return out


def small_file_warnings(label: str, dialect: CsvDialect, records: Sequence[Mapping[str, str | None]],
                        keyed: bool) -> list[str]:
    """:func:`read_warnings` of a small CSV file read in-process (valid in its encoding)."""
    out = [note] if (note := encoding_note(label, dialect)) else []
    if not keyed:
        sample = {h: [r[h] for r in records[:DOMAIN_SAMPLE_ROWS]] for h in dialect.header}
        out.append(no_domain_note(label, domain_column_guess(sample)))
    return out


def _undecodable(backend: Any, raw: ir.Table, label: str, dialect: CsvDialect) -> list[str]:
    import ibis

    text = [c for c, t in raw.schema().items() if c != ROW and t.is_string()]
    if not text:
        return []
    hits = {c: raw[c].contains("\ufffd").fill_null(False) for c in text}
    bad = raw.filter(ibis.or_(*hits.values()))
    total = backend.scalar(bad.count())
    if not total:
        return []
    first = backend.to_arrow(bad.order_by(ROW).limit(_CELLS_SHOWN).select(
        ROW, **{f"f{i}": hit for i, hit in enumerate(hits.values())})).to_pylist()
    cells = [(r[ROW], c) for r in first for i, c in enumerate(text) if r[f"f{i}"]][:_CELLS_SHOWN]
    return [undecodable_note(label, dialect.encoding, cells, total)]
