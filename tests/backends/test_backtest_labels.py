"""The engine reads labels (1, 0, or NULL for a bad or missing one) as parse_labels does."""

from __future__ import annotations

import pyarrow as pa

from icpkit.backends import connect
from icpkit.backends.base import ROW
from icpkit.discover.backtest import label_value, parse_labels
from icpkit.errors import DataError


def test_the_engine_reads_labels_as_parse_labels_does() -> None:
    """Each value read in SQL (1, 0, or NULL for a bad or missing label) as parse_labels reads it."""
    spaces = "".join(map(chr, [9, 10, 11, 12, 13, 28, 31, 32, 0x85, 0xA0, 0x2003, 0x3000]))
    texts = ["1", "0", " Yes ", "no", "TRUE", "False", "won", "Lost", "y", "N", "t", "F", "1.0", "0.0", "win",
             "loss", "maybe", "2", "", "   ", None, "\u200byes", "yes.", "1.00", "-0", "é",
             *(c + "won" + c for c in spaces)]
    columns = {
        "text": pa.array(texts, pa.string()),
        "int": pa.array([1, 0, 2, -1, None], pa.int64()),
        "bool": pa.array([True, False, None]),
        "double": pa.array([1.0, 0.0, -0.0, 2.0, 0.5, float("nan"), float("inf"), None]),
        "float": pa.array([1.0, 0.0, 3.0, float("nan")], pa.float32()),
        "decimal": pa.array([1, 0], pa.decimal128(3, 0)),
    }
    backend = connect()
    for name, values in columns.items():
        t = backend.read(pa.table({"v": values}), "t")
        got = backend.to_arrow(t.select(ROW, x=label_value(t.v)).order_by(ROW)).column("x").to_pylist()
        expected = []
        for i in range(len(values)):
            try:
                expected.append(int(parse_labels(values.slice(i, 1))[0]))
            except DataError:
                expected.append(None)
        assert got == expected, name
