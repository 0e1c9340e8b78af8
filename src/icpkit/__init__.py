"""icpkit: an open, explainable Ideal Customer Profile engine.

Score, tier, route and explain B2B accounts with a profile file, on your own data.
"""

from .api import ScoreRun, explain, score, score_to
from .errors import IcpError
from .profile import Profile, load_profile

__version__ = "0.1.0"
__all__ = ["IcpError", "Profile", "ScoreRun", "__version__", "explain", "load_profile", "score", "score_to"]
