"""API keys: ``icp_<id>_<secret>``, shown once when made, stored as a SHA-256 hash.

Scopes nest: ``admin`` may do what ``write`` may, and ``write`` what ``read`` may.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..errors import AuthError, IcpError, ScopeError

SCOPES = ("read", "write", "admin")
PREFIX = "icp_"


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the key's id and scope."""

    key_id: str
    scope: str

    def require(self, scope: str) -> None:
        if SCOPES.index(self.scope) < SCOPES.index(scope):
            raise ScopeError(f"this needs a key with the '{scope}' scope; this key has '{self.scope}'",
                             hint=f"make one with `icp keys create --scope {scope}`")


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise IcpError(f"unknown scope '{scope}'", hint=f"use one of {', '.join(SCOPES)}")
    return scope


def new_key() -> tuple[str, str, str]:
    """A new key: (the key to give out, its id, its hash to store)."""
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(24)}"
    return key, key_id, digest(key)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(authorization: str | None) -> tuple[str, str]:
    """(key, id) from an ``Authorization: Bearer <key>`` header, else an AuthError."""
    if not authorization:
        raise AuthError("no API key", hint="send the header 'Authorization: Bearer <key>'")
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith(PREFIX) or key.count("_") < 2:
        raise AuthError("not a valid API key", hint="send the header 'Authorization: Bearer <key>'")
    return key, key[len(PREFIX):].split("_", 1)[0]


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(key), stored_hash)
