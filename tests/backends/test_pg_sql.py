"""The PostgreSQL rewrites of :mod:`icpkit.backends.pg_sql` give what the SQL they replace
gives, on a real server: the cheaper forms of the regular expressions the canonical plan
runs on every value, and the country lookup by ``array_position`` in a split constant."""

from __future__ import annotations

from collections.abc import Iterator

import ibis
import pyarrow as pa
import pytest

from icpkit.backends.pg_sql import _first_char_tests, _pair_bitmap
from icpkit.backends.postgres import PostgresBackend
from icpkit.io import values

pytestmark = pytest.mark.postgres  # the server: tests/pg.py (fixtures pg_url from tests/conftest.py)

#: Values around every edge of the cheaper tests: empty, NULL, ASCII and other whitespace
#: at either end, the characters a placeholder starts with (either case), non-ASCII first
#: or last characters, two bytes that are one character, codes in the wrong case.
TRICKY = [
    None, "", " ", "  ", "\t", "a", "ab", "abc", " abc", "abc ", "\tabc", "abc\n", "\u00a0abc", "abc\u00a0",
    "\ufeffabc", "abc\ufeff", "\u2003abc", "abc\u2003", "\u3000x", "x\u3000", "\u0085x", "x\u0085", "\x1cx", "x\x1f",
    "n/a", "N/A", " n/a ", "na", "NA", "Na", "null", "NULL", "none", "None", "-", "--", " - ", "nan", "NaN", "#n/a",
    "#N/A", "n", "N", "#", "nope", "Nokia", "-5", "#1", "~", "!", "!x!", "~x~", "\x7fx", "x\x7f", "é", "ée", "eé",
    "Ωx",
    "US", "us", "Us", "uS", "GB", "NA", "ZZ", "AA", "A", "USA", "U S", "U\u00a0", "\u00a0U", "ÜS", "SÜ", "Ü", "1A",
    "A1", "[]", "A\u0301", "ŪS", "Ω", "日本", "日", "AD", "ZW", "YT", "ZA", "XK",
]
PATTERNS = {
    "blank": values._BLANK_RE, "edge whitespace": values._EDGE_WS_RE,
    "ISO codes": values._codes_re(), "ISO codes but NA": values._codes_re(fast_path=True),
}


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[PostgresBackend]:
    backend = PostgresBackend(pg_url)
    try:
        yield backend
    finally:
        backend.close()


def test_the_rewrites_apply_to_the_plans_patterns() -> None:
    """If io/values.py changes a pattern, the rewrite no longer applies (the plain regex
    runs, slower): this test says so."""
    assert set(_first_char_tests()) == {values._BLANK_RE, values._EDGE_WS_RE}
    for fast in (False, True):
        assert _pair_bitmap(values._codes_re(fast_path=fast)) is not None
    assert _pair_bitmap("^[a-z]+$") is None and _pair_bitmap("^A|B$") is None and _pair_bitmap("^(AB|C)$") is None


@pytest.mark.parametrize("name", list(PATTERNS))
def test_cheaper_regex_tests_give_what_the_regex_gives(pg: PostgresBackend, name: str) -> None:
    pattern = PATTERNS[name]
    t = pg.read(pa.table({"v": pa.array(TRICKY, pa.string())}), "icp_tricky")
    sql = pg.compile(t.select("_row", hit=t.v.re_search(pattern)))
    assert "~" not in sql.replace("'", "").split("ELSE")[0]  # the cheap test comes first
    got = dict(pg._rows(f"SELECT _row, hit FROM ({sql}) AS r"))
    want = dict(pg._rows("SELECT _row, v ~ %s FROM icp_tricky", (pattern,)))
    assert got == want
    assert sum(1 for v in want.values() if v) > 0 and sum(1 for v in want.values() if v is False) > 0


def test_a_value_in_a_split_constant_is_found_by_array_position(pg: PostgresBackend) -> None:
    keys = ibis.literal("united states,us,usa,germany").split(",")
    t = pg.read(pa.table({"v": pa.array(["usa", "germany", "x", None, ""], pa.string())}), "icp_keys")
    expr = t.select("_row", at=keys.index(t.v))
    sql = pg.compile(expr)
    assert "ARRAY_POSITION" in sql.upper() and "ORDINALITY" not in sql.upper()
    assert [r[1] for r in sorted(pg._rows(f"SELECT _row, at FROM ({sql}) AS r"))] == [2, 3, -1, -1, -1]


def test_a_subexpression_computed_twice_is_computed_once_if_every_row_computes_it() -> None:
    import sqlglot

    from icpkit.backends.pg_sql import _without_repeats

    sql = ("SELECT CASE WHEN t0.d ~ 'x' AND NOT starts_with(t0.d, 'w') THEN t0.d ELSE lower(t0.d) END AS d, "
           "CASE WHEN t0.d ~ 'x' AND NOT starts_with(t0.d, 'w') THEN FALSE ELSE t0.e ~ 'y' END AS bad, "
           "CASE WHEN t0.q = 1 THEN lower(upper(t0.z)) ELSE lower(upper(t0.z)) END AS z, "
           "CASE WHEN t0.q = 2 THEN lower(upper(t0.v)) ELSE 'v' END AS v1, "
           "COALESCE(t0.a, lower(upper(t0.v))) AS v2, lower(upper(t0.y)) || lower(upper(t0.y)) AS yy FROM tbl AS t0")
    out = _without_repeats(sqlglot.parse_one(sql, read="postgres")).sql("postgres")
    inner = out[out.index("FROM (") :]
    assert "d ~ 'x' AND NOT STARTS_WITH" in inner and out.count("~ 'x'") == 1  # in both columns, first condition
    assert "LOWER(UPPER(t0.y))" in inner and out.count("UPPER(t0.y)") == 1  # twice in one column
    assert "UPPER(t0.z)" not in inner and "UPPER(t0.v)" not in inner  # some rows compute it: left alone
    assert "RANDOM()" in inner  # the subquery is not merged back
    with_where = sqlglot.parse_one("SELECT lower(upper(t.a)) AS x, lower(upper(t.a)) AS y FROM tbl AS t WHERE t.b",
                                   read="postgres")
    assert "FROM (" not in _without_repeats(with_where).sql("postgres")
