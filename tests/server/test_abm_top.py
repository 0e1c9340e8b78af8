"""The ABM top a server keeps up to date from its own stores (no query per stored batch):
after any sequence of stores it is the top a query of the store would give, or it says it
cannot tell and the store is read again."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from icpkit.server.service import _Top

DOMAINS = [f"d{i}.com" for i in range(8)]
saves = st.lists(st.tuples(st.sampled_from(DOMAINS), st.sampled_from(["high", "low", None]),
                           st.sampled_from([10.0, 50.0, 50.0, 90.0, None])), max_size=12)


def queried(stored: dict[str, tuple[str | None, float | None]], n: int) -> _Top:
    """The top as the store's query gives it: the tier's best n by fit score, ties by domain."""
    best = sorted((-s, d) for d, (t, s) in stored.items() if t == "high" and s is not None)
    return _Top("high", n, tuple(best[:n]), len(best) <= n)


@settings(max_examples=400, deadline=None)
@given(first=saves, then=st.lists(saves, max_size=6), n=st.integers(1, 4))
def test_the_top_kept_is_the_top_stored(first: list, then: list, n: int) -> None:
    stored: dict[str, tuple[str | None, float | None]] = {d: (t, s) for d, t, s in first}
    top: _Top | None = queried(stored, n)
    for batch in then:
        for d, t, s in batch:
            stored[d] = (t, s)
        top = top.after(batch) if top is not None else None
        expected = queried(stored, n)
        if top is None:  # the server reads the store again
            top = expected
        assert top.best == expected.best
        assert not top.whole or expected.whole  # "whole" is never claimed wrongly


def test_a_top_account_that_falls_needs_the_store_read_again() -> None:
    top = _Top("high", 2, ((-90.0, "a.com"), (-80.0, "b.com")), whole=False)
    assert top.after([("a.com", "high", 90.0)]) == top  # stored again unchanged: nothing moves
    assert top.after([("c.com", "high", 85.0)]).best == ((-90.0, "a.com"), (-85.0, "c.com"))
    assert top.after([("b.com", "low", 80.0)]) is None  # who is second now is in the store only
