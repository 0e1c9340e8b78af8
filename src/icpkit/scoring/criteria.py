"""One criterion as ordered branches: (condition, points, reason text).

Points and reason texts are constants fixed when the plan is built, so the generated SQL
holds only CASE expressions over literals: cheap to run, and the text that explains a score
can never disagree with the points it explains.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from ..profile.model import Criterion, format_number
from .columns import all_of, any_of, norm_text, norm_value, wider_values


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
        value = (lambda o: points_literal(o.points)) if attr == "points" else (lambda o: ibis.literal(o.text))
        cases = [(index == i, value(o)) for i, o in enumerate(self.outcomes[:-1])]
        out = ibis.cases(*cases, else_=value(self.outcomes[-1]))
        return out.cast("float64") if attr == "points" else out


def plan_criterion(c: Criterion, col: ir.Value, scale: float) -> CriterionPlan:
    """Branches of criterion ``c`` over column ``col``; points are multiplied by ``scale``."""
    key = c.key
    true = ibis.literal(True)

    def branch(when: ir.BooleanValue, pts: float, what: str) -> Branch:
        return Branch(when, pts * scale, f"{key}: {what} ({signed(pts * scale)})")

    levels: list[tuple[str, int]] | None = None  # (spelling, index of its outcome) of a levels criterion
    if c.levels is not None:
        v = norm_text(col)
        spellings: dict[str, list[str]] = {}  # a level value -> it and its aliases, normalised
        for alias, target in (c.aliases or {}).items():
            spellings.setdefault(norm_value(target, c.field), []).append(norm_value(alias, c.field))
        branches = []
        levels = []
        # (another spelling of a named industry, or one below it; distance; index): after every named value
        wider = []
        for lv in c.levels:
            values = [norm_value(x, c.field) for x in lv.values]
            below = [wider_values(x, c.field) for x in lv.values]
            if lv.label:
                matched = values + [a for val in values for a in spellings.get(val, [])]
                branches.append(branch(v.isin(matched + [w for ws in below for w, _ in ws]), lv.points, lv.label))
                levels += [(m, len(branches)) for m in matched]
                wider += [(w, d, len(branches)) for ws in below for w, d in ws]
            else:
                for raw, val, ws in zip(lv.values, values, below):
                    matched = [val] + spellings.get(val, [])
                    branches.append(branch(v.isin(matched + [w for w, _ in ws]), lv.points, raw.strip()))
                    levels += [(m, len(branches)) for m in matched]
                    wider += [(w, d, len(branches)) for w, d in ws]
        if wider:
            first: dict[str, int] = {}  # as a CASE reads them: the first of a value wins
            for m, i in levels + [(w, i) for w, _, i in sorted(wider, key=lambda x: x[1])]:
                first.setdefault(m, i)
            levels = list(first.items())
        otherwise = branch(true, c.otherwise, "other value")
    elif c.range is not None:
        r = c.range
        if r.min is None:
            band = f"<= {format_number(r.max)}"
        elif r.max is None:
            band = f">= {format_number(r.min)}"
        else:
            band = f"{format_number(r.min)}-{format_number(r.max)}"
        inside = _bin(col, None, r.min, None, r.max)
        branches = [branch(inside, r.points if r.points is not None else c.weight, f"in {band}")]
        if r.tolerance > 0:
            near = []
            if r.min is not None:
                near.append((col >= r.min * (1 - r.tolerance)) & (col < r.min))
            if r.max is not None:
                near.append((col > r.max) & (col <= r.max * (1 + r.tolerance)))
            within = f"within {format_number(r.tolerance * 100)}% of {band}"
            branches.append(branch(any_of(near), r.tolerance_points, within))
        otherwise = branch(true, c.otherwise, f"outside {band}")
    elif c.bins is not None:
        branches = [branch(_bin(col, b.gt, b.gte, b.lt, b.lte), b.points, b.describe()) for b in c.bins]
        otherwise = branch(true, c.otherwise, "in no bin")
    else:
        assert c.items is not None
        ordered = sorted(c.items, key=lambda it: -it.points)  # CASE takes the first: the best match
        branches = []
        for it in ordered:
            values = [norm_value(x) for x in it.values]
            if it.label:
                # OR-ed list_contains is several times faster in DuckDB than list_has_any (see bench/).
                branches.append(branch(any_of([col.contains(v) for v in values]), it.points, f"has {it.label}"))
            else:
                branches += [branch(col.contains(v), it.points, f"has {raw.strip()}") for raw, v in zip(it.values, values)]
        otherwise = branch(true, c.otherwise, "none of the listed")
    missing = branch(col.isnull(), c.missing, "missing")
    ordered = [missing] + branches
    if levels is not None:
        # One CASE on the lower-cased value (the first spelling listed wins, as in a CASE of
        # IN tests), times 0 for a missing value (outcome 0): DuckDB runs it ~1.6x and
        # PostgreSQL ~2x faster than a CASE of IN tests (PostgreSQL lower-cases once rather
        # than once per test), and a CASE WHEN ... IS NULL around it costs DuckDB 20%.
        found = norm_text(col).cases(*levels, else_=len(ordered))
        index = (found * col.notnull().cast("int32")).cast("int8")
    else:
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
    text = format_number(round(points, 2))
    return "+" + text if points > 0 else text


def _bin(col: ir.NumericValue, gt: float | None, gte: float | None, lt: float | None, lte: float | None) -> ir.BooleanValue:
    """``col`` within the bounds that are given (at least one is)."""
    bounds = [(gt, col.__gt__), (gte, col.__ge__), (lt, col.__lt__), (lte, col.__le__)]
    return all_of([test(bound) for bound, test in bounds if bound is not None])
