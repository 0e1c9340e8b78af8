"""A profile's literals as comparisons see them: one rule for the SQL plans and the
one-record Scorer (pure Python; no ibis, no engine)."""

from __future__ import annotations

from typing import Any

from ..io.industries import industry_label, industry_members, names_group, spellings_by_label
from ..io.record import country_code


def norm_value(value: Any, field: str = "") -> str:
    """A profile's literal, normalised the way data text is compared (trimmed on input, then
    lower-cased). Countries are ISO codes in the data, so a profile may name them either way
    ("United States" or "US"); industries match their other spellings too (see
    :func:`wider_values`)."""
    if field == "country" and isinstance(value, str):
        value = country_code(value) or value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def wider_values(value: Any, field: str = "") -> list[tuple[str, int]]:
    """The data values a profile's literal matches besides :func:`norm_value`, each with its
    distance: for an industry, its other spellings (0: "Computer Software" matches
    "software development" and ``COMPUTER_SOFTWARE``) and, named by its V2 label or a
    Salesforce value, the spellings of every industry below it in LinkedIn's hierarchy (1 for
    a child...). A value the profile names itself wins; of the others, the nearest."""
    if field != "industry" or not isinstance(value, str) or (label := industry_label(value)) is None:
        return []
    members = industry_members(label) if names_group(value) else [(label, 0)]
    own, spellings = norm_value(value), spellings_by_label()
    return [(s, distance) for m, distance in members for s in spellings.get(m, []) if s != own]
