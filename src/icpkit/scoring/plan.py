"""The scoring plan: a Profile compiled into one ibis expression over an accounts table.

``build_plan`` is pure: it reads no data and touches no database. A backend binds the
input table, turns the plan into SQL for its engine (``ibis.to_sql``) and runs it.

The input is a table of canonical accounts (see ``icpkit.io``): text trimmed with blanks as
NULL, lists lower-cased. The result has one row per account:

``domain`` · ``name`` (when the input has one) · ``fit_score`` (0-100, 2 decimals) · ``tier``
· ``abm_tier`` (A/B/C within the ABM tier, else NULL) · ``route`` · ``disqualified_by`` (the
first disqualifier that holds, else NULL) · ``reasons`` (the largest positive then negative
contributions, e.g. ``industry: computer software (+25); agency (-15)``) · ``points_<criterion>``
and ``points_<adjustment>`` · ``profile_version`` · ``scored_at`` · and every input column whose name starts with
``_`` (such as ``_row``, the input's row number), carried through unchanged.

The fit score is the sum of criterion points, scaled so that every criterion at its weight
makes 100, plus adjustment points, rounded to 2 decimals and clamped to 0..100.

How it runs: each row is reduced to small integers (which branch of each criterion applied,
which adjustments and which disqualifier held), packed into one combination number.
Everything else (points, score, tier, route, reasons) depends only on that combination:

- when the possible combinations are few (at most :data:`ENUMERATED`; 2,688 for the seed
  rubric), every one's verdict is computed while the plan is built and written into it as
  constant arrays, which each row indexes with its number. No join: an engine that keeps a
  table's order (DuckDB) streams the rows out in input order without sorting them. ABM
  tiers compare each row with the last account ranked A and B (a one-row table);
- else the verdict is computed once per distinct combination in the data and joined back,
  and ABM ranks are joined from the top ``a + b`` eligible rows.

Either way ABM ranks need only the top ``a + b`` eligible rows, found with a top-N query
instead of ranking every row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from ..profile.model import Abm, Adjustment, Profile
from .columns import column
from .conditions import compile_condition
from .criteria import CriterionPlan, plan_criterion, points_literal
from .verdict import Verdicts, adjustment_text

#: The input's row number. Like every input column whose name starts with "_", it is
#: carried through to the result unchanged (backends use these for order and checks).
ROW = "_row"

#: The key of an input without a domain column: its row number, as column ``row``.
ROW_KEY = "row"

#: Output columns before the per-criterion points (``row`` replaces ``domain`` in an input
#: without domains).
HEAD_COLUMNS = ("domain", ROW_KEY, "name", "fit_score", "tier", "abm_tier", "route", "disqualified_by", "reasons")


#: Dialects whose CTEs accept ``AS MATERIALIZED`` (computed once, however often referenced).
_MATERIALIZING = {"duckdb", "postgres"}


@dataclass(frozen=True)
class Step:
    """One named stage of a plan; later stages read it as a table of that name."""

    name: str
    expr: ir.Table
    materialize: bool = False


@dataclass(frozen=True)
class ScoringPlan:
    """The compiled plan: named steps, the last of which is the scored table.

    Steps read earlier steps as unbound tables of the same name, so the plan runs as one
    SQL statement with a CTE per step (``sql()``), on any engine ibis compiles for.
    """

    profile: Profile
    steps: tuple[Step, ...]
    keys: tuple[str, ...]  # the columns joining a row of the first step to its combination
    combos: ir.Table  # each combination's verdict (keys, fit_score, tier...), read by the summaries

    @property
    def expr(self) -> ir.Table:
        return self.steps[-1].expr

    def _per_combo(self) -> ir.Table:
        """Each combination of outcomes with ``n``, the number of rows that have it."""
        rows = _ref(self.steps[0])
        return rows.group_by(list(self.keys)).agg(n=rows.count()).join(self.combos, list(self.keys))

    def tier_counts(self) -> ir.Table:
        """Accounts per tier (``tier``, ``accounts``), highest tier first (tiers whose best
        scores tie, as a disqualifier can make them, in the profile's order), counted per
        combination of outcomes rather than per scored row."""
        per_combo = self._per_combo()
        counts = per_combo.group_by("tier").agg(accounts=per_combo.n.sum().cast("int64"), best=per_combo.fit_score.max())
        order = ibis.cases(*[(counts.tier == t.name, i) for i, t in enumerate(self.profile.ordered_tiers)],
                           else_=len(self.profile.ordered_tiers))
        return counts.order_by([ibis.desc("best"), order]).select("tier", "accounts")

    def score_counts(self) -> ir.Table:
        """Accounts per fit score (``fit_score``, ``accounts``), counted per combination."""
        per_combo = self._per_combo()
        return per_combo.group_by("fit_score").agg(accounts=per_combo.n.sum().cast("int64"))

    def points_counts(self) -> ir.Table:
        """Accounts (``n``) per fit score, tier and points of every criterion, counted per
        combination: what a run's snapshot holds (:mod:`icpkit.monitor.snapshot`)."""
        per_combo = self._per_combo()
        cols = ["fit_score", "tier", *[c for c in per_combo.columns if c.startswith("points_")]]
        return per_combo.group_by(cols).agg(n=per_combo.n.sum().cast("int64"))

    def fit_scores(self) -> ir.Table:
        """``_row`` (when the input has one), ``domain``, ``fit_score`` and ``tier`` of every row:
        the part of the result a backtest needs, without reasons, points or ABM ranks."""
        rows = _ref(self.steps[0])
        keep = [c for c in (ROW, key_column(rows)) if c in rows.columns]
        return rows.join(self.combos, list(self.keys)).select(*keep, "fit_score", "tier")

    def top(self, n: int) -> ir.Table:
        """The ``n`` best accounts of the result (fit score, then key), found without
        ranking every row: only combinations scoring at least the n-th best are joined."""
        per_combo = self._per_combo()
        by_fit = per_combo.group_by("fit_score").agg(n=per_combo.n.sum())
        reached = by_fit.mutate(seen=by_fit.n.sum().over(ibis.window(order_by=ibis.desc("fit_score"),
                                                                      preceding=None, following=0)))
        cutoff = reached.filter(reached.seen >= n).fit_score.max().as_scalar()
        final = self.expr
        return final.filter(final.fit_score >= cutoff.fill_null(0)).order_by(
            [ibis.desc("fit_score"), key_column(final)]).limit(n)

    def sql(self, dialect: str = "duckdb") -> str:
        """One statement with a CTE per step; for Spark, which inlines a CTE wherever it is
        read, a short script that caches each step (``CACHE TABLE name AS ...;``) and
        ends with the final query."""
        if dialect == "pyspark":
            ibis.pyspark  # noqa: B018  (loading the backend registers the options its compiler reads)
            steps = [f"CACHE TABLE {s.name} AS\n{ibis.to_sql(s.expr, dialect=dialect)}" for s in self.steps[:-1]]
            return ";\n".join([*steps, str(ibis.to_sql(self.steps[-1].expr, dialect=dialect))])
        ctes = []
        for step in self.steps[:-1]:
            body = str(ibis.to_sql(step.expr, dialect=dialect))
            mat = " MATERIALIZED" if step.materialize and dialect in _MATERIALIZING else ""
            ctes.append(f"{step.name} AS{mat} (\n{body}\n)")
        last = str(ibis.to_sql(self.steps[-1].expr, dialect=dialect))
        return ("WITH " + ",\n".join(ctes) + "\n" + last) if ctes else last


def utc_naive(moment: datetime) -> datetime:
    """``moment`` in UTC without a zone, as timestamp literals are written (a naive moment
    is taken as UTC already)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def key_column(t: ir.Table) -> str:
    """The column that identifies an account: ``domain``, or ``row`` for an input without one."""
    return "domain" if "domain" in t.columns else ROW_KEY


def points_column(key: str) -> str:
    return f"points_{key}"


def reason_column(key: str) -> str:
    return f"reason_{key}"


def build_plan(
    profile: Profile,
    accounts: ir.Table,
    *,
    scored_at: datetime | None = None,
    explain: bool = False,
) -> ScoringPlan:
    """Compile ``profile`` into the scoring expression over ``accounts`` (canonical columns).

    ``explain=True`` also emits ``reason_<name>`` for every criterion and adjustment (the
    full breakdown that ``icp explain`` prints). ``scored_at`` defaults to now (UTC).
    """
    t = accounts
    key_col = key_column(t)
    column(t, key_col)
    scale = 100.0 / profile.total_weight
    crit = [plan_criterion(c, column(t, c.field), scale) for c in profile.criteria]
    adj = [(a, compile_condition(a.when, t)) for a in profile.adjustments]
    disq = [(d, compile_condition(d.when, t)) for d in profile.disqualifiers]

    # Stage 1, per row: which outcome of each criterion, which adjustments, which disqualifier,
    # packed into one integer key when the combinations fit in 62 bits (one-column joins are
    # much faster than six-column ones).
    keys: dict[str, ir.IntegerValue] = {f"_c_{p.key}": p.index for p in crit}
    keys.update({f"_a_{a.name}": holds.ifelse(1, 0).cast("int8") for a, holds in adj})
    keys["_dq"] = ibis.cases(*[(holds, i + 1) for i, (_, holds) in enumerate(disq)], else_=0).cast("int8") \
        if disq else ibis.literal(0, type="int8")
    sizes = {f"_c_{p.key}": len(p.outcomes) for p in crit} | {f"_a_{a.name}": 2 for a, _ in adj}
    sizes["_dq"] = len(disq) + 1
    private = [c for c in t.columns if c.startswith("_")]
    keep = [c for c in (key_col, "name") if c in t.columns] + private
    combinations = math.prod(sizes.values())
    packed = combinations < 2**62
    radices = _radices(sizes) if packed else {}
    key = sum((keys[name].cast("int64") * radix for name, radix in radices.items()), ibis.literal(0, type="int64"))
    if combinations <= ENUMERATED:
        plan = _enumerated(profile, t.select(*keep, _key=key), crit, adj, sizes, radices, private, key_col, explain,
                           scored_at)
        if plan is not None:
            return plan
    if packed:
        rows_step = Step("icp_rows", t.select(*keep, _key=key), materialize=True)
        join_on = ["_key"]
    else:
        rows_step = Step("icp_rows", t.select(*keep, **keys), materialize=True)
        join_on = list(keys)
    rows = _ref(rows_step)

    # Stage 2, once per distinct combination: points, score, tier, route, reasons.
    combos = rows.select(*join_on).distinct()
    if packed:
        combos = combos.mutate(**{n: ((combos._key // radices[n]) % size).cast("int8") for n, size in sizes.items()})
    points = {points_column(p.key): p.lookup(combos[f"_c_{p.key}"], "points") for p in crit}
    points.update({points_column(a.name): (combos[f"_a_{a.name}"] == 1).ifelse(points_literal(a.points), points_literal(0.0))
                   .cast("float64") for a, _ in adj})
    combos = combos.mutate(**points)
    total = sum((combos[c] for c in list(points)[1:]), combos[next(iter(points))])
    combos = combos.mutate(fit_score=round_half_away(total, 2).clip(lower=0, upper=100))
    combos_step = Step("icp_combos", combos.mutate(**_verdict(profile, combos, crit, explain)))
    combos = _ref(combos_step)

    # Stage 3: back to rows, then ABM tiers from the top of the ABM tier.
    scored = rows.join(combos, join_on).select(
        *keep, "fit_score", "tier", "route", "disqualified_by", "reasons", *points,
        *[c for c in combos.columns if c.startswith("reason_")],
    )
    scored = _with_abm(profile, rows, combos, join_on, scored, key_col)
    when = scored_at or datetime.now(UTC)
    out = scored.select(
        *[c for c in HEAD_COLUMNS if c in scored.columns],
        *points,
        *[c for c in scored.columns if c.startswith("reason_")],
        profile_version=ibis.literal(profile.version_hash),
        scored_at=ibis.literal(utc_naive(when), type="timestamp"),
        **{c: scored[c] for c in private},
    )
    return ScoringPlan(profile, (rows_step, combos_step, Step("icp_scores", out)), tuple(join_on), combos)


#: Most combinations of outcomes for which every verdict is computed up front (see _enumerated):
#: the seed rubric has 2,688 (0.1 s to build, 0.5 MB of SQL); the demo profile's 15,680 took
#: 0.9 s more per run than the join, and 3.7 MB of SQL.
ENUMERATED = 4_096
_SEP, _NULL = "\x1f", "\x1e"  # in no reason text: separate array elements, stand for NULL


def _radices(sizes: dict[str, int]) -> dict[str, int]:
    """The place value of each outcome in the combination number (mixed radix, in order)."""
    radices, radix = {}, 1
    for name, size in sizes.items():
        radices[name] = radix
        radix *= size
    return radices


def _enumerated(profile: Profile, numbered: ir.Table, crit: list[CriterionPlan],
                adj: list[tuple[Adjustment, ir.BooleanValue]], sizes: dict[str, int], radices: dict[str, int],
                private: list[str], key_col: str, explain: bool, scored_at: datetime | None) -> ScoringPlan | None:
    """The plan when the combinations of outcomes are few: every combination's verdict is
    computed here (:class:`.verdict.Verdicts`, as the one-record Scorer computes it) and
    written into the plan as constant arrays, which each row indexes with its combination's
    number. Rows are then scored without a join, so an engine that keeps the order of a scan
    (DuckDB) streams them out in input order, without sorting them. None when a text holds
    one of the characters the arrays are written with."""
    verdicts = Verdicts.of(profile, [(p.key, [(o.points, o.text) for o in p.outcomes]) for p in crit])
    n, m = len(crit), len(adj)
    table = []
    for number in range(math.prod(sizes.values())):
        digits = [number // radices[name] % size for name, size in sizes.items()]
        table.append(verdicts.verdict(digits[:n], [d == 1 for d in digits[n:n + m]], digits[-1], explain=explain))
    if any(isinstance(x, str) and (_SEP in x or _NULL in x) for v in table for x in v.values()):
        return None
    rows_step = Step("icp_rows", numbered, materialize=True)
    rows = _ref(rows_step)

    points = [points_column(p.key) for p in crit] + [points_column(a.name) for a, _ in adj]
    reasons = [reason_column(p.key) for p in crit] + [reason_column(a.name) for a, _ in adj] if explain else []
    kinds = {c: "string" for c in ("tier", "route", "disqualified_by", "reasons", *reasons)}
    kinds.update({c: "float64" for c in ("fit_score", *points)})
    arrays = {c: _array([v[c] for v in table], kind) for c, kind in kinds.items()}

    nullable = {c for c in kinds if any(v[c] is None for v in table)}

    def verdict(number: ir.IntegerValue) -> dict[str, ir.Value]:
        at = number.cast("int32")
        return {c: arr[at].nullif(_NULL) if c in nullable else arr[at] for c, arr in arrays.items()}

    out = verdict(rows._key)
    src, abm_tier = rows, ibis.null(str)
    steps = [rows_step]
    if profile.abm is not None:
        abm = profile.abm
        eligible = _array([int(v["tier"] == abm.tier and v["disqualified_by"] is None) for v in table], "int32")
        in_abm = eligible[rows._key.cast("int32")] == 1
        cut = Step("icp_abm_cut", _abm_cut(abm, rows.filter(in_abm), rows[key_col], out["fit_score"]))
        steps.append(cut)
        src = rows.cross_join(_ref(cut))
        abm_tier = _abm_tier(src, in_abm, rows[key_col], out["fit_score"])
    when = scored_at or datetime.now(UTC)
    final = src.select(
        *[rows[c] for c in (key_col, "name") if c in rows.columns],
        fit_score=out["fit_score"], tier=out["tier"], abm_tier=abm_tier,
        **{c: out[c] for c in ("route", "disqualified_by", "reasons", *points, *reasons)},
        profile_version=ibis.literal(profile.version_hash),
        scored_at=ibis.literal(utc_naive(when), type="timestamp"),
        **{c: rows[c] for c in private},
    )
    # Every combination's verdict as a table, for the plan's summaries (tier counts, the top).
    # (int64 bounds: Spark refuses a cast around the EXPLODE that unnest compiles to)
    numbers = ibis.literal(0).as_table().select(
        _key=ibis.range(ibis.literal(0, type="int64"), ibis.literal(len(table), type="int64")).unnest())
    combos = numbers.select("_key", **verdict(numbers._key))
    return ScoringPlan(profile, (*steps, Step("icp_scores", final)), ("_key",), combos)


def _array(values: list[Any], kind: str) -> ir.ArrayValue:
    """A constant array, written as one string split by the engine (see ``values._lookup``):
    compiling one literal costs nothing, where thousands of array elements cost seconds.
    Numbers are written exactly (``repr``); NULL as ``_NULL``."""
    if kind == "string":
        return ibis.literal(_SEP.join(_NULL if v is None else v for v in values)).split(_SEP)
    return ibis.literal(_SEP.join(map(repr, values))).split(_SEP).cast(f"array<{kind}>")


def _abm_cut(abm: Abm, eligible: ir.Table, key: ir.Value, score: ir.FloatingValue) -> ir.Table:
    """One row: the fit score and key of the last account ranked A (``_a_score``, ``_a_key``)
    and of the last ranked B (``_b_score``, ``_b_key``) among the ``eligible`` rows, best fit
    first and ties by key; NULL where there is none."""
    ranked = eligible.select(_k=key, _s=score)
    cut = None
    for name, size in (("a", abm.a), ("b", abm.a + abm.b)):
        top = ranked.order_by([ibis.desc("_s"), "_k"]).limit(size)
        last = top.order_by(["_s", ibis.desc("_k")]).limit(1)
        part = last.aggregate(**{f"_{name}_score": last._s.max(), f"_{name}_key": last._k.max()})
        cut = part if cut is None else cut.cross_join(part)
    assert cut is not None
    return cut


def _abm_tier(t: ir.Table, in_abm: ir.BooleanValue, key: ir.Value, score: ir.FloatingValue) -> ir.StringValue:
    """A for the rows of the ABM tier up to the last ranked A, B up to the last ranked B,
    else C (``with_abm_tier``'s ranks, by comparison with the cut)."""
    def reached(name: str) -> ir.BooleanValue:
        s, k = t[f"_{name}_score"], t[f"_{name}_key"]
        return ((score > s) | ((score == s) & (key <= k))).fill_null(False)

    return ibis.cases((~in_abm, ibis.null(str)), (reached("a"), "A"), (reached("b"), "B"), else_="C")


def _ref(step: Step) -> ir.Table:
    """An earlier step, as the unbound table that later steps read."""
    return ibis.table(step.expr.schema(), name=step.name)


def round_half_away(x: ir.FloatingValue, digits: int) -> ir.FloatingValue:
    """``x`` rounded to ``digits`` decimals as DuckDB's ROUND rounds a DOUBLE (half away from
    zero on ``x * 10 ** digits``), written with operations every engine computes alike.

    ``.round()`` differs: PostgreSQL rounds a double through NUMERIC with 15 significant
    digits (41.62499999999999 becomes 41.63 there, 41.62 on DuckDB); Spark rounds the
    decimal half up. Here the fraction ``|y| - floor(|y|)`` is exact, so is the result.
    """
    scale = 10**digits
    y = x * scale
    a = y.abs()
    whole = a.floor()
    return y.sign() * (whole + (a - whole >= 0.5).ifelse(1, 0)) / scale


def tier_by_score(profile: Profile, score: ir.NumericValue) -> ir.StringValue:
    """The tier a score falls in: the one with the highest ``min`` it reaches."""
    tiers = profile.ordered_tiers
    if len(tiers) == 1:
        return ibis.literal(tiers[0].name)
    return ibis.cases(*[(score >= t.min, t.name) for t in tiers[:-1]], else_=tiers[-1].name)


def route_of(profile: Profile, tier: ir.StringValue) -> ir.StringValue:
    """The route of a tier."""
    return ibis.cases(*[(tier == t.name, t.route) for t in profile.ordered_tiers], else_=ibis.null(str))


def _verdict(profile: Profile, combos: ir.Table, crit: list[CriterionPlan], explain: bool) -> dict[str, ir.Value]:
    """Tier, route, disqualifier and reasons of each combination."""
    tiers = profile.ordered_tiers
    by_score = tier_by_score(profile, combos.fit_score)
    dq = combos._dq
    forced = [(dq == i + 1, d.tier or tiers[-1].name) for i, d in enumerate(profile.disqualifiers)]
    tier = ibis.cases(*forced, else_=by_score) if forced else by_score
    route = route_of(profile, tier)
    disq_name = ibis.cases(*[(dq == i + 1, d.name) for i, d in enumerate(profile.disqualifiers)],
                           else_=ibis.null(str)) if forced else ibis.null(str)

    texts = [p.lookup(combos[f"_c_{p.key}"], "text") for p in crit]
    adj_texts = [(combos[f"_a_{a.name}"] == 1).ifelse(adjustment_text(a), ibis.null(str)) for a in profile.adjustments]
    out: dict[str, ir.Value] = {"tier": tier, "route": route, "disqualified_by": disq_name,
                                "reasons": _reasons(profile, combos, crit)}
    if explain:
        out.update({reason_column(p.key): txt for p, txt in zip(crit, texts)})
        out.update({reason_column(a.name): txt for a, txt in zip(profile.adjustments, adj_texts)})
    return out


#: Each outcome of a criterion or adjustment: (index column, [(index, points, text)]).
_Outcomes = list[tuple[ir.IntegerValue, list[tuple[int, float, str]]]]


def _reasons(profile: Profile, combos: ir.Table, crit: list[CriterionPlan]) -> ir.StringValue:
    """The largest positive contributions, then the largest negative ones, as one line.

    A contribution's points and text are constants of its outcome, so their order is known
    when the plan is built: each possible contribution gets a rank (largest points first,
    ties by text; of the negative ones the most negative first), and each combination
    sorts the ranks of its contributions and looks their texts up. Sorting small integers
    runs alike on every engine; sorting structs does not (PostgreSQL has no anonymous
    structs, and sorts text by its collation).
    """
    outcomes: _Outcomes = [(combos[f"_c_{p.key}"], [(i, o.points, o.text) for i, o in enumerate(p.outcomes)])
                           for p in crit]
    outcomes += [(combos[f"_a_{a.name}"], [(1, float(a.points), adjustment_text(a))]) for a in profile.adjustments]
    parts = [part for part in (_first_texts(outcomes, 1, profile.reasons.positive),
                               _first_texts(outcomes, -1, profile.reasons.negative)) if part is not None]
    if not parts:
        line = ibis.literal("")
    else:  # PostgreSQL joins an empty array to NULL
        line = (parts[0] if len(parts) == 1 else parts[0].concat(parts[1])).join("; ").fill_null("")
    dq = combos._dq
    for i, d in enumerate(profile.disqualifiers):
        prefix = f"disqualified: {d.reason}"
        line = (dq == i + 1).ifelse((line.length() > 0).ifelse(prefix + "; " + line, prefix), line)
    return line


def _first_texts(outcomes: _Outcomes, sign: int, n: int) -> ir.ArrayValue | None:
    """The texts of the (at most) ``n`` contributions of ``sign`` that come first, or None
    when there can be none."""
    order = sorted({(pts, text) for _, outs in outcomes for _, pts, text in outs if pts * sign > 0},
                   key=lambda e: (-sign * e[0], e[1]))
    if n <= 0 or not order:
        return None
    rank = {e: r for r, e in enumerate(order)}
    ranks = []
    for col, outs in outcomes:
        cases = [(col == i, rank[(pts, text)]) for i, pts, text in outs if (pts, text) in rank]
        if cases:
            ranks.append(ibis.cases(*cases, else_=ibis.null("int32")).cast("int32"))
    texts = ibis.literal([text for _, text in order], type="array<string>")
    return ibis.array(ranks).filter(lambda r: r.notnull()).sort()[:n].map(lambda r: texts[r])


def _with_abm(profile: Profile, rows: ir.Table, combos: ir.Table, keys: list[str], scored: ir.Table,
              key_col: str) -> ir.Table:
    """Add ``abm_tier``: A for the top ``a`` of the ABM tier by fit score (ties by key), B for
    the next ``b``, C for the rest of that tier; NULL outside it and for disqualified accounts.

    Only the top ``a + b`` eligible rows are ranked (a top-N query over the rows whose
    combination is eligible), never the whole table.
    """
    if profile.abm is None:
        return scored.mutate(abm_tier=ibis.null(str))
    abm = profile.abm
    eligible = combos.filter((combos.tier == abm.tier) & combos.disqualified_by.isnull()).select(*keys, "fit_score")
    join_col = ROW if ROW in rows.columns else key_col
    candidates = rows.join(eligible, keys).select(*dict.fromkeys([key_col, join_col]), "fit_score")
    return with_abm_tier(abm, scored, candidates, key_col, "fit_score", join_col=join_col)


def with_abm_tier(abm: Abm, scored: ir.Table, candidates: ir.Table, key_col: str, score: str, *,
                  join_col: str | None = None) -> ir.Table:
    """``scored`` with ``abm_tier`` set from the ``a + b`` best ``candidates`` (the eligible
    rows: ``key_col`` and the ``score`` they are ranked by, ties by key). ``join_col`` (default
    ``key_col``) joins the ranks back: an integer row number joins much faster than a domain."""
    join_col = join_col or key_col
    top = candidates.order_by([ibis.desc(score), key_col]).limit(abm.a + abm.b)
    top = top.select(_abm_key=join_col, _abm_rank=ibis.row_number().over(
        ibis.window(order_by=[ibis.desc(top[score]), top[key_col]])))
    joined = scored.left_join(top, scored[join_col] == top._abm_key)
    rank = joined._abm_rank
    abm_tier = ibis.cases(
        (~((joined.tier == abm.tier) & joined.disqualified_by.isnull()), ibis.null(str)),
        (rank.isnull(), "C"),
        (rank < abm.a, "A"),
        else_="B",
    )
    cols = [abm_tier.name("abm_tier") if c == "abm_tier" else joined[c] for c in scored.columns]
    return joined.select(*cols) if "abm_tier" in scored.columns else joined.select(*cols, abm_tier=abm_tier)
