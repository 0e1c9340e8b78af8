"""The Backend protocol: what an engine does for icpkit, and nothing about the domain.

A backend reads sources into tables, runs ibis expressions (compiled to its SQL dialect)
into temporary steps, results or targets, and writes atomically. Plans (scoring, intent,
checks, backtest counts) are pure ibis expressions over *unbound* tables named like the
tables a backend created: ``read`` and ``materialize`` return such a table, so a plan built
on it runs on the backend that made it. A backend never imports a domain module.

Every engine follows the same conventions:

- ``read`` exposes a source with a first column ``_row``: the 1-based data row of a file
  (or a row number for a database table), used to locate errors and keep the input order.
  CSV files are read with every column as text; typed sources keep their types.
- Names passed to ``read``, ``view`` and ``materialize`` are plain identifiers (checked);
  they are temporary, per connection or session.
- ``write`` is atomic: a failed write leaves no partial file or table and an earlier
  target as it was (a new file renamed over the old one; a new table swapped in within
  one transaction). CSV cells a spreadsheet would run as a formula are neutralised
  (:func:`csv_safe`).
- Errors caused by the data or the connection are :class:`~icpkit.errors.DataError` (or
  :class:`~icpkit.errors.WorkspaceError` for the database itself), naming the file, table
  or host; never a password.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ..errors import DataError
from ..io.atomic import check_output_file, temp_beside
from ..io.sources import FORMULA_CHARS, CsvDialect, TableName

#: Called with a phase name and, while a query runs, its progress in percent (or None).
ProgressFn = Callable[[str, float | None], None]

OnError = Literal["fail", "skip"]

#: The data row number every backend puts first in what it reads.
ROW = "_row"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

#: A cell a spreadsheet would run as a formula (see ``FORMULA_CHARS``).
FORMULA_START = "^[" + FORMULA_CHARS.replace("-", "\\-") + "]"


#: What ``read`` accepts: a file path (CSV, Parquet or JSON lines), an Arrow table, or a
#: table of the backend's database.
Source = str | Path | pa.Table | TableName

#: Where ``write`` puts a result: a file (format by suffix) or a table of the database.
Target = Path | TableName


@dataclass(frozen=True)
class ReadReject:
    """A line a lenient CSV read (``on_error="skip"``) could not parse."""

    line: int
    column: str
    message: str
    text: str


def check_name(name: str) -> str:
    """``name`` if it is a plain identifier (temporary tables and views), else a ValueError:
    names come from icpkit, never from a user, so a bad one is a bug."""
    if not _IDENT.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


def unbound(name: str, schema: ibis.Schema | pa.Schema) -> ir.Table:
    """The unbound ibis table a plan reads for the backend table ``name``."""
    if isinstance(schema, pa.Schema):
        schema = ibis.Schema.from_pyarrow(schema)
    return ibis.table(schema, name=name)


def output_file(target: Path, *, parquet_directory: bool = False) -> tuple[Path, str, Path]:
    """An output file: its path, its format (by suffix), and the temporary name beside it
    that it is written under before it is renamed into place (:func:`~icpkit.io.atomic.temp_beside`,
    which also removes the temporary files that killed runs left there); its folder is
    made. See :func:`~icpkit.io.atomic.check_output_file` for what is refused."""
    out = Path(target)
    fmt = check_output_file(out, parquet_directory=parquet_directory)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot make the folder of {out}: {exc.strerror}", where=str(out)) from None
    return out, fmt, temp_beside(out)


def unsorted_by_row(expr: ir.Table) -> ir.Table | None:
    """``expr`` without its ordering, with ``_row`` as its last column, when ``expr`` is
    columns picked from rows ordered by ``_row`` alone (as the runner writes scores); else
    None. Backends use it to write such rows in order without sorting them all at once."""
    import ibis.expr.operations as ops

    op = expr.op()
    if not isinstance(op, ops.Project) or not isinstance(op.parent, ops.Sort) or ROW in op.values:
        return None
    sort = op.parent
    if len(sort.keys) != 1 or not sort.keys[0].ascending:
        return None
    key = sort.keys[0].arg
    if not (isinstance(key, ops.Field) and key.name == ROW and key.rel == sort.parent):
        return None
    if not all(isinstance(v, ops.Field) and v.rel == sort and v.name == name for name, v in op.values.items()):
        return None
    return sort.parent.to_expr().select(*op.values, ROW)


@contextmanager
def whole_phase(progress: ProgressFn | None, phase: str) -> Iterator[None]:
    """Report ``phase`` to ``progress`` for an engine that tells nothing of a query's
    progress: started, then done."""
    if progress is not None:
        progress(phase, None)
    yield
    if progress is not None:
        progress(phase, 100.0)


def csv_safe(expr: ir.Table) -> ir.Table:
    """``expr`` with every text cell that a spreadsheet would run as a formula (starting
    with ``= + - @``, a tab or a carriage return) prefixed with an apostrophe."""
    cols: dict[str, ir.Value] = {}
    for name, dtype in expr.schema().items():
        col = expr[name]
        cols[name] = col.re_search(FORMULA_START).ifelse("'" + col, col) if dtype.is_string() else col
    return expr.select(**cols)


@runtime_checkable
class Backend(Protocol):
    """One engine. Implementations: :mod:`.duckdb` (embedded, the default), :mod:`.postgres`
    and :mod:`.spark`; :func:`icpkit.backends.connect` picks one from a URL or name."""

    #: "duckdb", "postgres" or "spark".
    name: str
    #: The ibis dialect plans are compiled to ("duckdb", "postgres", "pyspark").
    dialect: str

    def read(self, source: Source, name: str, *, on_error: OnError = "fail") -> ir.Table:
        """Expose ``source`` as the temporary table or view ``name`` (``_row`` first, then
        its columns as read) and return it as an unbound table. Nothing need be read yet.
        A missing file or table is a DataError naming it (for a table: the tables that do
        exist). With ``on_error="skip"`` a CSV line that cannot be parsed is left out and
        reported by :meth:`read_rejects`; with ``"fail"`` it is an error on its line."""
        ...

    def read_rejects(self, name: str) -> list[ReadReject]:
        """The lines a lenient read of ``name`` left out (empty where the engine has none)."""
        ...

    def read_dialect(self, name: str) -> CsvDialect | None:
        """How the CSV file read as ``name`` was decoded (its encoding, bytes read as U+FFFD),
        or None when ``name`` was not read from a CSV file."""
        ...

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        """Name ``expr`` as the temporary view ``name`` (computed where it is used)."""
        ...

    def materialize(self, name: str, expr: ir.Table, *, progress: ProgressFn | None = None,
                    phase: str = "", in_order: bool = False) -> ir.Table:
        """Run ``expr`` into the temporary table ``name``, replacing any of that name; later
        steps read it by name. ``in_order``: store the rows in ``_row`` order, on an engine
        whose tables keep it (DuckDB), so that a plan without joins reads them back in input
        order; the others ignore it (they sort when writing in input order)."""
        ...

    def delete_rows(self, name: str, rows: ir.Table) -> None:
        """Remove from the temporary table ``name`` the rows whose ``_row`` is in ``rows``
        (an expression with a ``_row`` column)."""
        ...

    def to_arrow(self, expr: ir.Expr, *, progress: ProgressFn | None = None, phase: str = "") -> pa.Table:
        """The result of a table (or scalar) expression, as Arrow."""
        ...

    def scalar(self, expr: ir.Scalar) -> Any:
        """The value of a scalar expression (a count, a maximum) as a Python object."""
        ...

    def write(self, expr: ir.Table, target: Target, *, progress: ProgressFn | None = None) -> str:
        """Write ``expr`` to ``target`` atomically (see the module docstring) and return a
        label for messages. Files: ``.csv`` (neutralised, see :func:`csv_safe`),
        ``.parquet``, ``.jsonl``."""
        ...

    def append(self, target: TableName, expr: ir.Table, *, key: str) -> int:
        """Insert into ``target`` (created with ``expr``'s columns when missing) the rows of
        ``expr`` whose ``key`` it does not hold yet, in one transaction; the rows added."""
        ...

    def has_table(self, target: TableName) -> bool:
        """Whether the table exists."""
        ...

    def compile(self, expr: ir.Expr) -> str:
        """The SQL the engine runs for ``expr``."""
        ...

    def close(self) -> None:
        """Release the connection or session (temporary tables go with it)."""
        ...
