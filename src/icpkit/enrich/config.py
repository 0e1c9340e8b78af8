"""The enrichment configuration (``enrich.yaml``): providers, the waterfall of each field,
the cache's time to live and the budget.

.. code-block:: yaml

    providers:
      companies:                 # a local table: free, read once
        type: table
        source: companies.csv    # a CSV or Parquet file, or a table of `database`
        fields: {employees: "current employee estimate", industry: industry}
      site:                      # the company's home page: technologies
        type: website
        fingerprints: path/to/webappanalyzer   # Wappalyzer-format files (never bundled)
      vendor:                    # an HTTP JSON API
        type: http
        url: "https://api.example.com/v1/companies?domain={domain}"
        api_key_env: VENDOR_API_KEY
        fields: {employees: company.employee_count, industry: company.industry}
        cost: 0.05               # per lookup, in the vendor's credits or money
    fields:                      # per field, the providers in the order they are asked
      employees: [companies, vendor]
      industry: [companies, vendor]
      technologies: [site]
    budget: 20                   # the most a run may spend
    cache_ttl_days: 30

Every key is checked: an unknown one is an error naming it (with the keys allowed there).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError, DataError
from ..profile.load import parse_yaml
from .fetch import FetchSettings

Kind = Literal["text", "number", "integer", "list", "bool"]

#: The kind of the account fields icpkit knows; any other field names its ``kind``.
KNOWN_KINDS: dict[str, Kind] = {
    "name": "text", "industry": "text", "employees": "integer", "revenue": "number", "country": "text",
    "region": "text", "city": "text", "technologies": "list", "technology_categories": "list",
    "founded_year": "integer", "business_model": "text", "description": "text", "linkedin_url": "text",
    "phone": "text",
}

#: What the website provider gives: the technologies it detects and their categories.
WEBSITE_FIELDS = ("technologies", "technology_categories")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableProvider(_Strict):
    """Fields read from a local table: a CSV or Parquet file, or a table of a database."""

    type: Literal["table"]
    source: str = Field(description="A CSV or Parquet file (relative to the configuration's folder), or a "
                                    "table name (schema.table) of `database`.")
    database: str | None = Field(None, description="A DuckDB file or a postgresql:// URL holding `source`.")
    key: str = Field("domain", description="The table's column holding the company's domain or website.")
    fields: dict[str, str] = Field(min_length=1, description="field -> the table's column.")


class WebsiteProvider(_Strict):
    """Technologies detected on the company's home page (headers, cookies, HTML)."""

    type: Literal["website"]
    fingerprints: str = Field(description="A folder of Wappalyzer-format technology files.")
    url: str = Field("https://{domain}/", description="The page fetched; {domain} is the account's domain.")
    min_confidence: int = Field(50, ge=1, le=100)
    cost: float = Field(0.0, ge=0)
    fetch: FetchSettings = FetchSettings()
    fields: tuple[str, ...] = WEBSITE_FIELDS

    @model_validator(mode="after")
    def _known_fields(self) -> WebsiteProvider:
        unknown = [f for f in self.fields if f not in WEBSITE_FIELDS]
        if unknown:
            raise ValueError(f"a website provider gives {', '.join(WEBSITE_FIELDS)}, not {', '.join(unknown)}")
        return self


class HttpProvider(_Strict):
    """Fields from an HTTP JSON API, looked up by domain (Apollo-, People Data Labs- or
    Clearbit-like), mapped by dotted paths (``company.size``, ``data[0].industry``)."""

    type: Literal["http"]
    url: str = Field(description="The request URL; {domain} is replaced by the account's domain (URL-encoded).")
    method: Literal["GET", "POST"] = "GET"
    body: dict[str, Any] | None = Field(None, description="A JSON body (POST); '{domain}' in its strings is "
                                                          "replaced.")
    headers: dict[str, str] = Field(default_factory=dict)
    api_key_env: str | None = Field(None, description="The environment variable holding the API key.")
    api_key_header: str = "Authorization"
    api_key_format: str = Field("Bearer {key}", description="The header's value; {key} is the key.")
    api_key_param: str | None = Field(None, description="Send the key as this query parameter instead of a header.")
    fields: dict[str, str] = Field(min_length=1, description="field -> dotted path in the JSON answer.")
    found_when: str | None = Field(None, description="A path that must hold a value for the answer to count as "
                                                     "found (default: any mapped field).")
    cost: float = Field(0.0, ge=0, description="What one lookup costs (charged for every answer, found or not).")
    retries: int = Field(3, ge=0, le=10, description="Retries on a timeout, 429 or 5xx.")
    backoff_s: float = Field(1.0, ge=0, le=60, description="The first retry's wait; doubled each time.")
    fetch: FetchSettings = FetchSettings()

    @model_validator(mode="after")
    def _placeholders(self) -> HttpProvider:
        if "{domain}" not in self.url and (self.body is None or "{domain}" not in repr(self.body)):
            raise ValueError("the url (or the body) must hold {domain}")
        if "{key}" not in self.api_key_format:
            raise ValueError("api_key_format must hold {key}")
        return self

    def api_key(self, name: str) -> str | None:
        """The API key from the environment; a DataError naming the variable when unset."""
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env, "")
        if not key:
            raise DataError(f"the environment variable {self.api_key_env} (the API key of provider '{name}') "
                            "is not set", where=f"providers.{name}.api_key_env")
        return key


Provider = Annotated[TableProvider | WebsiteProvider | HttpProvider, Field(discriminator="type")]


class FieldSpec(_Strict):
    providers: list[str] = Field(min_length=1, description="The providers asked, in order.")
    kind: Kind | None = Field(None, description="The value's kind (known fields have one).")


class EnrichConfig(_Strict):
    providers: dict[str, Provider] = Field(min_length=1)
    fields: dict[str, list[str] | FieldSpec] = Field(min_length=1, description="field -> providers in order.")
    budget: float | None = Field(None, ge=0, description="The most one run may spend (the providers' cost units).")
    cache_ttl_days: float = Field(30.0, ge=0, description="Cached answers older than this are fetched again.")
    concurrency: int = Field(4, ge=1, le=64, description="Lookups run at once (website and HTTP providers).")
    overwrite: bool = Field(False, description="Replace values the accounts already have (default: fill blanks).")

    @model_validator(mode="after")
    def _waterfalls(self) -> EnrichConfig:
        for field, spec in self.fields.items():
            for name in self.order(field):
                if name not in self.providers:
                    raise ValueError(f"fields.{field}: no provider '{name}' (providers: {', '.join(self.providers)})")
                if field not in provider_fields(self.providers[name]):
                    raise ValueError(f"fields.{field}: provider '{name}' gives no '{field}' "
                                     f"(it gives {', '.join(provider_fields(self.providers[name]))})")
            if isinstance(spec, FieldSpec) and spec.kind is None and field not in KNOWN_KINDS \
                    or isinstance(spec, list) and field not in KNOWN_KINDS:
                raise ValueError(f"fields.{field}: not a known field; give its kind "
                                 f"({{providers: [...], kind: text|number|integer|list|bool}})")
        return self

    def order(self, field: str) -> list[str]:
        spec = self.fields[field]
        return list(spec.providers if isinstance(spec, FieldSpec) else spec)

    def kind(self, field: str) -> Kind:
        spec = self.fields[field]
        return (spec.kind if isinstance(spec, FieldSpec) and spec.kind else None) or KNOWN_KINDS[field]


def provider_fields(p: TableProvider | WebsiteProvider | HttpProvider) -> tuple[str, ...]:
    return tuple(p.fields)


def load_config(path: str | Path) -> EnrichConfig:
    """Read ``enrich.yaml``; every problem names the file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"enrichment configuration not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<enrich.yaml>") -> EnrichConfig:
    return parse_yaml(text, EnrichConfig, source, error=ConfigError, what="enrichment configuration")
