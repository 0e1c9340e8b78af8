"""Recognising CRM export headers (pure Python, no database)."""

from __future__ import annotations

import dataclasses

import pytest

from icpkit.errors import MissingColumnError
from icpkit.io.crm import (
    CANONICAL_ACCOUNT_COLUMNS,
    KNOWN_HEADERS,
    ColumnMapping,
    canonical_mapping,
    header_key,
)

KNOWN = [
    ("domain", ["Company Domain Name", "Website", "Website URL", "Company Website", "Domain",
                "Account Website", "Company domain", "Primary Domain"]),
    ("name", ["Company name", "Name", "Account Name", "Company", "Organization Name"]),
    ("industry", ["Industry", "Account Industry"]),
    ("employees", ["Number of Employees", "# Employees", "Employees", "Employee Count", "NumberOfEmployees",
                   "Company Size", "Headcount", "Estimated Num Employees"]),
    ("revenue", ["Annual Revenue", "AnnualRevenue", "Revenue", "Annual Revenue (USD)"]),
    ("country", ["Country/Region", "Country", "Billing Country", "BillingCountry", "Company Country", "HQ Country"]),
    ("region", ["State/Region", "Billing State/Province", "Region", "State", "Company State"]),
    ("technologies", ["Technologies", "Tech Stack", "Technology"]),
    ("founded_year", ["Year Founded", "Founded Year", "Founded"]),
    ("business_model", ["Business Model"]),
    ("lifecycle_stage", ["Lifecycle Stage", "Account Stage", "Stage"]),
    ("owner", ["Company owner", "Account Owner", "Owner", "Account Owner Name"]),
]


@pytest.mark.parametrize(
    ("canonical", "header"), [(c, h) for c, headers in KNOWN for h in headers]
)
def test_each_known_header_maps_alone(canonical: str, header: str) -> None:
    mapping = canonical_mapping(["Some Other Column", header])
    assert mapping.columns == {canonical: header}
    assert mapping.unmapped == ["Some Other Column"]


@pytest.mark.parametrize("canonical", CANONICAL_ACCOUNT_COLUMNS)
def test_canonical_names_map_to_themselves(canonical: str) -> None:
    assert canonical_mapping([canonical]).columns == {canonical: canonical}


@pytest.mark.parametrize(
    "header",
    ["country/region", "COUNTRY REGION", "country_region", "Country.Region", " Country / Region ", "(Country)(Region)"],
)
def test_matching_ignores_case_spaces_and_punctuation(header: str) -> None:
    assert canonical_mapping([header]).columns == {"country": header}


@pytest.mark.parametrize("header", ["Total Funding", "Type", "Funding", "Description", "Record ID", ""])
def test_ambiguous_or_unrelated_headers_stay_unmapped(header: str) -> None:
    mapping = canonical_mapping([header])
    assert mapping.columns == {}
    assert mapping.unmapped == [header]


def test_hubspot_export() -> None:
    headers = ["Record ID", "Company name", "Company Domain Name", "Website URL", "Industry",
               "Number of Employees", "Annual Revenue", "Country/Region", "State/Region",
               "Lifecycle Stage", "Company owner", "Year Founded", "Create Date"]
    mapping = canonical_mapping(headers)
    assert mapping.source == "hubspot"
    assert mapping.columns == {
        "domain": "Company Domain Name", "name": "Company name", "industry": "Industry",
        "employees": "Number of Employees", "revenue": "Annual Revenue", "country": "Country/Region",
        "region": "State/Region", "founded_year": "Year Founded", "lifecycle_stage": "Lifecycle Stage",
        "owner": "Company owner",
    }
    # the losing candidate and the unknown headers stay available as custom columns, in input order
    assert mapping.unmapped == ["Record ID", "Website URL", "Create Date"]


def test_salesforce_export() -> None:
    headers = ["Account ID", "Account Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue",
               "BillingCountry", "BillingState", "Type", "Account Owner"]
    mapping = canonical_mapping(headers)
    assert mapping.source == "salesforce"
    assert mapping.columns == {
        "domain": "Website", "name": "Account Name", "industry": "Industry", "employees": "NumberOfEmployees",
        "revenue": "AnnualRevenue", "country": "BillingCountry", "region": "BillingState", "owner": "Account Owner",
    }
    assert mapping.unmapped == ["Account ID", "Type"]


def test_salesforce_report_labels() -> None:
    mapping = canonical_mapping(["Account Name", "Billing Country", "Billing State/Province", "Account Owner Name"])
    assert mapping.source == "salesforce"
    assert mapping.columns == {"name": "Account Name", "country": "Billing Country",
                               "region": "Billing State/Province", "owner": "Account Owner Name"}


def test_apollo_export() -> None:
    headers = ["Company", "Company Name for Emails", "Account Stage", "# Employees", "Industry", "Website",
               "Company Linkedin Url", "Company Country", "Company State", "Technologies", "Annual Revenue",
               "Total Funding", "Apollo Account Id"]
    mapping = canonical_mapping(headers)
    assert mapping.source == "apollo"
    assert mapping.columns == {
        "domain": "Website", "name": "Company", "industry": "Industry", "employees": "# Employees",
        "revenue": "Annual Revenue", "country": "Company Country", "region": "Company State",
        "technologies": "Technologies", "lifecycle_stage": "Account Stage",
    }
    assert "Total Funding" in mapping.unmapped


@pytest.mark.parametrize(
    ("headers", "source"),
    [
        (["Company Domain Name"], "hubspot"),
        (["Record ID", "Company name"], "hubspot"),
        (["Record ID"], None),
        (["Account Name"], "salesforce"),
        (["BillingCountry"], "salesforce"),
        (["Billing Country"], "salesforce"),
        (["Account ID"], "salesforce"),
        (["# Employees"], "apollo"),
        (["Employees"], None),
        (["Apollo Account Id"], "apollo"),
        (["company  linkedin  url"], "apollo"),
        (["domain", "name", "employees"], None),
        ([], None),
    ],
)
def test_source_recognition(headers: list[str], source: str | None) -> None:
    assert canonical_mapping(headers).source == source


def test_first_in_priority_order_wins_whatever_the_column_order() -> None:
    mapping = canonical_mapping(["Website", "Company Website", "Company Domain Name"])
    assert mapping.columns == {"domain": "Company Domain Name"}
    assert mapping.unmapped == ["Website", "Company Website"]


def test_the_canonical_name_beats_aliases() -> None:
    mapping = canonical_mapping(["Website", "domain", "Company", "Name"])
    assert mapping.columns == {"domain": "domain", "name": "Name"}
    assert mapping.unmapped == ["Website", "Company"]


def test_bom_and_stray_whitespace_on_the_first_header() -> None:
    headers = ["\ufeffCompany Domain Name", " Industry\t", "\ufeff  Country "]
    mapping = canonical_mapping(headers)
    # the mapping names the header exactly as the input has it, so it can be selected
    assert mapping.columns == {"domain": "\ufeffCompany Domain Name", "industry": " Industry\t",
                               "country": "\ufeff  Country "}
    assert mapping.source == "hubspot"


def test_explicit_mapping_wins_and_frees_nothing_else() -> None:
    headers = ["Company Domain Name", "Website", "Company name", "Segment"]
    mapping = canonical_mapping(headers, {"domain": "Website", "business_model": "Segment"})
    assert mapping.columns["domain"] == "Website"
    assert mapping.columns["business_model"] == "Segment"
    assert mapping.columns["name"] == "Company name"
    # the header the explicit mapping displaced is not reused for another column
    assert mapping.unmapped == ["Company Domain Name"]


def test_explicit_mapping_tolerates_a_bom() -> None:
    mapping = canonical_mapping(["\ufeffWeb", "Org"], {"domain": "Web"})
    assert mapping.columns == {"domain": "\ufeffWeb"}


def test_explicit_header_missing_raises_with_suggestion() -> None:
    with pytest.raises(MissingColumnError) as info:
        canonical_mapping(["Company Domain Name", "Webiste", "Industry"], {"domain": "Website"})
    error = info.value
    assert "Website" in error.message
    assert error.where == "columns.domain"
    assert "did you mean 'Webiste'?" in error.hint
    assert "Webiste" in str(error)


def test_explicit_header_missing_without_close_match_lists_columns() -> None:
    with pytest.raises(MissingColumnError) as info:
        canonical_mapping(["alpha", "beta"], {"owner": "Account Executive"})
    assert "alpha, beta" in info.value.hint


def test_a_header_fills_one_column_only() -> None:
    mapping = canonical_mapping(["Name", "Name"])
    assert mapping.columns == {"name": "Name"}


def test_mapping_is_frozen() -> None:
    mapping = canonical_mapping(["domain"])
    assert isinstance(mapping, ColumnMapping)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mapping.source = "hubspot"  # type: ignore[misc]


def test_known_headers_table_is_consistent() -> None:
    assert set(KNOWN_HEADERS) == set(CANONICAL_ACCOUNT_COLUMNS)
    owners: dict[str, str] = {}
    for canonical, headers in KNOWN_HEADERS.items():
        for header in (canonical, *headers):
            assert owners.setdefault(header_key(header), canonical) == canonical


@pytest.mark.parametrize(
    ("header", "key"),
    [("Country/Region", "countryregion"), ("# Employees", "employees"), ("Annual Revenue (USD)", "annualrevenueusd"),
     ("\ufeff Founded_Year ", "foundedyear"), ("Billing State/Province", "billingstateprovince")],
)
def test_header_key(header: str, key: str) -> None:
    assert header_key(header) == key


# -- an input without a domain column ----------------------------------------------------------

def test_the_column_holding_domains_is_found_by_its_values() -> None:
    from icpkit.io.crm import domain_column_guess

    sample = {"name": ["Acme", "Beta", None], "notes": ["see acme.com", None, None],
              "website_x": ["acme.com", "https://www.beta.io/about", None], "email": ["a@acme.com", "b@beta.io", None]}
    assert domain_column_guess(sample) == "website_x"


def test_a_header_naming_a_website_is_the_guess_when_no_values_look_like_domains() -> None:
    from icpkit.io.crm import domain_column_guess

    assert domain_column_guess({"name": ["Acme"], "Web Address": [None, ""]}) == "Web Address"
    assert domain_column_guess({"name": ["Acme"], "employees": ["12"]}) is None


def test_the_warning_names_the_column_and_how_to_map_it() -> None:
    from icpkit.io.crm import no_domain_note

    text = no_domain_note("a.csv", "website_x")
    assert text.startswith("a.csv: there is no domain column") and "`columns: {domain: website_x}`" in text
