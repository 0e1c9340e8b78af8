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
    "TableName": "io.sources",
}
__all__ = ["__version__", *sorted(_LAZY)]

if TYPE_CHECKING:
    from .api import ScoreRun, backtest, compare_profiles, explain, score, score_to, scoring_sql, size_tam
    from .errors import IcpError
    from .io.sources import TableName
    from .profile.load import load_profile
    from .profile.model import Profile
    from .scoring.record import Scorer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'icpkit' has no attribute {name!r}")
