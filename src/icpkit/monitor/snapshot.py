"""A scored population in a few numbers: what a run keeps in the history and what drift
compares.

A :class:`Snapshot` holds the records per fit score, per tier, and per points of each
criterion (the criterion's outcome as the score sees it: a points value stands for the
values that earn it). It is small (a few hundred numbers however many records were scored)
and is computed from counts: from the scored rows, or from the plan's per-combination
counts on an engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..profile.model import Profile

#: The fit-score bands drift compares: [0, 10), [10, 20) ... [90, 100].
SCORE_BANDS = tuple(range(0, 100, 10))
POINTS_PREFIX = "points_"


@dataclass
class Snapshot:
    """Records per fit score, tier and criterion points (see the module docstring)."""

    rows: int
    scores: dict[float, int]
    tiers: dict[str, int]
    points: dict[str, dict[float, int]] = field(default_factory=dict)  # criterion -> points -> records

    def score_bands(self) -> dict[str, int]:
        """Records per band of :data:`SCORE_BANDS` (100 in the last band)."""
        out = {band_label(b): 0 for b in SCORE_BANDS}
        for score, n in self.scores.items():
            out[band_label(min(90, int(score // 10) * 10))] += n
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["scores"] = [[s, n] for s, n in sorted(self.scores.items())]
        d["points"] = {k: [[p, n] for p, n in sorted(v.items())] for k, v in self.points.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Snapshot:
        return cls(int(d["rows"]), {float(s): int(n) for s, n in d["scores"]},
                   {str(k): int(v) for k, v in d["tiers"].items()},
                   {k: {float(p): int(n) for p, n in v} for k, v in d.get("points", {}).items()})


def band_label(low: int) -> str:
    return f"{low}-{low + 10}" if low < 90 else "90-100"


def from_rows(profile: Profile, rows: Iterable[Mapping[str, Any]]) -> Snapshot:
    """The snapshot of scored rows (dicts with ``fit_score``, ``tier`` and ``points_<criterion>``)."""
    return from_counts(profile, ({**r, "n": 1} for r in rows))


def from_counts(profile: Profile, counts: Iterable[Mapping[str, Any]]) -> Snapshot:
    """The snapshot of counted rows: dicts as :func:`from_rows` takes, each with ``n``, the
    records it stands for (a plan's per-combination counts)."""
    keys = [c.key for c in profile.criteria]
    scores: Counter[float] = Counter()
    tiers: Counter[str] = Counter()
    points: dict[str, Counter[float]] = {k: Counter() for k in keys}
    rows = 0
    for r in counts:
        n = int(r["n"])
        rows += n
        if r.get("fit_score") is not None:
            scores[float(r["fit_score"])] += n
        if r.get("tier") is not None:
            tiers[str(r["tier"])] += n
        for k in keys:
            value = r.get(POINTS_PREFIX + k)
            if value is not None:
                points[k][float(value)] += n
    order = [t.name for t in profile.tiers]
    return Snapshot(rows, dict(scores), {t: tiers[t] for t in order if t in tiers} | dict(tiers),
                    {k: dict(v) for k, v in points.items()})
