"""`icp sql`: the statement a warehouse runs gives the scores `icp score` gives."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import icpkit
from icpkit.cli import main
from icpkit.errors import IcpError

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 1, 31, 12, 0, 0)
ACCOUNTS = pa.table({
    "domain": ["https://www.northwind.io/", "globex.com", "INITECH.CO.UK", "umbrella.agency", "hooli.com"],
    "industry": ["Computer Software", "Internet", "Information Technology and Services", "Marketing and Advertising",
                 None],
    "employees": [120.0, 51.0, 1200.0, 40.0, None],
    "technologies": [["Salesforce", "Slack"], ["HubSpot"], None, ["salesforce"], None],
    "country": ["United States", "Canada", "United Kingdom", "US", "DE"],
    "days_since_funding": [45.0, 200.0, None, 400.0, 10.0],
    "business_model": ["saas", "saas", None, "agency", "saas"],
})


def expected(profile: Path) -> list[dict]:
    rows = icpkit.score(profile, ACCOUNTS, scored_at=AT).to_pylist()
    return sorted(rows, key=lambda r: r["domain"])


@pytest.mark.parametrize("profile", ["examples/seed-rubric.yaml", "src/icpkit/demo/profile.yaml"])
def test_the_duckdb_statement_scores_as_icp_score_does(profile: str) -> None:
    sql = icpkit.scoring_sql(ROOT / profile, "crm.accounts", "duckdb", scored_at=AT)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA crm")
    con.register("acc", ACCOUNTS)
    con.execute("CREATE TABLE crm.accounts AS SELECT * FROM acc")
    got = sorted(con.sql(sql).to_arrow_table().to_pylist(), key=lambda r: r["domain"])
    assert got == expected(ROOT / profile)


def test_text_columns_read_as_a_csv_staging_table() -> None:
    sql = icpkit.scoring_sql(ROOT / "examples/seed-rubric.yaml", "accounts", "duckdb", text_columns=True, scored_at=AT)
    text = ACCOUNTS.set_column(3, "technologies", pa.array(
        [";".join(t) if t is not None else None for t in ACCOUNTS["technologies"].to_pylist()]))
    text = text.set_column(2, "employees", pa.array(["120", "51", "1,200", "40", "n/a"]))
    text = text.set_column(5, "days_since_funding", pa.array(["45", "200", "", "400", "10"]))
    con = duckdb.connect()
    con.register("accounts", text)
    got = sorted(con.sql(sql).to_arrow_table().to_pylist(), key=lambda r: r["domain"])
    assert got == expected(ROOT / "examples/seed-rubric.yaml")


@pytest.mark.parametrize("dialect", ["postgres", "spark", "snowflake", "bigquery"])
def test_every_dialect_compiles(dialect: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--profile", str(ROOT / "examples/seed-rubric.yaml"), "--dialect", dialect,
                 "--accounts-table", "crm.accounts"]) == 0
    text = capsys.readouterr().out
    assert "fit_score" in text and "accounts" in text


def test_unknown_dialects_and_intent_profiles_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(IcpError, match="unknown dialect 'oracle'"):
        icpkit.scoring_sql(ROOT / "examples/seed-rubric.yaml", "accounts", "oracle")
    with pytest.raises(IcpError, match="intent"):
        icpkit.scoring_sql(ROOT / "examples/intent.yaml", "accounts", "duckdb")
    assert main(["sql", "--profile", str(ROOT / "examples/seed-rubric.yaml"), "--accounts-table", "a;drop"]) == 1
    assert "is not a table name" in capsys.readouterr().err


def _same(got: list[dict], want: list[dict]) -> None:
    assert [r["domain"] for r in got] == [r["domain"] for r in want]
    for g, w in zip(got, want):
        assert {k: g[k] for k in w} == w


@pytest.mark.postgres
def test_the_postgres_statement_runs_on_postgresql_with_duckdbs_scores(pg_schema: tuple[str, str]) -> None:
    import psycopg

    schema, url = pg_schema
    sql = icpkit.scoring_sql(ROOT / "examples/seed-rubric.yaml", f"{schema}.accounts", "postgres", scored_at=AT)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE TABLE {schema}.accounts (domain text, industry text, employees double precision, "
                    "technologies text[], country text, days_since_funding double precision, business_model text)")
        with con.cursor() as cur:
            cur.executemany(f"INSERT INTO {schema}.accounts VALUES (%s, %s, %s, %s, %s, %s, %s)",
                            [tuple(r.values()) for r in ACCOUNTS.to_pylist()])
            cur.execute(sql)
            names = [d.name for d in cur.description]
            got = [dict(zip(names, row)) for row in cur.fetchall()]
    _same(sorted(got, key=lambda r: r["domain"]), expected(ROOT / "examples/seed-rubric.yaml"))


@pytest.mark.spark
def test_the_spark_statement_runs_on_spark_with_duckdbs_scores(spark_session: object) -> None:
    sql = icpkit.scoring_sql(ROOT / "examples/seed-rubric.yaml", "icp_sql_accounts", "spark", scored_at=AT)
    schema = ("domain string, industry string, employees double, technologies array<string>, country string, "
              "days_since_funding double, business_model string")
    rows = [tuple(r.values()) for r in ACCOUNTS.to_pylist()]
    spark_session.createDataFrame(rows, schema).createOrReplaceTempView("icp_sql_accounts")  # type: ignore[attr-defined]
    *steps, final = sql.split(";\n")  # a script: each step cached, then the scores
    for step in steps:
        spark_session.sql(step)  # type: ignore[attr-defined]
    got = [r.asDict() for r in spark_session.sql(final).collect()]  # type: ignore[attr-defined]
    _same(sorted(got, key=lambda r: r["domain"]), expected(ROOT / "examples/seed-rubric.yaml"))
