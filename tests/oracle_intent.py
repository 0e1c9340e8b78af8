"""An independent reference evaluator of a profile's intent section, in plain Python.

Written from the specification of intent scoring (the issue) and the docstrings of the
``Intent`` / ``Signal`` / ``Decay`` / ``BuyingGroup`` models and of the events reader, not
from the SQL: tests compare it with the engine on hand-built and generated events.

The steps, for a list of raw event dicts (keys ``event_id``, ``domain``, ``email``, ``type``,
``occurred_at``; any may be absent) and an as-of instant:

1. Read each event: the account is the given domain, else the domain of the e-mail unless
   it is a free-mail provider; e-mails and types compare without case; a timestamp with an
   offset is converted to UTC, one without is UTC. An event without a readable time, a type,
   or a domain or e-mail is bad (left out; the engine does so with ``on_error="skip"``).
2. One event per event id: its first copy (an event without an id is identified by its
   content); a later copy never replaces it, even when the first is bad.
3. Events after the as-of instant, unattributed ones, and with ``window_days`` events older
   than the window are ignored.
4. Caps per account and type: the first N of a UTC day (by time, then id), then the most
   recent N of the window.
5. Points times the decay weight (age in fractional days from the event to the as-of
   instant; the signal's own decay, else the intent's, else none), summed; plus the buying
   group's points when enough distinct people of the account had an event of its types in
   its window (inclusive at both ends).
6. Clamped to 0..100 and rounded to 2 decimals.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icpkit.intent.events import FREE_MAIL
from icpkit.profile.model import Decay, Intent
from tests.oracle import duck_round2

#: Placeholders read as "no value" (see icpkit.io.values.is_blank), compared without case.
BLANKS = frozenset({"", "n/a", "na", "null", "none", "-", "--", "nan", "#n/a"})


@dataclass(frozen=True)
class Event:
    """One readable event, in canonical form."""

    event_id: str
    domain: str | None  # the account it is attributed to (None: not attributed)
    email: str | None
    type: str
    at: datetime  # naive UTC


@dataclass
class AccountIntent:
    """The oracle's intent result of one account."""

    raw: float = 0.0  # before clamping and rounding
    buying_group: bool = False
    people: int = 0  # distinct people who engaged within the buying group's window
    points: dict[str, float] = field(default_factory=dict)  # per signal type
    counted: dict[str, int] = field(default_factory=dict)  # events counted per signal type

    @property
    def clamped(self) -> float:
        return min(100.0, max(0.0, self.raw))

    @property
    def score(self) -> float:
        return duck_round2(self.clamped)

    def near_rounding_edge(self, eps: float = 1e-7) -> bool:
        """True when float noise in a sum could move the rounded score by one cent."""
        y = self.clamped * 100.0
        return abs(y - math.floor(y) - 0.5) < eps * max(1.0, abs(y))


# -- reading ---------------------------------------------------------------------------

#: What values.normalize_text trims: the regular-expression class \s (tab, newline, form
#: feed, carriage return, space), the no-break space and the byte-order mark.
SPACES = " \t\n\f\r\u00a0\ufeff"


def text(value: Any) -> str | None:
    """Trimmed text, None when blank or a placeholder for no value."""
    if value is None:
        return None
    s = str(value).strip(SPACES)
    return None if s.lower() in BLANKS else s


def domain_of(value: Any) -> str | None:
    """A website, URL or e-mail address reduced to its host: lower case, without scheme,
    user info or mailbox, ``www.``, path, port or trailing dots."""
    s = text(value)
    if s is None:
        return None
    s = s.lower()
    s = re.sub(r"^<?\s*([a-z][a-z0-9+.-]*://|//)?", "", s)
    s = re.sub(r"^[^/?#@]*@", "", s)  # user info, or the mailbox of an e-mail address
    s = re.sub(r"^www[0-9]*\.", "", s)
    s = re.split(r"[/?#:<>@]", s, maxsplit=1)[0].rstrip(". ")
    return s or None


def utc(value: Any) -> datetime | None:
    """An ISO 8601 date or timestamp (or datetime) as naive UTC; None when unreadable."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        s = text(value)
        if s is None:
            return None
        try:
            moment = datetime.fromisoformat(s)
        except ValueError:
            return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def read_event(raw: dict[str, Any]) -> tuple[str, Event | None]:
    """The event id of one raw row and its canonical event, or None when it is bad."""
    given = domain_of(raw.get("domain"))
    email = text(raw.get("email"))
    email = email.lower() if email else None
    typ = text(raw.get("type"))
    typ = typ.lower() if typ else None
    at = utc(raw.get("occurred_at"))
    event_id = text(raw.get("event_id"))
    if event_id is None:  # the same content is the same event
        event_id = f"content:{given}|{email}|{typ}|{at.isoformat() if at else None}"
    if typ is None or at is None or (given is None and email is None):
        return event_id, None
    account = given
    if account is None and email is not None and "@" in email:
        mail_domain = domain_of(email.split("@")[1])
        account = None if mail_domain in FREE_MAIL else mail_domain
    return event_id, Event(event_id, account, email, typ, at)


def read_events(rows: list[dict[str, Any]]) -> list[Event]:
    """Readable events, one per event id: its first copy, left out when that is bad."""
    seen: set[str] = set()
    out = []
    for raw in rows:
        event_id, ev = read_event(raw)
        if event_id in seen:
            continue
        seen.add(event_id)
        if ev is not None:
            out.append(ev)
    return out


# -- scoring ---------------------------------------------------------------------------

def weight(decay: Decay | None, age_days: float) -> float:
    if decay is None:
        return 1.0
    if decay.half_life_days is not None:
        return 0.5 ** (age_days / decay.half_life_days)
    assert decay.lifespan_days is not None
    return max(0.0, 1.0 - age_days / decay.lifespan_days)


def intent_scores(intent: Intent, rows: list[dict[str, Any]], as_of: datetime) -> dict[str, AccountIntent]:
    """The intent result of every account that has an attributed event in scope; an
    account not in the result scores 0 without a buying group."""
    at = utc(as_of)
    assert at is not None
    since = at - timedelta(days=intent.window_days) if intent.window_days is not None else None
    events = [e for e in read_events(rows)
              if e.domain is not None and e.at <= at and (since is None or e.at >= since)]
    signals = {s.type.strip().lower(): s for s in intent.signals}
    out: dict[str, AccountIntent] = defaultdict(AccountIntent)

    by_key: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for e in events:
        if e.type in signals:
            by_key[(e.domain, e.type)].append(e)  # type: ignore[index]
    for (account, typ), evs in sorted(by_key.items()):
        sig = signals[typ]
        kept = sorted(evs, key=lambda e: (e.at, e.event_id))
        if sig.cap_per_day is not None:
            per_day: dict[date, int] = defaultdict(int)
            first = []
            for e in kept:
                per_day[e.at.date()] += 1
                if per_day[e.at.date()] <= sig.cap_per_day:
                    first.append(e)
            kept = first
        if sig.cap_per_window is not None:
            by_id = sorted(kept, key=lambda e: e.event_id)
            kept = sorted(by_id, key=lambda e: e.at, reverse=True)[:sig.cap_per_window]  # the most recent
        if not kept:
            continue
        decay = sig.decay or intent.decay
        pts = sum(sig.points * weight(decay, (at - e.at).total_seconds() / 86400.0) for e in kept)
        res = out[account]
        res.points[typ] = pts
        res.counted[typ] = len(kept)
        res.raw += pts

    bg = intent.buying_group
    if bg is not None:
        types = {t.strip().lower() for t in bg.types}
        start = at - timedelta(days=bg.window_days)
        people: dict[str, set[str]] = defaultdict(set)
        for e in events:
            if e.type in types and e.email is not None and start <= e.at <= at:
                people[e.domain].add(e.email)  # type: ignore[index]
        for account, who in people.items():
            if len(who) >= bg.min_people:
                res = out[account]
                res.buying_group = True
                res.people = len(who)
                res.raw += bg.points
    return dict(out)
