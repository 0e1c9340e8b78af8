"""Small inputs scored in-process: ``icp score`` of a small CSV file by the one-record Scorer
instead of an engine, writing byte for byte what the engine writes.

Starting the engine costs more than scoring a few thousand accounts: importing the DuckDB
backend (ibis, sqlglot, duckdb) and compiling the plan to SQL take well over a second,
while :class:`~icpkit.scoring.record.Scorer` scores a record in microseconds with exactly
bulk scoring's values (``tests/backends/test_scorer_parity.py`` holds it to the engines).
:func:`score_small` takes the happy path only. It scores, and writes, when

- the profile is fit scoring: criteria, and no intent, triggers or personas (those read
  events and contacts, which the engine checks and deduplicates);
- the input is a CSV file of at most :data:`MAX_ROWS` data rows and :data:`MAX_BYTES`
  bytes, plain enough to be read exactly as the engine reads it
  (:func:`~icpkit.io.small_csv.read_small_csv` says what that excludes);
- the output is a CSV file (Parquet and JSON lines are the engine's own encoders);
- every value can be read, every account has a domain and no domain repeats (or the
  input has no domain column), and every country is recognised (the engine words that
  warning).

Anything else gives None *before anything is written*, and :func:`icpkit.api.score_to`
runs the engine, whose errors, rejects and warnings are then the usual ones. The caller
sends only runs on the default engine without events or contacts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import DataError, IcpError
from .io import record as rv
from .io.crm import canonical_mapping
from .io.notes import small_file_warnings
from .io.small_csv import read_small_csv, write_csv
from .io.sources import file_format
from .monitor.snapshot import Snapshot, from_rows
from .profile.model import Abm, Profile
from .rejects import Rejects
from .scoring.record import Scorer

#: The largest input scored in-process: data rows and bytes. About 50 ms of scoring at
#: most, against the engine's fixed ~1.5 s; a larger file goes to the engine (it does not
#: pay to read a file twice when it turns out to have a problem).
MAX_ROWS = 2_000
MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class SmallRun:
    """What a small run wrote: the fields of a ``ScoreRun`` it has."""

    rows: int
    output: str
    tiers: dict[str, int]
    top: list[dict[str, Any]]
    crm_source: str | None
    rejects: Rejects = field(default_factory=Rejects)
    warnings: list[str] = field(default_factory=list)  # worded as the engine words them
    scores: dict[float, int] = field(default_factory=dict)  # accounts per fit score (a learned profile)
    snapshot: Snapshot | None = None


def score_small(profile: Profile, accounts: Any, target: Any, *, scored_at: datetime | None = None,
                top: int = 5) -> SmallRun | None:
    """Score the CSV file ``accounts`` with ``profile`` into the CSV file ``target`` as the
    engine would, or None (nothing written) when the run is not one for the small path
    (see the module docstring)."""
    if profile.intent is not None or profile.triggers or profile.personas or not profile.criteria \
            or not isinstance(accounts, (str, Path)) or not isinstance(target, Path) or top < 0 \
            or not _is_csv(accounts, "input") or not _is_csv(target, "output") or target.is_dir():
        return None
    read = read_small_csv(Path(accounts), max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    if read is None:
        return None
    dialect, records = read
    header = dialect.header
    scorer = Scorer(profile)
    try:
        fields = scorer.columns(header)
        scored = scorer.score_many(records, scored_at=scored_at)
    except IcpError:
        return None
    key = "domain" if "domain" in fields else "row"
    if key == "domain" and len({r["domain"] for r in scored}) != len(scored):
        return None
    if "country" in fields and _unrecognised_country(records, fields["country"]):
        return None
    if "industry" in fields and any(rv.industry_is_unrecognised(r[fields["industry"]]) for r in records):
        return None  # the engine words the warning
    warnings = small_file_warnings(str(accounts), dialect, records, keyed=key == "domain")
    tiers = _tier_counts(profile, scored)
    _rank_abm(profile.abm, scored, key)
    columns = list(scored[0])
    try:
        output = write_csv(target, columns, [list(r.values()) for r in scored])
    except (ValueError, OSError):  # a value without a known CSV form (found before writing), or the
        return None  # file cannot be written (nothing left behind): the engine reports it
    best = sorted(scored, key=lambda r: (-r["fit_score"], r[key]))[:top]
    return SmallRun(len(scored), output, tiers,
                    [{key: r[key], "fit_score": r["fit_score"], "tier": r["tier"], "abm_tier": r["abm_tier"],
                      "reasons": r["reasons"]} for r in best],
                    canonical_mapping(list(header), explicit=profile.columns).source, warnings=warnings,
                    scores=dict(Counter(r["fit_score"] for r in scored)) if profile.population else {},
                    snapshot=from_rows(profile, scored))


def _is_csv(path: str | Path, purpose: str) -> bool:
    try:
        return file_format(path, purpose=purpose) == "csv"
    except DataError:
        return False


def _unrecognised_country(records: list[dict[str, str | None]], header: str) -> bool:
    """A country that is neither blank nor read as an ISO code (``values.country_is_unrecognised``)."""
    codes = rv.country_codes()
    return any(not rv.is_blank(r[header]) and rv.normalize_country(r[header]) not in codes for r in records)


def _tier_counts(profile: Profile, scored: list[dict[str, Any]]) -> dict[str, int]:
    """Accounts per tier, the tier with the best fit score first, ties in the profile's order
    (``ScoringPlan.tier_counts``)."""
    counts: dict[str, int] = {}
    best: dict[str, float] = {}
    for r in scored:
        tier, fit = r["tier"], r["fit_score"]
        counts[tier] = counts.get(tier, 0) + 1
        if tier not in best or fit > best[tier]:
            best[tier] = fit
    order = {t.name: i for i, t in enumerate(profile.ordered_tiers)}
    return {tier: counts[tier] for tier in sorted(best, key=lambda t: (-best[t], order.get(t, len(order))))}


def _rank_abm(abm: Abm | None, scored: list[dict[str, Any]], key: str) -> None:
    """Set ``abm_tier`` as ``scoring.plan.with_abm_tier`` does: the accounts of the ABM tier
    that are not disqualified, by fit score then key: the first ``a`` A, the next ``b`` B,
    the rest C."""
    if abm is None:
        return
    eligible = [r for r in scored if r["tier"] == abm.tier and r["disqualified_by"] is None]
    eligible.sort(key=lambda r: (-r["fit_score"], r[key]))
    for rank, r in enumerate(eligible):
        r["abm_tier"] = "A" if rank < abm.a else "B" if rank < abm.a + abm.b else "C"
