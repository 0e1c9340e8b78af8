"""Event times outside the years 1900-2200 are refused alike by every engine and by the
one-record Scorer: the same message, the same row and column; the times at the edges of the
span are read, and scored the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

import icpkit
from icpkit.errors import DataError
from icpkit.profile.model import Profile

AS_OF = datetime(2300, 1, 1, tzinfo=UTC)  # after every time below: each event is read
PROFILE = Profile.model_validate({"name": "years", "intent": {"signals": [{"type": "demo_request", "points": 10}]}})
ACCOUNT = {"domain": "acme.com"}


def events(when: Any) -> list[dict[str, Any]]:
    return [{"event_id": "1", "domain": "acme.com", "type": "demo_request", "occurred_at": "2026-01-05T10:00:00Z"},
            {"event_id": "2", "domain": "acme.com", "type": "demo_request", "occurred_at": when}]


def table(rows: list[dict[str, Any]], typed: bool) -> pa.Table:
    times = [r["occurred_at"] for r in rows]
    column = pa.array([datetime.fromisoformat(t.replace("Z", "+00:00")) if isinstance(t, str) else t for t in times],
                      pa.timestamp("us", tz="UTC")) if typed else pa.array(times, pa.string())
    return pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in ("event_id", "domain", "type")}
                    | {"occurred_at": column})


def outcome(run: Any, typed: bool) -> tuple[str, str] | float:
    """The intent score, or the error's message and place (without the events' label); of
    a typed time, the message without the time (each engine writes a timestamp its own way)."""
    try:
        out = run()
    except DataError as exc:
        return re.sub("'.*'", "'...'", exc.message) if typed else exc.message, exc.where.split(", ", 1)[1]
    rows = out.to_pylist() if isinstance(out, pa.Table) else [out]
    return float(rows[0]["intent_score"])


@pytest.mark.parametrize("typed", [False, True], ids=["text", "timestamp"])
@pytest.mark.parametrize("when,refused", [
    ("1900-01-01T00:00:00Z", False), ("2200-12-31T23:59:59Z", False), ("1899-12-31T23:59:59Z", True),
    ("2201-01-01T00:00:00Z", True), ("0001-01-01T00:00:00Z", True), ("9999-12-31T23:59:59Z", True),
])
def test_times_outside_the_span_are_refused_alike(engine: Any, typed: bool, when: str, refused: bool) -> None:
    rows = events(when)
    bulk = outcome(lambda: icpkit.score(PROFILE, pa.table({"domain": ["acme.com"]}), events=table(rows, typed),
                                        as_of=AS_OF, backend=engine), typed)
    one = outcome(lambda: icpkit.Scorer(PROFILE).score(ACCOUNT, events=rows if not typed else [
        {**r, "occurred_at": datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00"))} for r in rows],
        as_of=AS_OF), typed)
    assert bulk == one
    if refused:
        message, where = bulk  # type: ignore[misc]
        assert message == f"the time '{'...' if typed else when}' is outside the years 1900-2200"
        assert where == "row 2, column 'occurred_at'"
    else:
        assert bulk == 20.0


def test_the_text_of_a_refused_time_is_quoted() -> None:
    with pytest.raises(DataError) as info:
        icpkit.Scorer(PROFILE).score(ACCOUNT, events=events("2201-01-01T00:00:00Z"), as_of=AS_OF)
    assert info.value.message == "the time '2201-01-01T00:00:00Z' is outside the years 1900-2200"
