"""TAM sizing: how many companies of a universe a profile selects, tier by tier.

An ICP that selects a handful of companies is too narrow to fill a pipeline; one that
selects thousands, or a large share of the market, does no filtering. ``size_tam`` judges the
counts of a universe (e.g. a firmographic database) scored with the same engine as ``icp
score`` and says which of the two it is, if either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..profile.model import Profile


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

    @property
    def top(self) -> int:
        return self.tiers.get(self.top_tier, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "tiers": self.tiers, "top_tier": self.top_tier, "top": self.top,
                "verdict": self.verdict, "warnings": self.warnings, "rejected": self.rejected}


def judge(profile: Profile, counts: dict[str, int], *, limits: TamLimits = TamLimits(),
          warnings: list[str] | None = None, rejected: int = 0) -> Tam:
    """The TAM a profile selects from its universe's accounts per tier (``counts``): too
    narrow, too broad, or ok. Scoring the universe is the runner's job
    (:func:`icpkit.api.size_tam`)."""
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
    return Tam(total, tiers, top_tier, verdict, warnings, rejected)
