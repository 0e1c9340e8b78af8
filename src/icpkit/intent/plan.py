"""The intent plan: from canonical events to an intent score per account, as of an instant.

Pure, like the scoring plan: ibis expressions over an unbound events table
(:func:`~icpkit.intent.events.canonical_events`), executed by a backend. For each account:

1. Events after the as-of instant are ignored, and, with ``window_days``, events older than
   the window; so are events of types the profile does not list and unattributed ones.
2. Caps: with ``cap_per_day`` only the first N events of a type per account and UTC day
   count (by time); with ``cap_per_window`` only the most recent N of a type within the
   window. Events of one type at the same instant earn the same, so which of them takes
   the last place under a cap does not matter.
3. Each event earns its type's points times its decay weight, the age being the fractional
   days from the event to the as-of instant: ``0.5 ** (age / half_life_days)`` or
   ``max(0, 1 - age / lifespan_days)``; no decay: weight 1.
4. Buying group: when at least ``min_people`` distinct people (e-mails) of the account had an
   event of the listed types in the ``window_days`` before the as-of instant (inclusive), the
   group's points are added and ``buying_group`` is true.
5. ``intent_score`` = the sum, clamped to 0..100 and rounded to 2 decimals, with
   ``intent_reasons``: the points per signal type and the buying group in words.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from ..profile.model import Decay, Intent, Priority, Profile, Trigger, format_number
from ..scoring.conditions import compile_condition
from ..scoring.criteria import points_literal
from ..scoring.plan import round_half_away, route_of, tier_by_score, utc_naive, with_abm_tier
from .events import Needed

SECONDS_PER_DAY = 86400.0
SMALL_CAP = 16  # caps above this once took another path; every cap now takes the same one
ROW = "_row"


def needed_events(profile: Profile, as_of: datetime) -> Needed:
    """The events the profile's event plans read: those up to the as-of instant, of the
    types its intent signals, buying group and triggers name; with personas, of any type
    (any event makes a person engaged)."""
    until = utc_naive(as_of)
    if profile.personas:
        return Needed(until)
    types = {t.event_type for t in profile.triggers} | (profile.intent.event_types if profile.intent else set())
    return Needed(until, frozenset(types))


def intent_plan(intent: Intent, events: ir.Table, as_of: datetime, only: ir.Table | None = None,
                sizes: ir.Table | None = None) -> ir.Table:
    """``domain``, ``intent_points`` (the raw sum), ``intent_score``, ``buying_group``,
    ``buying_group_people`` and ``intent_reasons`` for every account with a counted event or a
    buying group (accounts without either score 0 when joined). With ``only`` (a table
    with a ``domain`` column, e.g. the accounts of a new batch of events) just those
    accounts are rescored: their events are picked first, the rest is never read past.
    ``sizes`` (``domain``, ``employees``) normalises the buying group by company size when
    the profile asks for it."""
    at = _instant(as_of)
    signals = {s.event_type: s for s in intent.signals}
    if only is not None:
        events = events.semi_join(only, events.domain == only.domain)
    t = events.filter(events.domain.notnull(), events.occurred_at <= at)
    if intent.window_days is not None:
        t = t.filter(t.occurred_at >= at - _days(intent.window_days))

    counted = t.filter(t.type.isin(list(signals))).select("domain", "type", "occurred_at")
    day_caps = {k: s.cap_per_day for k, s in signals.items() if s.cap_per_day}
    if day_caps:
        counted = _first_of_day(counted, day_caps)
    counted = counted.mutate(_age=_age_days(at, counted.occurred_at))
    if any(s.cap_per_window for s in signals.values()):  # ties in time earn the same: any of them may count
        recent = ibis.row_number().over(group_by=[counted.domain, counted.type], order_by=ibis.desc(counted.occurred_at))
        counted = counted.mutate(_recent=recent)
        counted = counted.filter(_within_cap(counted, counted._recent, {k: s.cap_per_window for k, s in signals.items()}))

    earned = ibis.cases(*[(counted.type == k, points_literal(s.points) * _weight(s.decay or intent.decay, counted._age))
                          for k, s in signals.items()], else_=ibis.literal(0.0))
    per_type = counted.mutate(_points=earned.cast("float64")).group_by(["domain", "type"]).agg(
        n=ibis._.count(), points=ibis._._points.sum())
    per_type = per_type.mutate(_text=per_type.type + " x" + per_type.n.cast("string") + " ("
                               + _signed_text(per_type.points) + ")",
                               _rank=ibis.row_number().over(group_by=per_type.domain,
                                                            order_by=[ibis.desc(per_type.points.abs()), per_type.type]))
    per_account = per_type.group_by("domain").agg(signal_points=per_type.points.sum(),
                                                  **_by_rank(per_type._text, per_type._rank, len(signals)))
    per_account = per_account.select("domain", "signal_points", signal_text=_joined(per_account, len(signals)))
    bg = intent.buying_group
    if bg is not None:
        since = at - _days(bg.window_days)
        types = bg.event_types
        engaged = t.filter(t.type.isin(types), t.occurred_at >= since, t.email.notnull())
        people = engaged.group_by("domain").agg(people=engaged.email.nunique())
        if bg.people_per_1000_employees is not None and sizes is not None:
            size = sizes.select(_sdomain=sizes.domain, _employees=sizes.employees)
            people = people.left_join(size, people.domain == size._sdomain)
            needed = (people._employees * bg.people_per_1000_employees / 1000).ceil().cast("int64")
            required = ibis.greatest(ibis.literal(bg.min_people), needed.fill_null(bg.min_people))
            people = people.filter(people.people >= required).select("domain", "people")
        else:
            people = people.filter(people.people >= bg.min_people)
        joined = per_account.outer_join(people, per_account.domain == people.domain)
        domain = joined.domain.coalesce(joined.domain_right)
        reached = joined.people.notnull()
        bonus = reached.ifelse(points_literal(bg.points), points_literal(0.0)).cast("float64")
        what = bg.label or ("had " + "/".join(types))
        sentence = (joined.people.cast("string") + f" people {what} in the last {format_number(bg.window_days)} days ("
                    + _signed_text(bonus) + ")")
        total = joined.signal_points.fill_null(0.0) + bonus
        reasons = ibis.cases((reached & joined.signal_text.notnull(), sentence + "; " + joined.signal_text),
                             (reached, sentence), else_=joined.signal_text)
        out = joined.select(domain=domain, _total=total, buying_group=reached,
                            buying_group_people=joined.people.fill_null(0), intent_reasons=reasons)
    else:
        out = per_account.select("domain", _total=per_account.signal_points, buying_group=ibis.literal(False),
                                 buying_group_people=ibis.literal(0, type="int64"),
                                 intent_reasons=per_account.signal_text)
    return out.select("domain", intent_points=out._total.cast("float64"),
                      intent_score=round_half_away(out._total.clip(lower=0, upper=100), 2),
                      buying_group="buying_group", buying_group_people=out.buying_group_people.cast("int64"),
                      intent_reasons="intent_reasons")


def persona_plan(profile: Profile, contacts: ir.Table, events: ir.Table, as_of: datetime) -> ir.Table:
    """Per account with contacts: ``persona_points`` (the points of every persona with an
    engaged person), ``personas`` (the personas present, engaged ones marked ``*``),
    ``committee_coverage`` and ``committee_engaged`` (shares of the committee's roles present
    and engaged, 0-1). A person is engaged with any event, by e-mail, in the
    ``committee.engaged_days`` (default 30) before the as-of instant."""
    at = _instant(as_of)
    days = profile.committee.engaged_days if profile.committee else 30.0
    since = at - _days(days)
    active = events.filter(events.email.notnull(), events.occurred_at <= at, events.occurred_at >= since)
    active = active.select(_active=active.email).distinct()
    c = contacts.filter(contacts.domain.notnull())
    c = c.left_join(active, c.email == active._active)
    engaged = c._active.notnull()
    aggs: dict[str, ir.Value] = {}
    for p in profile.personas:
        match = compile_condition(p.when, c)
        aggs[f"_has_{p.name}"] = match.any()
        aggs[f"_eng_{p.name}"] = (match & engaged).any()
    per = c.group_by(c.domain).aggregate(**aggs)
    points = sum((per[f"_eng_{p.name}"].ifelse(points_literal(p.points), points_literal(0.0)).cast("float64")
                  for p in profile.personas), ibis.literal(0.0, type="float64"))
    names = [ibis.cases((per[f"_eng_{p.name}"], (p.label or p.name) + "*"), (per[f"_has_{p.name}"], p.label or p.name),
                        else_=ibis.null("string")) for p in profile.personas]
    engaged_names = [per[f"_eng_{p.name}"].ifelse(p.label or p.name, ibis.null("string")) for p in profile.personas]
    # none present: '' (as DuckDB joins an empty list; Spark and PostgreSQL give NULL)
    out: dict[str, ir.Value] = {
        "persona_points": points,
        "personas": ibis.array(names).filter(lambda x: x.notnull()).join(", ").fill_null(""),
        "_engaged": ibis.array(engaged_names).filter(lambda x: x.notnull()).join(", ").fill_null("")}
    if profile.committee is not None:
        roles = profile.committee.roles
        # ifelse, not a cast: PostgreSQL casts a boolean to integer but not to bigint
        out["committee_coverage"] = round_half_away(sum(per[f"_has_{r}"].ifelse(1, 0) for r in roles) / len(roles), 2)
        out["committee_engaged"] = round_half_away(sum(per[f"_eng_{r}"].ifelse(1, 0) for r in roles) / len(roles), 2)
    return per.select("domain", **out)


def trigger_plan(triggers: list[Trigger], events: ir.Table, as_of: datetime) -> ir.Table:
    """``domain`` and every trigger feature (see :class:`~icpkit.profile.model.Trigger`) of
    each account with at least one trigger event on or before ``as_of``."""
    at = _instant(as_of)
    types = sorted({t.event_type for t in triggers})
    t = events.filter(events.domain.notnull(), events.occurred_at <= at, events.type.isin(types))
    t = t.mutate(_age=_age_days(at, t.occurred_at))
    aggs: dict[str, ir.Value] = {}
    for trig in triggers:
        mine = t.type == trig.event_type
        days, *count = trig.fields
        aggs[days] = round_half_away(t._age.min(where=mine), 4)
        if count:
            aggs[count[0]] = (mine & (t._age <= trig.window_days)).ifelse(1, 0).sum().cast("float64")
    return t.group_by("domain").aggregate(**aggs)


def _instant(moment: datetime) -> ir.TimestampValue:
    return ibis.literal(utc_naive(moment), type="timestamp")


def _age_days(at: ir.TimestampValue, moment: ir.TimestampValue) -> ir.FloatingValue:
    """Fractional days from ``moment`` to ``at``, to the microsecond on every engine (epoch
    seconds are whole on Spark, Snowflake and BigQuery): seconds, then days, as Python's
    ``timedelta.total_seconds() / 86400``."""
    return at.delta(moment, unit="microsecond").cast("float64") / 1_000_000.0 / SECONDS_PER_DAY


def _by_rank(text: ir.StringValue, rank: ir.IntegerValue, n: int) -> dict[str, ir.Value]:
    """Aggregates taking the ``text`` of each ``rank`` (0 to n-1) of a group, as ``_t<rank>``.

    How a group's texts are put in order on every engine: Spark has no ordered aggregate,
    and PostgreSQL cannot sort the anonymous structs that would carry the order; a rank
    from a window and one aggregate per rank (there are as many as signals) need neither,
    and on DuckDB cost less than an ordered ``string_agg``."""
    return {f"_t{r}": text.max(where=rank == r) for r in range(n)}


def _joined(t: ir.Table, n: int) -> ir.StringValue:
    """The texts of :func:`_by_rank`, in rank order, joined with ``"; "``."""
    return ibis.array([t[f"_t{r}"] for r in range(n)]).filter(lambda x: x.notnull()).join("; ")


def _days(days: float) -> ir.IntervalValue:
    """A span of (fractional) days, to the microsecond: 2.3 days is 2 days 7 h 12 min exactly."""
    return ibis.interval(microseconds=round(days * SECONDS_PER_DAY * 1_000_000))


def _first_of_day(counted: ir.Table, caps: dict[str, int]) -> ir.Table:
    """``counted`` (``domain``, ``type``, ``occurred_at``) with, for the types in ``caps``,
    only the first N events of each account, type and UTC day (by time).

    An aggregate, not a sort of the events: the times of each account, type and day are
    collected, and only a group with more than N times is sorted (most hold one or two; the
    sort's input is NULL for the others, since DuckDB evaluates both sides of a CASE). On
    DuckDB this costs about what its own ``min(x, n)`` did, and it runs on every engine."""
    some = counted.filter(counted.type.isin(list(caps)))
    days = some.group_by(["domain", "type", some.occurred_at.date().name("_day")]).aggregate(
        _times=some.occurred_at.collect())
    cap = ibis.cases(*[(days.type == k, n) for k, n in caps.items()])
    few = days._times.length() <= cap
    first = ibis.ifelse(few, days._times, ibis.ifelse(few, ibis.null(days._times.type()), days._times).sort()[:cap])
    kept = days.select("domain", "type", occurred_at=first.unnest().cast(counted.occurred_at.type()))
    return kept.union(counted.filter(~counted.type.isin(list(caps))))


def _within_cap(t: ir.Table, rank: ir.IntegerValue, caps: dict[str, int | None]) -> ir.BooleanValue:
    limited = [(t.type == k, rank < cap) for k, cap in caps.items() if cap]  # ibis ranks from 0
    return ibis.cases(*limited, else_=ibis.literal(True)) if limited else ibis.literal(True)


def _weight(decay: Decay | None, age: ir.FloatingValue) -> ir.FloatingValue:
    if decay is None:
        return ibis.literal(1.0)
    if decay.half_life_days is not None:
        return ibis.literal(0.5).pow(age / decay.half_life_days)
    assert decay.lifespan_days is not None
    return ibis.greatest(ibis.literal(0.0), 1.0 - age / decay.lifespan_days)


def _signed_text(points: ir.FloatingValue) -> ir.StringValue:
    """``+12.5`` / ``-3``: points rounded to 1 decimal, with their sign."""
    r = round_half_away(points, 1)
    text = (r == r.round(0)).ifelse(r.cast("int64").cast("string"), r.cast("string"))
    return (r >= 0).ifelse("+" + text, text)


def blend(profile: Profile, scored: ir.Table, intent: ir.Table, accounts: ir.Table,
          personas: ir.Table | None = None) -> ir.Table:
    """The scored rows with their account's intent (0 without events) and, with a
    ``priority`` section, the priority and (``tiers_on``) the tier and route it decides.

    ``scored`` has ``_row``, ``domain`` and, with criteria, ``fit_score``, ``tier``,
    ``route`` and ``disqualified_by``; ``accounts`` the canonical accounts (for the stage)."""
    pr = profile.priority
    base = scored
    if pr is not None:
        stage = accounts.select(_prow=accounts[ROW], _stage=accounts[pr.stage_field].lower())
        base = scored.left_join(stage, scored[ROW] == stage._prow)
    j = base.left_join(intent, base.domain == intent.domain)
    if personas is not None:
        j = j.left_join(personas, j.domain == personas.domain)
    cols: dict[str, ir.Value] = {c: j[c] for c in scored.columns}
    intent_score = j.intent_score.fill_null(0.0)
    reasons = j.intent_reasons
    if personas is not None:
        raw = (j.intent_points.fill_null(0.0) + j.persona_points.fill_null(0.0)).cast("float64")
        intent_score = round_half_away(raw.clip(lower=0, upper=100), 2)
        text = "engaged " + j._engaged.fill_null("") + " (" + _signed_text(j.persona_points.fill_null(0.0)) + ")"
        reasons = ibis.cases((j.persona_points.fill_null(0.0) == 0, reasons),
                             (reasons.isnull(), text), else_=text + "; " + reasons)
    extra: dict[str, ir.Value] = {
        "intent_score": intent_score,
        "buying_group": j.buying_group.fill_null(False),
        "buying_group_people": j.buying_group_people.fill_null(0),
        "intent_reasons": reasons,
    }
    if personas is not None:
        extra["personas"] = j.personas
        if profile.committee is not None:
            extra["committee_coverage"] = j.committee_coverage.fill_null(0.0)
            extra["committee_engaged"] = j.committee_engaged.fill_null(0.0)
    if pr is not None:
        w_fit, w_intent = _shares(pr, j._stage)
        priority = round_half_away(j.fit_score * w_fit + intent_score * w_intent, 2)
        extra["priority"] = priority
        if pr.tiers_on != "fit":
            basis = priority if pr.tiers_on == "priority" else intent_score
            tier = j.disqualified_by.notnull().ifelse(j.tier, tier_by_score(profile, basis))
            cols["tier"] = tier
            cols["route"] = route_of(profile, tier)
    tail = [c for c in ("profile_version", "scored_at") if c in cols]
    head = {c: v for c, v in cols.items() if c not in tail and not c.startswith("_")}
    private = {c: v for c, v in cols.items() if c.startswith("_")}
    out = j.select(**head, **extra, **{c: cols[c] for c in tail}, **private)
    if pr is not None and pr.tiers_on != "fit" and profile.abm is not None:  # ABM tiers rank by that score too
        basis_col = "priority" if pr.tiers_on == "priority" else "intent_score"
        eligible = out.filter((out.tier == profile.abm.tier) & out.disqualified_by.isnull())
        out = with_abm_tier(profile.abm, out, eligible.select("domain", basis_col), "domain", basis_col)
    return out


def _shares(pr: Priority, stage: ir.StringValue) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """The fit and intent shares (adding up to 1) of each row's stage."""
    def share(of: str) -> ir.FloatingValue:
        other = getattr(pr.otherwise, of) / (pr.otherwise.fit + pr.otherwise.intent)
        cases = [(stage.isin([v.strip().lower() for v in st.values]), getattr(st, of) / (st.fit + st.intent))
                 for st in pr.stages if st.fit + st.intent > 0]
        return ibis.cases(*cases, else_=other) if cases else ibis.literal(other)

    return share("fit"), share("intent")
