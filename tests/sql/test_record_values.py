"""The pure-Python normalisers of one record (icpkit.io.record) give exactly what the SQL
normalisers (icpkit.io.values) give on DuckDB: on every documented case, every country
spelling, and random strings built from the characters that matter (separators, spaces the
engines treat differently, digits, suffixes, non-ASCII letters)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icpkit.intent import events as bulk_events
from icpkit.io import record as rv
from icpkit.io import values
from icpkit.scoring import columns, criteria
from icpkit.scoring import record_rules as one
from icpkit.io.industries import industries, industry_spellings
from tests.sql.test_values import BLANKS, COUNTRIES, DOMAINS, INDUSTRIES, NOT_BLANK, NUMBERS, UNPARSEABLE, _country_rows

T = ibis.table({"x": "string"}, name="input")

PAIRS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "is_blank": (values.is_blank, rv.is_blank),
    "normalize_text": (values.normalize_text, rv.normalize_text),
    "normalize_domain": (values.normalize_domain, rv.normalize_domain),
    "domain_is_invalid": (lambda x: values.domain_is_invalid(x, values.normalize_domain(x)),
                          lambda x: rv.domain_is_invalid(x, rv.normalize_domain(x))),
    "normalize_country": (values.normalize_country, rv.normalize_country),
    "industry_is_unrecognised": (values.industry_is_unrecognised, rv.industry_is_unrecognised),
    "parse_number": (values.parse_number, rv.parse_number),
    "number_is_invalid": (lambda x: values.number_is_invalid(x, values.parse_number(x)),
                          lambda x: x is not None and rv.parse_number(x) is None and not rv.is_blank(x)),
    "split_list": (values.split_list, rv.split_list),
    "lower": (lambda x: x.lower(), lambda x: None if x is None else rv.sql_lower(x)),
    "upper": (lambda x: x.upper(), lambda x: None if x is None else rv.sql_upper(x)),
}

TRICKY = ["acme.com/x\ny", "acme.com\n", "a\nb@acme.com", "acme.com/\n", "www.acme.com\nfoo", "\u2003acme.com",
          "\x0bacme.com", "ACME.COM\u0130", "İstanbul.com", "ΟΔΟΣ.gr", "\x0b a \x0b", "\u2003a\u2003", "\x1c a",
          " a\u0085", "\r\na\r\n", "n/a\n", "\nn/a", "N/A\x0b", "straße", "ß", "ﬁ", "ᾳland", "ΟΔΟΣ",
          "  the united states", "the\x0bunited states", "  12  ", "1 200\n", "1,200\u2003", "1\u202f200", "12\u00a0k"]


def _inputs() -> list[str | None]:
    cases: list[str | None] = [*BLANKS, *NOT_BLANK, *TRICKY, *UNPARSEABLE]
    cases += [raw for raw, _ in DOMAINS + COUNTRIES + NUMBERS + INDUSTRIES]
    for i in industries().values():
        cases += [i.label, i.label.upper().replace(" ", "_"), *filter(None, [i.v1_label])]
    cases += list(industry_spellings())
    for row in _country_rows():
        cases += [row["code"], row["alpha3"], row["name"], row["name"].upper(), *filter(None, row["aliases"].split("|"))]
    return cases


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar=false")
    connection.execute("SET TimeZone='UTC'")
    return connection


def sql(con: duckdb.DuckDBPyConnection, fn: Callable[[Any], Any], inputs: list[str | None]) -> list[Any]:
    con.register("input", pa.table({"x": pa.array(inputs, pa.string())}))
    try:
        return [r[0] for r in con.sql(ibis.to_sql(T.select(y=fn(T.x)), dialect="duckdb")).fetchall()]
    finally:
        con.unregister("input")


def agree(con: duckdb.DuckDBPyConnection, inputs: list[str | None]) -> None:
    for name, (bulk, py) in PAIRS.items():
        got = sql(con, bulk, inputs)
        wrong = [(x, want, py(x)) for x, want in zip(inputs, got) if py(x) != want or type(py(x)) is not type(want)]
        assert not wrong, (name, wrong[:5])


def test_documented_cases_and_every_country(con: duckdb.DuckDBPyConnection) -> None:
    agree(con, _inputs())


PIECES = ["", " ", "\u00a0", "\t", "\n", "\x0b", "\u2003", "\ufeff", ",", ";", ".", "-", "+", "$", "€", "k", "M", "bn",
          " million", "to", "~", ">", "or more", "employees", "1", "12", "200", "1,200", "0.5", "e3", "www.", "https://",
          "@", "/", ":", "<", ">", "acme", "Acme", ".com", ".co.uk", "n/a", "N/A", "none", "the ", "United States", "us",
          "Deutschland", "&", "Trinidad", "ü", "İ", "ß", "中国", "Σ", "é", "and", "_", "Computer", " Software",
          "Information Technology", "AND", "Internet"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), min_size=1, max_size=200))
def test_random_strings(inputs: list[str]) -> None:
    con = duckdb.connect()
    try:
        agree(con, inputs)
    finally:
        con.close()


TIMES = ["2026-01-29T23:59:59Z", "2026-01-29 23:59:59", "2026-01-30T00:59:59+01:00", "2026-01-29T23:59:59.000Z",
         "2026-01-31", "2026-1-5", "2026-01-05T1:02:03", "2026-01-29T23:59", "2026-01-29T23", "20260129",
         "2026-01-29T23:59:59.1234567Z", "2026-01-29T23:59:59.9999999Z", "2026-01-29t23:59:59z",
         "2026-01-29T23:59:59+0100", "2026-01-29T23:59:59+01", "2026-01-29T23:59:59 UTC", "2026-01-29T23:59:59 utc",
         "2026-01-29T23:59:59 Europe/Paris", "2026-01-29 23:59:59 +01:00", "2026-01-29T23:59:59-05:30",
         "2026-01-29T24:00:00", "2026-01-29T24:00", "2026-01-29T24:30:00", "2026-02-30", "2024-02-29",
         "2026-01-29T23:59:60", "2026-01-29T23:60:00", "0001-01-01", "2026/01/29", "2026-01/29", "29/01/2026",
         "Jan 29 2026", " 2026-01-29 ", "2026-01-29T23:59:59+01:30:15", "2026-01-29T23:59:59+99:00", "epoch",
         "EPOCH", "infinity", "-Infinity", "now", "2026-01-29   23:59:59", "2026-01-29T 23:59:59",
         "2026-01-29T23:59:59Z+01:00", "2026-01-29 23:59:59Z", "2026-01-29T23:59:59,5", "2026-01-29T23:59:59 z",
         "2026-01-29T23:59:59 EST", "2026-01-29T23:59:59+1", "2026-01-29T23:5:59", "26-01-29", "02026-01-29",
         "2026-01-29T23:59:59.", "2026-01-29T23:59:59.+01:00", "2026-01-29Z", "2026-01-29 UTC", "", "n/a", None,
         "2026-01-29T23:59:59 Etc/GMT+5", "2026-01-29T23:59:59 Nowhere/Foo", "2026-03-29T02:30:00 Europe/Paris"]


def test_timestamps(con: duckdb.DuckDBPyConnection) -> None:
    """Event times: the events reader's text path (trim, blanks, TRY_CAST to TIMESTAMPTZ)."""
    got = sql(con, lambda x: bulk_events._text(x).try_cast("timestamp('UTC')").cast("timestamp"), TIMES)
    for text, want in zip(TIMES, got):
        us = rv.parse_timestamp(text)
        assert (None if us is None else rv.from_micros(us)) == want, (text, want, us)


@pytest.mark.parametrize("value", ["United States", "u.k.", "DE", "widgets", " US ", 5.0])
def test_profile_countries_read_as_data(value: Any, con: duckdb.DuckDBPyConnection) -> None:
    """A profile's country is normalised to what the same text gives as data."""
    text = str(value) if not isinstance(value, float) else "5"
    assert columns.norm_value(value, "country") == sql(con, lambda x: values.normalize_country(x).lower(), [text])[0]


@pytest.mark.parametrize("points", [25, 12.5, 0, -15, 0.004, -0.005, 33.333333333333336, 1e-7, 123456.789])
def test_signed_points(points: float) -> None:
    assert one.signed(points) == criteria.signed(points)


def test_instants_and_microseconds() -> None:
    for moment in [datetime(2026, 1, 31, 9, 30, 15, 250000), datetime(1969, 12, 31, 23, 59, 59, 999999),
                   datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)]:
        assert rv.from_micros(rv.micros(moment)) == moment


def test_rounding(con: duckdb.DuckDBPyConnection) -> None:
    xs = [k / 1000 + 0.0005 for k in range(-3000, 3000)] + [k / 100 + 0.005 for k in range(-3000, 3000)]
    xs += [0.49999999999999994, 2.675, 1.005, 0.285, 1.5e300, -0.001, -0.004, 1e-300, 12345.678901234]
    con.register("v", pa.table({"x": xs}))
    rows = con.execute("SELECT round(x, 2), round(x, 1), round(x, 4), round(x, 0) FROM v").fetchall()
    for x, got in zip(xs, rows):
        want = tuple(rv.sql_round(x, n) for n in (2, 1, 4, 0))
        assert want == got and all(str(a)[0] == str(b)[0] for a, b in zip(want, got)), (x, want, got)
