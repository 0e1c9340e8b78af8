"""The Profile model: the one configuration of scoring, loaded from a YAML file.

Every model forbids unknown keys, so a misspelt key is an error with its location rather
than a silently ignored setting. Validation here checks what can be checked without data
(points within weights, unique names, tier thresholds); what depends on the data (does the
column exist, is it numeric) is checked when a profile is bound to a table.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Scalar = str | float | bool
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]

#: The kinds of column a profile can use; the kind decides how input values are parsed.
Kind = Literal["text", "number", "list"]

#: Canonical account columns and their kinds. Custom columns get the kind their use implies.
CANONICAL_KINDS: dict[str, Kind] = {
    "domain": "text",
    "name": "text",
    "industry": "text",
    "employees": "number",
    "revenue": "number",
    "country": "text",
    "region": "text",
    "technologies": "list",
    "founded_year": "number",
    "business_model": "text",
    "lifecycle_stage": "text",
    "owner": "text",
}

_COMPARISONS = ("eq", "in", "lt", "lte", "gt", "gte", "between", "contains_any", "is_missing")


class _Strict(BaseModel):
    # Numbers must be finite: a weight of .inf or .nan would make every score nan (or 100).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Condition(_Strict):
    """A test on one account: a field comparison, or all / any / not of conditions.

    Comparisons of text ignore case and surrounding whitespace. A comparison on a missing
    value is false (so ``not`` of it is true); use ``is_missing`` to test for absence.
    """

    field: str | None = Field(None, description="Column compared (with one comparison key).")
    eq: Scalar | None = Field(None, description="Equal to this value.")
    in_: list[Scalar] | None = Field(None, alias="in", description="Equal to one of these.")
    lt: float | None = None
    lte: float | None = None
    gt: float | None = None
    gte: float | None = None
    between: tuple[float, float] | None = Field(None, description="Inclusive [low, high].")
    contains_any: list[str] | None = Field(
        None, description="A list column holds one of these; a text column contains one."
    )
    is_missing: bool | None = Field(None, description="True: the value is absent or an empty list.")
    all: list[Condition] | None = Field(None, description="Every condition holds.")
    any: list[Condition] | None = Field(None, description="At least one condition holds.")
    not_: Condition | None = Field(None, alias="not", description="The condition does not hold.")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        ops = [op for op in _COMPARISONS if getattr(self, "in_" if op == "in" else op) is not None]
        groups = [g for g in ("all", "any", "not") if getattr(self, "not_" if g == "not" else g) is not None]
        if self.field is not None:
            if len(ops) != 1 or groups:
                raise ValueError(
                    f"a comparison on field '{self.field}' needs exactly one of "
                    f"{', '.join(_COMPARISONS)} (found {', '.join(ops + groups) or 'none'})"
                )
        elif ops:
            raise ValueError(f"'{ops[0]}' needs a 'field' to compare")
        elif len(groups) != 1:
            raise ValueError("a condition needs a 'field' comparison or exactly one of all, any, not")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between: the low bound is above the high bound")
        if self.all is not None and not self.all or self.any is not None and not self.any:
            raise ValueError("all/any need at least one condition")
        return self

    @property
    def op(self) -> str | None:
        for op in _COMPARISONS:
            if getattr(self, "in_" if op == "in" else op) is not None:
                return op
        return None

    def fields(self) -> list[tuple[str, str]]:
        """Every (field, comparison) this condition reads, nested ones included."""
        if self.field is not None:
            return [(self.field, self.op or "")]
        out: list[tuple[str, str]] = []
        for sub in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            out.extend(sub.fields())
        return out


class Level(_Strict):
    """Categorical partial credit: any of ``values`` earns ``points``."""

    values: list[str] = Field(min_length=1)
    points: float
    label: str | None = Field(None, description="Shown in reasons; default: the first value.")


class Range(_Strict):
    """A numeric band [min, max] earning the full weight, with an optional tolerance band.

    A value within ``tolerance`` (a fraction) outside the band earns ``tolerance_points``:
    ``min * (1 - tolerance) <= v < min`` or ``max < v <= max * (1 + tolerance)``.
    """

    min: float | None = None
    max: float | None = None
    points: float | None = Field(None, description="Points inside the band; default: the weight.")
    tolerance: float = Field(0.0, ge=0, le=1)
    tolerance_points: float = 0.0

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("range: min is above max")
        return self


class Bin(_Strict):
    """An explicit numeric bin; bins are tried in order and the first that holds wins."""

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    points: float
    label: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Bin:
        if self.gt is not None and self.gte is not None or self.lt is not None and self.lte is not None:
            raise ValueError("a bin takes at most one lower bound (gt/gte) and one upper (lt/lte)")
        if all(b is None for b in (self.gt, self.gte, self.lt, self.lte)):
            raise ValueError("a bin needs at least one bound (gt, gte, lt, lte)")
        return self

    def describe(self, unit: str = "") -> str:
        if self.label:
            return self.label
        low = f">= {format_number(self.gte)}" if self.gte is not None else f"> {format_number(self.gt)}" if self.gt is not None else ""
        high = f"<= {format_number(self.lte)}" if self.lte is not None else f"< {format_number(self.lt)}" if self.lt is not None else ""
        return " and ".join(p for p in (low, high) if p) + unit


class Item(_Strict):
    """List membership credit: the list holds any of ``values``; the best matching item counts."""

    values: list[str] = Field(min_length=1)
    points: float
    label: str | None = None


class Criterion(_Strict):
    """One weighted attribute of fit. Exactly one rule: levels, range, bins or items."""

    name: Identifier | None = Field(None, description="Column suffix and label; default: the field.")
    field: str
    weight: float = Field(gt=0, description="Maximum points of this criterion.")
    description: str | None = None
    levels: list[Level] | None = None
    aliases: dict[str, str] | None = Field(
        None, description="Other spellings mapped onto a level value (levels only)."
    )
    range: Range | None = None
    bins: list[Bin] | None = None
    items: list[Item] | None = None
    otherwise: float = Field(0.0, description="Points when a value is present but no rule matches.")
    missing: float = Field(0.0, description="Points when the value is missing.")

    @property
    def key(self) -> str:
        return self.name or re.sub(r"[^a-z0-9_]+", "_", self.field.lower()).strip("_")

    @property
    def rule(self) -> str:
        return next(r for r in ("levels", "range", "bins", "items") if getattr(self, r) is not None)

    @property
    def kind(self) -> Kind:
        return {"levels": "text", "range": "number", "bins": "number", "items": "list"}[self.rule]  # type: ignore[return-value]

    @model_validator(mode="after")
    def _one_rule(self) -> Criterion:
        rules = [r for r in ("levels", "range", "bins", "items") if getattr(self, r) is not None]
        if len(rules) != 1:
            raise ValueError(
                f"criterion '{self.field}' needs exactly one rule of levels, range, bins, items "
                f"(found {', '.join(rules) or 'none'})"
            )
        if self.aliases is not None and self.levels is None:
            raise ValueError("aliases only apply to levels")
        if self.levels is not None and self.aliases:
            known = {v.strip().lower() for lv in self.levels for v in lv.values}
            for alias, target in self.aliases.items():
                if target.strip().lower() not in known:
                    raise ValueError(f"alias '{alias}' points to '{target}', which is not a level value")
        for what, pts in self._points():
            if not 0 <= pts <= self.weight:
                raise ValueError(f"{what}: {format_number(pts)} points is outside 0..weight ({format_number(self.weight)})")
        return self

    def _points(self) -> list[tuple[str, float]]:
        pts: list[tuple[str, float]] = [("otherwise", self.otherwise), ("missing", self.missing)]
        pts += [(f"levels[{i}]", lv.points) for i, lv in enumerate(self.levels or [])]
        pts += [(f"bins[{i}]", b.points) for i, b in enumerate(self.bins or [])]
        pts += [(f"items[{i}]", it.points) for i, it in enumerate(self.items or [])]
        if self.range is not None:
            pts += [("range.points", self.range.points if self.range.points is not None else self.weight)]
            pts += [("range.tolerance_points", self.range.tolerance_points)]
        return pts


class Adjustment(_Strict):
    """Points added (or taken away, when negative) whenever ``when`` holds."""

    name: Identifier
    when: Condition
    points: float
    reason: str | None = Field(None, description="Shown in reasons; default: the name.")

    @field_validator("points")
    @classmethod
    def _nonzero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("an adjustment of 0 points does nothing")
        return v


class Disqualifier(_Strict):
    """A kill-list entry: when ``when`` holds, the tier is forced and the reason shown."""

    name: Identifier
    when: Condition
    reason: str
    tier: str | None = Field(None, description="Forced tier; default: the lowest tier.")


class Tier(_Strict):
    name: Identifier
    min: float = Field(ge=0, le=100, description="Lowest fit score of this tier.")
    route: str = Field(description="Routing action for accounts in this tier.")


class Abm(_Strict):
    """ABM tiers: the ``tier`` is split by fit score into A (top ``a``), B (next ``b``), C (the rest)."""

    # "high" is the highest of the default tiers; a profile whose ``abm`` names no tier gets
    # its own highest tier (see Profile._abm_top_tier).
    tier: str = Field("high", description="The tier to split; default: the highest tier.",
                      json_schema_extra=lambda schema: schema.pop("default", None))
    a: int = Field(50, ge=0)
    b: int = Field(200, ge=0)


class Reasons(_Strict):
    positive: int = Field(3, ge=0, description="How many of the largest positive contributions to show.")
    negative: int = Field(2, ge=0, description="How many of the largest negative contributions to show.")


class Narrative(_Strict):
    """The descriptive half of an ICP that no score captures."""

    summary: str | None = None
    pain_points: list[str] = []
    buying_triggers: list[str] = []
    key_roles: list[str] = []
    buying_behaviour: list[str] = []
    psychographics: list[str] = []
    anti_icp: list[str] = []


class Scorecard(_Strict):
    """How a learned profile's fit score reads as odds, the scorecard way: a scorecard score
    of ``score_at_fit_0 + fit_score * points_per_fit``, where ``pdo`` points double the
    odds of a win and ``anchor_score`` stands for odds of ``anchor_odds`` wins per loss.
    Written by ``icp learn``; it documents the points and changes no score."""

    pdo: float = Field(gt=0, description="Scorecard points that double the odds of a win.")
    anchor_score: float = Field(description="The scorecard score at the anchor odds.")
    anchor_odds: float = Field(gt=0, description="Odds of a win (wins per loss) at the anchor score.")
    score_at_fit_0: float = Field(description="The scorecard score of a fit score of 0.")
    points_per_fit: float = Field(gt=0, description="Scorecard points per point of fit score.")

    def odds(self, fit_score: float) -> float:
        """The odds of a win (wins per loss) the learned model gives a fit score."""
        score = self.score_at_fit_0 + fit_score * self.points_per_fit
        return self.anchor_odds * 2.0 ** ((score - self.anchor_score) / self.pdo)


class Population(_Strict):
    """The population a profile was learned on, the baseline of shift warnings: the share
    of its records in each fit-score band (``score_edges`` are the bands' inner bounds, so
    there is one share more than edges) and in each tier. ``version`` is the profile's
    version hash when it was learned: once the points change, the baseline no longer applies."""

    rows: int = Field(ge=1, description="Records the profile was learned on.")
    version: str = Field(description="The profile's version hash when it was learned.")
    score_edges: list[float] = Field(description="Inner bounds of the fit-score bands, ascending.")
    score_shares: list[float] = Field(min_length=1, description="Share of the records in each band.")
    tier_shares: dict[str, float] = Field(description="Share of the records in each tier.")
    period: str | None = Field(None, description="The dates the records span, when learned with --date.")

    @model_validator(mode="after")
    def _bands(self) -> Population:
        if len(self.score_shares) != len(self.score_edges) + 1:
            raise ValueError("score_shares needs one share more than score_edges")
        if any(b <= a for a, b in zip(self.score_edges, self.score_edges[1:], strict=False)):
            raise ValueError("score_edges must be ascending")
        if any(s < 0 for s in self.score_shares) or abs(sum(self.score_shares) - 1) > 0.01:
            raise ValueError("score_shares must be shares that add up to 1")
        return self


class Decay(_Strict):
    """How an event's points fade with its age (measured from the as-of instant, in
    fractional days): exponential with a half-life, or linear to zero over a lifespan."""

    half_life_days: float | None = Field(None, gt=0, description="weight = 0.5 ** (age / half_life_days)")
    lifespan_days: float | None = Field(None, gt=0, description="weight = max(0, 1 - age / lifespan_days)")

    @model_validator(mode="after")
    def _one(self) -> Decay:
        if (self.half_life_days is None) == (self.lifespan_days is None):
            raise ValueError("decay takes exactly one of half_life_days, lifespan_days")
        return self


def event_type(name: str) -> str:
    """An event type as the events' canonical ``type`` column has it: trimmed, lower case."""
    return name.strip().lower()


class Signal(_Strict):
    """Points per event of one type (negative for signals against buying)."""

    type: str = Field(min_length=1, description="The event type, as in the events' `type` column (any case).")
    points: float
    decay: Decay | None = Field(None, description="Overrides intent.decay for this type.")
    cap_per_day: int | None = Field(None, ge=1, description="At most this many counted per account per UTC day "
                                                             "(the first by time).")
    cap_per_window: int | None = Field(None, ge=1, description="At most this many counted per account within "
                                                                "the window (the most recent).")

    @field_validator("points")
    @classmethod
    def _nonzero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("a signal of 0 points does nothing")
        return v

    @property
    def event_type(self) -> str:
        return event_type(self.type)


class BuyingGroup(_Strict):
    """Several people of one account engaging within a window: points and a flag."""

    types: list[str] = Field(min_length=1, description="Event types that count as engagement.")
    min_people: int = Field(ge=2, description="Distinct people (emails) needed.")
    window_days: float = Field(gt=0, description="Engagement within this many days before the as-of instant.")
    points: float = Field(0.0, description="Added when the group is reached.")
    label: str | None = Field(None, description="What they did, for reasons: e.g. 'viewed security docs'.")
    people_per_1000_employees: float | None = Field(
        None, gt=0, description="Normalise by company size: an account needs at least this many people per "
                                "1,000 employees (never fewer than min_people; reads the employees column).")

    @property
    def event_types(self) -> list[str]:
        return [event_type(t) for t in self.types]


class Intent(_Strict):
    """Behavioural intent: points per event type, decayed with age, capped, plus a buying
    group bonus; the intent score is the sum clamped to 0-100."""

    signals: list[Signal] = Field(min_length=1)
    decay: Decay | None = Field(None, description="Default decay of every signal; none: points do not fade.")
    window_days: float | None = Field(None, gt=0, description="Only events this many days before the as-of "
                                                              "instant count; default: all.")
    buying_group: BuyingGroup | None = None

    @model_validator(mode="after")
    def _unique(self) -> Intent:
        types = [s.event_type for s in self.signals]
        dupes = sorted({t for t in types if types.count(t) > 1})
        if dupes:
            raise ValueError(f"signal types must be unique: {', '.join(dupes)}")
        return self

    @property
    def event_types(self) -> set[str]:
        """The event types it reads: its signals' and its buying group's."""
        return {s.event_type for s in self.signals} | set(self.buying_group.event_types if self.buying_group else [])


class Trigger(_Strict):
    """A dated event type (funding round, executive hire, competitor engagement) turned into
    account features that criteria and conditions can use, as of the scoring instant:
    ``days_since_<name>`` (fractional days since the latest one; missing when none) and,
    with ``window_days``, ``<name>_count_<N>d`` (how many in the last N days)."""

    type: str = Field(min_length=1, description="The event type (any case).")
    name: Identifier | None = Field(None, description="Feature name; default: the type, as an identifier.")
    window_days: int | None = Field(None, gt=0, description="Also count the events of the last N days.")

    @property
    def event_type(self) -> str:
        return event_type(self.type)

    @property
    def key(self) -> str:
        return self.name or re.sub(r"[^a-z0-9_]+", "_", self.event_type).strip("_")

    @property
    def fields(self) -> list[str]:
        out = [f"days_since_{self.key}"]
        if self.window_days is not None:
            out.append(f"{self.key}_count_{self.window_days}d")
        return out


class Persona(_Strict):
    """A contact-level role: contacts for whom ``when`` holds (over their ``title``,
    ``seniority``, ``department``... columns) are this persona. When a person of the persona
    engaged (had any event in ``committee.engaged_days``), ``points`` go to the account's intent."""

    name: Identifier
    when: Condition
    points: float = Field(0.0, description="Added to the account's intent when the persona is engaged.")
    label: str | None = Field(None, description="Shown in reasons; default: the name.")


class Committee(_Strict):
    """The buying committee: which personas an account needs, present and engaged."""

    roles: list[str] = Field(min_length=1, description="Persona names that make up the committee.")
    engaged_days: float = Field(30, gt=0, description="A person is engaged with an event in this many days.")


class Blend(_Strict):
    """Shares of fit and intent in the priority (any positive numbers; they are normalised)."""

    fit: float = Field(ge=0)
    intent: float = Field(ge=0)

    @model_validator(mode="after")
    def _some(self) -> Blend:
        if self.fit + self.intent <= 0:
            raise ValueError("fit and intent cannot both be 0")
        return self


class Stage(_Strict):
    """Accounts whose stage is one of ``values`` blend fit and intent this way."""

    values: list[str] = Field(min_length=1)
    fit: float = Field(ge=0)
    intent: float = Field(ge=0)

    @property
    def blend(self) -> Blend:
        return Blend(fit=self.fit, intent=self.intent)


class Priority(_Strict):
    """Priority = fit and intent blended by funnel stage: early on fit decides, late in the
    funnel behaviour does, so a high-fit account with no intent waits for signals."""

    stage_field: str = Field("lifecycle_stage", description="The accounts' column holding the funnel stage.")
    stages: list[Stage] = Field([], description="Blend per stage (values compared ignoring case).")
    otherwise: Blend = Field(Blend(fit=50, intent=50), description="Blend of any other or missing stage.")
    tiers_on: Literal["fit", "intent", "priority"] = Field(
        "fit", description="The score the tier thresholds (and so the routes) apply to.")


DEFAULT_TIERS = (
    Tier(name="high", min=70, route="ae_queue"),
    Tier(name="monitor", min=40, route="nurture"),
    Tier(name="disqualify", min=0, route="suppress"),
)


class Profile(_Strict):
    """An Ideal Customer Profile: how to score, tier, route and describe accounts."""

    name: str
    version: str | None = Field(None, description="Your label for this version (the hash is computed).")
    description: str | None = None
    columns: dict[str, str] = Field(
        {}, description="Column mapping: canonical or custom name -> header in the input file."
    )
    criteria: list[Criterion] = Field([], description="Fit criteria; a profile needs criteria, intent or both.")
    adjustments: list[Adjustment] = []
    disqualifiers: list[Disqualifier] = []
    tiers: list[Tier] = Field(list(DEFAULT_TIERS), min_length=1)
    abm: Abm | None = Abm()
    reasons: Reasons = Reasons()
    narrative: Narrative = Narrative()
    intent: Intent | None = None
    priority: Priority | None = None
    triggers: list[Trigger] = Field([], description="Dated events turned into account features.")
    personas: list[Persona] = Field([], description="Contact-level roles (need contacts).")
    committee: Committee | None = None
    scorecard: Scorecard | None = Field(None, description="How a learned profile's points read as odds.")
    population: Population | None = Field(None, description="The population a learned profile was learned on.")

    @model_validator(mode="before")
    @classmethod
    def _abm_top_tier(cls, data: Any) -> Any:
        """ABM tiers split the highest tier unless ``abm.tier`` names another, whatever the
        tiers are called."""
        if not isinstance(data, dict) or data.get("tiers") is None:
            return data  # the default tiers, whose highest is Abm's default
        top = _top_tier(data["tiers"])
        abm = data.get("abm", {})
        if top is None or abm is None:
            return data
        if isinstance(abm, dict) and "tier" not in abm:
            return {**data, "abm": {**abm, "tier": top}}
        if isinstance(abm, Abm) and "tier" not in abm.model_fields_set:
            return {**data, "abm": abm.model_copy(update={"tier": top})}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.priority is not None and (self.intent is None or not self.criteria):
            raise ValueError("priority blends fit and intent: it needs both criteria and an intent section")
        if not self.criteria and self.intent is None:
            raise ValueError("a profile needs criteria (fit), an intent section, or both")
        persona_names = [p.name for p in self.personas]
        if len(set(persona_names)) != len(persona_names):
            raise ValueError("persona names must be unique")
        if self.committee is not None:
            unknown = [r for r in self.committee.roles if r not in persona_names]
            if unknown:
                raise ValueError(f"committee roles {', '.join(unknown)} are not personas ({', '.join(persona_names) or 'none'})")
        if self.personas and self.intent is None:
            raise ValueError("personas add to intent and read engagement from events: they need an intent section")
        trigger_fields = self.trigger_fields()
        if len(set(trigger_fields)) != len(trigger_fields):
            raise ValueError("triggers must have distinct names")
        if not self.criteria and (self.adjustments or self.disqualifiers):
            raise ValueError("adjustments and disqualifiers change the fit score: they need criteria")
        names = [c.key for c in self.criteria] + [a.name for a in self.adjustments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"names must be unique across criteria and adjustments: {', '.join(dupes)}")
        tier_names = [t.name for t in self.tiers]
        if len(set(tier_names)) != len(tier_names):
            raise ValueError("tier names must be unique")
        if len({t.min for t in self.tiers}) != len(self.tiers):
            raise ValueError("tier thresholds (min) must be distinct")
        if min(t.min for t in self.tiers) != 0:
            raise ValueError("the lowest tier must start at min: 0 so that every score has a tier")
        for d in self.disqualifiers:
            if d.tier is not None and d.tier not in tier_names:
                raise ValueError(f"disqualifier '{d.name}': tier '{d.tier}' is not one of {tier_names}")
        if self.abm is not None and self.abm.tier not in tier_names:
            raise ValueError(f"abm.tier '{self.abm.tier}' is not one of {tier_names}")
        self.field_kinds()  # raises on conflicting uses of one field
        return self

    def trigger_fields(self) -> list[str]:
        """The account features the triggers add (see :class:`Trigger`)."""
        return [f for t in self.triggers for f in t.fields]

    @property
    def ordered_tiers(self) -> list[Tier]:
        """Tiers from the highest threshold to the lowest."""
        return sorted(self.tiers, key=lambda t: -t.min)

    @property
    def total_weight(self) -> float:
        return sum(c.weight for c in self.criteria)

    def conditions(self) -> list[Condition]:
        return [a.when for a in self.adjustments] + [d.when for d in self.disqualifiers]

    def field_kinds(self) -> dict[str, Kind]:
        """The kind each referenced field must have, from how the profile uses it."""
        uses: dict[str, set[Kind]] = {}
        for c in self.criteria:
            uses.setdefault(c.field, set()).add(c.kind)
        for cond in self.conditions():
            for fld, op in cond.fields():
                kind: Kind | None = "number" if op in ("lt", "lte", "gt", "gte", "between") else None
                if kind is not None:
                    uses.setdefault(fld, set()).add(kind)
                else:
                    uses.setdefault(fld, set())
        if self.priority is not None:
            uses.setdefault(self.priority.stage_field, set()).add("text")
        if self.intent is not None and self.intent.buying_group is not None \
                and self.intent.buying_group.people_per_1000_employees is not None:
            uses.setdefault("employees", set()).add("number")
        for fld in self.trigger_fields():
            uses.setdefault(fld, set()).add("number")
        kinds: dict[str, Kind] = {}
        for fld, found in uses.items():
            fixed = CANONICAL_KINDS.get(fld)
            wanted = found | ({fixed} if fixed else set())
            if len(wanted) > 1:
                raise ValueError(
                    f"field '{fld}' is used as {' and as '.join(sorted(wanted))}"
                    + (f" (it is a {fixed} column)" if fixed else "")
                )
            kinds[fld] = next(iter(wanted)) if wanted else "text"
        return kinds

    def scoring_json(self) -> str:
        """The parts of the profile that decide scores, as canonical JSON."""
        data = self.model_dump(mode="json", by_alias=True, exclude={"name", "version", "description", "narrative",
                                                                   "scorecard", "population"})
        for key in ("intent", "priority", "triggers", "personas", "committee"):  # without them, a profile keeps the hash it had before
            if not getattr(self, key):
                del data[key]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @property
    def version_hash(self) -> str:
        """12 hex digits that change exactly when scores could change."""
        return hashlib.sha256(self.scoring_json().encode()).hexdigest()[:12]


def _top_tier(tiers: Any) -> str | None:
    """The name of the tier with the highest ``min`` of tiers as given (dicts or Tiers), or
    None when they cannot tell (validation then says why)."""
    found: list[tuple[float, str]] = []
    for t in tiers if isinstance(tiers, list | tuple) else ():
        name, low = (t.name, t.min) if isinstance(t, Tier) else (t.get("name"), t.get("min")) \
            if isinstance(t, dict) else (None, None)
        try:
            found.append((float(low), name))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if not isinstance(name, str):
            return None
    return max(found, key=lambda f: f[0])[1] if found else None


def format_number(x: float | None) -> str:
    """``25``, ``37.5``: a number as a profile or a reason writes it."""
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def range_label(low: float, high: float) -> str:
    """``< 10``, ``10 to < 50``, ``>= 50``: the range ``[low, high)`` as evidence shows a bin."""
    if math.isinf(low) and math.isinf(high):
        return "any value"
    if math.isinf(low):
        return f"< {format_number(high)}"
    if math.isinf(high):
        return f">= {format_number(low)}"
    return f"{format_number(low)} to < {format_number(high)}"


Condition.model_rebuild()
