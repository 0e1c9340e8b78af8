"""Events: what accounts and their people did, read into one canonical shape.

An event file (CSV, Parquet or JSON lines) has ``type``, ``occurred_at`` and ``domain``
and/or ``email``; optionally ``event_id`` and ``properties``. :func:`canonical_events` is
the pure ibis expression of the canonical events: ``_row``, ``event_id`` (the given one, or
a fingerprint of the row when there is none), ``domain`` (the account: the given domain,
else the domain of the e-mail address unless it is a free-mail provider), ``email``
(lower case), ``type`` (lower case), ``occurred_at`` (a UTC timestamp: ISO 8601 with an
offset or ``Z`` is converted, one without is taken as UTC), ``free_mail`` (an e-mail event
that could not be attributed) and ``_bad_*`` flags for values that cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from ..errors import MissingColumnError, suggest
from ..io import values
from ..io.crm import header_key

ROW = "_row"

#: Providers of personal e-mail addresses: a contact on one of them is not an account.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "hotmail.com",
    "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
    "mac.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
    "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "qq.com", "163.com", "126.com", "rediffmail.com",
    "fastmail.com", "hey.com", "tutanota.com", "orange.fr", "free.fr", "laposte.net", "libero.it",
})

#: Canonical event columns and the other headers they are recognised by.
EVENT_HEADERS: dict[str, tuple[str, ...]] = {
    "event_id": ("id", "eventid"),
    "domain": ("company domain", "account domain", "website"),
    "email": ("e-mail", "contact email", "email address"),
    "type": ("event type", "event", "activity type", "event_type"),
    "occurred_at": ("timestamp", "time", "occurred", "created_at", "event time", "date"),
    "properties": ("props",),
}


@dataclass(frozen=True)
class EventColumns:
    """Which header of the input fills each canonical event column (None: absent)."""

    event_id: str | None
    domain: str | None
    email: str | None
    type: str
    occurred_at: str
    properties: str | None


def event_columns(headers: list[str], source: str) -> EventColumns:
    """Recognise the event columns of an input by their headers."""
    found = _recognise(headers, EVENT_HEADERS)
    missing = [n for n in ("type", "occurred_at") if found[n] is None]
    if found["domain"] is None and found["email"] is None:
        missing.append("domain or email")
    if missing:
        hint = suggest(missing[0].split()[0], headers, "the columns are: " + ", ".join(headers))
        raise MissingColumnError(f"the events have no {' and no '.join(repr(m) for m in missing)} column",
                                 where=source, hint=hint)
    return EventColumns(**found)  # type: ignore[arg-type]


def _recognise(headers: list[str], known: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    """Canonical name -> the input header recognised for it (by name or an alias, ignoring
    case, spaces and punctuation), or None."""
    by_key = {header_key(h): h for h in headers}
    return {name: next((by_key[header_key(c)] for c in (name, *others) if header_key(c) in by_key), None)
            for name, others in known.items()}


def _mail_domain(email: ir.StringValue) -> ir.StringValue:
    """The domain of an e-mail address, normalised like account domains."""
    return values.normalize_domain(email.split("@")[1])


def _account(given: ir.StringValue, mail_domain: ir.StringValue) -> ir.StringValue:
    """The account: the given domain, else the e-mail's unless it is a free-mail provider."""
    return given.coalesce(mail_domain.isin(sorted(FREE_MAIL)).ifelse(ibis.null("string"), mail_domain))


def canonical_events(raw: ir.Table, cols: EventColumns) -> ir.Table:
    """The canonical events expression over ``raw`` (see the module docstring)."""
    def text(header: str | None) -> ir.StringValue:
        if header is None:
            return ibis.null("string")
        col = raw[header]
        return col if col.type().is_string() else col.cast("string")

    # Each value is normalised once, in an inner projection: DuckDB does not share repeated
    # subexpressions across the later tests (a free-mail test in a join key repeated the whole
    # e-mail normalisation per use).
    typ_text = values.normalize_text(text(cols.type)).lower()
    inner = raw.select(
        **{ROW: raw[ROW]},
        _email=values.normalize_text(text(cols.email)).lower() if cols.email else ibis.null("string"),
        _given=values.normalize_domain(text(cols.domain)) if cols.domain else ibis.null("string"),
        _type=typ_text,
        _when=raw[cols.occurred_at] if raw[cols.occurred_at].type().is_timestamp()
        else values.normalize_text(text(cols.occurred_at)),
        _id=values.normalize_text(text(cols.event_id)) if cols.event_id else ibis.null("string"),
    )
    inner = inner.mutate(_mail_domain=_mail_domain(inner._email))
    email, given, typ = inner._email, inner._given, inner._type
    domain = _account(given, inner._mail_domain)
    free = inner._mail_domain.isin(sorted(FREE_MAIL))
    if inner._when.type().is_timestamp():
        occurred = inner._when.cast("timestamp")
        bad_time = ibis.literal(False)
    else:
        occurred = inner._when.try_cast("timestamp('UTC')").cast("timestamp")
        bad_time = inner._when.notnull() & occurred.isnull()
    fingerprint = ibis.literal("row:") + ibis.coalesce(given, "") + "|" + ibis.coalesce(email, "") + "|" + \
        ibis.coalesce(typ, "") + "|" + ibis.coalesce(occurred.cast("string"), "")
    event_id = inner._id
    raw = inner
    return raw.select(
        **{ROW: raw[ROW]},
        event_id=event_id.coalesce(fingerprint),
        domain=domain,
        email=email,
        type=typ,
        occurred_at=occurred,
        free_mail=given.isnull() & free.fill_null(False),
        _bad_occurred_at=bad_time | occurred.isnull(),
        _bad_type=typ.isnull(),
        _bad_who=given.isnull() & email.isnull(),
    )


#: Canonical contact columns and other headers they are recognised by.
CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "email": ("e-mail", "email address", "contact email"),
    "domain": ("company domain", "account domain", "website"),
    "title": ("job title", "jobtitle", "position"),
    "seniority": ("level", "job level"),
    "department": ("function", "job function"),
}


def canonical_contacts(raw: ir.Table, source: str) -> ir.Table:
    """Contacts: ``email`` (lower case), ``domain`` (the given one, else the e-mail's unless
    it is free mail) and every other column as trimmed text under its canonical name
    (``title``, ``seniority``, ``department``) or its own header."""
    headers = [c for c in raw.columns if c != ROW]
    found = _recognise(headers, CONTACT_HEADERS)
    if found["email"] is None:
        hint = suggest("email", headers, "the columns are: " + ", ".join(headers))
        raise MissingColumnError("the contacts have no 'email' column", where=source, hint=hint)

    def text(header: str) -> ir.StringValue:
        col = raw[header]
        return values.normalize_text(col if col.type().is_string() else col.cast("string"))

    email = text(found["email"]).lower()
    given = values.normalize_domain(text(found["domain"])) if found["domain"] else ibis.null("string")
    domain = _account(given, _mail_domain(email))
    named = {v: k for k, v in found.items() if v is not None}
    others = {named.get(h, h): text(h) for h in headers if named.get(h) not in ("email", "domain")}
    return raw.select(email=email, domain=domain, **others)
