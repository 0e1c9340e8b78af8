"""Canonical, typed synthetic accounts for benchmarks and property tests.

:func:`generate_accounts_table` builds an Arrow table in the canonical account
schema (see ``DESIGN.md``) with numpy only, no Python loop per row, so that ten
million rows take seconds. The values are deliberately awkward where scoring code
tends to break: industries in odd case or with stray spaces, exact criterion
boundaries (employees 37.5, 50, 500, 625; funding 90, 91, 365, 366 days) and
their neighbours, NULLs in every optional column, empty and NULL technology lists.

Rows are generated in fixed chunks of :data:`CHUNK_ROWS`, each from its own
generator seeded with ``(seed, chunk_index)``, so :func:`write_accounts_parquet`
writes exactly the rows :func:`generate_accounts_table` returns while holding one
chunk in memory.

This module also holds the vocabulary (industries as LinkedIn writes them,
technologies, countries, business models) shared with the CRM demo generator in
:mod:`icpkit.demo.generate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "ACCOUNT_SCHEMA",
    "BUSINESS_MODELS",
    "CHUNK_ROWS",
    "COUNTRIES",
    "EMPLOYEE_BOUNDARIES",
    "FUNDING_BOUNDARIES",
    "INDUSTRIES",
    "TOOLS",
    "generate_accounts_table",
    "iter_account_batches",
    "write_accounts_parquet",
]

#: Industries as LinkedIn (and so most enrichment vendors) write them, with a
#: relative frequency for a B2B SaaS vendor's CRM.
INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("computer software", 9), ("internet", 6),
    ("information technology and services", 10), ("marketing and advertising", 6),
    ("financial services", 6), ("hospital & health care", 5), ("retail", 4),
    ("higher education", 3), ("staffing and recruiting", 3),
    ("management consulting", 4), ("real estate", 3), ("construction", 3),
    ("insurance", 3), ("banking", 2), ("telecommunications", 2), ("e-learning", 2),
    ("consumer goods", 2), ("logistics and supply chain", 3), ("automotive", 2),
    ("accounting", 2), ("law practice", 2), ("medical devices", 2),
    ("pharmaceuticals", 2), ("hospitality", 2), ("food & beverages", 2),
    ("non-profit organization management", 2), ("media production", 1),
    ("computer & network security", 2), ("electrical/electronic manufacturing", 2),
    ("renewables & environment", 1), ("human resources", 1), ("wholesale", 1),
)

#: Technologies as vendors brand them, with the share of accounts using each.
TOOLS: tuple[tuple[str, float], ...] = (
    ("Salesforce", 0.22), ("HubSpot", 0.28), ("Slack", 0.45),
    ("Google Workspace", 0.40), ("Microsoft 365", 0.30), ("Zendesk", 0.12),
    ("Intercom", 0.10), ("Segment", 0.06), ("Snowflake", 0.05), ("AWS", 0.25),
    ("Google Analytics", 0.45), ("Marketo", 0.05), ("Outreach", 0.05),
    ("Gong", 0.04), ("Stripe", 0.12), ("Shopify", 0.08), ("WordPress", 0.25),
    ("Jira", 0.18), ("Zoom", 0.30), ("Okta", 0.07), ("Datadog", 0.05),
    ("Mailchimp", 0.12), ("Pipedrive", 0.04), ("Zoho CRM", 0.04), ("Workday", 0.04),
)

#: ISO 3166-1 alpha-2 codes with a relative frequency.
COUNTRIES: tuple[tuple[str, float], ...] = (
    ("US", 44), ("CA", 7), ("GB", 10), ("DE", 6), ("FR", 4), ("NL", 3), ("IN", 5),
    ("AU", 4), ("BR", 2), ("ES", 2), ("SE", 2), ("IE", 2), ("SG", 2), ("IL", 1.5),
    ("CH", 1.5), ("DK", 1), ("JP", 1), ("MX", 1), ("PL", 1), ("IT", 1),
)

BUSINESS_MODELS: tuple[tuple[str, float], ...] = (
    ("saas", 30), ("services", 20), ("agency", 10), ("ecommerce", 10),
    ("consulting", 10), ("marketplace", 6), ("hardware", 7), ("manufacturing", 7),
)

#: Criterion edges (50-500 with 75 % / 125 % partial-credit bands) and neighbours.
EMPLOYEE_BOUNDARIES: tuple[float, ...] = (
    37.5, 50.0, 500.0, 625.0,
    37.0, 38.0, 49.0, 51.0, 499.0, 501.0, 624.0, 626.0,
    float(np.nextafter(50.0, 0.0)), float(np.nextafter(500.0, 1e9)),
)
FUNDING_BOUNDARIES: tuple[float, ...] = (89.0, 90.0, 91.0, 364.0, 365.0, 366.0)

CHUNK_ROWS = 1 << 20

ACCOUNT_SCHEMA = pa.schema([
    pa.field("domain", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("industry", pa.string()),
    pa.field("employees", pa.float64()),
    pa.field("revenue", pa.float64()),
    pa.field("country", pa.string()),
    pa.field("technologies", pa.list_(pa.string())),
    pa.field("days_since_funding", pa.float64()),
    pa.field("business_model", pa.string()),
    pa.field("founded_year", pa.int64()),
])

_STEMS = (
    "north", "blue", "bright", "quantum", "iron", "silver", "peak", "cedar", "harbor",
    "summit", "nova", "clear", "swift", "atlas", "lumen", "orbit", "pine", "river",
    "stone", "vector", "maple", "copper", "delta", "ember", "granite", "helix",
)
_ROOTS = ("wave", "stack", "forge", "leaf", "path", "grid", "loop", "byte", "field",
          "point", "works", "ly", "ware", "hub", "bay", "line")
_SUFFIXES = ("Labs", "Inc.", "Group", "Systems", "Software", "Analytics", "Health",
             "Partners", "Media", "Logistics", "Technologies", "Co.")


def _weights(pairs: tuple[tuple[str, float], ...]) -> tuple[pa.Array, np.ndarray]:
    values = pa.array([v for v, _ in pairs], pa.string())
    p = np.array([w for _, w in pairs], dtype=np.float64)
    return values, p / p.sum()


def _pick(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...], m: int,
          null_share: float) -> pa.Array:
    values, p = _weights(pairs)
    idx = rng.choice(len(p), size=m, p=p)
    return values.take(pa.array(idx, mask=rng.random(m) < null_share))


def _industry(rng: np.random.Generator, m: int) -> pa.Array:
    names = [v for v, _ in INDUSTRIES]
    # variant 0 is canonical; 1-3 are the case/whitespace slips of real exports
    variants = names + [" " + v.title() for v in names] + [v.upper() for v in names] \
        + [v + " " for v in names]
    _, p = _weights(INDUSTRIES)
    idx = rng.choice(len(names), size=m, p=p)
    messy = rng.random(m) < 0.04
    idx = idx + np.where(messy, rng.integers(1, 4, size=m), 0) * len(names)
    return pa.array(variants, pa.string()).take(pa.array(idx, mask=rng.random(m) < 0.04))


def _employees(rng: np.random.Generator, m: int) -> np.ndarray:
    emp = np.clip(np.rint(rng.lognormal(np.log(70.0), 1.8, size=m)), 1, 500_000)
    edge = rng.random(m) < 0.05
    emp[edge] = rng.choice(np.array(EMPLOYEE_BOUNDARIES), size=int(edge.sum()))
    emp[rng.random(m) < 0.03] = np.nan
    return emp


def _technologies(rng: np.random.Generator, m: int) -> pa.Array:
    names = pa.array([t.lower() for t, _ in TOOLS], pa.string())
    p = np.array([w for _, w in TOOLS], dtype=np.float32)
    used = rng.random((m, len(TOOLS)), dtype=np.float32) < p
    null = rng.random(m) < 0.03
    used[null | (rng.random(m) < 0.03)] = False  # NULL lists and forced empty lists
    offsets = np.zeros(m + 1, dtype=np.int32)
    np.cumsum(used.sum(axis=1), out=offsets[1:])
    cols = (np.flatnonzero(used) % len(TOOLS)).astype(np.int32)  # row-major: grouped by row
    return pa.ListArray.from_arrays(pa.array(offsets), names.take(pa.array(cols)),
                                    mask=pa.array(null))


def _funding(rng: np.random.Generator, m: int) -> np.ndarray:
    days = np.floor(rng.exponential(600.0, size=m))
    edge = rng.random(m) < 0.05
    days[edge] = rng.choice(np.array(FUNDING_BOUNDARIES), size=int(edge.sum()))
    days[(rng.random(m) < 0.45) & ~edge] = np.nan  # never funded
    return days


def _chunk(seed: int, index: int, start: int, m: int) -> pa.RecordBatch:
    rng = np.random.default_rng([seed, index])
    ids = pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + m)), pa.string()), 8, "0")
    stems = pa.array(_STEMS, pa.string()).take(pa.array(rng.integers(0, len(_STEMS), m)))
    roots = pa.array(_ROOTS, pa.string()).take(pa.array(rng.integers(0, len(_ROOTS), m)))
    suffix = pa.array(_SUFFIXES, pa.string()).take(
        pa.array(rng.integers(0, len(_SUFFIXES), m), mask=rng.random(m) < 0.02))
    domain = pc.binary_join_element_wise(stems, roots, ids, ".example", "")
    name = pc.binary_join_element_wise(
        pc.utf8_capitalize(pc.binary_join_element_wise(stems, roots, "")), suffix, " ")
    employees = _employees(rng, m)
    revenue = np.round(employees * rng.lognormal(np.log(140_000.0), 0.6, size=m), -3)
    revenue[rng.random(m) < 0.06] = np.nan
    founded = np.clip(2026 - np.rint(rng.lognormal(np.log(12.0), 0.8, size=m)), 1850, 2025)
    columns: list[pa.Array] = [
        domain, name, _industry(rng, m),
        pa.array(employees, pa.float64(), from_pandas=True),
        pa.array(revenue, pa.float64(), from_pandas=True),
        _pick(rng, COUNTRIES, m, 0.05),
        _technologies(rng, m),
        pa.array(_funding(rng, m), pa.float64(), from_pandas=True),
        _pick(rng, BUSINESS_MODELS, m, 0.02),
        pa.array(founded.astype(np.int64)),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=ACCOUNT_SCHEMA)


def iter_account_batches(n: int, seed: int = 7) -> Iterator[pa.RecordBatch]:
    """Yield the canonical accounts ``0..n-1`` as record batches of at most :data:`CHUNK_ROWS`."""
    for index, start in enumerate(_starts(n)):
        yield _chunk(seed, index, start, min(CHUNK_ROWS, n - start))


def _starts(n: int) -> range:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return range(0, n, CHUNK_ROWS)


def generate_accounts_table(n: int, seed: int = 7) -> pa.Table:
    """Return ``n`` canonical, typed synthetic accounts (schema :data:`ACCOUNT_SCHEMA`).

    ``domain`` is unique (``<stem><8-digit row number>.example``); the other
    columns are described in the module docstring. Deterministic for a seed.
    """
    return pa.Table.from_batches(list(iter_account_batches(n, seed)), schema=ACCOUNT_SCHEMA)


def write_accounts_parquet(path: Path | str, n: int, seed: int = 7,
                           row_group_size: int = 256 * 1024) -> Path:
    """Write the same rows as :func:`generate_accounts_table` to Parquet, chunk by chunk.

    Memory stays bounded by one chunk whatever ``n`` is. The file is written next
    to ``path`` under a temporary name and renamed into place when complete.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    try:
        with pq.ParquetWriter(tmp, ACCOUNT_SCHEMA) as writer:
            for batch in iter_account_batches(n, seed):
                writer.write_table(pa.Table.from_batches([batch]), row_group_size=row_group_size)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
