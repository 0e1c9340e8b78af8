"""What duplicate accounts are compared on: the input's columns found, and their values
normalised into match keys.

Six fields are compared when the input has them (the ``columns`` section of a rules file
names them when their headers are not recognised):

==========  ==============================================================================
field       match keys
==========  ==============================================================================
name        ``name_key``: :func:`~icpkit.enrich.names.company_key` (casefolded, accents
            folded, legal forms removed: "The ACME Corp." -> "acme"); ``name_words``: its words;
            ``name_sorted``: its words in order;
            ``name_ends`` / ``name_ends2``: its first three and last two letters, its first
            and last four (blocking keys that survive one typo in all but short names)
domain      ``domain``: the registrable domain of a website, URL or e-mail address
            (``https://www.shop.acme.co.uk/x`` -> ``acme.co.uk``), none for a free-mail
            provider's (``gmail.com``); ``domain_stem``: its label before the public
            suffix (``acme``), so acme.com and acme.co.uk meet
country     ``country``: the ISO code of any usual spelling ("United Kingdom", "UK", "GB")
city        ``city``: the first comma-separated part ("new york, ny, us" -> "new york"),
            its words as a name's (casefolded, accents folded, punctuation dropped)
phone       ``phone``: its last nine digits (country codes and punctuation differ)
linkedin    ``linkedin``: the page's path (``company/acme``), without scheme or host
==========  ==============================================================================

An input without a name column and without a domain column cannot be deduplicated: that is
a :class:`~icpkit.errors.MissingColumnError` naming both.

The keys are computed here in Python, once per distinct value (the name key has no SQL
twin); the comparisons themselves run in the engine (see :mod:`.dedupe`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import MissingColumnError, suggest
from ..io.crm import canonical_mapping, header_key
from ..io.mail import email_domain, is_disposable, is_free_mail
from ..io.record import account_domain, normalize_country, normalize_text
from .names import company_key, name_tokens

if TYPE_CHECKING:
    import pyarrow as pa

#: The fields compared, in the order of the model's comparisons.
FIELDS = ("name", "domain", "country", "city", "phone", "linkedin")

#: Headers (compared by :func:`~icpkit.io.crm.header_key`) that hold the fields the CRM
#: mapping does not know, best first.
EXTRA_HEADERS: dict[str, tuple[str, ...]] = {
    "city": ("city", "locality", "billing city", "company city", "hq city", "town", "mailing city"),
    "phone": ("phone", "phone number", "company phone", "main phone", "telephone", "company phone number"),
    "linkedin": ("linkedin", "linkedin url", "company linkedin url", "linkedin company url", "linkedin page",
                 "linkedin profile"),
}

#: The match-key columns a field gives (the first is its comparison's).
KEYS = {"name": ("name_key", "name_words", "name_sorted", "name_ends", "name_ends2"), "domain": ("domain", "domain_stem"), "country": ("country",),
        "city": ("city",), "phone": ("phone",), "linkedin": ("linkedin",)}


def match_columns(headers: Sequence[str], explicit: Mapping[str, str | None], where: str) -> dict[str, str]:
    """The input column of each field found (field -> header): those ``explicit`` names
    (a MissingColumnError when the input lacks one), else the recognised headers; a
    MissingColumnError when neither a name nor a domain column is found."""
    headers = list(headers)
    given = {f: h for f, h in explicit.items() if h is not None}
    for field, header in given.items():
        if header not in headers:
            raise MissingColumnError(f"columns.{field} names the column '{header}', which the input does not have",
                                     where=where, hint=suggest(header, headers,
                                                               "the input's columns are: " + ", ".join(headers)))
    crm = canonical_mapping(headers, {f: h for f, h in given.items() if f in ("name", "domain", "country")})
    found = {f: crm.columns[f] for f in ("name", "domain", "country") if f in crm.columns}
    used = set(found.values())
    by_key = {header_key(h): h for h in reversed(headers)}
    for field, names in EXTRA_HEADERS.items():
        if field in given:
            found[field] = given[field]
        else:
            header = next((by_key[header_key(n)] for n in names if header_key(n) in by_key), None)
            if header is not None and header not in used:
                found[field] = header
        used.add(found.get(field, ""))
    if "name" not in found and "domain" not in found:
        hint = suggest("name", headers, "") or suggest("domain", headers, "")
        raise MissingColumnError("the input has neither a 'name' nor a 'domain' column: duplicates are found by "
                                 "company name and website", where=where,
                                 hint=hint or "name them in the rules file, e.g. `columns: {name: Company}`")
    return {f: found[f] for f in FIELDS if f in found}


def match_keys(table: pa.Table, columns: Mapping[str, str], row_column: str) -> pa.Table:
    """One row per input row: ``unique_id`` (its row number) and the match keys of the
    fields in ``columns`` (see the module docstring); a blank value's keys are null."""
    import pyarrow as pa

    out: dict[str, pa.Array] = {"unique_id": table.column(row_column).cast(pa.int64())}
    for field, header in columns.items():
        raw = [_text(v) for v in table.column(header).to_pylist()]
        if field == "name":
            keys = [company_key(v) or None if v is not None else None for v in raw]
            words = [k.split(" ") if k else None for k in keys]
            out["name_key"] = pa.array(keys, pa.string())
            out["name_words"] = pa.array([sorted(set(w)) if w else None for w in words], pa.list_(pa.string()))
            out["name_sorted"] = pa.array([" ".join(sorted(w)) if w else None for w in words], pa.string())
            # its first and last letters, in two ways: one typo leaves one of them (blocking keys)
            out["name_ends"] = pa.array([f"{k[:3]}|{k[-2:]}" if k else None for k in keys], pa.string())
            out["name_ends2"] = pa.array([f"{k[:1]}|{k[-4:]}" if k else None for k in keys], pa.string())
        elif field == "domain":
            domains = [_domain(v) if v is not None else None for v in raw]
            out["domain"] = pa.array(domains, pa.string())
            out["domain_stem"] = pa.array([d.split(".", 1)[0] if d else None for d in domains], pa.string())
        else:
            normal = _NORMALISE[field]
            out[field] = pa.array([normal(v) if v is not None else None for v in raw], pa.string())
    return pa.table(out)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return normalize_text(value if isinstance(value, str) else str(value))


# ----------------------------------------------------------------------- other fields

@lru_cache(maxsize=200_000)
def _domain(text: str) -> str | None:
    """The registrable domain of a website, URL or e-mail address; None for text that is
    no host name, and for a free or throw-away mailbox provider's domain (``gmail.com``:
    it says nothing of the company; see :mod:`icpkit.io.mail`)."""
    domain = email_domain(text) if "@" in text and "://" not in text else account_domain(text)
    if not domain or "." not in domain or is_free_mail(domain) or is_disposable(domain):
        return None
    return domain


@lru_cache(maxsize=10_000)
def _country(text: str) -> str | None:
    return normalize_country(text)


@lru_cache(maxsize=100_000)
def _city(text: str) -> str | None:
    return " ".join(name_tokens(text.split(",", 1)[0])) or None


_DIGITS = re.compile(r"\D+")


def _phone(text: str) -> str | None:
    digits = _DIGITS.sub("", text)
    return digits[-9:] if len(digits) >= 7 else None


_LINKEDIN = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[a-z0-9-]+\.)*linkedin\.com/+", re.IGNORECASE)


def _linkedin(text: str) -> str | None:
    path = _LINKEDIN.sub("", text.strip()).split("?", 1)[0].split("#", 1)[0].strip("/ ").casefold()
    return path or None


_NORMALISE = {"country": _country, "city": _city, "phone": _phone, "linkedin": _linkedin}
