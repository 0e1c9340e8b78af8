"""The one-record Scorer: a profile compiled once into Python closures and lookup tables,
scoring one inbound record in microseconds with exactly the result bulk scoring gives.

>>> scorer = Scorer("examples/seed-rubric.yaml")
>>> scorer.score({"domain": "https://www.Acme.com/", "industry": "Internet", "employees": "51-200",
...               "technologies": "Salesforce; Slack", "country": "United States",
...               "days_since_funding": None})["fit_score"]
80.0

A record is a dict of canonical fields (``domain``, ``industry``, ``employees``...) or of
a recognised CRM export's headers and the profile's ``columns:`` mapping, with JSON values;
it is read as :mod:`icpkit.io.canonical` reads a column (see :mod:`icpkit.io.record`), and
scored as :mod:`icpkit.scoring.plan` scores a row. The result has the columns of bulk
scoring, with the same names and values, except ``abm_tier``: ABM tiers rank a population,
so one record has none (None); rank a batch with ``icpkit.score``. Unlike bulk scoring,
duplicate domains in :meth:`Scorer.score_many` are not an error (each record is scored on
its own) and ``events`` / ``contacts`` may be left out (no events, no contacts).

Nothing here imports an engine: importing and using it costs no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..errors import DataError, IcpError, MissingColumnError, Problem, located
from ..intent.record import EventsIndex, IntentScorer, read_contacts, read_person
from ..io import record as rv
from ..io.crm import canonical_mapping, missing_columns, resolve_column
from ..profile.model import Profile
from .record_rules import CriterionRule, Values, compile_condition
from .verdict import Verdicts

__all__ = ["Scorer"]

ROW_KEY = "row"
_LABEL = "record"
_MAX_CACHED = 4096  # combinations of outcomes, and record layouts, kept at most


# ------------------------------------------------------------------------------ reading

class _Layout:
    """How records with one set of keys are read: which key fills which field."""

    __slots__ = ("fields", "has_name", "keyed")

    def __init__(self, keyed: bool, has_name: bool, fields: list[tuple[str, str, str, rv.Reader]]) -> None:
        self.keyed, self.has_name, self.fields = keyed, has_name, fields


def _instant(moment: datetime | date | str | None) -> datetime | None:
    """A moment as a naive UTC datetime (a naive one is UTC; a bare date is its midnight)."""
    if moment is None or isinstance(moment, datetime):
        return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None and moment.tzinfo else moment
    if isinstance(moment, date):
        return datetime(moment.year, moment.month, moment.day)
    us = rv.parse_timestamp(moment)
    if us is None:
        raise IcpError(f"cannot read '{moment}' as an instant", hint="write ISO 8601, e.g. 2026-01-31T09:30:00Z")
    return rv.from_micros(us)


# -------------------------------------------------------------------------------- Scorer

class Scorer:
    """A profile compiled for scoring one record at a time, in-process (see the module
    docstring). ``profile`` is a :class:`~icpkit.profile.model.Profile` or the path of a
    profile file."""

    def __init__(self, profile: Profile | str | Path) -> None:
        if not isinstance(profile, Profile):
            from ..profile.load import load_profile

            profile = load_profile(profile)
        self.profile = p = profile
        self._kinds = p.field_kinds()
        derived = set(p.trigger_fields())
        self._fields = [(f, k) for f, k in self._kinds.items() if f not in derived]
        scale = 100.0 / p.total_weight if p.criteria else 1.0
        self._criteria = [CriterionRule(c, scale) for c in p.criteria]
        self._indexes = [(c.field, c.index) for c in self._criteria]
        self._adjustments = [compile_condition(a.when, self._kinds) for a in p.adjustments]
        self._disqualifiers = [compile_condition(d.when, self._kinds) for d in p.disqualifiers]
        self._verdicts = Verdicts.of(p, [(c.key, c.outcomes) for c in self._criteria])
        self._events = IntentScorer(p, compile_condition) if p.intent is not None or p.triggers else None
        self._personas: list[Any] | None = None
        self._combos: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._layouts: dict[tuple[Any, ...], _Layout] = {}
        self.version = p.version_hash

    # -- public -----------------------------------------------------------------------

    def score(self, record: Mapping[str, Any], *, events: Iterable[Mapping[str, Any]] | None = None,
              contacts: Iterable[Mapping[str, Any]] | None = None, as_of: datetime | date | str | None = None,
              scored_at: datetime | None = None, explain: bool = False) -> dict[str, Any]:
        """Score one record; ``events`` and ``contacts`` are lists of dicts (all of them or
        only this account's: events and contacts of other accounts are left out), read as of
        ``as_of`` (default: ``scored_at``, default now). Returns the columns bulk scoring
        gives for that row (``abm_tier`` None); ``explain=True`` adds ``reason_<name>``."""
        if self._events is not None:
            return self.score_many([record], events=events, contacts=contacts, as_of=as_of, scored_at=scored_at,
                                   explain=explain)[0]
        when = _instant(scored_at) if scored_at is not None else datetime.now(UTC).replace(tzinfo=None)
        return self._score(record, 1, None, None, 0, when, explain)  # no events: the as-of instant is unused

    def score_many(self, records: Iterable[Mapping[str, Any]], *,
                   events: Iterable[Mapping[str, Any]] | None = None,
                   contacts: Iterable[Mapping[str, Any]] | None = None, as_of: datetime | date | str | None = None,
                   scored_at: datetime | None = None, explain: bool = False,
                   events_stored: bool = False) -> list[dict[str, Any]]:
        """Score a small batch, each record on its own (a domain may repeat); events and
        contacts are read once for the batch. A record without a domain is keyed by its
        1-based position in the batch, as bulk scoring keys it by row number.
        ``events_stored``: the events are ``(domain, email, type, occurred_at)`` tuples
        as the server stores them (checked, one per id), read without checking them again."""
        when = _instant(scored_at) or datetime.now(UTC).replace(tzinfo=None)
        at = rv.micros(_instant(as_of) or when)
        index = people = None
        if self._events is not None:
            index = self._events.read(events, at, events_stored)
            people = read_contacts(contacts, self._events.persona_fields) if self.profile.personas else None
        return [self._score(record, row, index, people, at, when, explain) for row, record in enumerate(records, 1)]

    def personas_of(self, person: Mapping[str, Any]) -> list[str]:
        """The names of the profile's personas that ``person`` (a contact or lead: title,
        seniority, department... under their canonical or usual header names) is."""
        if not self.profile.personas:
            return []
        if self._personas is None:
            self._personas = (self._events or IntentScorer(self.profile, compile_condition)).personas
        read = read_person(person)
        return [name for name, _, _, holds in self._personas if holds(read)]

    def columns(self, keys: Iterable[str]) -> dict[str, str]:
        """The key each field is read from in records with these ``keys`` (as
        :mod:`icpkit.io.canonical` picks an input's columns), e.g. ``{"domain": "Website"}``;
        a missing one is the MissingColumnError :meth:`score` raises."""
        shape = tuple(keys)
        layout = self._layouts.get(shape) or self._layout(shape)
        return {name: header for name, header, _, _ in layout.fields}

    # -- one record -------------------------------------------------------------------

    def _score(self, record: Mapping[str, Any], row: int, index: EventsIndex | None,
               people: dict[str, list[dict[str, Any]]] | None, at: int, when: datetime, explain: bool) -> dict[str, Any]:
        if record.__class__ is not dict and not isinstance(record, Mapping):
            raise DataError(f"a record is a mapping of fields to values, not a {type(record).__name__}",
                            where=located(_LABEL, row))
        layout = self._layouts.get(shape := tuple(record))
        if layout is None:
            layout = self._layout(shape)
        values: Values = {}
        problems: list[Problem] | None = None
        for name, header, kind, read in layout.fields:
            raw = record[header]
            value, bad = read(raw)
            values[name] = value
            if bad:
                problems = problems or []
                problems.append(Problem(rv.unreadable(kind, name, raw), located(_LABEL, row, header)))
        if layout.keyed and values["domain"] is None:
            problems = problems or []
            problems.append(Problem("the domain is missing", located(_LABEL, row, layout.fields[0][1])))
        if problems:
            raise DataError(f"{len(problems)} bad values in the {_LABEL}" if len(problems) > 1 else problems[0].message,
                            where=problems[0].where, problems=problems, hint="fix the values")
        out: dict[str, Any] = {"domain": values["domain"]} if layout.keyed else {ROW_KEY: row}
        if layout.has_name:
            out["name"] = values["name"]
        mine = index.by_domain.get(values["domain"], []) if index is not None and layout.keyed else []
        if self.profile.triggers:
            values.update(self._events.features(mine, at))  # type: ignore[union-attr]
        if self._criteria:
            out.update(self._verdict(values, explain))
        if self.profile.intent is not None:
            assert self._events is not None and index is not None
            intent = self._events.intent(mine, at, values.get("employees"))
            personas = None
            if people is not None:
                personas = self._events.persona_row(people.get(values["domain"], []), index, at)
            stage = values.get(self.profile.priority.stage_field) if self.profile.priority else None
            self._events.blend(out, intent, personas, stage, bool(self.profile.personas))
        out["profile_version"] = self.version
        out["scored_at"] = when
        return out

    def _layout(self, shape: tuple[Any, ...]) -> _Layout:
        """Which key fills which field, for records with these keys (``io.canonical``)."""
        p = self.profile
        headers = [h for h in shape if isinstance(h, str) and h != "_row"]
        mapping = canonical_mapping(headers, explicit=p.columns)
        keyed = "domain" in p.columns or resolve_column("domain", headers, mapping.columns) is not None
        wanted: dict[str, str] = {"domain": "text"} if keyed else {}
        has_name = resolve_column("name", headers, mapping.columns) is not None
        if has_name:
            wanted["name"] = "text"
        wanted.update(self._fields)
        fields, missing = [], []
        for name, kind in wanted.items():
            header = resolve_column(name, headers, mapping.columns)
            if header is None:
                missing.append(name)
            else:
                fields.append((name, header, kind, rv.reader(name, kind)))
        if missing:
            raise missing_columns(missing, headers, _LABEL)
        if p.triggers and not keyed:
            raise MissingColumnError("the profile's triggers need events and accounts with domains", where=_LABEL,
                                     hint="give --events (and a domain column)")
        if p.intent is not None and not keyed:
            raise DataError("intent needs accounts keyed by domain: the accounts have no domain column",
                            where=_LABEL, hint="add the accounts' domains (map them with `columns: {domain: ...}`)")
        if len(self._layouts) >= _MAX_CACHED:
            self._layouts.clear()
        self._layouts[shape] = layout = _Layout(keyed, has_name, fields)
        return layout

    def _verdict(self, values: Values, explain: bool) -> dict[str, Any]:
        """Points, fit score, tier, route, disqualifier and reasons: computed once per
        combination of outcomes, as the bulk plan does."""
        get = values.get
        key = [index(get(field)) for field, index in self._indexes]
        for holds in self._adjustments:
            key.append(holds(values))
        dq = 0
        for i, holds in enumerate(self._disqualifiers, 1):
            if holds(values):
                dq = i
                break
        key.append(dq)
        key.append(explain)
        combo = tuple(key)
        found = self._combos.get(combo)
        if found is None:
            if len(self._combos) >= _MAX_CACHED:
                self._combos.clear()
            found = self._combos[combo] = self._combo(combo, explain)
        return found

    def _combo(self, combo: tuple[Any, ...], explain: bool) -> dict[str, Any]:
        n, m = len(self._criteria), len(self._adjustments)
        return self._verdicts.verdict(combo[:n], combo[n:n + m], combo[-2], explain=explain)
