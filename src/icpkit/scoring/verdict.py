"""The verdict of one combination of outcomes: points, fit score, tier, route, disqualifier
and reasons, in Python.

A row's verdict depends only on which outcome of each criterion applied, which adjustments
held and which disqualifier (if any) held first. The one-record Scorer computes it per
combination it meets; the bulk plan computes it for every possible combination up front
when there are few (see ``scoring.plan``), so that each row looks its verdict up by number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..io.record import sql_round
from ..profile.model import Adjustment, Profile
from .record_rules import signed

__all__ = ["Verdicts", "adjustment_text"]


def adjustment_text(a: Adjustment) -> str:
    """The reason text of an adjustment that holds."""
    return f"{a.reason or a.name} ({signed(a.points)})"


@dataclass(frozen=True)
class Verdicts:
    """A profile's verdict of any combination of outcomes.

    ``criteria``: each criterion's key and its outcomes' (points, reason text), points
    already scaled; ``adjustments``: (name, points, text); ``disqualifiers``: (name, the tier
    it forces, the reasons' prefix)."""

    profile: Profile
    criteria: tuple[tuple[str, tuple[tuple[float, str], ...]], ...]
    adjustments: tuple[tuple[str, float, str], ...]
    disqualifiers: tuple[tuple[str, str, str], ...]

    @classmethod
    def of(cls, profile: Profile, criteria: Sequence[tuple[str, Sequence[tuple[float, str]]]]) -> Verdicts:
        lowest = profile.ordered_tiers[-1].name
        return cls(
            profile,
            tuple((key, tuple(outcomes)) for key, outcomes in criteria),
            tuple((a.name, float(a.points), adjustment_text(a)) for a in profile.adjustments),
            tuple((d.name, d.tier or lowest, f"disqualified: {d.reason}") for d in profile.disqualifiers),
        )

    def verdict(self, outcomes: Sequence[int], held: Sequence[bool], dq: int, *,
                explain: bool = False) -> dict[str, Any]:
        """The verdict of the combination: outcome ``outcomes[i]`` of criterion ``i``, adjustment
        ``j`` held when ``held[j]``, disqualifier ``dq`` (1-based; 0 for none). The columns of
        a scored row (``abm_tier`` None: it ranks a population), with ``reason_<name>`` when
        ``explain``."""
        points: dict[str, float] = {}
        entries: list[tuple[float, str | None]] = []
        texts: dict[str, str | None] = {}
        for (key, table), i in zip(self.criteria, outcomes):
            pts, text = table[i]
            points[f"points_{key}"] = pts
            entries.append((pts, text))
            texts[f"reason_{key}"] = text
        for (name, pts, text), on in zip(self.adjustments, held):
            points[f"points_{name}"] = pts if on else 0.0
            entries.append((pts if on else 0.0, text if on else None))
            texts[f"reason_{name}"] = text if on else None
        total = 0.0
        for i, pts in enumerate(points.values()):
            total = pts if i == 0 else total + pts  # summed in the plan's order
        fit = min(100.0, max(0.0, sql_round(total, 2)))
        p = self.profile
        if dq:
            dq_name, tier, prefix = self.disqualifiers[dq - 1]
        else:
            dq_name, prefix = None, None
            tier = next((t.name for t in p.ordered_tiers[:-1] if fit >= t.min), p.ordered_tiers[-1].name)
        pos = sorted((-pts, t) for pts, t in entries if pts > 0)[:p.reasons.positive]
        neg = sorted((pts, t) for pts, t in entries if pts < 0)[:p.reasons.negative]
        line = "; ".join(t for _, t in pos + neg)  # type: ignore[misc]
        if prefix is not None:
            line = prefix + "; " + line if line else prefix
        route = next(t.route for t in p.ordered_tiers if t.name == tier)
        out = {"fit_score": fit, "tier": tier, "abm_tier": None, "route": route, "disqualified_by": dq_name,
               "reasons": line, **points}
        if explain:
            out.update(texts)
        return out
