"""Providers: where field values come from, behind one small interface.

A provider looks up one domain and answers :class:`Answer` (``found`` with a raw payload,
``not_found``, or ``error`` with a short reason); :meth:`Provider.values` maps a found
payload to field values. What a lookup costs and whether its answers are cached is the
provider's own: a local table is free and read once; a website or an HTTP API is asked
through the safe fetcher (:mod:`.fetch`) and its answers are kept in the workspace cache.

* :class:`TableLookup`: a local table (a CSV or Parquet file, a DuckDB or PostgreSQL table),
  keyed by the registrable domain of its key column.
* :class:`WebsiteLookup`: the home page's technologies, detected with Wappalyzer-format
  fingerprints (:mod:`.technographics`). Nothing fetched is executed.
* :class:`HttpLookup`: an HTTP JSON API mapped by dotted paths, the API key from the
  environment, retries with exponential backoff on timeouts, 429 and 5xx.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from ..io.record import account_domain
from .config import HttpProvider, WebsiteProvider

Status = Literal["found", "not_found", "error"]


@dataclass(frozen=True)
class Answer:
    """One provider's answer for one domain. ``paid`` answers (found, not found, or an
    answer that could not be read) cost ``cost`` and are cached; an unpaid error (timeout,
    refused address, budget) is not, so the next run asks again."""

    status: Status
    payload: dict[str, Any] | None = None
    reason: str | None = None
    cost: float = 0.0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    paid: bool = True


class Provider(Protocol):
    name: str
    cost: float  # what one lookup costs
    cached: bool  # answers are kept in the workspace cache
    identity: str  # what the answers depend on (a cached answer is reused while it is the same)

    def lookup(self, domain: str) -> Answer: ...

    def values(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...


# ------------------------------------------------------------------------------- local table

class TableLookup:
    """Rows of a local table by domain (``rows``: the table's rows as dicts)."""

    cost = 0.0
    cached = False
    identity = "table"

    def __init__(self, name: str, rows: list[dict[str, Any]], key: str, fields: Mapping[str, str]) -> None:
        self.name, self.fields = name, dict(fields)
        self._by_domain: dict[str, dict[str, Any]] = {}
        for row in rows:
            domain = account_domain(_text(row.get(key)))
            if domain and domain not in self._by_domain:  # the first row of a domain wins
                self._by_domain[domain] = {f: row.get(col) for f, col in self.fields.items()}

    def __len__(self) -> int:
        return len(self._by_domain)

    def lookup(self, domain: str) -> Answer:
        row = self._by_domain.get(domain)
        return Answer("found", row) if row is not None else Answer("not_found")

    def values(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(payload)


# ------------------------------------------------------------------------------- website

class WebsiteLookup:
    """The technologies of a company's home page."""

    cached = True

    def __init__(self, name: str, config: WebsiteProvider, fetcher: Any, fingerprints: Any) -> None:
        self.name, self.config, self.cost = name, config, config.cost
        self.fetcher, self.fingerprints = fetcher, fingerprints
        self.identity = _identity(config.url, "GET", None)

    def lookup(self, domain: str) -> Answer:
        from .fetch import FetchError
        from .technographics import Page, detect

        url = config_url(self.config.url, domain)
        try:
            page = self.fetcher.get(url)
        except FetchError as exc:
            return Answer("error", reason=exc.reason, paid=False)
        if page.status == 404 or page.status == 410:
            return Answer("not_found", reason=f"http_{page.status}", cost=self.cost)
        if not 200 <= page.status < 300:
            return Answer("error", reason=f"http_{page.status}", paid=False)
        found = detect(self.fingerprints, Page.from_fetched(page))
        return Answer("found", {"url": page.final_url, "technologies": [
            {"name": d.name, "version": d.version, "confidence": d.confidence, "categories": list(d.categories)}
            for d in found]}, cost=self.cost)

    def values(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        techs = [t for t in payload.get("technologies", []) if t.get("confidence", 0) >= self.config.min_confidence]
        return {"technologies": sorted({t["name"] for t in techs}),
                "technology_categories": sorted({c for t in techs for c in t.get("categories", [])})}


# ------------------------------------------------------------------------------- HTTP JSON

#: Statuses worth asking again after a wait.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: The longest wait a Retry-After header may ask for.
MAX_RETRY_AFTER_S = 60.0


class HttpLookup:
    """An HTTP JSON API: one request per domain, the answer mapped by dotted paths."""

    cached = True

    def __init__(self, name: str, config: HttpProvider, fetcher: Any, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name, self.config, self.cost = name, config, config.cost
        self.fetcher, self.sleep = fetcher, sleep
        self.key = config.api_key(name)
        self.identity = _identity(config.url, config.method, config.body)

    def lookup(self, domain: str) -> Answer:
        from .fetch import FetchError

        c = self.config
        url, headers, params = config_url(c.url, domain), dict(c.headers), {}
        if self.key is not None:
            if c.api_key_param:
                params[c.api_key_param] = self.key
            else:
                headers[c.api_key_header] = c.api_key_format.replace("{key}", self.key)
        body = _fill(c.body, domain) if c.body is not None else None
        reason, wait = "unknown", 0.0
        for attempt in range(c.retries + 1):
            if attempt:
                self.sleep(wait)
            wait = c.backoff_s * 2 ** attempt
            try:
                got = self.fetcher.request(c.method, url, headers=headers, params=params or None, json=body)
            except FetchError as exc:
                reason = exc.reason
                if exc.reason in ("timeout", "connect", "network"):
                    continue
                return Answer("error", reason=reason, paid=False)
            if got.status in RETRY_STATUSES:
                reason = f"http_{got.status}"
                wait = max(wait, _retry_after(got.headers))
                continue
            if got.status in (404, 410):
                return Answer("not_found", reason=f"http_{got.status}", cost=self.cost)
            if not 200 <= got.status < 300:
                return Answer("error", reason=f"http_{got.status}", paid=False)
            try:
                data = json.loads(got.body)
            except (ValueError, UnicodeDecodeError):
                return Answer("error", reason="malformed_json", cost=self.cost)
            if not isinstance(data, dict | list):
                return Answer("error", reason="malformed_json", cost=self.cost)
            payload = {"json": data}
            if not self._found(data):
                return Answer("not_found", payload, reason="no_match", cost=self.cost)
            return Answer("found", payload, cost=self.cost)
        return Answer("error", reason=reason, paid=False)

    def _found(self, data: Any) -> bool:
        paths = [self.config.found_when] if self.config.found_when else list(self.config.fields.values())
        return any(_present(json_path(data, p)) for p in paths)

    def values(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {f: json_path(payload.get("json"), p) for f, p in self.config.fields.items()}


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def json_path(data: Any, path: str) -> Any:
    """The value at a dotted path (``company.size``, ``data[0].industry``), or None."""
    for name, index in _STEP.findall(path):
        if name and isinstance(data, dict):
            data = data.get(name)
        elif index and isinstance(data, list) and int(index) < len(data):
            data = data[int(index)]
        else:
            return None
    return data


def config_url(template: str, domain: str) -> str:
    return template.replace("{domain}", quote(domain, safe=""))


def _fill(value: Any, domain: str) -> Any:
    if isinstance(value, str):
        return value.replace("{domain}", domain)
    if isinstance(value, dict):
        return {k: _fill(v, domain) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, domain) for v in value]
    return value


def _retry_after(headers: list[tuple[str, str]]) -> float:
    for name, value in headers:
        if name == "retry-after":
            try:
                return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
            except ValueError:
                return 0.0
    return 0.0


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _identity(url: str, method: str, body: Any) -> str:
    return hashlib.sha256(json.dumps([url, method, body], sort_keys=True).encode()).hexdigest()[:16]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
