"""Recognise the column headers of CRM exports and map them onto canonical account columns.

HubSpot, Salesforce and Apollo (and most hand-made spreadsheets) name the same things
differently: ``Company Domain Name``, ``Website``, ``Account Website``... all mean the
account's ``domain``. :func:`canonical_mapping` takes the headers of an input and returns
which header fills which canonical column, which export format the headers look like, and
which headers are left over (they stay available as custom columns under their own name).

Headers are compared by a *key* that ignores case, whitespace, underscores, dots, hyphens,
``#``, parentheses and slashes, so ``Country/Region``, ``country_region`` and
``COUNTRY REGION`` are the same header. To recognise a new header, add it to
:data:`KNOWN_HEADERS` in priority order.

This module is pure Python: no data is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import MissingColumnError, suggest

__all__ = ["CANONICAL_ACCOUNT_COLUMNS", "KNOWN_HEADERS", "ColumnMapping", "canonical_mapping", "domain_column_guess",
           "header_key", "no_domain_note"]

CANONICAL_ACCOUNT_COLUMNS: tuple[str, ...] = (
    "domain",
    "name",
    "industry",
    "employees",
    "revenue",
    "country",
    "region",
    "technologies",
    "founded_year",
    "business_model",
    "lifecycle_stage",
    "owner",
)

# canonical column -> headers that fill it, best first. A header equal to the canonical
# name itself (compared by key) always comes first. ``Type`` (Salesforce) is deliberately
# absent: it may be a business model, a customer/prospect flag or a partner type. Funding
# (``Total Funding``) is not revenue and is absent too.
KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "domain": (
        "Company Domain Name",  # HubSpot
        "Primary Domain",
        "Company domain",
        "Website",  # Salesforce, Apollo
        "Website URL",  # HubSpot
        "Company Website",
        "Account Website",
    ),
    "name": ("Company name", "Account Name", "Organization Name", "Company"),
    "industry": ("Industry", "Account Industry", "Company Industry"),
    "employees": (
        "Number of Employees",  # HubSpot; also Salesforce's NumberOfEmployees
        "# Employees",  # Apollo
        "Employee Count",
        "Estimated Num Employees",
        "Headcount",
        "Company Size",
    ),
    "revenue": ("Annual Revenue", "Annual Revenue (USD)", "Revenue (USD)"),
    "country": ("Country/Region", "Billing Country", "Company Country", "HQ Country"),
    "region": (
        "State/Region",  # HubSpot
        "Billing State/Province",  # Salesforce
        "BillingState",
        "State/Province",
        "Company State",
        "State",
    ),
    "technologies": ("Tech Stack", "Technology", "Web Technologies"),
    "founded_year": ("Year Founded", "Founded"),
    "business_model": (),
    "lifecycle_stage": ("Lifecycle Stage", "Account Stage", "Stage"),
    "owner": ("Company owner", "Account Owner", "Account Owner Name"),
}

# Headers that betray the tool an export comes from, compared after trimming and
# lower-casing only (``# Employees`` must keep its ``#`` to be told from ``Employees``).
_SIGNATURES: dict[str, tuple[frozenset[str], ...]] = {
    "apollo": (
        frozenset({"# employees"}),
        frozenset({"apollo account id"}),
        frozenset({"company linkedin url"}),
    ),
    "hubspot": (
        frozenset({"company domain name"}),
        frozenset({"record id", "company name"}),
    ),
    "salesforce": (
        frozenset({"account name"}),
        frozenset({"billingcountry"}),
        frozenset({"billing country"}),
        frozenset({"account id"}),
    ),
}

_KEY_DROP = re.compile(r"[\s_.\-#()/\\]+")
_EDGE = "\ufeff\u200b\u00a0 \t\r\n"  # BOM, zero-width and no-break spaces, whitespace


@dataclass(frozen=True)
class ColumnMapping:
    """Which input header fills which canonical column.

    ``columns`` maps canonical name -> source header (exactly as in the input);
    ``source`` is the export format recognised from the headers (``"hubspot"``,
    ``"salesforce"``, ``"apollo"``) or None; ``unmapped`` lists the other headers in
    input order (they remain usable as custom columns under their own name).
    """

    columns: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    unmapped: list[str] = field(default_factory=list)


def header_key(header: str) -> str:
    """The comparison key of a header: lower case, without spaces, ``_ . - # ( ) /``."""
    return _KEY_DROP.sub("", header.strip(_EDGE).casefold())


def resolve_column(name: str, headers: list[str], mapped: dict[str, str]) -> str | None:
    """The input column a field is read from: the profile's mapping or a recognised CRM
    header (both in ``mapped``), the same name, or the same name ignoring case, spaces and
    punctuation."""
    if name in mapped:
        return mapped[name]
    if name in headers:
        return name
    by_key = {header_key(h): h for h in headers}
    return by_key.get(header_key(name))


def missing_columns(names: list[str], headers: list[str], source: str) -> MissingColumnError:
    """The error of an input without the columns ``names`` (with the closest headers)."""
    parts = []
    for n in names:
        hint = suggest(n, headers, cutoff=0.5)
        parts.append(f"'{n}'" + (f" ({hint})" if hint else ""))
    what = "column" if len(names) == 1 else "columns"
    return MissingColumnError(f"the input has no {what} {', '.join(parts)}", where=source,
                              hint="map it in the profile, e.g. `columns: {" + f"{names[0]}: <your header>" + "}`")


#: A value that reads as a web address: a host name with a dot and a top-level domain of
#: letters, with or without scheme, ``www.`` and path (an e-mail address is not one).
_DOMAIN_LIKE = re.compile(r"^\s*(?:https?://)?(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\.?"
                          r"(?::\d+)?(?:[/?#]\S*)?\s*$", re.IGNORECASE)
#: Header words of a column that may hold account domains.
_DOMAIN_WORDS = ("domain", "website", "url", "site", "web")


def domain_column_guess(sample: Mapping[str, Sequence[str | None]]) -> str | None:
    """The column of an input without a domain column that looks like one: the column whose
    sampled values (``sample``: header -> first values) are web addresses most often (at
    least half of those filled), else a column whose header speaks of a domain, website or
    URL; None when no column looks like one."""
    best: tuple[float, str] | None = None
    for header, values in sample.items():
        filled = [v for v in values if v is not None and v.strip()]
        if not filled:
            continue
        share = sum(1 for v in filled if _DOMAIN_LIKE.match(v)) / len(filled)
        if share >= 0.5 and (best is None or share > best[0]):
            best = (share, header)
    if best is not None:
        return best[1]
    return next((h for h in sample if any(w in header_key(h) for w in _DOMAIN_WORDS)), None)


def no_domain_note(label: str, guess: str | None) -> str:
    """The warning of accounts without a domain column, naming the column that looks like one."""
    text = (f"{label}: there is no domain column, so accounts are keyed by their row number "
            "(duplicates are not found and events cannot be joined)")
    if guess is None:
        return text + "; map the column of websites with `columns: {domain: <header>}` in the profile"
    return text + f"; the column '{guess}' looks like one: map it with `columns: {{domain: {guess}}}` in the profile"


def _build_index() -> dict[str, tuple[str, int]]:
    """header key -> (canonical column, rank); rank 0 is the canonical name itself."""
    index: dict[str, tuple[str, int]] = {}
    for canonical, headers in KNOWN_HEADERS.items():
        for rank, text in enumerate((canonical, *headers)):
            key = header_key(text)
            previous = index.setdefault(key, (canonical, rank))
            if previous[0] != canonical:
                raise ValueError(f"header {text!r} is listed for both {previous[0]} and {canonical}")
    return index


_INDEX = _build_index()


def _detect_source(headers: Sequence[str]) -> str | None:
    seen = {h.strip(_EDGE).casefold() for h in headers}
    seen |= {" ".join(h.split()) for h in seen}
    best: tuple[int, str | None] = (0, None)
    for source, signatures in _SIGNATURES.items():
        hits = sum(1 for needed in signatures if needed <= seen)
        if hits > best[0]:
            best = (hits, source)
    return best[1]


def _resolve_explicit(canonical: str, wanted: str, headers: Sequence[str]) -> str:
    if wanted in headers:
        return wanted
    stripped = [h for h in headers if h.strip(_EDGE) == wanted.strip(_EDGE)]
    if stripped:
        return stripped[0]
    hint = suggest(wanted, [h.strip(_EDGE) for h in headers], "the input's columns are: " + ", ".join(headers))
    raise MissingColumnError(
        f"columns.{canonical} names the column '{wanted}', which the input does not have",
        where=f"columns.{canonical}",
        hint=hint,
    )


def canonical_mapping(headers: Sequence[str], explicit: Mapping[str, str] | None = None) -> ColumnMapping:
    """Map the headers of an input onto canonical account columns.

    ``explicit`` (canonical name -> header, from the profile's ``columns``) always wins;
    a header it names that the input lacks raises :class:`MissingColumnError` with a
    "did you mean" hint. Every other canonical column takes the best header found: one
    equal to the canonical name (by key), else the first in :data:`KNOWN_HEADERS` order.
    A header fills at most one column; a stray BOM or surrounding whitespace is ignored.
    """
    headers = list(headers)
    columns: dict[str, str] = {}
    used: set[str] = set()
    for canonical, wanted in (explicit or {}).items():
        header = _resolve_explicit(canonical, wanted, headers)
        columns[canonical] = header
        used.add(header)

    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for position, header in enumerate(headers):
        hit = _INDEX.get(header_key(header))
        if hit is not None and header not in used:
            canonical, rank = hit
            candidates.setdefault(canonical, []).append((rank, position, header))
    for canonical in CANONICAL_ACCOUNT_COLUMNS:
        if canonical in columns or canonical not in candidates:
            continue
        for _, _, header in sorted(candidates[canonical]):
            if header not in used:
                columns[canonical] = header
                used.add(header)
                break

    unmapped = [h for h in headers if h not in used]
    return ColumnMapping(columns=columns, source=_detect_source(headers), unmapped=unmapped)
