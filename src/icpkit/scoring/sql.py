"""The scoring plan of a warehouse table, as one SQL statement for ``icp sql``.

The table is read as it is (no file, no ``_row``): canonical values are computed in the
statement (:mod:`icpkit.io.canonical`), then the scoring plan's steps follow as CTEs.
"""

from __future__ import annotations

from datetime import datetime

import ibis

from ..io.canonical import ROW, canonical_plan
from ..io.sources import TableName
from ..profile.model import Profile
from .plan import ScoringPlan, Step, build_plan

_TYPES = {"text": "string", "number": "float64", "list": "array<string>"}


def fit_sql(profile: Profile, table: TableName, dialect: str, *, text_columns: bool = False,
            scored_at: datetime | None = None) -> str:
    """The fit-scoring statement over ``table`` (see :func:`icpkit.api.scoring_sql`)."""
    fields = {"domain": "text", **profile.field_kinds()}
    schema = {profile.columns.get(f, f): ("string" if text_columns else _TYPES[k]) for f, k in fields.items()}
    *space, name = table.parts
    raw = ibis.table(schema, name=name, database=".".join(space) or None)
    raw = raw.select(**{ROW: ibis.literal(0, type="int64")}, **{c: raw[c] for c in schema})
    canon = canonical_plan(raw, profile, source=str(table)).expr
    accounts = canon.select(*[c for c in canon.columns if not c.startswith("_")])  # no _row: a table has none
    plan = build_plan(profile, accounts, scored_at=scored_at)
    *steps, last = plan.steps
    shown = last.expr.select(*[c for c in last.expr.columns if not c.startswith("_")])
    return ScoringPlan(profile, (*steps, Step(last.name, shown)), plan.keys, plan.combos).sql(dialect)
