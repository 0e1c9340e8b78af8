"""Outbound requests: where the server may send a request (its webhooks).

A URL must be ``http`` or ``https`` with a host name; every address the host resolves to
must be public: private, loopback, link-local, multicast, reserved and unspecified
addresses (IPv4 and IPv6) are refused unless explicitly allowed
(``ICP_WEBHOOK_ALLOW_PRIVATE=1``, e.g. for a receiver on the same machine). The check runs
when a webhook is made and again before each delivery (a name may resolve elsewhere later);
redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ..errors import DataError


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
        found = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise DataError(f"cannot resolve the host '{parts.hostname}'", where="url") from None
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise DataError(f"the host '{parts.hostname}' resolves to {ip}, which is not a public address",
                            where="url", hint="set ICP_WEBHOOK_ALLOW_PRIVATE=1 to allow receivers on private networks")
    return url
