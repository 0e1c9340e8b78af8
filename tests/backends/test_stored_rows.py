"""Stored rows (backends/rows.py) on DuckDB and PostgreSQL: migrations run once, keys hold,
conflicts resolved as asked, filters, and a failed transaction leaves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from icpkit.backends.rows import AddColumn, AddIndex, Rows, Table
from icpkit.errors import DataError

T = Table("t_items", {"id": "text", "n": "int", "x": "float", "ok": "bool", "at": "time"}, ("id",),
          indexes=(("n",),))
MIGRATIONS: list[list[Any]] = [[T], [AddColumn("t_items", "note", "text"), AddIndex("t_items", ("note",))]]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def rows(request: pytest.FixtureRequest) -> Iterator[Rows]:
    if request.param == "postgres":
        backend = request.getfixturevalue("engine_postgres")
    else:
        from icpkit.backends import connect

        backend = connect()
    rows = backend.rows()
    assert rows.migrate("test", MIGRATIONS) == 2
    yield rows
    backend.close()


@pytest.fixture
def engine_postgres(pg_schema: tuple[str, str]) -> Any:
    from icpkit.backends import connect

    return connect(pg_schema[1])


def test_migrations_run_once_and_columns_added_later_are_used(rows: Rows) -> None:
    assert rows.migrate("test", MIGRATIONS) == 0
    assert rows.migrate("other", [[Table("t_other", {"id": "text"}, ("id",))]]) == 1  # its own numbers
    rows.insert("t_items", [{"id": "a", "n": 1, "note": "later column"}])
    assert rows.select("t_items", columns=["id", "note"]) == [{"id": "a", "note": "later column"}]


def test_kinds_round_trip_and_conflicts(rows: Rows) -> None:
    at = datetime(2026, 12, 6, 9, 30, 15, 123456)
    rows.insert("t_items", [{"id": "a", "n": 1, "x": 0.5, "ok": True, "at": at}, {"id": "b", "n": 2}])
    assert rows.select("t_items", [("id", "=", "a")], columns=["n", "x", "ok", "at"]) == [
        {"n": 1, "x": 0.5, "ok": True, "at": at}]
    with pytest.raises(DataError):
        rows.insert("t_items", [{"id": "a", "n": 9}])
    rows.insert("t_items", [{"id": "a", "n": 7}, {"id": "c", "n": 3}, {"id": "c", "n": 4}], on_conflict="ignore")
    assert {r["id"]: r["n"] for r in rows.select("t_items")} == {"a": 1, "b": 2, "c": 3}  # the first copy
    rows.insert("t_items", [{"id": "a", "n": 5}, {"id": "d", "n": 6}, {"id": "d", "n": 8}], on_conflict="replace")
    assert {r["id"]: r["n"] for r in rows.select("t_items")} == {"a": 5, "b": 2, "c": 3, "d": 8}  # the last copy
    rows.insert("t_items", [{"id": "a", "n": 0, "x": 2.5}, {"id": "e", "n": 1}], on_conflict="replace", keep=["n"])
    assert {r["id"]: (r["n"], r["x"]) for r in rows.select("t_items", [("id", "in", ["a", "e"])])} == {
        "a": (5, 2.5), "e": (1, None)}  # a kept column is left as stored, and set on a new row
    with pytest.raises(ValueError):
        rows.insert("t_items", [{"id": "a"}], on_conflict="replace", keep=["nope"])


# DuckDB: a few rows go as parameters, many as one table; PostgreSQL: as one JSON text, or
# as arrays when a number is infinite (JSON has none)
@pytest.mark.parametrize("n,infinite", [(3, False), (300, False), (300, True)])
def test_batches_of_any_size_round_trip(rows: Rows, n: int, infinite: bool) -> None:
    at = datetime(2026, 12, 7, 3, 0, 0, 250)
    batch = [{"id": f"k{i}", "n": i, "x": i / 4, "ok": i % 3 == 0, "at": at if i % 2 else None,
              "note": f"ü 😀 '\"\\ {i}"} for i in range(n)]
    batch[1]["x"] = float("inf") if infinite else 1e-300
    batch[2]["n"] = 2**62 + 1  # beyond a double's exact integers
    rows.insert("t_items", batch)
    rows.insert("t_items", [dict(b, n=-b["n"]) for b in batch[: n // 2 + 1]], on_conflict="replace")
    got = sorted(rows.select("t_items", columns=["id", "n", "x", "ok", "at", "note"]), key=lambda r: int(r["id"][1:]))
    assert got == [dict(b, n=-b["n"] if i <= n // 2 else b["n"]) for i, b in enumerate(batch)]


def test_filters_order_limit_count_update_delete(rows: Rows) -> None:
    rows.insert("t_items", [{"id": f"i{k}", "n": k, "ok": k % 2 == 0} for k in range(10)])
    assert [r["id"] for r in rows.select("t_items", [("n", ">=", 7)], order=[("n", True)])] == ["i9", "i8", "i7"]
    assert [r["n"] for r in rows.select("t_items", [("id", "in", ["i1", "i3", "zz"])], order=[("n", False)])] == [1, 3]
    assert len(rows.select("t_items", [("id", "not in", ["i1", "i3"])])) == 8
    assert rows.select("t_items", [("id", "in", [])]) == []
    many = [f"i{k}" for k in range(7)] + [f"zz{k}" for k in range(20)]  # more than are listed: one array
    assert len(rows.select("t_items", [("id", "in", many)])) == 7
    assert len(rows.select("t_items", [("id", "not in", many)])) == 3
    assert rows.select("t_items", [("x", "null", True)], limit=2, order=[("id", False)])[1]["id"] == "i1"
    assert rows.count("t_items", by="ok") == {True: 5, False: 5}
    assert rows.update("t_items", [("n", "<", 3)], {"note": "small"}) == 3
    assert rows.delete("t_items", [("note", "=", "small")]) == 3
    assert rows.count("t_items") == {None: 7}


def test_a_failed_transaction_leaves_nothing(rows: Rows) -> None:
    with pytest.raises(DataError):
        with rows.transaction():
            rows.insert("t_items", [{"id": "a", "n": 1}, {"id": "b", "n": 2}])
            rows.insert("t_items", [{"id": "a", "n": 3}])  # a key stored twice
    assert rows.select("t_items") == []


def test_names_are_checked_and_values_never_become_sql(rows: Rows) -> None:
    hostile = "x'); DROP TABLE t_items; --"
    rows.insert("t_items", [{"id": hostile, "n": 1}])
    assert rows.select("t_items", [("id", "=", hostile)])[0]["id"] == hostile
    with pytest.raises(ValueError):
        rows.select("t_items", [("n; DROP TABLE t_items", "=", 1)])
    with pytest.raises(ValueError):
        rows.select("t_items", [("n", "LIKE", "%")])
    with pytest.raises(ValueError):
        rows.insert("t_items", [{"id": "z", "nope": 1}])
    with pytest.raises(ValueError):
        Table("bad name", {"id": "text"}, ("id",))


@pytest.mark.postgres
def test_a_table_grown_from_empty_is_read_through_its_index(engine_postgres: Any) -> None:
    """PostgreSQL plans from statistics autovacuum refreshes a minute or more apart. With
    none, a lookup of a few dozen keys in a table grown from empty scans the whole table,
    so the server's event batches and rescoring slowed as events piled up."""
    rows = engine_postgres.rows()
    rows.migrate("test", MIGRATIONS)
    for start in range(0, 20_000, 1000):
        rows.insert("t_items", [{"id": f"k{i}", "n": i} for i in range(start, start + 1000)])
    keys = [f"k{i}" for i in range(0, 20_000, 250)]
    plan = engine_postgres.con.execute("EXPLAIN SELECT n FROM t_items WHERE id = ANY(%s)", [keys]).fetchall()
    assert "Seq Scan" not in " ".join(line for (line,) in plan), plan
    assert len(rows.select("t_items", [("id", "in", keys)])) == 80


@pytest.mark.postgres
def test_replacing_a_row_by_the_same_values_writes_nothing(engine_postgres: Any) -> None:
    """The server marks ~1,000 accounts for rescoring per batch of events, most of them
    marked already: PostgreSQL would write a new version of each (dead rows for vacuum)."""
    rows = engine_postgres.rows()
    rows.migrate("test", MIGRATIONS)
    rows.insert("t_items", [{"id": "a", "n": 1}, {"id": "b", "n": 2}])

    def versions() -> dict[str, str]:
        return dict(engine_postgres.con.execute("SELECT id, xmin::text FROM t_items").fetchall())

    before = versions()
    rows.insert("t_items", [{"id": "a", "n": 1}, {"id": "b", "n": 3}], on_conflict="replace")
    after = versions()
    assert after["a"] == before["a"] and after["b"] != before["b"]
    assert {r["id"]: r["n"] for r in rows.select("t_items")} == {"a": 1, "b": 3}
