"""Shared pieces of the scoring benchmark: inputs, the competitors' code, and output checks.

The competitors (a hand-written DuckDB query, polars expressions, a pandas row-wise
``apply``) implement ``examples/seed-rubric.yaml`` by hand, as an analyst would. They are
checked against icpkit's output on a small sample before anything is timed.
"""

from __future__ import annotations

import math
import statistics
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
RUBRIC = REPO / "examples" / "seed-rubric.yaml"
POINTS = ("points_industry", "points_employees", "points_technologies", "points_country",
          "points_days_since_funding")


def rel(path: Path) -> str:
    """``path`` relative to the repository, for commands and messages (never absolute)."""
    return str(path.resolve().relative_to(REPO))


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def ensure_input(n: int, seed: int = 7) -> Path:
    """``bench/out/accounts-<n>.parquet``: generated once, reused while it holds ``n`` rows."""
    import pyarrow.parquet as pq

    from icpkit.demo.canonical import write_accounts_parquet

    path = OUT / f"accounts-{n}.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n:
        return path
    return write_accounts_parquet(path, n, seed)


# -------------------------------------------------------------- (a) hand-written DuckDB SQL

HAND_SQL = """
COPY (
WITH norm AS (
  SELECT domain, name, lower(trim(industry)) AS industry, employees,
         list_transform(technologies, lambda x: lower(trim(x))) AS technologies,
         upper(trim(country)) AS country, days_since_funding
  FROM read_parquet({inp})
),
pts AS (
  SELECT domain, name,
    CASE WHEN industry IN ('computer software', 'internet') THEN 25
         WHEN industry IN ('information technology and services', 'marketing and advertising') THEN 12
         ELSE 0 END AS p_ind,
    CASE WHEN employees BETWEEN 50 AND 500 THEN 20
         WHEN employees >= 37.5 AND employees < 50 OR employees > 500 AND employees <= 625 THEN 10
         ELSE 0 END AS p_emp,
    CASE WHEN technologies IS NULL THEN 5
         WHEN list_contains(technologies, 'salesforce') THEN 20
         WHEN list_contains(technologies, 'hubspot') THEN 10
         ELSE 5 END AS p_tech,
    CASE WHEN country IN ('US', 'CA') THEN 15 WHEN country IN ('GB', 'IE', 'AU') THEN 7 ELSE 0 END AS p_ctry,
    CASE WHEN days_since_funding <= 90 THEN 20
         WHEN days_since_funding >= 91 AND days_since_funding <= 365 THEN 10
         ELSE 0 END AS p_fund,
    'industry: ' || industry || ' (+' || p_ind || ')' AS r_ind,
    CASE p_emp WHEN 20 THEN 'employees: in 50-500 (+20)' ELSE 'employees: within 25% of 50-500 (+10)' END AS r_emp,
    CASE WHEN technologies IS NULL THEN 'technologies: missing (+5)'
         WHEN p_tech = 20 THEN 'technologies: has Salesforce (+20)'
         WHEN p_tech = 10 THEN 'technologies: has HubSpot (competitor) (+10)'
         ELSE 'technologies: none of the listed (+5)' END AS r_tech,
    'country: ' || country || ' (+' || p_ctry || ')' AS r_ctry,
    CASE p_fund WHEN 20 THEN 'days_since_funding: funded in the last 90 days (+20)'
         ELSE 'days_since_funding: funded 91-365 days ago (+10)' END AS r_fund
  FROM norm
),
scored AS (
  SELECT *,
    least(greatest(round(p_ind + p_emp + p_tech + p_ctry + p_fund, 2), 0), 100)::DOUBLE AS fit_score,
    CASE WHEN fit_score >= 70 THEN 'high' WHEN fit_score >= 40 THEN 'monitor' ELSE 'disqualify' END AS tier,
    row_number() OVER (PARTITION BY tier ORDER BY fit_score DESC, domain) AS rn
  FROM pts
)
SELECT domain, name, fit_score, tier,
  CASE WHEN tier = 'high' THEN CASE WHEN rn <= 50 THEN 'A' WHEN rn <= 250 THEN 'B' ELSE 'C' END END AS abm_tier,
  CASE tier WHEN 'high' THEN 'ae_queue' WHEN 'monitor' THEN 'nurture' ELSE 'suppress' END AS route,
  NULL::VARCHAR AS disqualified_by,
  array_to_string(list_transform(list_slice(list_sort(list_filter(
    [{{'k': -p_ind, 't': r_ind}}, {{'k': -p_emp, 't': r_emp}}, {{'k': -p_tech, 't': r_tech}},
     {{'k': -p_ctry, 't': r_ctry}}, {{'k': -p_fund, 't': r_fund}}],
    lambda s: s.k < 0)), 1, 3), lambda s: s.t), '; ') AS reasons,
  p_ind::DOUBLE AS points_industry, p_emp::DOUBLE AS points_employees, p_tech::DOUBLE AS points_technologies,
  p_ctry::DOUBLE AS points_country, p_fund::DOUBLE AS points_days_since_funding,
  'hand-written' AS profile_version, TIMESTAMP '{now}' AS scored_at
FROM scored
) TO {out} (FORMAT parquet, COMPRESSION zstd)
"""


def hand_sql(inp: Path, out: Path) -> str:
    """The whole job as one statement: read, score, reasons, ABM tiers, write."""
    now = datetime.now().replace(microsecond=0).isoformat(sep=" ")
    return HAND_SQL.format(inp=_q(inp), out=_q(out), now=now)


def _q(text: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


#: The technologies criterion alone, four ways; {a}/{b} are the items tested for 20 and 10 points.
LIST_FORMS = {
    "OR-ed list_contains": "({t})",
    "list_has_any": "list_has_any(t, [{q}])",
    "list_bool_or(list_transform)": "list_bool_or(list_transform(t, lambda x: x IN ({q})))",
    "array_contains": "({a})",
}


def list_test(form: str, values: Sequence[str]) -> str:
    """SQL testing whether list column ``t`` holds any of ``values``, written as ``form``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return LIST_FORMS[form].format(
        q=quoted,
        t=" OR ".join(f"list_contains(t, '{v}')" for v in values),
        a=" OR ".join(f"array_contains(t, '{v}')" for v in values),
    )


# ------------------------------------------------------------------------- (c) polars

def polars_frame(inp: Path, reasons: bool | str) -> Any:
    """The rubric as polars expressions over a lazy Parquet scan.

    ``reasons=False``: fit score, tier, route and points only. ``reasons=True``: plus the
    reasons, built per row with ``list.eval``. ``reasons="same"``: the same work as icpkit,
    done the lean way: reasons built once per distinct combination of outcomes and joined
    back, and ABM tiers from the top 250 of the high tier (a top-N, not a full sort)."""
    import polars as pl

    ind = pl.col("industry").str.strip_chars().str.to_lowercase()
    emp, fund = pl.col("employees"), pl.col("days_since_funding")
    tech = pl.col("technologies").list.eval(pl.element().str.strip_chars().str.to_lowercase())
    ctry = pl.col("country").str.strip_chars().str.to_uppercase()
    lf = pl.scan_parquet(inp).select(
        "domain", "name",
        points_industry=pl.when(ind.is_in(["computer software", "internet"])).then(25.0)
        .when(ind.is_in(["information technology and services", "marketing and advertising"])).then(12.0)
        .otherwise(0.0),
        points_employees=pl.when(emp.is_between(50, 500)).then(20.0)
        .when(((emp >= 37.5) & (emp < 50)) | ((emp > 500) & (emp <= 625))).then(10.0).otherwise(0.0),
        points_technologies=pl.when(tech.is_null()).then(5.0).when(tech.list.contains("salesforce")).then(20.0)
        .when(tech.list.contains("hubspot")).then(10.0).otherwise(5.0),
        points_country=pl.when(ctry.is_in(["US", "CA"])).then(15.0)
        .when(ctry.is_in(["GB", "IE", "AU"])).then(7.0).otherwise(0.0),
        points_days_since_funding=pl.when(fund <= 90).then(20.0)
        .when((fund >= 91) & (fund <= 365)).then(10.0).otherwise(0.0),
        _ind=ind, _ctry=ctry, _no_tech=pl.col("technologies").is_null(),
    )
    score = pl.col("fit_score")
    lf = lf.with_columns(fit_score=pl.sum_horizontal(POINTS).round(2).clip(0, 100)).with_columns(
        tier=pl.when(score >= 70).then(pl.lit("high")).when(score >= 40).then(pl.lit("monitor"))
        .otherwise(pl.lit("disqualify")))
    lf = lf.with_columns(route=pl.col("tier").replace_strict(
        {"high": "ae_queue", "monitor": "nurture", "disqualify": "suppress"}))
    if not reasons:
        return lf.select("domain", "name", "fit_score", "tier", "route", *POINTS)
    if reasons == "same":
        # The texts depend on the points, and on the industry and country only where they
        # earn points: one row per distinct combination of those.
        lf = lf.with_columns(_ind=pl.when(pl.col("points_industry") > 0).then("_ind"),
                             _ctry=pl.when(pl.col("points_country") > 0).then("_ctry"))
        keys = [*POINTS, "_ind", "_ctry", "_no_tech"]
        combos = lf.select(keys).unique().with_columns(reasons=_polars_reasons())
        top = (lf.filter(pl.col("tier") == "high").select("domain", "fit_score")
               .top_k(250, by=["fit_score", "domain"], reverse=[False, True])
               .sort(["fit_score", "domain"], descending=[True, False]).with_row_index("_rank")
               .select("domain", "_rank"))
        lf = (lf.join(combos, on=keys, how="left", nulls_equal=True, maintain_order="left")
              .join(top, on="domain", how="left", maintain_order="left"))
        abm = pl.when(pl.col("tier") != "high").then(None).when(pl.col("_rank").is_null()).then(pl.lit("C")) \
            .when(pl.col("_rank") < 50).then(pl.lit("A")).otherwise(pl.lit("B"))
        return lf.select("domain", "name", "fit_score", "tier", abm.alias("abm_tier"), "route",
                         pl.lit(None, pl.String).alias("disqualified_by"), "reasons", *POINTS,
                         pl.lit("polars").alias("profile_version"),
                         pl.lit(datetime.now().replace(microsecond=0)).alias("scored_at"))
    return lf.with_columns(reasons=_polars_reasons()).select(
        "domain", "name", "fit_score", "tier", "route", "reasons", *POINTS)


def _polars_reasons() -> Any:
    """The top-3 reasons of a row (or a combination): the positive points, largest first."""
    import polars as pl

    def entry(points: str, text: Any) -> Any:
        return pl.struct(k=-pl.col(points), t=text)

    def pick(points: str, texts: dict[float, str]) -> Any:
        expr = pl.lit(texts[min(texts)])
        for p, t in texts.items():
            expr = pl.when(pl.col(points) == p).then(pl.lit(t)).otherwise(expr)
        return expr

    tech_text = pl.when(pl.col("_no_tech")).then(pl.lit("technologies: missing (+5)")).otherwise(pick(
        "points_technologies", {20.0: "technologies: has Salesforce (+20)",
                                10.0: "technologies: has HubSpot (competitor) (+10)",
                                5.0: "technologies: none of the listed (+5)"}))
    entries = pl.concat_list(
        entry("points_industry", pl.format("industry: {} (+{})", pl.col("_ind"),
                                           pl.col("points_industry").cast(pl.Int32))),
        entry("points_employees", pick("points_employees", {20.0: "employees: in 50-500 (+20)",
                                                            10.0: "employees: within 25% of 50-500 (+10)"})),
        entry("points_technologies", tech_text),
        entry("points_country", pl.format("country: {} (+{})", pl.col("_ctry"),
                                          pl.col("points_country").cast(pl.Int32))),
        entry("points_days_since_funding", pick("points_days_since_funding", {
            20.0: "days_since_funding: funded in the last 90 days (+20)",
            10.0: "days_since_funding: funded 91-365 days ago (+10)"})),
    )
    return entries.list.eval(pl.element().filter(pl.element().struct.field("k") < 0).sort().head(3)
                             .struct.field("t")).list.join("; ")


#: The I/O floor: the input columns the rubric reads, read and written back unchanged.
FLOOR_SQL = """COPY (SELECT domain, name, industry, employees, technologies, country, days_since_funding
FROM read_parquet({inp})) TO {out} (FORMAT parquet, COMPRESSION zstd)"""


def floor_sql(inp: Path, out: Path) -> str:
    return FLOOR_SQL.format(inp=_q(inp), out=_q(out))


def lower_bound_sql(inp: Path, out: Path) -> str:
    """(d) The least any scorer of this output does: icpkit's scoring plan over the input's
    columns *as stored*, taken as canonical values (no trimming, case folding, country or
    domain normalisation, no checks of bad values or duplicates, and no ABM tiers, which
    need a pass of their own), streamed from the file to the output in one COPY: points, fit
    score, tier, route and reasons looked up by each row's combination of outcomes."""
    import ibis
    import pyarrow.parquet as pq

    from icpkit.profile.load import load_profile
    from icpkit.scoring.plan import build_plan

    profile = load_profile(RUBRIC).model_copy(update={"abm": None})
    raw = ibis.table(ibis.Schema.from_pyarrow(pq.read_schema(inp)), name="raw")
    plan = build_plan(profile, raw.select("domain", "name", *(c.field for c in profile.criteria)))
    query = plan.sql("duckdb").replace(" AS MATERIALIZED (", " AS (")  # streamed, not stored
    return f"COPY (WITH raw AS (SELECT * FROM read_parquet({_q(inp)})), {query.removeprefix('WITH ')}) " \
           f"TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"


# ------------------------------------------------------------------ (b) pandas, row by row

def score_row(r: Any) -> tuple[float, str, str, str]:
    """One account, the way a RevOps script scores it: fit score, tier, route, reasons."""
    parts: list[tuple[float, str]] = []
    ind = r["industry"].strip().lower() if isinstance(r["industry"], str) else None
    if ind in ("computer software", "internet"):
        parts.append((25, f"industry: {ind} (+25)"))
    elif ind in ("information technology and services", "marketing and advertising"):
        parts.append((12, f"industry: {ind} (+12)"))
    emp = r["employees"]
    if not math.isnan(emp):
        if 50 <= emp <= 500:
            parts.append((20, "employees: in 50-500 (+20)"))
        elif 37.5 <= emp < 50 or 500 < emp <= 625:
            parts.append((10, "employees: within 25% of 50-500 (+10)"))
    techs = r["technologies"]
    if techs is None:
        parts.append((5, "technologies: missing (+5)"))
    else:
        items = {str(t).strip().lower() for t in techs}
        if "salesforce" in items:
            parts.append((20, "technologies: has Salesforce (+20)"))
        elif "hubspot" in items:
            parts.append((10, "technologies: has HubSpot (competitor) (+10)"))
        else:
            parts.append((5, "technologies: none of the listed (+5)"))
    ctry = r["country"].strip().upper() if isinstance(r["country"], str) else None
    if ctry in ("US", "CA"):
        parts.append((15, f"country: {ctry} (+15)"))
    elif ctry in ("GB", "IE", "AU"):
        parts.append((7, f"country: {ctry} (+7)"))
    days = r["days_since_funding"]
    if days <= 90:
        parts.append((20, "days_since_funding: funded in the last 90 days (+20)"))
    elif 91 <= days <= 365:
        parts.append((10, "days_since_funding: funded 91-365 days ago (+10)"))
    score = min(max(round(float(sum(p for p, _ in parts)), 2), 0.0), 100.0)
    tier, route = ("high", "ae_queue") if score >= 70 else ("monitor", "nurture") if score >= 40 \
        else ("disqualify", "suppress")
    reasons = "; ".join(t for _, t in sorted(parts, key=lambda pt: (-pt[0], pt[1]))[:3])
    return score, tier, route, reasons


def pandas_score(inp: Path, rows: int) -> Any:
    """Read the first ``rows`` accounts into pandas and score them with ``DataFrame.apply``."""
    import pandas as pd
    import pyarrow.parquet as pq

    df = next(pq.ParquetFile(inp).iter_batches(batch_size=rows)).to_pandas()
    scored = df.apply(score_row, axis=1)  # a Series of tuples; cheaper than result_type="expand"
    df[["fit_score", "tier", "route", "reasons"]] = pd.DataFrame(scored.tolist(), index=df.index)
    return df


# --------------------------------------------------------------------------- checks

def agreement(reference: Path, other: Any) -> dict[str, str]:
    """How many rows of ``other`` (a Parquet path or a pandas frame) agree with icpkit's output."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    if not isinstance(other, Path):
        con.register("other_df", other)
    src = f"read_parquet({_q(other)})" if isinstance(other, Path) else "other_df"
    cols = set(con.sql(f"SELECT * FROM {src} LIMIT 0").columns)
    same = {"fit_score, tier, route": "a.fit_score = b.fit_score AND a.tier = b.tier AND a.route = b.route"}
    if "abm_tier" in cols:
        same["abm_tier"] = "a.abm_tier IS NOT DISTINCT FROM b.abm_tier"
    if POINTS[0] in cols:
        same["points"] = " AND ".join(f"a.{p} = b.{p}" for p in POINTS)
    if "reasons" in cols:
        same["reasons"] = "a.reasons = b.reasons"
    sums = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in same.values())
    total, *hits = con.execute(f"SELECT count(*), {sums} FROM read_parquet({_q(reference)}) a "
                           f"JOIN {src} b USING (domain)").fetchone()  # type: ignore[misc]
    return {name: f"{hit}/{total}" for name, hit in zip(same, hits)}


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rate(rows: float, seconds: float) -> str:
    r = rows / seconds if seconds else float("inf")
    return f"{r / 1e6:.2f}M" if r >= 1e6 else f"{r / 1e3:.0f}k"


def icpkit_source() -> str:
    """Which icpkit is measured: the repository's src/ at a commit (noting local changes), or
    another copy (e.g. a snapshot put first on PYTHONPATH)."""
    import icpkit

    src = Path(icpkit.__file__).resolve().parents[1]
    if src != REPO / "src":
        return f"{icpkit.__version__} from {rel(src) if src.is_relative_to(REPO) else src.name}"
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True).stdout
    return f"{icpkit.__version__} from src/ at commit {head}" + (" with uncommitted changes" if dirty else "")
