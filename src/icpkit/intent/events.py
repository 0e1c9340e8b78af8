"""Events: what accounts and their people did, read into one canonical shape.

An event file (CSV, Parquet or JSON lines) has ``type``, ``occurred_at`` and ``domain``
and/or ``email``; optionally ``event_id`` and ``properties``. :func:`canonical_events` is
the pure ibis expression of the canonical events: ``_row``, ``event_id`` (the given one, or
a fingerprint of the row when there is none), ``domain`` (the account: the given domain,
else the domain of the e-mail address unless it is a free-mail provider), ``email``
(lower case), ``type`` (lower case), ``occurred_at`` (a UTC timestamp: ISO 8601 with an
offset or ``Z`` is converted, one without is taken as UTC; times outside the years
1900-2200 are refused), ``free_mail`` (an e-mail event that could not be attributed) and
``_bad_*`` flags for values that cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

from ..errors import MissingColumnError, suggest
from ..io import values
from ..io.crm import header_key
from .record import CONTACT_HEADERS, EVENT_HEADERS, FIRST_YEAR, FREE_MAIL, LAST_YEAR

ROW = "_row"
#: How the id of an event without one begins: the rest is its content (the same content is
#: the same event).
FINGERPRINT = "row:"



# The times every engine reads alike (and Python's ``datetime.fromisoformat``): ``YYYY-MM-DD``,
# optionally with ``T`` or a space, ``HH:MM``, ``:SS``, a fraction (up to 9 digits: PostgreSQL
# rounds a 7th digit where the others cut it) and ``Z`` or an offset (``+01``, ``+0100``,
# ``+01:00``). Only real dates pass (leap days included): PostgreSQL has no TRY_CAST and fails
# the whole query on ``2026-02-30``, where DuckDB and Spark give NULL.
_YEAR = "(?:[1-9][0-9]{3}|0[0-9]{2}[1-9]|0[0-9][1-9]0|0[1-9]00)"
_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
        "|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_LEAP_DAY = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29"
_CLOCK = ("(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,9})?)?"
          "(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?")
_ISO_TIME_RE = f"^(?:{_YEAR}-{_DAY}|{_LEAP_DAY}){_CLOCK}$"


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


def _plain(s: ir.StringValue) -> ir.BooleanValue:
    """True when ``s`` is surely its own :func:`values.normalize_text`, by cheap tests
    instead of regular expressions: more than 4 characters (every blank placeholder is
    shorter), and a first and last character that is printable ASCII, not a space. Other
    values take the exact path. On a dictionary-encoded column (event types) DuckDB runs the
    tests once per distinct value. Portable: ``length``, ``ascii`` and ``substring`` mean
    the same on every engine (the last character is ``substring(s, length(s), 1)``)."""
    return (s.length() > 4) & s.ascii_str().between(33, 126) & s.substr(-1, 1).ascii_str().between(33, 126)


def _text(s: ir.StringValue) -> ir.StringValue:
    """:func:`values.normalize_text`, with the cheap test of :func:`_plain` as its fast path
    (DuckDB runs the other branch only for the values that fail it)."""
    return ibis.ifelse(_plain(s), s, values.trim_text(s))


def _mail_domain(email: ir.StringValue) -> ir.StringValue:
    """The domain of an e-mail address (what follows its first ``@``, up to a second one),
    normalised like account domains; NULL without an ``@``. The appended ``@`` makes the
    second part exist on every engine: Spark in ANSI mode fails on an index past the end
    of an array rather than giving NULL."""
    return values.normalize_domain((email + "@").split("@")[1])


def _account(given: ir.StringValue, mail_domain: ir.StringValue) -> ir.StringValue:
    """The account: the given domain, else the e-mail's unless it is a free-mail provider."""
    return given.coalesce(mail_domain.isin(sorted(FREE_MAIL)).ifelse(ibis.null("string"), mail_domain))


class _Raw:
    """The input's columns as text (absent ones NULL), and its times read."""

    def __init__(self, raw: ir.Table, cols: EventColumns) -> None:
        self.raw, self.cols = raw, cols

    def text(self, header: str | None) -> ir.StringValue:
        if header is None:
            return ibis.null("string")
        col = self.raw[header]
        return col if col.type().is_string() else col.cast("string")

    def when(self) -> ir.TimestampValue:
        """The UTC timestamp of ``occurred_at`` (NULL when it cannot be read, or lies outside
        the years FIRST_YEAR-LAST_YEAR: see :func:`in_years`)."""
        return in_years(self.parsed())

    def parsed(self) -> ir.TimestampValue:
        """The UTC timestamp of ``occurred_at``, of any year (NULL when it cannot be read)."""
        value = self.raw[self.cols.occurred_at]
        if value.type().is_timestamp():  # with a zone, through DuckDB's TIMESTAMPTZ (it has no cast from nanoseconds)
            return (value.cast("timestamp('UTC')") if value.type().timezone else value).cast("timestamp")
        text = _text(self.text(self.cols.occurred_at))
        iso = ibis.ifelse(text.re_search(_ISO_TIME_RE), text, ibis.null("string"))  # see _ISO_TIME_RE
        return iso.try_cast("timestamp('UTC')").cast("timestamp")


def within_years(t: ir.TimestampValue) -> ir.BooleanValue:
    """True when ``t`` (a naive UTC timestamp) lies in the years FIRST_YEAR-LAST_YEAR."""
    return (t >= ibis.literal(datetime(FIRST_YEAR, 1, 1), type="timestamp")) & \
        (t < ibis.literal(datetime(LAST_YEAR + 1, 1, 1), type="timestamp"))


def in_years(t: ir.TimestampValue) -> ir.TimestampValue:
    """``t`` when it lies in the years FIRST_YEAR-LAST_YEAR, else NULL: a time in year 0 or
    99999 is a typo or a placeholder, which every engine stores but not every reader reads
    back (Python's datetime stops at 9999)."""
    return ibis.ifelse(within_years(t), t, ibis.null("timestamp"))


@dataclass(frozen=True)
class Needed:
    """The events a profile reads: those up to ``until`` (a naive UTC instant) of ``types``
    (None: of any type)."""

    until: datetime
    types: frozenset[str] | None = None


def is_needed(events: ir.Table, needed: Needed) -> ir.BooleanValue:
    """The canonical events read and checked: those of the ``needed`` types up to the
    instant, and those without a type; a time that cannot be read (NULL) does not leave an
    event out, so that it is reported."""
    keep = (events.occurred_at <= ibis.literal(needed.until, type="timestamp")).fill_null(True)
    if needed.types is not None:
        keep &= events.type.isin(sorted(needed.types)).fill_null(True)
    return keep


def needed_rows(raw: ir.Table, cols: EventColumns, needed: Needed) -> ir.BooleanValue:
    """:func:`is_needed` as a cheap test of the input's raw values, which may pass a few rows
    more (a type to trim, or shorter than 5 bytes): one test per column, which a Parquet scan
    applies as it reads (on a dictionary-encoded type column, once per distinct value)."""
    r = _Raw(raw, cols)
    keep = (r.when() <= ibis.literal(needed.until, type="timestamp")).fill_null(True)
    if needed.types is not None:
        typ = r.text(cols.type)
        keep &= ibis.ifelse(_plain(typ), typ.lower().isin(sorted(needed.types)), True).fill_null(True)
    return keep


def given_ids(raw: ir.Table, cols: EventColumns) -> ir.Table:
    """``_row`` and ``event_id`` of every row, as :func:`canonical_events` has it when the
    row gives one, else NULL (reading nothing else: an id in canonical form costs a cheap
    test)."""
    if cols.event_id is None:
        return raw.select(**{ROW: raw[ROW]}, event_id=ibis.null("string")).filter(ibis.literal(False))
    return raw.select(**{ROW: raw[ROW]}, event_id=_text(_Raw(raw, cols).text(cols.event_id)))


def canonical_events(raw: ir.Table, cols: EventColumns) -> ir.Table:
    """The canonical events expression over ``raw`` (see the module docstring)."""
    r = _Raw(raw, cols)
    # Each value is normalised once, in an inner projection: DuckDB does not share repeated
    # subexpressions across the later tests (a free-mail test in a join key repeated the whole
    # e-mail normalisation per use).
    inner = raw.select(
        **{ROW: raw[ROW]},
        _email=_text(r.text(cols.email)).lower(),
        _given=values.normalize_domain(r.text(cols.domain)),
        _type=_text(r.text(cols.type)).lower(),
        _parsed=r.parsed(),
        _id=_text(r.text(cols.event_id)),
    )
    inner = values.with_registrable(inner.mutate(_when=in_years(inner._parsed)), "_given")
    # The e-mail's domain matters only to an event without a domain (the costly part is not
    # run for the others).
    inner = values.with_registrable(inner.mutate(
        _mail_domain=_mail_domain(inner._given.isnull().ifelse(inner._email, ibis.null("string")))), "_mail_domain")
    inner = inner.mutate(_free=inner._mail_domain.isin(sorted(FREE_MAIL)))
    given, email, typ, occurred = inner._given, inner._email, inner._type, inner._when
    fingerprint = ibis.literal(FINGERPRINT) + ibis.coalesce(given, "") + "|" + ibis.coalesce(email, "") + "|" + \
        ibis.coalesce(typ, "") + "|" + ibis.coalesce(occurred.cast("string"), "")
    return inner.select(
        **{ROW: inner[ROW]},
        event_id=inner._id.coalesce(fingerprint),
        domain=given.coalesce(inner._free.ifelse(ibis.null("string"), inner._mail_domain)),
        email=email,
        type=typ,
        occurred_at=occurred,
        free_mail=given.isnull() & inner._free.fill_null(False),
        _bad_occurred_at=inner._parsed.isnull(),
        _bad_occurred_year=inner._parsed.notnull() & occurred.isnull(),
        _bad_type=typ.isnull(),
        _bad_who=given.isnull() & email.isnull(),
    )




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
    named = {v: k for k, v in found.items() if v is not None}
    others = {named.get(h, h): text(h) for h in headers if named.get(h) not in ("email", "domain")}
    t = values.with_registrable(values.with_registrable(
        raw.select(email=email, _given=given, _mail=_mail_domain(email), **others), "_given"), "_mail")
    return t.select("email", domain=_account(t._given, t._mail), **{k: t[k] for k in others})
