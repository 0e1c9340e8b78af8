"""The synthetic demo CRM and the canonical benchmark table."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from icpkit.demo import canonical
from icpkit.demo.generate import (
    ACCOUNT_HEADER,
    DemoFiles,
    generate_accounts_table,
    generate_demo,
    write_accounts_parquet,
)

# Normalisation a user would write in SQL to read the messy export.
NORMALISE = r"""
create macro ndom(d) as
  split_part(regexp_replace(lower(trim(d)), '^(https?://)?(www\.)?', ''), '/', 1);
create macro ncountry(c) as case
  when upper(trim(c)) in ('US', 'USA', 'U.S.', 'UNITED STATES', 'UNITED STATES OF AMERICA')
    then 'US'
  when upper(trim(c)) in ('CA', 'CANADA') then 'CA'
  else upper(trim(c)) end;
create table traits as
with parsed as (
  select ndom("Company Domain Name") as domain,
    lower(trim("Industry")) as industry,
    "Number of Employees" as emp_text,
    try_cast(replace(replace("Number of Employees", ',', ''), '+', '') as double) as emp,
    try_cast(split_part("Number of Employees", '-', 1) as double) as emp_lo,
    try_cast(split_part("Number of Employees", '-', 2) as double) as emp_hi,
    ncountry("Country/Region") as country,
    regexp_matches(lower("Technologies"), '(^|;)\s*salesforce\s*(;|$)') as salesforce,
    try_cast(days_since_funding as integer) as funding_days
  from accounts)
select domain,
  coalesce(industry in ('computer software', 'internet'), false)::int
  + coalesce(emp between 50 and 500 or (emp_lo >= 50 and emp_hi <= 500), false)::int
  + coalesce(salesforce, false)::int
  + coalesce(country in ('US', 'CA'), false)::int
  + coalesce(funding_days <= 365, false)::int as k
from parsed;
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("demo"), n_accounts=3000, seed=7)


@pytest.fixture(scope="module")
def con(demo: DemoFiles) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table accounts as select * from read_csv(?, all_varchar = true)",
                [str(demo.accounts)])
    for statement in NORMALISE.split(";\n"):
        if statement.strip():
            con.execute(statement)
    for name in ("contacts", "deals", "outcomes", "events"):
        con.execute(f"create table {name} as select * from read_csv(?)", [str(getattr(demo, name))])
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def _files(files: DemoFiles) -> dict[str, bytes]:
    return {name: Path(getattr(files, name)).read_bytes()
            for name in ("accounts", "contacts", "deals", "outcomes", "events")}


def test_same_seed_same_bytes_other_seed_differs(demo: DemoFiles, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again", n_accounts=3000, seed=7)
    other = generate_demo(tmp_path / "other", n_accounts=3000, seed=8)
    first = _files(demo)
    assert _files(again) == first
    assert all(first[k] != v for k, v in _files(other).items())
    assert not list((tmp_path / "again").glob("*.tmp"))


def test_headers(demo: DemoFiles) -> None:
    def header(p: Path) -> list[str]:
        with p.open(encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh))

    assert header(demo.accounts) == ACCOUNT_HEADER
    assert header(demo.accounts)[:3] == ["Record ID", "Company name", "Company Domain Name"]
    assert header(demo.contacts) == ["email", "name", "title", "seniority", "department",
                                     "domain", "country"]
    assert header(demo.deals) == ["deal_id", "domain", "created_at", "closed_at", "outcome",
                                  "amount"]
    assert header(demo.outcomes) == ["domain", "arr", "retention_months", "expansion", "nps",
                                     "time_to_value_days", "support_tickets"]
    assert header(demo.events) == ["event_id", "domain", "email", "type", "occurred_at"]


def test_domains_unique_after_normalisation(con: duckdb.DuckDBPyConnection) -> None:
    n, distinct, keys = _one(con, """select count(*), count(distinct ndom("Company Domain Name")),
                                     count(distinct "Record ID") from accounts""")
    assert n == distinct == keys == 3000
    # every related record points at a known account
    for table in ("contacts", "deals", "outcomes", "events"):
        orphans = _one(con, f"select count(*) from {table} where domain not in "
                            "(select domain from traits)")[0]
        assert orphans == 0, table


def test_planted_icp_wins(con: duckdb.DuckDBPyConnection) -> None:
    rates = dict(con.execute("""
        select k, avg((outcome = 'won')::int) from deals join traits using (domain)
        where outcome <> 'open' group by k""").fetchall())
    assert rates[5] > 0.5 and rates[0] < 0.1
    assert rates[5] > 6 * rates[0]
    assert rates[5] > rates[3] > rates[1]
    # most accounts do not fit
    share_low = _one(con, "select avg((k <= 2)::int) from traits")[0]
    assert 0.6 < share_low < 0.9


def test_anti_icp_loses_and_churns(con: duckdb.DuckDBPyConnection) -> None:
    anti, rest = _one(con, """
        select avg((outcome = 'won')::int) filter (where "Business Model" = 'agency'),
               avg((outcome = 'won')::int) filter (where "Business Model" <> 'agency')
        from deals d join accounts a on d.domain = ndom(a."Company Domain Name")
        where outcome <> 'open'""")
    assert anti < 0.1 < rest
    good, poor = _one(con, """
        select avg(retention_months) filter (where k >= 4),
               avg(retention_months) filter (where k <= 1)
        from outcomes join traits using (domain)""")
    assert good > poor


def test_outcomes_follow_fit(con: duckdb.DuckDBPyConnection) -> None:
    hi = _one(con, """select avg(arr), avg(nps), avg(support_tickets), avg(time_to_value_days)
                      from outcomes join traits using (domain) where k >= 4""")
    lo = _one(con, """select avg(arr), avg(nps), avg(support_tickets), avg(time_to_value_days)
                      from outcomes join traits using (domain) where k <= 2""")
    assert hi[0] > lo[0] and hi[1] > lo[1] and hi[2] < lo[2] and hi[3] < lo[3]
    won = _one(con, "select count(distinct domain) from deals where outcome = 'won'")[0]
    assert _one(con, "select count(*), count(distinct domain) from outcomes") == (won, won)


def test_messy_shares_within_bounds(con: duckdb.DuckDBPyConnection) -> None:
    shares = _one(con, r"""
        select
          avg(("Company Domain Name" <> ndom("Company Domain Name"))::int),
          avg((not regexp_full_match("Country/Region", '[A-Z]{2}'))::int),
          avg((not regexp_full_match("Number of Employees", '[0-9]+'))::int),
          avg((not regexp_full_match("Annual Revenue", '[0-9]+'))::int),
          avg(("Technologies" <> trim(regexp_replace("Technologies", '\s*;\s*', ';', 'g')))::int)
        from accounts""")  # avg ignores blanks (NULL)
    for share in shares:
        assert 0.05 <= share <= 0.15, shares
    # a few blanks in every non-key column
    for column in ACCOUNT_HEADER:
        blank = _one(con, f'select avg(("{column}" is null)::int) from accounts')[0]
        if column in ("Record ID", "Company Domain Name"):
            assert blank == 0, column
        elif column == "days_since_funding":  # blank also when never funded
            assert 0.3 < blank < 0.9
        elif column == "State/Region":  # blank also outside countries with regions
            assert 0.01 < blank < 0.4
        else:
            assert 0.01 < blank < 0.15, column


def test_deals_contacts_events_shape(con: duckdb.DuckDBPyConnection) -> None:
    bad_dates = _one(con, """select count(*) from deals where created_at < date '2024-01-01'
        or coalesce(closed_at, created_at) > date '2026-06-30'
        or (outcome = 'open') <> (closed_at is null) or closed_at <= created_at
        or outcome not in ('won', 'lost', 'open') or amount <= 0 or amount <> round(amount)""")[0]
    assert bad_dates == 0
    no_deal = _one(con, "select avg((domain not in (select domain from deals))::int) "
                        "from traits")[0]
    assert 0.2 < no_deal < 0.6
    per_account = con.execute("select min(n), max(n) from (select count(*) n from contacts "
                              "group by domain)").fetchone()
    assert per_account == (1, 8)
    n_contacts, distinct, freemail, foreign = _one(con, """
        select count(*), count(distinct email),
               avg((split_part(email, '@', 2) in ('gmail.com', 'outlook.com', 'yahoo.com',
                                                  'hotmail.com'))::int),
               avg((split_part(email, '@', 2) <> domain)::int) from contacts""")
    assert n_contacts == distinct and 0.02 < freemail < 0.15 and foreign == freemail
    n_events, types = _one(con, "select count(*), list(distinct type order by type) from events")
    assert 15_000 < n_events < 25_000
    assert types == sorted(["pricing_page_view", "demo_request", "security_doc_view",
                            "careers_page_view", "webinar_attended", "email_reply"])


def test_event_timestamps_and_intent(demo: DemoFiles, con: duckdb.DuckDBPyConnection) -> None:
    with demo.events.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["occurred_at"].endswith("Z") and len(r["occurred_at"]) == 20 for r in rows)
    assert all(r["occurred_at"] < "2026-06-30" for r in rows)
    hot, cold, hot_people, cold_people = _one(con, """
        with open_accts as (select distinct domain from deals where outcome = 'open'),
        recent as (select domain, count(*) n, count(distinct email) people from events
                   where occurred_at >= timestamp '2026-05-01' group by domain)
        select avg(n) filter (where domain in (select domain from open_accts)),
               avg(n) filter (where domain not in (select domain from open_accts)),
               avg(people) filter (where domain in (select domain from open_accts)),
               avg(people) filter (where domain not in (select domain from open_accts))
        from traits left join recent using (domain)""")
    assert hot > 4 * cold and hot_people > 1.5 * cold_people


def test_canonical_schema_and_edges() -> None:
    table = generate_accounts_table(50_000, seed=3)
    assert table.schema == canonical.ACCOUNT_SCHEMA
    assert table.schema.field("technologies").type == pa.list_(pa.string())
    assert table.schema.field("founded_year").type == pa.int64()
    con = duckdb.connect()
    con.register("t", table)
    n, domains, ind_null, emp_null, country_null, tech_null, tech_empty, fund_null = _one(con, """
        select count(*), count(distinct domain), avg((industry is null)::int),
               avg((employees is null)::int), avg((country is null)::int),
               avg((technologies is null)::int), avg((len(technologies) = 0)::int),
               avg((days_since_funding is null)::int) from t""")
    assert n == domains == 50_000
    for share in (ind_null, emp_null, country_null, tech_null, tech_empty):
        assert 0.005 < share < 0.1
    assert 0.2 < fund_null < 0.7
    messy = _one(con, "select avg((industry <> lower(trim(industry)))::int) from t")[0]
    assert 0.01 < messy < 0.1
    assert _one(con, "select count(distinct lower(trim(industry))) from t")[0] >= 25
    employees = {v for (v,) in con.execute("select distinct employees from t").fetchall()}
    assert {37.5, 50.0, 500.0, 625.0, 49.0, 51.0, 499.0, 501.0} <= employees
    funding = {v for (v,) in con.execute("select distinct days_since_funding from t").fetchall()}
    assert {90.0, 91.0, 365.0, 366.0} <= funding
    bad_country = "select count(*) from t where not regexp_full_match(country, '[A-Z]{2}')"
    assert _one(con, bad_country)[0] == 0
    tools = {v for (v,) in con.execute("select distinct unnest(technologies) from t").fetchall()}
    assert {"salesforce", "hubspot"} <= tools and all(t == t.lower() for t in tools)
    assert 20 <= len(tools) <= 30


def test_canonical_deterministic_and_chunked(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canonical, "CHUNK_ROWS", 1000)
    small = generate_accounts_table(2500, seed=5)
    assert small.equals(generate_accounts_table(2500, seed=5))
    assert not small.equals(generate_accounts_table(2500, seed=6))
    # full chunks do not depend on n
    assert generate_accounts_table(3700, seed=5).slice(0, 2000).equals(small.slice(0, 2000))
    path = write_accounts_parquet(tmp_path / "sub" / "accounts.parquet", 2500, seed=5,
                                  row_group_size=400)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == 2500 and meta.num_row_groups > 3
    assert pq.read_table(path).equals(small)
    assert generate_accounts_table(0).num_rows == 0
