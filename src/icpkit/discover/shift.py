"""Has the scored population moved away from the one a profile was learned on?

A learned profile keeps its training population (:class:`~icpkit.profile.model.Population`):
the share of the records in each fit-score band (the training deciles) and in each tier.
:func:`shift` compares a scored population with it, from counts alone:

* the **population stability index** (PSI) of the fit score, ``sum((a - e) * ln(a / e))``
  over the bands, ``a`` and ``e`` the current and training shares (a share of 0 counted as
  0.0001 so that an empty band stays finite). The usual reading: below 0.10 stable,
  0.10-0.25 watch, 0.25 and above shifted;
* each tier's share against its training share: a tier holding more than twice or less
  than half its training share, and at least 10 points more or less, is a warning in words
  ("100% of the records are in high; 25% were when it was learned"); a tier with no
  records is reported as empty.

Scoring measures it on :data:`MIN_ROWS` records or more (fewer say too little), a backtest
always, next to its other figures. A profile whose points changed
since it was learned (its version differs from the population's) has no baseline: both
give no figures, and the second a note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..profile.model import range_label

#: Bands of the population stability index.
PSI_WATCH, PSI_SHIFTED = 0.10, 0.25
#: Fewest records a shift is measured on.
MIN_ROWS = 1_000
#: A band's share counted when it is empty.
EMPTY_SHARE = 1e-4
#: A tier's share moved "far": by this much, and by a factor of two.
TIER_MOVE = 0.10


@dataclass
class Shift:
    """The shift of a scored population from the training one; see the module docstring."""

    rows: int
    psi: float
    level: str  # stable, watch or shifted
    bands: list[dict[str, Any]]  # band, training share, current share
    tiers: list[dict[str, Any]]  # tier, training share, current share, records
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def psi(expected: Any, actual: Any) -> float:
    """Population stability index of two aligned arrays of shares."""
    e = np.maximum(np.asarray(expected, dtype=float), EMPTY_SHARE)
    a = np.maximum(np.asarray(actual, dtype=float), EMPTY_SHARE)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_level(value: float) -> str:
    return "stable" if value < PSI_WATCH else "watch" if value < PSI_SHIFTED else "shifted"


def shift(profile: Any, scores: Mapping[float, int], tiers: Mapping[str, int], *,
          min_rows: int = MIN_ROWS) -> tuple[Shift | None, str | None]:
    """The shift of a population scored by ``profile``: ``scores`` counts the records per
    fit score, ``tiers`` per tier. Returns the shift (None when there is nothing to compare,
    or fewer than ``min_rows`` records) and a note saying why there is none, when that is
    worth saying."""
    pop = profile.population
    rows = int(sum(scores.values()))
    if pop is None or rows < min_rows:
        return None, None
    if pop.version != profile.version_hash:
        return None, ("the profile's points changed since it was learned: its training population no longer "
                      "applies, so no shift is measured (learn again to renew it)")
    values = np.array(list(scores), dtype=float)
    counts = np.array(list(scores.values()), dtype=float)
    band = np.searchsorted(np.asarray(pop.score_edges, dtype=float), values, side="right")
    actual = np.bincount(band, weights=counts, minlength=len(pop.score_shares)) / rows
    value = psi(pop.score_shares, actual)
    level = psi_level(value)
    bounds = [-math.inf, *pop.score_edges, math.inf]
    bands = [{"band": range_label(bounds[i], bounds[i + 1]), "training": e, "current": round(float(a), 4)}
             for i, (e, a) in enumerate(zip(pop.score_shares, actual, strict=True))]
    warnings = []
    if level != "stable":
        warnings.append(
            f"the fit scores moved away from those the profile was learned on: population stability index "
            f"{value:.2f} ({level}: {'0.10-0.25' if level == 'watch' else '0.25 or more'}); "
            + ("check that the input is read as it was when learning, and learn again on recent records"
               if level == "shifted" else "watch the next runs"))
    tier_rows = []
    for name, e in pop.tier_shares.items():
        n = int(tiers.get(name, 0))
        a = n / rows
        tier_rows.append({"tier": name, "training": e, "current": round(a, 4), "records": n})
        if n == 0 and e > 0:
            warnings.append(f"tier {name} is empty: no record is in it ({e:.0%} were when the profile was learned)")
        elif abs(a - e) >= TIER_MOVE and (a >= 2 * e or a <= e / 2):
            warnings.append(f"{a:.0%} of the records are in tier {name}; {e:.0%} were when the profile was learned")
    return Shift(rows, round(value, 4), level, bands, tier_rows, warnings), None

