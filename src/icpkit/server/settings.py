"""Server settings, from environment variables with their units in their names.

=============================  ===========  ==================================================
variable                       default      what
=============================  ===========  ==================================================
``ICP_DATABASE_URL``           (none)       store in PostgreSQL instead of the workspace's DuckDB
``ICP_MAX_BODY_BYTES``         10485760     largest request body (413 above it)
``ICP_MAX_PROFILE_BYTES``      262144       largest profile upload
``ICP_MAX_RECORDS``            1000         most accounts or events in one request
``ICP_RATE_LIMIT_PER_S``       100          requests per second per key (a burst of 2 s of it)
``ICP_PAGE_SIZE_MAX``          1000         most accounts on one page
``ICP_ACCOUNT_EVENTS_MAX``     50           recent events shown with an account
=============================  ===========  ==================================================

A value that is not a positive number is an error naming the variable; an ``ICP_`` variable
that is not known here or elsewhere in icpkit is an error too (a misspelt limit must not be
silently ignored).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from ..errors import IcpError, suggest

#: ``ICP_`` variables read elsewhere (the CLI, the workspace lock, the tests).
OTHER_VARIABLES = ("ICP_LOCK_TIMEOUT_S", "ICP_REQUIRE_ENGINES", "ICP_WORKSPACE", "ICP_BACKEND", "ICP_COMPLETE",
                   "ICP_DEBUG", "ICP_INDUSTRIES", "ICP_UPDATE_GOLDEN")


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_profile_bytes: int = 256 * 1024
    max_records: int = 1000
    rate_limit_per_s: float = 100.0
    page_size_max: int = 1000
    account_events_max: int = 50

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        known = {f"ICP_{f.name.upper()}": f for f in fields(cls)}
        values: dict[str, object] = {}
        for var, text in env.items():
            if not var.startswith("ICP_") or var in OTHER_VARIABLES:
                continue
            f = known.get(var)
            if f is None:
                raise IcpError(f"unknown setting {var}", where="environment",
                               hint=suggest(var, [*known, *OTHER_VARIABLES], "see `icp serve --help`"))
            if f.name == "database_url":
                values[f.name] = text.strip() or None
                continue
            try:
                number = float(text) if f.type == "float" else int(text)
            except ValueError:
                number = -1
            if number <= 0:
                raise IcpError(f"{var} must be a positive {'number' if f.type == 'float' else 'whole number'}, "
                               f"not '{text[:40]}'", where="environment")
            values[f.name] = number
        return cls(**values)  # type: ignore[arg-type]
