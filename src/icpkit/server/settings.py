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
``ICP_WEBHOOK_TIMEOUT_S``      5            how long a webhook receiver may take to answer
``ICP_WEBHOOK_MAX_ATTEMPTS``   8            attempts per alert and webhook before giving up
``ICP_WEBHOOK_BACKOFF_S``      2            wait before the 2nd attempt; doubles each time (1 h at most)
``ICP_WEBHOOK_POLL_S``         1            how often the outbox is looked at for due deliveries
``ICP_WEBHOOK_ALLOW_PRIVATE``  0            1: allow webhooks to private and loopback addresses
``ICP_DRIFT_EVERY_S``          86400        how often the drift watch runs (0: never)
``ICP_DRIFT_LABEL``            (none)       the stored records' outcome field, for emerging segments
=============================  ===========  ==================================================

A value that is not a positive number (or, for a switch, 0 or 1) is an error naming the variable; an ``ICP_`` variable
that is not known here or elsewhere in icpkit is an error too (a misspelt limit must not be
silently ignored).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from ..errors import IcpError, suggest

#: ``ICP_`` variables read elsewhere (the CLI, the workspace lock, the tests).
OTHER_VARIABLES = ("ICP_LOCK_TIMEOUT_S", "ICP_REQUIRE_ENGINES", "ICP_WORKSPACE", "ICP_DEBUG", "ICP_UPDATE_GOLDEN")


#: Settings that are text, and numbers that may be 0 (off).
_TEXT = ("database_url", "drift_label")
_ZERO_OK = ("drift_every_s",)


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_profile_bytes: int = 256 * 1024
    max_records: int = 1000
    rate_limit_per_s: float = 100.0
    page_size_max: int = 1000
    account_events_max: int = 50
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 8
    webhook_backoff_s: float = 2.0
    webhook_poll_s: float = 1.0
    webhook_allow_private: bool = False
    drift_every_s: float = 86400.0
    drift_label: str | None = None

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
            if f.name in _TEXT:
                values[f.name] = text.strip() or None
                continue
            if f.type == "bool":
                if text.strip().lower() not in ("0", "1", "true", "false"):
                    raise IcpError(f"{var} must be 0 or 1, not '{text[:40]}'", where="environment")
                values[f.name] = text.strip().lower() in ("1", "true")
                continue
            try:
                number = float(text) if f.type == "float" else int(text)
            except ValueError:
                number = -1
            if number < 0 or number == 0 and f.name not in _ZERO_OK:
                raise IcpError(f"{var} must be a positive {'number' if f.type == 'float' else 'whole number'}, "
                               f"not '{text[:40]}'", where="environment")
            values[f.name] = number
        return cls(**values)  # type: ignore[arg-type]
