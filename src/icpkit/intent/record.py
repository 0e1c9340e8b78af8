"""Intent, personas and triggers for one record, in plain Python, exactly as
:mod:`icpkit.intent.plan` computes them in SQL.

Events arrive as dicts (``type``, ``occurred_at``, ``domain`` and/or ``email``, optionally
``event_id``; the other headers :mod:`icpkit.intent.events` recognises work too) and are
read as :func:`~icpkit.intent.events.canonical_events` reads them: each event id is its
first copy, an event without one is its content, only the events the profile reads are
kept (those of its types up to the as-of instant; with personas, of any type) and those are
checked. :class:`EventsIndex` reads them once and serves the events of each account, so a
batch shares one reading. Times are kept as integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..errors import DataError, MissingColumnError, located, suggest
from ..io import record as rv
from ..io.crm import header_key
from ..profile.model import Decay, Profile, format_number

#: Providers of personal e-mail addresses: a contact on one of them is not an account.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "hotmail.com",
    "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
    "mac.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
    "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "qq.com", "163.com", "126.com", "rediffmail.com",
    "fastmail.com", "hey.com", "tutanota.com", "orange.fr", "free.fr", "laposte.net", "libero.it",
})
#: Canonical event and contact columns, and the other headers they are recognised by.
EVENT_HEADERS: dict[str, tuple[str, ...]] = {
    "event_id": ("id", "eventid"),
    "domain": ("company domain", "account domain", "website"),
    "email": ("e-mail", "contact email", "email address"),
    "type": ("event type", "event", "activity type", "event_type"),
    "occurred_at": ("timestamp", "time", "occurred", "created_at", "event time", "date"),
    "properties": ("props",),
}
CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "email": ("e-mail", "email address", "contact email"),
    "domain": ("company domain", "account domain", "website"),
    "title": ("job title", "jobtitle", "position"),
    "seniority": ("level", "job level"),
    "department": ("function", "job function"),
}
_LABEL = "events"
_EVENT_LAYOUTS: dict[tuple[Any, ...], dict[str, str | None]] = {}  # the keys of an event -> its columns
_DAY_US = 86_400_000_000
_TIME_MESSAGE = "cannot read '{}' as a timestamp (write ISO 8601, e.g. 2026-01-31T09:30:00Z)"
#: Event times are kept from the start of FIRST_YEAR to the end of LAST_YEAR (UTC): a time in
#: year 0 or 99999 is a typo or a placeholder, and one that is stored breaks every later read.
FIRST_YEAR, LAST_YEAR = 1900, 2200
YEAR_MESSAGE = f"the time '{{}}' is outside the years {FIRST_YEAR}-{LAST_YEAR}"
#: The same bounds in UTC microseconds since the epoch: [EARLIEST_US, AFTER_US).
EARLIEST_US = rv.micros(datetime(FIRST_YEAR, 1, 1))
AFTER_US = rv.micros(datetime(LAST_YEAR + 1, 1, 1))


#: One event of an account: (e-mail or None, type, UTC microseconds since the epoch). A plain
#: tuple: a batch of events is read on every call, and tuples are the cheapest to build.
Event = tuple[str | None, str, int]
EMAIL, TYPE, AT = 0, 1, 2


def _recognise(headers: Iterable[str], known: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    by_key = {header_key(h): h for h in headers if isinstance(h, str)}
    return {name: next((by_key[header_key(c)] for c in (name, *others) if header_key(c) in by_key), None)
            for name, others in known.items()}


def _text(value: Any) -> str | None:
    return rv.normalize_text(value if value is None or value.__class__ is str else rv.as_text(value))


def _lower_text(value: Any) -> str | None:
    text = rv.normalize_text(value if value is None or value.__class__ is str else rv.as_text(value))
    return None if text is None else text.lower() if text.isascii() else rv.sql_lower(text)


def _domain(value: Any) -> str | None:
    return rv.account_domain(value if value is None or value.__class__ is str else rv.as_text(value))


def _mail_domain(email: str | None) -> str | None:
    """The domain of an e-mail address: what follows its first ``@``, up to a second one."""
    if email is None:
        return None
    parts = email.split("@", 2)
    return rv.account_domain(parts[1]) if len(parts) > 1 else None


def _account(given: str | None, email: str | None) -> str | None:
    if given is not None:
        return given
    mail = _mail_domain(email)
    return None if mail in FREE_MAIL else mail


_MEMO = 1 << 16
_LOWER = lru_cache(maxsize=_MEMO, typed=True)(_lower_text)
_DOMAIN = lru_cache(maxsize=_MEMO, typed=True)(_domain)
_MAIL_ACCOUNT = lru_cache(maxsize=_MEMO)(lambda email: _account(None, email))


class EventsIndex:
    """Events read once (deduplicated, the needed ones, checked): by account, and the
    e-mails with their times (for personas)."""

    def __init__(self, events: Iterable[Mapping[str, Any]] | None, until: int, types: frozenset[str] | None,
                 people: bool = False) -> None:
        self.by_domain: dict[str | None, list[Event]] = defaultdict(list)
        self.people: dict[str, list[int]] = defaultdict(list)
        layouts = _EVENT_LAYOUTS
        if len(layouts) > 256:
            layouts.clear()
        shapes: dict[tuple[Any, ...], dict[str, str | None]] = {}  # the layouts of these events
        seen: set[Any] = set()
        bad: dict[str, list[tuple[int, str, Any]]] = {"time": [], "year": [], "type": [], "who": []}
        earliest, after = EARLIEST_US, AFTER_US
        text, parse = _text, rv.parse_timestamp
        lower, domain_of, mail_account = _LOWER, _DOMAIN, _MAIL_ACCOUNT
        by_domain, add_person = self.by_domain, self.people
        last_shape: tuple[Any, ...] | None = None
        cols: dict[str, str | None] = {}
        for row, raw in enumerate(events or (), 1):
            if raw.__class__ is not dict and not isinstance(raw, Mapping):
                raise DataError(f"an event is a mapping of columns to values, not a {type(raw).__name__}",
                                where=located(_LABEL, row))
            shape = tuple(raw)
            if shape != last_shape:
                cols = layouts.get(shape) or layouts.setdefault(shape, _recognise(shape, EVENT_HEADERS))
                k_id, k_domain, k_email, k_type, k_at = (cols["event_id"], cols["domain"], cols["email"], cols["type"],
                                                         cols["occurred_at"])
                last_shape = shape
                shapes[shape] = cols
            try:  # values repeat (an account's domain, its people, a few types): memoised
                given = domain_of(raw[k_domain]) if k_domain else None
                email = lower(raw[k_email]) if k_email else None
                typ = lower(raw[k_type]) if k_type else None
            except TypeError:  # a value that cannot be hashed (a list...) is read as text
                given = _domain(raw[k_domain]) if k_domain else None
                email = _lower_text(raw[k_email]) if k_email else None
                typ = _lower_text(raw[k_type]) if k_type else None
            when = raw[k_at] if k_at else None
            at = parse(when)
            out_of_years = at is not None and not earliest <= at < after
            if out_of_years:  # read as the engine reads it: no time (so it is reported)
                at = None
            if k_id:
                event_id = raw[k_id]
                event_id = rv.normalize_text(event_id) if event_id.__class__ is str else text(event_id)
            else:
                event_id = None
            key = event_id if event_id is not None else (given, email, typ, at)
            if key in seen:
                continue
            seen.add(key)
            if (at is not None and at > until) or (types is not None and typ is not None and typ not in types):
                continue
            if at is None or typ is None or given is None and email is None:
                who = k_domain or k_email or ""
                for problem, hit, header, value in (("time", at is None and not out_of_years, k_at, when),
                                                    ("year", out_of_years, k_at, when),
                                                    ("type", typ is None, k_type, None),
                                                    ("who", given is None and email is None, who, None)):
                    if hit:
                        bad[problem].append((row, header or "", value))
                continue
            by_domain[given if given is not None else mail_account(email)].append((email, typ, at))
            if people and email is not None:
                add_person[email].append(at)
        if shapes:
            _check_columns(shapes)
        _raise_bad(bad)

    @classmethod
    def stored(cls, events: Iterable[tuple[str | None, str | None, str, datetime]], until: int,
               types: frozenset[str] | None, people: bool = False) -> EventsIndex:
        """Events as :func:`event_rows` made them and a store kept them, one per id, as
        ``(domain, email, type, occurred_at)`` tuples (``occurred_at`` naive UTC): read
        without normalising or checking them again."""
        index = cls(None, until, types)
        by_domain, add_person, micros = index.by_domain, index.people, rv.micros
        for domain, email, typ, when in events:
            at = micros(when)
            if at > until or (types is not None and typ not in types):
                continue
            by_domain[domain].append((email, typ, at))
            if people and email is not None:
                add_person[email].append(at)
        return index


def event_rows(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Events as they are stored: checked as :class:`EventsIndex` checks them (a bad one is a
    DataError naming its row and column), then one dict each, in order, with ``event_id``
    (given, or a hash of the event's content), ``domain`` (the account: the given domain, or
    the e-mail's unless it is a free-mail one), ``email``, ``type``, ``occurred_at`` (UTC
    microseconds) and ``properties`` (as given, or None). Copies of an id are kept: storing
    decides which is first."""
    import hashlib
    import json

    events = list(events)
    EventsIndex(events, AFTER_US, None)  # raises on the first batch of bad events
    out: list[dict[str, Any]] = []
    layouts: dict[tuple[Any, ...], dict[str, str | None]] = {}
    for raw in events:
        shape = tuple(raw)
        cols = layouts.get(shape) or layouts.setdefault(shape, _recognise(shape, EVENT_HEADERS))
        given = _domain(raw[cols["domain"]]) if cols["domain"] else None
        email = _lower_text(raw[cols["email"]]) if cols["email"] else None
        typ = _lower_text(raw[cols["type"]])  # type: ignore[index]
        at = rv.parse_timestamp(raw[cols["occurred_at"]])  # type: ignore[index]
        event_id = _text(raw[cols["event_id"]]) if cols["event_id"] else None
        if event_id is None:
            content = json.dumps([given, email, typ, at], separators=(",", ":"))
            event_id = "sha256:" + hashlib.sha256(content.encode()).hexdigest()
        props = raw[cols["properties"]] if cols["properties"] else None
        out.append({"event_id": event_id, "domain": _account(given, email), "email": email, "type": typ,
                    "occurred_at": at, "properties": props})
    return out


def _check_columns(layouts: dict[tuple[Any, ...], dict[str, str | None]]) -> None:
    """The columns of the events (the keys of any of them): ``intent.events.event_columns``."""
    found = {name for cols in layouts.values() for name, header in cols.items() if header is not None}
    missing = [n for n in ("type", "occurred_at") if n not in found]
    if "domain" not in found and "email" not in found:
        missing.append("domain or email")
    if missing:
        headers = list(dict.fromkeys(str(h) for shape in layouts for h in shape))
        hint = suggest(missing[0].split()[0], headers, "the columns are: " + ", ".join(headers))
        raise MissingColumnError(f"the events have no {' and no '.join(repr(m) for m in missing)} column",
                                 where=_LABEL, hint=hint)


def _raise_bad(bad: dict[str, list[tuple[int, str, Any]]]) -> None:
    messages = {"time": _TIME_MESSAGE, "year": YEAR_MESSAGE, "type": "the event type is missing",
                "who": "the event has neither a domain nor an e-mail"}
    for problem, message in messages.items():
        rows = bad[problem]
        if rows:
            row, header, value = rows[0]
            more = f" ({len(rows)} rows in all)" if len(rows) > 1 else ""
            text = message.format("None" if value is None else rv.as_text(value))
            raise DataError(text + more, where=located(_LABEL, row, header), hint="fix the events")


def read_person(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One person (a contact, an inbound lead) as :func:`read_contacts` reads each: every
    key as trimmed text under its canonical name, ``email`` lower case, ``domain`` the
    account's (the given one, else the e-mail's unless it is a free-mail one, else None)."""
    found = _recognise(tuple(raw), CONTACT_HEADERS)
    return _person(raw, found, {v: k for k, v in found.items() if v is not None})


def _person(raw: Mapping[str, Any], found: dict[str, str | None], named: dict[str, str]) -> dict[str, Any]:
    email = _lower_text(raw[found["email"]]) if found["email"] else None
    given = _domain(_text(raw[found["domain"]])) if found["domain"] else None
    person = {named.get(h, h): _text(v) for h, v in raw.items() if named.get(h) not in ("email", "domain")}
    person["email"], person["domain"] = email, _account(given, email)
    return person


def read_contacts(contacts: Iterable[Mapping[str, Any]] | None, fields: Iterable[str] = ()
                  ) -> dict[str, list[dict[str, Any]]]:
    """Contacts by account (``intent.events.canonical_contacts``): ``email`` lower case,
    ``domain`` the given one else the e-mail's (unless free mail), every other key as
    trimmed text under its canonical name (``title``...) or its own; a key some contacts
    lack is None for them, as in a table. ``fields`` are those the personas read: contacts
    without one of them (or without e-mails) are a MissingColumnError."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    layouts: dict[tuple[Any, ...], dict[str, str | None]] = {}
    columns: set[str] = {"email", "domain"}
    for row, raw in enumerate(contacts or (), 1):
        if not isinstance(raw, Mapping):
            raise DataError(f"a contact is a mapping of columns to values, not a {type(raw).__name__}",
                            where=located("contacts", row))
        shape = tuple(raw)
        found = layouts.get(shape)
        if found is None:
            found = layouts[shape] = _recognise(shape, CONTACT_HEADERS)
        named = {v: k for k, v in found.items() if v is not None}
        columns.update(named.get(h, h) for h in shape)
        contact = _person(raw, found, named)
        if contact["domain"] is not None:
            out[contact["domain"]].append(contact)
    if layouts and not any(found["email"] for found in layouts.values()):
        headers = list(dict.fromkeys(str(h) for shape in layouts for h in shape))
        raise MissingColumnError("the contacts have no 'email' column", where="contacts",
                                 hint=suggest("email", headers, "the columns are: " + ", ".join(headers)))
    absent = [f for f in fields if f not in columns]
    if layouts and absent:
        hint = suggest(absent[0], sorted(columns), "map it with `columns:` in the profile")
        raise MissingColumnError(f"the profile uses column '{absent[0]}', which the data does not have",
                                 where="contacts", hint=hint)
    return out


# --------------------------------------------------------------------------------- scoring

def _age(at: int, moment: int) -> float:
    """Fractional days from ``moment`` to ``at`` (``intent.plan._age_days``)."""
    return (at - moment) / 1_000_000.0 / 86400.0


def _window(days: float) -> int:
    """A span of days in microseconds (``intent.plan._days``)."""
    return round(days * 86400.0 * 1_000_000)


def _weight(decay: Decay | None) -> Callable[[float], float]:
    if decay is None:
        return lambda age: 1.0
    if decay.half_life_days is not None:
        half = decay.half_life_days
        return lambda age: 0.5 ** (age / half)
    span = decay.lifespan_days
    assert span is not None
    return lambda age: max(0.0, 1.0 - age / span)


def signed_text(points: float) -> str:
    """``+12.5`` / ``-3``: rounded to 1 decimal, with the sign (``intent.plan._signed_text``)."""
    r = rv.sql_round(points, 1)
    text = str(int(r)) if r == rv.sql_round(r, 0) else repr(r)
    return "+" + text if r >= 0 else text


class IntentScorer:
    """The event side of a profile for one account: trigger features, intent, personas,
    and the blend with fit (priority, and the tier and route it decides)."""

    def __init__(self, profile: Profile, compile_condition: Callable[..., Callable[[dict[str, Any]], bool]]) -> None:
        self.profile = profile
        intent = profile.intent
        self.people = bool(profile.personas)
        if profile.personas:
            self.types: frozenset[str] | None = None
        else:
            self.types = frozenset({t.event_type for t in profile.triggers}
                                   | (intent.event_types if intent else set()))
        if intent is not None:
            self.signals = {s.event_type: (s.points, _weight(s.decay or intent.decay), s.cap_per_day,
                                           s.cap_per_window) for s in intent.signals}
            self.window = _window(intent.window_days) if intent.window_days is not None else None
            bg = intent.buying_group
            if bg is not None:
                self.bg_types = frozenset(bg.event_types)
                self.bg_window = _window(bg.window_days)
                what = bg.label or ("had " + "/".join(bg.event_types))
                self.bg_text = f" people {what} in the last {format_number(bg.window_days)} days ({signed_text(bg.points)})"
        text_kinds: dict[str, str] = defaultdict(lambda: "text")
        self.persona_fields = sorted({f for p in profile.personas for f, _ in p.when.fields()})
        self.personas = [(p.name, p.label or p.name, float(p.points), compile_condition(p.when, text_kinds))
                         for p in profile.personas]
        self.engaged_window = _window(profile.committee.engaged_days if profile.committee else 30.0)

    def read(self, events: Iterable[Any] | None, at: int, stored: bool = False) -> EventsIndex:
        if stored:
            return EventsIndex.stored(events or (), at, self.types, self.people)
        return EventsIndex(events, at, self.types, self.people)

    def features(self, events: list[Event], at: int) -> dict[str, float | None]:
        """``days_since_<name>`` and ``<name>_count_<N>d`` of one account's events."""
        out: dict[str, float | None] = {}
        for trig in self.profile.triggers:
            ages = [_age(at, e[AT]) for e in events if e[TYPE] == trig.event_type]
            days, *count = trig.fields
            out[days] = rv.sql_round(min(ages), 4) if ages else None
            if count:
                out[count[0]] = float(sum(1 for a in ages if a <= trig.window_days))
        return out

    def intent(self, events: list[Event], at: int, employees: float | None) -> dict[str, Any] | None:
        """The intent row of one account (``intent_plan``), or None when it has none."""
        intent = self.profile.intent
        assert intent is not None
        if self.window is not None:
            since = at - self.window
            events = [e for e in events if e[AT] >= since]
        per_type: dict[str, list[int]] = {}
        signals = self.signals
        for _, typ, moment in events:
            if typ in signals:
                per_type.setdefault(typ, []).append(moment)
        parts = []
        for typ, times in per_type.items():
            points, weight, per_day, per_window = self.signals[typ]
            if per_day:
                days: dict[int, list[int]] = {}
                for t in times:
                    days.setdefault(t // _DAY_US, []).append(t)
                times = [t for day in days.values() for t in sorted(day)[:per_day]]
            if per_window:
                times = sorted(times, reverse=True)[:per_window]
            total = 0.0
            for i, t in enumerate(times):
                earned = points * weight(_age(at, t))
                total = earned if i == 0 else total + earned
            parts.append((-abs(total), typ, f"{typ} x{len(times)} ({signed_text(total)})", total))
        signal_points = None
        for i, part in enumerate(parts):
            signal_points = part[3] if i == 0 else signal_points + part[3]
        signal_text = "; ".join(p[2] for p in sorted(parts)) if parts else None
        bg = intent.buying_group
        people = 0
        if bg is not None:
            since = at - self.bg_window
            who = {e for e, typ, moment in events if typ in self.bg_types and moment >= since and e is not None}
            required = bg.min_people
            if bg.people_per_1000_employees is not None and employees is not None:
                required = max(required, math.ceil(employees * bg.people_per_1000_employees / 1000))
            people = len(who) if len(who) >= required else 0
        if not parts and not people:
            return None
        if bg is None:
            total, reasons = signal_points, signal_text
        else:
            total = (signal_points if signal_points is not None else 0.0) + (float(bg.points) if people else 0.0)
            reasons = signal_text
            if people:
                sentence = f"{people}{self.bg_text}"
                reasons = sentence + "; " + signal_text if signal_text is not None else sentence
        return {"intent_points": total, "intent_score": rv.sql_round(min(100.0, max(0.0, total)), 2),
                "buying_group": bool(people), "buying_group_people": people, "intent_reasons": reasons}

    def persona_row(self, contacts: list[dict[str, Any]], index: EventsIndex, at: int) -> dict[str, Any] | None:
        """``persona_plan`` for one account's contacts (None without contacts)."""
        if not contacts:
            return None
        since = at - self.engaged_window
        engaged = [any(since <= t <= at for t in index.people.get(c["email"], ())) if c["email"] else False
                   for c in contacts]
        has: dict[str, bool] = {}
        eng: dict[str, bool] = {}
        for name, _, _, holds in self.personas:
            matches = [holds(c) for c in contacts]
            has[name] = any(matches)
            eng[name] = any(m and e for m, e in zip(matches, engaged))
        points = 0.0
        for name, _, pts, _ in self.personas:
            points += pts if eng[name] else 0.0
        names = [label + "*" if eng[n] else label for n, label, _, _ in self.personas if has[n]]
        row = {"persona_points": points, "personas": ", ".join(names),
               "_engaged": ", ".join(label for n, label, _, _ in self.personas if eng[n])}
        committee = self.profile.committee
        if committee is not None:
            roles = committee.roles
            row["committee_coverage"] = rv.sql_round(sum(has[r] for r in roles) / len(roles), 2)
            row["committee_engaged"] = rv.sql_round(sum(eng[r] for r in roles) / len(roles), 2)
        return row

    def blend(self, out: dict[str, Any], intent: dict[str, Any] | None, personas: dict[str, Any] | None,
              stage: str | None, has_personas: bool) -> None:
        """Add the intent columns to a scored record (``intent.plan.blend``), in place."""
        score = intent["intent_score"] if intent else 0.0
        reasons = intent["intent_reasons"] if intent else None
        if has_personas:
            persona_points = personas["persona_points"] if personas else 0.0
            raw = (intent["intent_points"] if intent else 0.0) + persona_points
            score = rv.sql_round(min(100.0, max(0.0, raw)), 2)
            text = f"engaged {personas['_engaged'] if personas else ''} ({signed_text(persona_points)})"
            if persona_points != 0:
                reasons = text if reasons is None else text + "; " + reasons
        out["intent_score"] = score
        out["buying_group"] = intent["buying_group"] if intent else False
        out["buying_group_people"] = intent["buying_group_people"] if intent else 0
        out["intent_reasons"] = reasons
        if has_personas:
            out["personas"] = personas["personas"] if personas else None
            if self.profile.committee is not None:
                out["committee_coverage"] = personas["committee_coverage"] if personas else 0.0
                out["committee_engaged"] = personas["committee_engaged"] if personas else 0.0
        pr = self.profile.priority
        if pr is None:
            return
        low = None if stage is None else rv.sql_lower(stage)
        fit_share, intent_share = self._shares(low)
        priority = rv.sql_round(out["fit_score"] * fit_share + score * intent_share, 2)
        out["priority"] = priority
        if pr.tiers_on != "fit" and out["disqualified_by"] is None:
            basis = priority if pr.tiers_on == "priority" else score
            tiers = self.profile.ordered_tiers
            tier = next((t.name for t in tiers[:-1] if basis >= t.min), tiers[-1].name)
            out["tier"] = tier
            out["route"] = next(t.route for t in tiers if t.name == tier)

    def _shares(self, stage: str | None) -> tuple[float, float]:
        pr = self.profile.priority
        assert pr is not None
        if stage is not None:
            for st in pr.stages:
                if st.fit + st.intent > 0 and stage in [v.strip().lower() for v in st.values]:
                    return st.fit / (st.fit + st.intent), st.intent / (st.fit + st.intent)
        o = pr.otherwise
        return o.fit / (o.fit + o.intent), o.intent / (o.fit + o.intent)
