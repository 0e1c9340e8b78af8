"""The rows a run set aside (``on_error="skip"``): data row, column, value and reason.

Engine-free, so that a run scored in-process (:mod:`icpkit.small`) reports them in the same
type as an engine run (:mod:`icpkit.run`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class Rejects:
    """Rows left out with ``on_error="skip"``: data row, column, value and reason."""

    rows: list[tuple[int | None, str, str, str]] = field(default_factory=list)

    def add(self, row: int | None, column: str, value: object, reason: str) -> None:
        self.rows.append((row, column, "" if value is None else str(value), reason))

    def to_arrow(self) -> pa.Table:
        import pyarrow as pa

        cols = list(zip(*self.rows)) if self.rows else [[], [], [], []]
        return pa.table({"row": pa.array(cols[0], pa.int64()), "column": pa.array(cols[1], pa.string()),
                         "value": pa.array(cols[2], pa.string()), "reason": pa.array(cols[3], pa.string())})
