"""Hypothesis strategies of raw accounts as people and CRM exports write them: URLs and
e-mail addresses for domains, "1,200" and "51-200" for numbers, country names, placeholders
("n/a", "-"), semicolon lists, padding with no-break spaces. Every value drawn is one the
bulk reader accepts (no row is rejected), so a whole batch can be scored in one call.

The canonical pools (industries, technologies, models...) are those of the scoring oracle
test (``tests/backends/test_scoring_oracle.py``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from tests.backends.test_scoring_oracle import COUNTRIES, EMPLOYEES, FUNDING, INDUSTRIES, MODELS, TECH

BLANK_TEXTS = ["", " ", "n/a", "N/A", "-", "--", "null", "None", "nan", "#N/A", "\u00a0", "\t"]
PADS = ["", "", " ", "\u00a0", "\t", "\ufeff"]
MORE_COUNTRIES = [*COUNTRIES, "United States", "U.S.", "united kingdom", "U.K.", "Deutschland", "Canada", "the Netherlands",
                  "Ireland", "España", "Côte d'Ivoire", "中国", "Atlantis", "Europe", " us ", "GBR"]
MORE_INDUSTRIES = [*INDUSTRIES, "Software", "SaaS", "financial services", "Financial Services "]
NUMBER_WORDS = ["51-200", "11-50 employees", "10,001+", ">10000", "about 300", "1.2k", "$2.5M", "36.9 M", "1 200",
                "501-1,000", "~45", "over 50", "10000 or more", "0.5K", "1,000,000", "-5", "+7", ".5", "1e3"]

#: The canonical fields of the generated accounts, and the HubSpot / Salesforce headers they
#: may come under instead (the same for every row of a batch).
FIELDS = ("industry", "employees", "technologies", "country", "days_since_funding", "business_model")
HEADERS = {
    "canonical": {},
    "hubspot": {"domain": "Company Domain Name", "name": "Company name", "industry": "Industry",
                "employees": "Number of Employees", "technologies": "Tech Stack", "country": "Country/Region"},
    "salesforce": {"domain": "Website", "name": "Account Name", "industry": "Account Industry",
                   "employees": "NumberOfEmployees", "country": "Billing Country", "business_model": "Business Model"},
}


def padded(text: str) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(PADS), st.sampled_from(PADS)).map(lambda p: p[0] + text + p[1])


def cased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.lower(), text.upper(), text.title()])


def messy_text(pool: list[str]) -> st.SearchStrategy[str | None]:
    """A value of ``pool`` in some case with some padding, a placeholder, or None."""
    return st.one_of(st.none(), st.sampled_from(BLANK_TEXTS), st.sampled_from(pool).flatmap(cased).flatmap(padded))


def number_forms(x: float) -> st.SearchStrategy[str]:
    forms = [repr(x), f"{x:,.2f}", f"{x:,.0f}", f"{x / 1000:g}k", f"{x:,.1f} employees", f" {x:g} "]
    if x >= 0:
        forms += [f"${x:,.0f}", f"{int(x)}+", f"{x:g}-{x * 2:g}"]
    return st.sampled_from(forms)


def messy_number(pool: list[float], lo: float, hi: float) -> st.SearchStrategy[str | None]:
    # rounded: a tiny float would be written with a three-digit exponent, which no reader takes
    numbers = st.one_of(st.sampled_from(pool), st.floats(min_value=lo, max_value=hi, allow_nan=False).map(
        lambda x: round(x, 4)))
    return st.one_of(st.none(), st.sampled_from(BLANK_TEXTS), st.sampled_from(NUMBER_WORDS),
                     numbers.flatmap(number_forms))


def native_number(pool: list[float], lo: float, hi: float) -> st.SearchStrategy[float | int | None]:
    return st.one_of(st.none(), st.sampled_from(pool), st.integers(int(lo), int(hi)),
                     st.floats(min_value=lo, max_value=hi, allow_nan=False), st.just(float("nan")))


def tech_item() -> st.SearchStrategy[str]:
    return st.sampled_from(TECH).flatmap(cased)


messy_list = st.one_of(
    st.none(), st.sampled_from(["", "n/a", ";", " , ", "-"]),
    st.tuples(st.lists(tech_item().flatmap(padded), min_size=1, max_size=4),
              st.sampled_from([";", "; ", ",", " , ", ";;"])).map(lambda t: t[1].join(t[0])),
)
native_list = st.one_of(st.none(), st.lists(st.one_of(tech_item(), st.sampled_from(["", None])), max_size=4))


def domain_forms(base: str) -> st.SearchStrategy[str]:
    return st.sampled_from([base, base.upper(), f"https://www.{base}/about", f"http://{base}:8080/x?y=1",
                            f" {base}. ", f"jane@{base}", f"<https://{base}/>", f"WWW.{base}", f"//{base}/p",
                            f"\u00a0{base}\u00a0"])


@st.composite
def raw_accounts(draw: st.DrawFn, min_size: int = 1, max_size: int = 30, keyed: bool | None = None,
                 domains: list[str] | None = None) -> tuple[list[dict[str, Any]], pa.Table]:
    """Raw account records and the same rows as an Arrow table (text columns, or native
    numbers and lists), under canonical or CRM headers. ``domains`` fixes the accounts'
    domains (in messy forms)."""
    native = draw(st.booleans())
    headers = HEADERS[draw(st.sampled_from(sorted(HEADERS)))]
    keyed = draw(st.booleans()) if keyed is None else keyed
    named = draw(st.booleans())
    n = len(domains) if domains is not None else draw(st.integers(min_size, max_size))
    number = native_number if native else messy_number
    values = {
        "industry": messy_text(MORE_INDUSTRIES),
        "employees": number(EMPLOYEES, -10, 2000),
        "technologies": native_list if native else messy_list,
        "country": messy_text(MORE_COUNTRIES),
        "days_since_funding": number(FUNDING, -10, 1000),
        "business_model": messy_text(MODELS),
    }
    rows = []
    for i in range(n):
        row: dict[str, Any] = {}
        if keyed:
            row["domain"] = draw(domain_forms(domains[i] if domains is not None else f"d{i}.example"))
        if named:
            row["name"] = draw(st.one_of(st.none(), st.sampled_from(["Acme", " Acme Inc ", "n/a", "Ünïcode"])))
        for field, strategy in values.items():
            row[field] = draw(strategy)
        rows.append({headers.get(k, k): v for k, v in row.items()})
    types = {"employees": pa.float64(), "days_since_funding": pa.float64(), "technologies": pa.list_(pa.string())}
    schema = pa.schema([(headers.get(k, k), types.get(k, pa.string()) if native else pa.string())
                        for k in (["domain"] if keyed else []) + (["name"] if named else []) + list(FIELDS)])
    table = pa.Table.from_pylist([{k: (float(v) if isinstance(v, int) else v) for k, v in r.items()} for r in rows],
                                 schema=schema)
    return rows, table
