"""icpkit: an open, explainable Ideal Customer Profile engine.

Score, tier, route and explain B2B accounts with a profile file, on your own data.
The names below load on first use, so that ``import icpkit`` imports no engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "IcpError": "errors", "Profile": "profile.model", "load_profile": "profile.load",
    "ScoreRun": "api", "score": "api", "score_to": "api", "explain": "api", "backtest": "api",
    "compare_profiles": "api", "size_tam": "api", "scoring_sql": "api", "Scorer": "scoring.record",
    "TableName": "io.sources", "learn": "api", "compare": "api", "tam": "api", "drift": "api", "review": "api",
    "enrich_accounts": "api", "match_leads": "api", "dedupe_accounts": "api",
}
#: ``icpkit.discover(...)`` is the verb, and ``icpkit.discover`` the package behind it (callable).
_PACKAGES = ("discover",)
__all__ = ["__version__", *sorted([*_LAZY, *_PACKAGES])]

if TYPE_CHECKING:
    from .api import (ScoreRun, backtest, compare, compare_profiles, dedupe_accounts, drift, enrich_accounts, explain,
                      learn, match_leads, review, score, score_to, scoring_sql, size_tam, tam)
    from .errors import IcpError
    from .io.sources import TableName
    from .profile.load import load_profile
    from .profile.model import Profile
    from .scoring.record import Scorer


def __getattr__(name: str) -> Any:
    if name in _PACKAGES:
        return import_module(f".{name}", __name__)
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'icpkit' has no attribute {name!r}")
