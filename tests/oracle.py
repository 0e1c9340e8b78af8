"""An independent reference evaluator of a profile, one record at a time, in plain Python.

Written from the profile semantics (docs/profile.md), not from the SQL: tests compare it
with the engine on many generated records. Records are canonical: text trimmed with blanks
as None, numbers as float or None, lists of lower-case strings or None.
"""

from __future__ import annotations

import math
from typing import Any

from icpkit.io.industries import industries, industry_key, industry_label, industry_spellings
from icpkit.io.values import country_code
from icpkit.profile.model import Condition, Criterion, Profile


def low(value: Any, field: str = "") -> str:
    if field == "country" and isinstance(value, str):
        value = country_code(value) or value  # a profile may name countries or codes
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def below(value: Any, field: str) -> dict[str, int]:
    """The data values (lower case) a profile's industry matches besides itself, with their
    distance: its label's other spellings (0) and, unless it is a V1 label, the spellings of
    the industries whose chain of parents reaches it (the number of steps)."""
    label = industry_label(value) if field == "industry" and isinstance(value, str) else None
    if label is None:
        return {}
    table = industries()
    v1 = any(i.v1_label and industry_key(i.v1_label) == industry_key(value)
             and industry_key(i.v1_label) != industry_key(i.label) for i in table.values())
    steps = {label: 0}
    if not v1:  # a V1 label, however spelled (HubSpot: COMPUTER_SOFTWARE), names one industry
        for i in table.values():
            p, n = i.parent, 1
            while p is not None:
                if table[p].label == label:
                    steps[i.label] = n
                    break
                p, n = table[p].parent, n + 1
    out: dict[str, int] = {}
    for spelling, of in industry_spellings().items():
        if of in steps and spelling != low(value):
            out[spelling] = min(out.get(spelling, 99), steps[of])
    return out


def num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def signed(p: float) -> str:
    text = num(round(p, 2))
    return "+" + text if p > 0 else text


def duck_round2(x: float) -> float:
    """DuckDB's ROUND(x, 2) for DOUBLE: half away from zero on x * 100."""
    y = x * 100.0
    return math.copysign(math.floor(abs(y) + 0.5), y) / 100.0


def holds(cond: Condition, rec: dict[str, Any]) -> bool:
    if cond.all is not None:
        return all(holds(c, rec) for c in cond.all)
    if cond.any is not None:
        return any(holds(c, rec) for c in cond.any)
    if cond.not_ is not None:
        return not holds(cond.not_, rec)
    v = rec.get(cond.field)  # type: ignore[arg-type]
    op = cond.op
    if op == "is_missing":
        missing = v is None or (isinstance(v, list) and len(v) == 0)
        return missing == cond.is_missing
    if v is None:
        return False
    if op in ("eq", "in"):
        wanted = [cond.eq] if op == "eq" else list(cond.in_ or [])
        if isinstance(v, list):
            return any(low(w, cond.field) in v for w in wanted)
        if isinstance(v, str):
            return v.lower() in [low(w, cond.field) for w in wanted] or any(v.lower() in below(w, cond.field)
                                                                            for w in wanted)
        return any(v == w for w in wanted)
    if op == "contains_any":
        items = [low(w) for w in cond.contains_any or []]
        if isinstance(v, list):
            return any(i in v for i in items)
        return any(i in v.lower() for i in items)
    if op == "between":
        lo, hi = cond.between  # type: ignore[misc]
        return lo <= v <= hi
    bound = getattr(cond, op)
    return {"lt": v < bound, "lte": v <= bound, "gt": v > bound, "gte": v >= bound}[op]


def criterion(c: Criterion, v: Any, scale: float) -> tuple[float, str]:
    """(points, reason text) of one criterion for value ``v``."""
    key = c.key

    def out(points: float, what: str) -> tuple[float, str]:
        p = points * scale
        return p, f"{key}: {what} ({signed(p)})"

    if v is None:
        return out(c.missing, "missing")
    if c.levels is not None:
        s = v.lower()
        aliases = {low(a, c.field): low(t, c.field) for a, t in (c.aliases or {}).items()}
        for lv in c.levels:
            for raw in lv.values:
                if s == low(raw, c.field) or aliases.get(s) == low(raw, c.field):
                    return out(lv.points, lv.label or raw.strip())
        groups = [(below(raw, c.field)[s], lv.points, lv.label or raw.strip()) for lv in c.levels
                  for raw in lv.values if s in below(raw, c.field)]
        if groups:  # an industry named itself beats a group it is in; the nearest group wins
            _, points, what = min(groups, key=lambda g: g[0])
            return out(points, what)
        return out(c.otherwise, "other value")
    if c.range is not None:
        r = c.range
        band = f"{num(r.min)}-{num(r.max)}" if r.min is not None and r.max is not None else (
            f"<= {num(r.max)}" if r.min is None else f">= {num(r.min)}")
        if (r.min is None or v >= r.min) and (r.max is None or v <= r.max):
            return out(r.points if r.points is not None else c.weight, f"in {band}")
        if r.tolerance > 0:
            near_low = r.min is not None and r.min * (1 - r.tolerance) <= v < r.min
            near_high = r.max is not None and r.max < v <= r.max * (1 + r.tolerance)
            if near_low or near_high:
                return out(r.tolerance_points, f"within {num(r.tolerance * 100)}% of {band}")
        return out(c.otherwise, f"outside {band}")
    if c.bins is not None:
        for b in c.bins:
            ok = ((b.gt is None or v > b.gt) and (b.gte is None or v >= b.gte)
                  and (b.lt is None or v < b.lt) and (b.lte is None or v <= b.lte))
            if ok:
                return out(b.points, b.describe())
        return out(c.otherwise, "in no bin")
    assert c.items is not None
    for it in sorted(c.items, key=lambda it: -it.points):
        for raw in it.values:
            if low(raw) in v:
                return out(it.points, f"has {it.label or raw.strip()}")
    return out(c.otherwise, "none of the listed")


def score_record(profile: Profile, rec: dict[str, Any]) -> dict[str, Any]:
    """fit_score, tier, route, disqualified_by, reasons and points of one record."""
    scale = 100.0 / profile.total_weight
    contributions: list[tuple[str, float, str | None]] = []
    for c in profile.criteria:
        p, text = criterion(c, rec.get(c.field), scale)
        contributions.append((f"points_{c.key}", p, text))
    for a in profile.adjustments:
        on = holds(a.when, rec)
        text = f"{a.reason or a.name} ({signed(a.points)})"
        contributions.append((f"points_{a.name}", float(a.points) if on else 0.0, text if on else None))
    total = 0.0
    for i, (_, p, _) in enumerate(contributions):
        total = p if i == 0 else total + p
    fit = min(100.0, max(0.0, duck_round2(total)))
    tiers = profile.ordered_tiers
    dq = next((d for d in profile.disqualifiers if holds(d.when, rec)), None)
    if dq is not None:
        tier = dq.tier or tiers[-1].name
    else:
        tier = next((t.name for t in tiers[:-1] if fit >= t.min), tiers[-1].name)
    pos = sorted(((-p, t) for _, p, t in contributions if p > 0 and t), )[: profile.reasons.positive]
    neg = sorted(((p, t) for _, p, t in contributions if p < 0 and t))[: profile.reasons.negative]
    line = "; ".join(t for _, t in pos + neg)
    if dq is not None:
        line = f"disqualified: {dq.reason}" + ("; " + line if line else "")
    result = {
        "fit_score": fit,
        "tier": tier,
        "route": next(t.route for t in profile.tiers if t.name == tier),
        "disqualified_by": dq.name if dq else None,
        "reasons": line,
    }
    result.update({name: p for name, p, _ in contributions})
    return result


def abm_tiers(profile: Profile, scored: list[dict[str, Any]]) -> dict[str, str | None]:
    """ABM tier per domain, from scored records carrying ``domain``."""
    out: dict[str, str | None] = {r["domain"]: None for r in scored}
    if profile.abm is None:
        return out
    abm = profile.abm
    eligible = [r for r in scored if r["tier"] == abm.tier and r["disqualified_by"] is None]
    eligible.sort(key=lambda r: (-r["fit_score"], r["domain"]))
    for i, r in enumerate(eligible):
        out[r["domain"]] = "A" if i < abm.a else "B" if i < abm.a + abm.b else "C"
    return out
