"""Evidence: what the user's own labelled history says about an ICP.

- :mod:`.discover`: ``icp discover``, the best accounts against the rest, attribute by attribute;
- :mod:`.learn` (with :mod:`.binning`): ``icp learn``, a constrained points scorecard;
- :mod:`.backtest` (with :mod:`.stats`): ``icp backtest`` and ``icp compare``, with intervals;
- :mod:`.shift`: how far scored records moved from a learned profile's training population;
- :mod:`.tam` (with :mod:`.segments`): ``icp tam``.

The package is also the verb: ``icpkit.discover(accounts, deals=...)`` calls
:func:`icpkit.api.discover`. Its module is callable so that one name serves both, as
``icpkit.learn``, ``icpkit.backtest``, ``icpkit.compare`` and ``icpkit.tam`` are verbs.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _Verb(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ..api import discover

        return discover(*args, **kwargs)


sys.modules[__name__].__class__ = _Verb
