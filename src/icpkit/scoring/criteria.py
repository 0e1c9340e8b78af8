"""One criterion as ordered branches: (condition, points, reason text).

Points and reason texts are constants fixed when the plan is built, so the generated SQL
holds only CASE expressions over literals: cheap to run, and the text that explains a score
can never disagree with the points it explains.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from ..profile.model import Criterion, _num
from .columns import norm_text, norm_value


@dataclass(frozen=True)
class Branch:
    when: ir.BooleanValue
    points: float
    text: str


@dataclass(frozen=True)
class CriterionPlan:
    """How one criterion scores, as the index of the outcome that applies to a row.

    ``index`` is 0 when the value is missing, ``i`` when branch ``i`` (1-based) is the first
    that holds, and ``len(branches) + 1`` otherwise; ``outcomes[index]`` gives the points and
    the reason. Scoring works on these small integers; points and texts are looked up once
    per distinct combination of outcomes, not once per row.
    """

    key: str
    index: ir.IntegerValue
    outcomes: list[Branch]

    def lookup(self, index: ir.IntegerValue, attr: str) -> ir.Value:
        """Points (``attr="points"``) or reason text (``"text"``) of the outcome at ``index``."""
        if attr == "points":
            cases = [(index == i, points_literal(o.points)) for i, o in enumerate(self.outcomes[:-1])]
            return ibis.cases(*cases, else_=points_literal(self.outcomes[-1].points)).cast("float64")
        cases = [(index == i, ibis.literal(o.text)) for i, o in enumerate(self.outcomes[:-1])]
        return ibis.cases(*cases, else_=ibis.literal(self.outcomes[-1].text))


def plan_criterion(c: Criterion, col: ir.Value, scale: float) -> CriterionPlan:
    """Branches of criterion ``c`` over column ``col``; points are multiplied by ``scale``."""
    key = c.key
    true = ibis.literal(True)

    def branch(when: ir.BooleanValue, pts: float, what: str) -> Branch:
        return Branch(when, pts * scale, f"{key}: {what} ({signed(pts * scale)})")

    if c.levels is not None:
        v = norm_text(col)
        branches = []
        for lv in c.levels:
            values = [norm_value(x, c.field) for x in lv.values]
            aliases = [norm_value(a, c.field) for a, target in (c.aliases or {}).items()
                       if norm_value(target, c.field) in values]
            if lv.label:
                branches.append(branch(v.isin(values + aliases), lv.points, lv.label))
                continue
            for raw, val in zip(lv.values, values):
                spelled = [a for a, t in (c.aliases or {}).items() if norm_value(t, c.field) == val]
                branches.append(branch(v.isin([val] + [norm_value(a, c.field) for a in spelled]), lv.points,
                                       raw.strip()))
        otherwise = branch(true, c.otherwise, "other value")
        missing_when = col.isnull()
    elif c.range is not None:
        r = c.range
        band = f"{_num(r.min) if r.min is not None else ''}-{_num(r.max) if r.max is not None else ''}"
        if r.min is None:
            band = f"<= {_num(r.max)}"
        elif r.max is None:
            band = f">= {_num(r.min)}"
        inside = _between(col, r.min, r.max)
        branches = [branch(inside, r.points if r.points is not None else c.weight, f"in {band}")]
        if r.tolerance > 0:
            near_parts = []
            if r.min is not None:
                near_parts.append((col >= r.min * (1 - r.tolerance)) & (col < r.min))
            if r.max is not None:
                near_parts.append((col > r.max) & (col <= r.max * (1 + r.tolerance)))
            near = near_parts[0] if len(near_parts) == 1 else near_parts[0] | near_parts[1]
            branches.append(branch(near, r.tolerance_points, f"within {_num(r.tolerance * 100)}% of {band}"))
        otherwise = branch(true, c.otherwise, f"outside {band}")
        missing_when = col.isnull()
    elif c.bins is not None:
        branches = [branch(_bin(col, b.gt, b.gte, b.lt, b.lte), b.points, b.describe()) for b in c.bins]
        otherwise = branch(true, c.otherwise, "in no bin")
        missing_when = col.isnull()
    else:
        assert c.items is not None
        ordered = sorted(c.items, key=lambda it: -it.points)  # CASE takes the first: the best match
        branches = []
        for it in ordered:
            values = [norm_value(x) for x in it.values]
            if it.label:
                branches.append(branch(_contains_any(col, values), it.points, f"has {it.label}"))
            else:
                branches += [branch(col.contains(v), it.points, f"has {raw.strip()}") for raw, v in zip(it.values, values)]
        otherwise = branch(true, c.otherwise, "none of the listed")
        missing_when = col.isnull()
    missing = branch(missing_when, c.missing, "missing")
    ordered = [missing] + branches
    index = ibis.cases(*[(b.when, i) for i, b in enumerate(ordered)], else_=len(ordered)).cast("int8")
    return CriterionPlan(key, index, ordered + [otherwise])


def points_literal(value: float) -> ir.FloatingValue:
    """A points constant for a CASE whose result is then cast to float64.

    ibis writes float literals as plain numbers (``2.5``), which DuckDB, PostgreSQL and Spark
    read as DECIMAL; typing the literal float32 makes ibis keep the outer CAST to DOUBLE, so
    points columns are DOUBLE on every engine. The text keeps the float64 value exactly.
    """
    return ibis.literal(value, type="float32")


def signed(points: float) -> str:
    """``+25``, ``-15``, ``+12.5``, ``0``: how points read in reasons (at most 2 decimals)."""
    text = _num(round(points, 2))
    return "+" + text if points > 0 else text


def _contains_any(col: ir.ArrayValue, values: list[str]) -> ir.BooleanValue:
    # OR-ed list_contains is several times faster in DuckDB than list_has_any (see bench/).
    out = col.contains(values[0])
    for v in values[1:]:
        out = out | col.contains(v)
    return out


def _between(col: ir.NumericValue, low: float | None, high: float | None) -> ir.BooleanValue:
    return _bin(col, None, low, None, high)


def _bin(col: ir.NumericValue, gt: float | None, gte: float | None, lt: float | None, lte: float | None) -> ir.BooleanValue:
    parts = []
    if gt is not None:
        parts.append(col > gt)
    if gte is not None:
        parts.append(col >= gte)
    if lt is not None:
        parts.append(col < lt)
    if lte is not None:
        parts.append(col <= lte)
    out = parts[0]
    for p in parts[1:]:
        out = out & p
    return out
