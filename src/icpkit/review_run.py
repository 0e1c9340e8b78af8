"""The quarterly review: everything a team needs to review its ICP, from one labelled,
dated history of accounts (and optionally the previous profile and a universe).

* the **backtest** of the profile on the whole history (AUC and the MadKudu figures, with
  intervals);
* **drift** of the latest period (quarter by default) with at least 100 records (a period
  only begun is passed over) against every record before it:
  stability of the score and each criterion, win rate by tier per period, emerging and
  fading segments, actions;
* the **TAM** by segment: the universe given, else the history's accounts;
* the **changelog** against ``previous``: the differences between the versions in words,
  and what each did on the same history (a paired comparison).

:func:`review` returns the data (:class:`Review`); :mod:`icpkit.report.review` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .backends.base import Backend
from .drift_run import read_records
from .errors import DataError
from .monitor.drift import MIN_ROWS, Side, drift, period_of
from .profile.diff import profile_diff
from .profile.model import Profile


@dataclass
class Review:
    profile: str
    version: str
    history: str
    rows: int
    first: str
    last: str
    latest_period: str
    generated_at: str
    every: str  # month or quarter
    date: str  # the date column
    tam_of: str  # what the TAM was sized in: the universe's name, or the history's
    backtest: dict[str, Any]
    drift: dict[str, Any]
    tam: dict[str, Any] | None
    previous: str | None = None
    changelog: list[dict[str, Any]] = field(default_factory=list)
    comparison: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def review(backend: Backend, profile: Profile, history: Any, *, label: str, date: str, every: str = "quarter",
           previous: Profile | None = None, previous_name: str | None = None, tam: dict[str, Any] | None = None,
           tam_of: str = "", backtest: dict[str, Any], comparison: dict[str, Any] | None = None) -> Review:
    """The review's figures; the backtest, TAM and comparison come computed (``api.review``)."""
    records = read_records(backend, profile, history, label=label, date_col=date)
    assert records.dates is not None
    periods = period_of(records.dates, every)
    counts = {p: int((periods == p).sum()) for p in sorted(set(periods.tolist()))}
    # the latest period with enough records to compare (a quarter only begun is passed over)
    latest = next((p for p in reversed(counts) if counts[p] >= MIN_ROWS), max(counts))
    now_ = periods == latest
    if not (periods < latest).any():
        raise DataError(f"every record of {records.where} is in {latest}: a review compares the latest {every} with "
                        "the ones before it", where=records.where, hint="give a longer history, or --every month")
    before = records.subset(periods < latest, f"{records.where}, before {latest}")
    current = records.subset(now_, f"{records.where}, {latest}")
    d = drift(profile, Side(f"before {latest}", before.snapshot(profile), before),
              Side(latest, current.snapshot(profile), current), every=every)
    # win rates by period over the whole history (drift gives them for both sides together)
    changes = [c.to_dict() for c in profile_diff(previous, profile)] if previous is not None else []
    return Review(profile.name, profile.version_hash, records.where, len(records.scores), str(np.min(records.dates)),
                  str(np.max(records.dates)), latest, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), every, date,
                  tam_of or records.where, backtest, d.to_dict(), tam, previous_name, changes, comparison)
