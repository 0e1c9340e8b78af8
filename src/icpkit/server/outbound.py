"""Outbound requests: where the server may send a request (its webhooks).

A URL must be ``http`` or ``https`` with a host name; every address the host resolves to
must be public: private, loopback, link-local, multicast, reserved and unspecified
addresses (IPv4 and IPv6) are refused unless explicitly allowed
(``ICP_WEBHOOK_ALLOW_PRIVATE=1``, e.g. for a receiver on the same machine). The check runs
when a webhook is made (here, for a clear answer) and on each delivery, by the enrichment
fetcher the deliveries go through, which connects to the very address it checked (a name
may resolve elsewhere later, and no second DNS answer can slip in); redirects are not
followed. The address rules are those of the enrichment fetcher
(:class:`icpkit.enrich.fetch.AddressPolicy`): one definition of "public" for everything icpkit sends.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..enrich.fetch import AddressPolicy, FetchError
from ..errors import DataError

_PRIVATE_HINT = "set ICP_WEBHOOK_ALLOW_PRIVATE=1 to allow receivers on private networks"


def check_url(url: str, *, allow_private: bool = False) -> str:
    """``url`` when the server may send to it, else a DataError saying why."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DataError("not a valid URL", where="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DataError("a webhook URL is http:// or https:// with a host", where="url")
    if parts.username or parts.password:
        raise DataError("a webhook URL may not hold a user name or password", where="url",
                        hint="authenticate the request with the webhook's signature instead")
    if allow_private:
        return url
    try:
        AddressPolicy().addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except FetchError as exc:
        raise DataError(exc.message, where="url",
                        hint=_PRIVATE_HINT if exc.reason == "refused_address" else exc.hint) from None
    return url
