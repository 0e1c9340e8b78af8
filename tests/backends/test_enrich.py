"""Enrichment runs on real DuckDB (and PostgreSQL for a provider table), with an HTTP JSON
provider served on loopback (tests/vendor_api.py): the waterfall, the cache, the budget,
the dry run and every kind of provider failure."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest

import icpkit
from icpkit.enrich.config import parse_config
from icpkit.errors import ConfigError, DataError
from icpkit.workspace import Workspace
from tests.files import write_csv
from tests.vendor_api import vendor_api


def read(path: Path) -> list[dict[str, Any]]:
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)).to_pylist()


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "enrich.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def api_config(tmp_path: Path, url: str, *, cost: float = 1.0, extra: str = "") -> Path:
    """A configuration of the loopback API as provider ``vendor``; ``extra``: top-level lines."""
    path = config(tmp_path, f"""
        providers:
          vendor:
            type: http
            url: "{url}"
            api_key_env: VENDOR_TEST_KEY
            fields: {{employees: company.employees, industry: company.industry}}
            found_when: company
            cost: {cost}
            retries: 2
            backoff_s: 0
            fetch: {{allow_private: true, timeout_s: 0.5, per_host_interval_s: 0}}
        fields:
          employees: [vendor]
          industry: [vendor]
        """)
    path.write_text(path.read_text(encoding="utf-8") + extra + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDOR_TEST_KEY", "k-123")


# ------------------------------------------------------------------------------ local tables

def test_a_local_table_fills_blanks_keeps_values_and_says_where_each_came_from(tmp_path: Path) -> None:
    write_csv(tmp_path / "companies.csv", ["website", "size", "sector"],
              [["https://www.acme.com/", 120, "Software"], ["beta.io", 8, "Retail"], ["gamma.co.uk", 600, ""]])
    accounts = write_csv(tmp_path / "accounts.csv", ["Company name", "Website", "Number of Employees"],
                         [["Acme", "acme.com", ""], ["Beta", "http://shop.beta.io", "9"], ["Nobody", "", ""],
                          ["Gamma", "gamma.co.uk", ""]])
    cfg = config(tmp_path, """
        providers:
          companies: {type: table, source: companies.csv, key: website, fields: {employees: size, industry: sector}}
        fields:
          employees: [companies]
          industry: [companies]
        """)
    s = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv")
    rows = read(tmp_path / "out.csv")
    assert [r["Company name"] for r in rows] == ["Acme", "Beta", "Nobody", "Gamma"]
    assert [r["Number of Employees"] for r in rows] == [120, 9, None, 600]  # the CRM's column, filled
    assert [r["employees_source"] for r in rows] == ["companies", "input", None, "companies"]
    assert [r["industry"] for r in rows] == ["Software", "Retail", None, None]  # a blank is no value
    assert rows[0]["employees_fetched_at"] is not None and rows[1]["employees_fetched_at"] is None
    assert rows[2]["enrich_problems"] == "no domain"
    assert s.fields["employees"] == {"companies": 2, "input": 1, "missing": 1}
    assert s.without_domain == 1 and s.spent == 0


@pytest.mark.postgres
def test_a_table_of_a_duckdb_file_and_of_postgresql(tmp_path: Path, pg_schema: tuple[str, str]) -> None:
    from icpkit.backends import connect

    companies = write_csv(tmp_path / "companies.csv", ["domain", "employees"], [["acme.com", 120], ["beta.io", 8]])
    duck = connect(database=tmp_path / "firmo.duckdb")
    duck.write(duck.read(companies, "c"), icpkit.TableName("firmo"))
    duck.close()
    pg = connect(pg_schema[1])
    pg.write(pg.read(companies, "c"), icpkit.TableName(f"{pg_schema[0]}.firmo"))
    pg.close()
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [["acme.com"], ["beta.io"], ["gamma.io"]])
    for database, table in (("firmo.duckdb", "firmo"), (pg_schema[1], f"{pg_schema[0]}.firmo")):
        cfg = config(tmp_path, f"""
            providers:
              firmo: {{type: table, source: {table}, database: "{database}", fields: {{employees: employees}}}}
            fields: {{employees: [firmo]}}
            """)
        icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv")
        assert [r["employees"] for r in read(tmp_path / "out.csv")] == [120, 8, None]


def test_a_provider_table_without_the_mapped_column_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    write_csv(tmp_path / "companies.csv", ["domain", "size"], [["acme.com", 1]])
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [["acme.com"]])
    (tmp_path / "out.csv").write_text("previous\n", encoding="utf-8")
    cfg = config(tmp_path, """
        providers: {companies: {type: table, source: companies.csv, fields: {employees: headcount}}}
        fields: {employees: [companies]}
        """)
    with pytest.raises(DataError, match="no column 'headcount'") as exc:
        icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv")
    assert exc.value.where == "providers.companies.source"
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "previous\n"


# ------------------------------------------------------------------------------ HTTP JSON

def test_an_http_provider_with_every_kind_of_failure(tmp_path: Path) -> None:
    domains = ["ok-a.com", "missing-b.com", "flaky-c.com", "down-d.com", "bad-e.com", "wrongtype-f.com",
               "slow-g.com", "empty-h.com"]
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [[d] for d in domains])
    with vendor_api() as api:
        cfg = api_config(tmp_path, api.url)
        s = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv", workspace=Workspace(tmp_path / "ws"))
        counts = api.counts()
        assert all(key == "Bearer k-123" for _, key in api.requests)
    rows = {r["domain"]: r for r in read(tmp_path / "out.csv")}
    assert rows["ok-a.com"]["employees"] == 18 and rows["ok-a.com"]["industry"] == "Software"
    assert rows["flaky-c.com"]["employees"] == 21 and counts["flaky-c.com"] == 2  # retried after the 429
    assert counts["down-d.com"] == 3 and "vendor: http_503" in rows["down-d.com"]["enrich_problems"]
    assert rows["bad-e.com"]["enrich_problems"] == "vendor: malformed_json"
    assert rows["wrongtype-f.com"]["employees"] is None and rows["wrongtype-f.com"]["industry"] == "Software"
    assert "employees not a number ('lots')" in rows["wrongtype-f.com"]["enrich_problems"]
    assert rows["slow-g.com"]["enrich_problems"] == "vendor: timeout"
    assert rows["missing-b.com"]["employees"] is None and rows["missing-b.com"]["enrich_problems"] is None
    assert rows["empty-h.com"]["employees"] is None
    # paid: every answer that arrived (found, not found, unreadable); unpaid: 503s and timeouts
    paid = ["ok-a.com", "missing-b.com", "flaky-c.com", "bad-e.com", "wrongtype-f.com", "empty-h.com"]
    assert s.spent == len(paid)
    assert s.providers["vendor"]["errors"] == {"http_503": 1, "malformed_json": 1, "timeout": 1}


def test_answers_are_cached_and_only_failures_are_asked_again(tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"],
                         [["ok-a.com"], ["missing-b.com"], ["down-c.com"], ["ok-a.com"]])
    ws = Workspace(tmp_path / "ws")
    with vendor_api() as api:
        cfg = api_config(tmp_path, api.url)
        first = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv", workspace=ws)
        assert api.counts() == {"ok-a.com": 1, "missing-b.com": 1, "down-c.com": 3}  # one lookup per domain
        second = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv", workspace=ws)
        assert api.counts() == {"ok-a.com": 1, "missing-b.com": 1, "down-c.com": 6}
        assert (first.spent, second.spent) == (2, 0)
        assert second.providers["vendor"]["from_cache"] == 2
        assert [r["employees"] for r in read(tmp_path / "out.csv")] == [18, None, None, 18]
        expired = api_config(tmp_path, api.url, extra="cache_ttl_days: 0")
        icpkit.enrich_accounts(accounts, expired, out=tmp_path / "out.csv", workspace=ws)
        assert api.counts()["ok-a.com"] == 2


def test_the_budget_is_never_exceeded_even_with_lookups_at_once(tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [[f"ok-{i}.com"] for i in range(12)])
    with vendor_api() as api:
        cfg = api_config(tmp_path, api.url, cost=0.25, extra="budget: 1.1\nconcurrency: 8")
        s = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv", workspace=Workspace(tmp_path / "ws"))
        assert sum(api.counts().values()) == 4
    assert s.spent == 1.0 and s.providers["vendor"]["errors"] == {"budget": 8}
    assert "budget" in s.warnings[0]
    rows = read(tmp_path / "out.csv")
    assert sum(r["employees"] is not None for r in rows) == 4
    assert sum(r["enrich_problems"] == "vendor: budget" for r in rows) == 8


def test_a_dry_run_asks_nobody_and_estimates_what_a_run_would_cost(tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", ["domain", "employees"],
                         [["ok-a.com", ""], ["ok-b.com", "5"], ["ok-c.com", ""], ["", ""]])
    ws = Workspace(tmp_path / "ws")
    with vendor_api() as api:
        cfg = api_config(tmp_path, api.url, cost=0.5)
        icpkit.enrich_accounts(write_csv(tmp_path / "one.csv", ["domain"], [["ok-a.com"]]), cfg,
                               out=tmp_path / "one_out.csv", workspace=ws)
        asked = sum(api.counts().values())
        s = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv", workspace=ws, dry_run=True)
        assert sum(api.counts().values()) == asked  # nothing asked
    assert not (tmp_path / "out.csv").exists()
    # ok-a.com is cached; ok-b.com still needs its industry; ok-c.com both: two lookups of 0.5
    assert s.providers["vendor"]["would_ask"] == 2 and s.estimate == 1.0 and s.spent == 0


def test_a_waterfall_takes_the_first_valid_value_in_the_order_given(tmp_path: Path) -> None:
    write_csv(tmp_path / "companies.csv", ["domain", "size"], [["wrongtype-a.com", ""], ["ok-b.com", 77]])
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [["wrongtype-a.com"], ["ok-b.com"]])
    with vendor_api() as api:
        cfg = config(tmp_path, f"""
            providers:
              vendor:
                type: http
                url: "{api.url}"
                fields: {{employees: company.employees}}
                fetch: {{allow_private: true, per_host_interval_s: 0}}
              companies: {{type: table, source: companies.csv, fields: {{employees: size}}}}
            fields:
              employees: [companies, vendor]
            """)
        icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv")
        assert api.counts() == {"wrongtype-a.com": 1}  # the table had ok-b.com's: the API was not asked
    rows = read(tmp_path / "out.csv")
    assert [(r["employees"], r["employees_source"]) for r in rows] == [(None, None), (77, "companies")]


def test_a_private_address_is_refused_unless_allowed(tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [["ok-a.com"]])
    with vendor_api() as api:
        cfg = config(tmp_path, f"""
            providers:
              vendor: {{type: http, url: "{api.url}", fields: {{employees: company.employees}}}}
            fields: {{employees: [vendor]}}
            """)
        s = icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv")
        assert api.requests == []
    assert s.providers["vendor"]["errors"] == {"refused_address": 1}


# ------------------------------------------------------------------------------ configuration

@pytest.mark.parametrize(("text", "message", "where"), [
    ("providers: {a: {type: table, source: x.csv, fields: {employees: e}, colour: red}}\nfields: {employees: [a]}",
     "unknown key 'colour'", "line 1"),
    ("providers: {a: {type: table, source: x.csv, fields: {employees: e}}}\nfields: {employees: [b]}",
     "no provider 'b'", "fields"),
    ("providers: {a: {type: table, source: x.csv, fields: {mood: m}}}\nfields: {mood: [a]}",
     "give its kind", "fields"),
    ("providers: {a: {type: http, url: 'https://x.test/', fields: {employees: e}}}\nfields: {employees: [a]}",
     "must hold {domain}", "providers.a"),
    ("providers: {a: {type: table, source: x.csv, fields: {industry: i}}}\nfields: {employees: [a]}",
     "gives no 'employees'", "fields"),
])
def test_configuration_errors_name_the_key(text: str, message: str, where: str) -> None:
    with pytest.raises(ConfigError, match=message) as exc:
        parse_config(text, "enrich.yaml")
    assert where in str(exc.value)


def test_a_missing_api_key_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VENDOR_TEST_KEY")
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [["ok-a.com"]])
    with pytest.raises(DataError, match="VENDOR_TEST_KEY"):
        icpkit.enrich_accounts(accounts, api_config(tmp_path, "http://127.0.0.1:9/?d={domain}"),
                               out=tmp_path / "out.csv")


# ------------------------------------------------------------------------------ websites

#: A tiny fingerprint set of our own, in the Wappalyzer format.
FINGERPRINTS = {
    "Acme CMS": {"cats": [1], "meta": {"generator": "^AcmeCMS ([\\d.]+)\\;version:\\1"}, "implies": "PHP"},
    "PHP": {"cats": [27], "headers": {"X-Powered-By": "^php/?([\\d.]+)?\\;version:\\1"}},
    "jQuery": {"cats": [59], "scriptSrc": "jquery[.-]([\\d.]+)(?:\\.min)?\\.js\\;version:\\1"},
}
CATEGORIES = {"1": {"name": "CMS"}, "27": {"name": "Programming languages"}, "59": {"name": "JavaScript libraries"}}
PAGE = (b'<html><head><meta name="generator" content="AcmeCMS 4.2">'
        b'<script src="/static/jquery-3.6.0.min.js"></script></head><body>Hello</body></html>')


def test_a_website_provider_detects_technologies_and_honours_robots(tmp_path: Path) -> None:
    import json

    from tests.enrich_servers import Reply, Site

    (tmp_path / "fp" / "technologies").mkdir(parents=True)
    (tmp_path / "fp" / "technologies" / "a.json").write_text(json.dumps(FINGERPRINTS), encoding="utf-8")
    (tmp_path / "fp" / "categories.json").write_text(json.dumps(CATEGORIES), encoding="utf-8")
    accounts = write_csv(tmp_path / "accounts.csv", ["domain"], [["acme.test"], ["blocked.test"], ["gone.test"]])
    routes = {"/acme.test/": Reply(200, PAGE, [("Content-Type", "text/html")]),
              "/blocked.test/": Reply(200, PAGE, [("Content-Type", "text/html")]),
              "/robots.txt": Reply(200, b"User-agent: *\nDisallow: /blocked.test/\n")}
    with Site(routes) as site:
        cfg = config(tmp_path, f"""
            providers:
              site:
                type: website
                fingerprints: fp
                url: "{site.url('/{domain}/')}"
                fetch: {{allow_private: true, per_host_interval_s: 0}}
            fields:
              technologies: [site]
              technology_categories: [site]
            """)
        ws = Workspace(tmp_path / "ws")
        icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "out.csv", workspace=ws)
        assert "/blocked.test/" not in site.paths
        pages = [p for p in site.paths if p != "/robots.txt"]
        icpkit.enrich_accounts(accounts, cfg, out=tmp_path / "again.csv", workspace=ws)
        assert [p for p in site.paths if p != "/robots.txt"] == pages  # answered from the cache
    rows = {r["domain"]: r for r in read(tmp_path / "out.csv")}
    assert rows["acme.test"]["technologies"] == "Acme CMS; PHP; jQuery"
    assert rows["acme.test"]["technology_categories"] == "CMS; JavaScript libraries; Programming languages"
    assert rows["blocked.test"]["technologies"] is None and rows["blocked.test"]["enrich_problems"] == "site: robots"
    assert rows["gone.test"]["technologies"] is None and rows["gone.test"]["enrich_problems"] is None
    assert read(tmp_path / "again.csv")[0]["technologies"] == "Acme CMS; PHP; jQuery"
