"""TAM sizing: how many companies of a universe a profile selects, tier by tier.

An ICP that selects a handful of companies is too narrow to fill a pipeline; one that
selects thousands, or a large share of the market, does no filtering. ``size_tam`` judges the
counts of a universe (e.g. a firmographic database) scored with the same engine as ``icp
score`` and says which of the two it is, if either. Each tier is broken down by industry
group, country and size band where the universe has those columns (counted by
:mod:`icpkit.discover.segments`), so a user sees *what* the profile selects, not only how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..profile.model import Profile

#: Buckets of a breakdown that are no value of its dimension, in the order they follow the
#: values: the rest ("other"), values that are no known industry or country, blanks.
OTHER, UNKNOWN_INDUSTRY, UNKNOWN_COUNTRY, MISSING = "other", "unknown industry", "unknown country", "missing"
SPECIAL = (OTHER, UNKNOWN_INDUSTRY, UNKNOWN_COUNTRY, MISSING)

#: LinkedIn's company size bands: (largest head count in the band, label); the last is open.
SIZE_BANDS: tuple[tuple[float | None, str], ...] = (
    (10, "1-10"), (50, "11-50"), (200, "51-200"), (500, "201-500"), (1_000, "501-1,000"),
    (5_000, "1,001-5,000"), (10_000, "5,001-10,000"), (None, "10,001+"),
)

#: The dimensions a TAM is broken down by, and how a user reads their names.
DIMENSION_NAMES = {"industry_group": "industry group", "country": "country", "size_band": "size band (employees)"}


@dataclass(frozen=True)
class TamLimits:
    """When the top tier is too narrow or too broad."""

    narrow: int = 50  # fewer companies than this in the top tier: too narrow
    broad: int = 5000  # more than this: too broad
    broad_share: float = 0.20  # or more than this share of the universe: too broad


@dataclass
class Tam:
    total: int
    tiers: dict[str, int]  # tier -> companies, highest tier first
    top_tier: str
    verdict: str  # "too narrow", "too broad" or "ok"
    warnings: list[str] = field(default_factory=list)
    rejected: int = 0
    #: tier -> dimension ("industry_group", "country", "size_band") -> value -> companies:
    #: the values largest first (size bands in band order), then "other", "unknown
    #: industry" / "unknown country" and "missing"; only the dimensions the universe has.
    segments: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def top(self) -> int:
        return self.tiers.get(self.top_tier, 0)

    @property
    def dimensions(self) -> list[str]:
        """The dimensions broken down, in the order of :data:`DIMENSION_NAMES`."""
        seen = {d for by_dim in self.segments.values() for d in by_dim}
        return [d for d in DIMENSION_NAMES if d in seen]

    def crosstab(self, dimension: str, top: int = 5) -> list[tuple[str, dict[str, int]]]:
        """One dimension as rows of (value, tier -> companies): the ``top`` largest values of
        each tier (every size band), the largest in the top tier first (then in the next
        tier...; size bands in band order), then "other" (the rest), unknown and missing
        values; every tier in each row."""
        per_tier = {t: self.segments.get(t, {}).get(dimension, {}) for t in self.tiers}
        shown: list[str] = []
        for counts in per_tier.values():
            values = [v for v in counts if v not in SPECIAL]
            for v in values if dimension == "size_band" else values[:top]:
                if v not in shown:
                    shown.append(v)
        if dimension == "size_band":
            band = {label: i for i, (_, label) in enumerate(SIZE_BANDS)}
            shown.sort(key=lambda v: band[v])
        else:
            shown.sort(key=lambda v: ([-c.get(v, 0) for c in per_tier.values()], v))
        rows = [(v, {t: c.get(v, 0) for t, c in per_tier.items()}) for v in shown]
        unknown = SPECIAL[1:]
        rest = {t: sum(n for v, n in c.items() if v not in shown and v not in unknown) for t, c in per_tier.items()}
        if any(rest.values()):
            rows.append((OTHER, rest))
        for v in unknown:
            if any(v in c for c in per_tier.values()):
                rows.append((v, {t: c.get(v, 0) for t, c in per_tier.items()}))
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "tiers": self.tiers, "top_tier": self.top_tier, "top": self.top,
                "verdict": self.verdict, "warnings": self.warnings, "rejected": self.rejected,
                "segments": self.segments}



def judge(profile: Profile, counts: dict[str, int], *, limits: TamLimits = TamLimits(),
          warnings: list[str] | None = None, rejected: int = 0,
          segments: dict[str, dict[str, dict[str, int]]] | None = None) -> Tam:
    """The TAM a profile selects from its universe's accounts per tier (``counts``): too
    narrow, too broad, or ok; ``segments`` is each tier's breakdown (see :attr:`Tam.segments`).
    Scoring the universe is the runner's job (:func:`icpkit.api.size_tam`)."""
    tiers = {t.name: counts.get(t.name, 0) for t in profile.ordered_tiers}
    top_tier = profile.ordered_tiers[0].name
    total = sum(tiers.values())
    top = tiers[top_tier]
    share = top / total if total else 0.0
    warnings = list(warnings or [])
    if top < limits.narrow:
        verdict = "too narrow"
        warnings.append(f"only {top:,} companies reach the {top_tier} tier (fewer than {limits.narrow:,}): "
                        "the profile is too narrow to fill a pipeline")
    elif top > limits.broad or share > limits.broad_share:
        verdict = "too broad"
        warnings.append(f"{top:,} companies ({share:.0%} of the universe) reach the {top_tier} tier (more than "
                        f"{limits.broad:,} or {limits.broad_share:.0%}): the profile does little filtering")
    else:
        verdict = "ok"
    by_tier = {t: segments.get(t, {}) for t in tiers} if segments else {}
    return Tam(total, tiers, top_tier, verdict, warnings, rejected, by_tier)
