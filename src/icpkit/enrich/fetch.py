"""Safe outbound HTTP for enrichment: a company's home page (technographics) or an API endpoint.

Why it is careful: the URLs come from account data (a CRM export, a web form), so they are
untrusted. A fetcher that followed them blindly could be pointed at the cloud metadata service
(``http://169.254.169.254/``), a database on ``localhost`` or an intranet page (server-side
request forgery), or made to hang, fill memory, or hammer one site.

What is enforced, on every hop of every request:

- **Addresses.** Only ``http``/``https`` URLs with a host and no user name or password. Every
  address the host resolves to must be public (:func:`is_public`): private, loopback, link-local,
  multicast, reserved, unspecified, shared (100.64/10), benchmarking and documentation ranges are
  refused, IPv4 and IPv6 alike; an IPv6 address carrying an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``,
  NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) is judged by the IPv4 address it carries. A host is read
  as a browser reads it, so ``2130706433``, ``0x7f.1``, ``017700000001`` and ``127.1`` are the IPv4
  address they spell (:func:`literal_ip`). ``allow_private`` lifts the rule; ``allowed_networks``
  lifts it for the networks named.
- **DNS rebinding.** A name is resolved once per connection, inside the connection (an httpcore
  network backend): the addresses are checked and the socket connects to a checked address, so no
  second lookup can swap in another one. The Host header, the TLS SNI and the certificate check keep
  the original name. A kept-alive connection is reused only for the origin it was checked for.
- **Redirects** are followed by hand, at most ``max_redirects``, each ``Location`` checked like the
  first URL; a loop is reported as one. The caller's headers (an API key) go to another origin only
  when harmless (Accept, Accept-Language, Content-Type).
- **Size.** The body is streamed and decoded (gzip, deflate) in bounded steps; past ``max_bytes`` of
  decoded body the fetch stops: FetchError ``too_large``, or, with ``truncate``, the first
  ``max_bytes``. A compressed bomb stops at the same cap.
- **Time.** ``timeout_s`` bounds connecting and each read or write; ``deadline_s`` bounds a whole call
  and is enforced on the socket, so a server trickling a byte a second cannot keep a call alive.
- **Politeness.** Requests to one host start at least ``per_host_interval_s`` apart (thread-safe);
  :meth:`Fetcher.get` honours robots.txt; the User-Agent names icpkit (deployments should add a
  contact address to it).
- **No state between sites.** No cookie is stored or sent back; proxies and ``.netrc`` from the
  environment are ignored (a proxy would resolve names itself and defeat the address check).

Nothing fetched is ever executed: the body is bytes and text for parsers to read; no script runs and
no HTML or JavaScript redirect is followed.

robots.txt (:meth:`Fetcher.get` only; :meth:`Fetcher.request` is for API endpoints and skips it) is
fetched once per origin through the same safe path (the same address, redirect and size rules; it is
not paced, so it and the first page go one after the other) and cached for the Fetcher's life. A 2xx
answer: its rules for our user agent; 401 or 403: everything disallowed; any other status (404, 5xx)
or a robots.txt that cannot be fetched (no DNS answer, connection refused, timeout, too many
redirects): everything allowed. That is ``urllib.robotparser``'s convention and suits a one-page
lookup per site (RFC 9309 asks a crawler to stay away on 5xx; we do not crawl). A refused address is
not "unreachable": the page is refused too.

Errors are :class:`FetchError` (a :class:`~icpkit.errors.DataError`) with ``where`` the URL and a
one-word ``reason`` for the caller to record per account: ``bad_url``, ``refused_address``, ``dns``,
``connect``, ``tls``, ``timeout``, ``network``, ``protocol``, ``too_large``, ``encoding``,
``too_many_redirects``, ``redirect_loop``, ``robots``, and ``http_status`` (from
:meth:`Fetched.raise_for_status`; :meth:`Fetcher.get` itself returns any status).

:class:`Fetcher` needs httpx (``pip install 'icpkit[enrich]'``); the address checks are plain Python
and also guard the server's webhooks (:mod:`icpkit.server.outbound`).
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork

from .. import __version__
from ..errors import DataError, DependencyError

try:
    import httpcore
    import httpx
except ImportError:  # the enrich extra is not installed: the address checks still work
    httpcore = httpx = None  # type: ignore[assignment]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``resolve(host, port)``: the IP addresses (as text) a host name stands for.
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_USER_AGENT = f"icpkit/{__version__} (account enrichment; website technologies)"
#: robots.txt is read up to this size (RFC 9309 asks for at least 500 KiB) and cut there.
ROBOTS_MAX_BYTES = 512_000
#: The most origins whose robots.txt is kept (the oldest are dropped, then fetched again if needed).
ROBOTS_CACHE_SIZE = 10_000
#: Caller headers kept when a redirect leads to another origin.
CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language", "content-type"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PRIVATE_HINT = "set allow_private (or allowed_networks) in the fetch settings to reach private networks"


@dataclass
class FetchError(DataError):
    """A URL that could not, or may not, be fetched. ``where`` is the URL; ``reason`` is one word
    (listed in the module's docstring) that a caller records per account."""

    reason: str = "network"


# ------------------------------------------------------------------------------- addresses

_IPV4_PART = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)\Z")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _ipv4_part(part: str) -> int | None:
    """One dot-separated part of an IPv4 host in decimal, ``0x`` hex or ``0`` octal; None if invalid."""
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def literal_ip(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, read as a browser reads it (WHATWG URL), or None for a name.

    ``2130706433``, ``0x7f.1``, ``017700000001`` and ``127.1`` all spell 127.0.0.1; an IPv6 host may
    come with or without brackets. A host that ends like a number but spells no address
    (``1.2.3.4.5``, ``256.1.1.1``) is a FetchError (``bad_url``), as it is to a browser.
    """
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise FetchError(f"the host '{host}' is not a valid IPv6 address", where=host,
                             reason="bad_url") from None
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _IPV4_PART.match(parts[-1]):
        return None
    numbers = [_ipv4_part(p) if _IPV4_PART.match(p) else None for p in parts]
    valid = [n for n in numbers if n is not None]
    if len(parts) > 4 or len(valid) < len(parts) or any(n > 255 for n in valid[:-1]) \
            or valid[-1] >= 256 ** (5 - len(parts)):
        raise FetchError(f"the host '{host}' is not a valid IPv4 address", where=host, reason="bad_url")
    return ipaddress.IPv4Address(valid[-1] + sum(n << 8 * (3 - i) for i, n in enumerate(valid[:-1])))


def _plain(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, NAT64, 6to4), else ``ip`` itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def is_public(ip: IPAddress) -> bool:
    """True when ``ip`` is a public unicast address: not private, loopback, link-local, site-local,
    multicast, reserved, unspecified or shared (100.64/10), judged by the IPv4 address an IPv6 one
    carries."""
    ip = _plain(ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (``getaddrinfo``), in its order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(address[0]) for *_, address in found))


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be contacted, and how names are resolved (a resolver can be injected)."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolve: Resolver = system_resolve

    def allows(self, ip: IPAddress) -> bool:
        """True when ``ip`` may be contacted."""
        return self.allow_private or is_public(ip) or any(_plain(ip) in n or ip in n for n in self.allowed_networks)

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` stands for (itself when it spells one), each one allowed; a
        FetchError when the host cannot be resolved or any of its addresses is refused."""
        literal = literal_ip(host)
        found = [literal] if literal is not None else self._resolved(host, port)
        for ip in found:
            if not self.allows(ip):
                raise FetchError(f"the host '{host}' resolves to {ip}, which is not a public address", where=host,
                                 hint=_PRIVATE_HINT, reason="refused_address")
        return found

    def _resolved(self, host: str, port: int) -> list[IPAddress]:
        try:
            found = [ipaddress.ip_address(a) for a in self.resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            found = []
        if not found:
            raise FetchError(f"cannot resolve the host '{host}'", where=host, reason="dns")
        return found


@dataclass(frozen=True)
class Target:
    """A URL's parts that matter for a connection: scheme, host (lower-case, no brackets), port."""

    scheme: str
    host: str
    port: int

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, the port left out when it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}")


def parse_url(url: str) -> Target:
    """The :class:`Target` of ``url``; a FetchError (``bad_url``) unless it is ``http``/``https`` with
    a host and no user name or password. Addresses are not checked here."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError("not a valid URL", where=url, reason="bad_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http:// and https:// URLs with a host can be fetched", where=url, reason="bad_url")
    if "@" in parts.netloc:
        raise FetchError("a URL to fetch may not hold a user name or password", where=url, reason="bad_url")
    return Target(parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme])


def check_target(url: str, policy: AddressPolicy | None = None) -> list[IPAddress]:
    """The checked addresses of ``url``'s host (see :meth:`AddressPolicy.addresses`), for a caller
    that wants the verdict before any connection. A Fetcher checks again as it connects."""
    target = parse_url(url)
    try:
        return (policy or AddressPolicy()).addresses(target.host, target.port)
    except FetchError as exc:
        raise replace(exc, where=url) from None


# ------------------------------------------------------------------------------- the connection

#: The moment (time.monotonic) the current call must end by; set around each request.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("icpkit_fetch_deadline", default=None)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the call's deadline; ``error`` when nothing is left."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call took longer than its deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """An httpcore network stream whose every read, write and TLS handshake ends by the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))  # type: ignore[no-any-return]

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> _DeadlineStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _CheckedBackend:
    """An httpcore network backend that resolves the host once, checks every address and connects
    to a checked one (never re-resolving), so DNS rebinding cannot slip another address in."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> _DeadlineStream:
        failed: Exception | None = None
        for ip in self._policy.addresses(host, port):
            try:
                stream = self._inner.connect_tcp(str(ip), port, _bounded(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options)
            except httpcore.ConnectError as exc:
                failed = exc
                continue
            return _DeadlineStream(stream)
        raise failed or httpcore.ConnectError(f"no address to connect to for '{host}'")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _NoCookies(DefaultCookiePolicy):
    """A cookie policy that stores and returns nothing: no state passes from one site to the next."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """httpx's verifying TLS context (loading the CA bundle takes ~50 ms: made once, shared; it is thread-safe)."""
    return httpx.create_ssl_context()


def _client(settings: FetchSettings, policy: AddressPolicy, tls: ssl.SSLContext) -> httpx.Client:
    """An httpx client that connects only through :class:`_CheckedBackend` and follows nothing itself."""
    transport = httpx.HTTPTransport(verify=tls, trust_env=False, retries=0)
    # httpx takes no network backend of its own: give its transport a pool that connects through ours.
    if not hasattr(transport, "_pool"):
        raise RuntimeError("this httpx version keeps no connection pool in HTTPTransport._pool")
    transport._pool = httpcore.ConnectionPool(ssl_context=tls, max_connections=50,
                                              max_keepalive_connections=20, keepalive_expiry=5.0,
                                              network_backend=_CheckedBackend(policy))
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False,
                        timeout=httpx.Timeout(settings.timeout_s), cookies=CookieJar(policy=_NoCookies()),
                        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"})


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: Exception) -> tuple[str, str]:
    """The reason and message of a FetchError for an httpx exception."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"timed out ({exc})"
    if isinstance(exc, httpx.ConnectError) and _caused_by(exc, ssl.SSLError):
        return "tls", f"the TLS handshake failed ({exc})"
    if isinstance(exc, httpx.ConnectError):
        return "connect", f"cannot connect ({exc})"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol", f"the server broke the HTTP protocol ({exc})"
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "bad_url", f"not a valid URL ({exc})"
    return "network", f"the connection failed ({type(exc).__name__}: {exc})"


@contextmanager
def _errors_named(url: str, deadline: float) -> Iterator[None]:
    """Within: the call's deadline set, and every failure a FetchError whose ``where`` is ``url``."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    except FetchError as exc:
        raise replace(exc, where=url) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        reason, message = _reason(exc)
        raise FetchError(message, where=url, reason=reason) from None
    finally:
        _DEADLINE.reset(token)


# ------------------------------------------------------------------------------- the body

class _Decoder:
    """Decodes a Content-Encoding (identity, gzip, deflate) in bounded steps: never more output per
    step than asked for, so a compressed bomb cannot fill memory."""

    def __init__(self, encoding: str, url: str) -> None:
        name = encoding.strip().lower()
        if name not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise FetchError(f"the server sent an unsupported content encoding '{encoding}'", where=url,
                             reason="encoding")
        self._url = url
        self._zlib = None if name in ("", "identity") else zlib.decompressobj(
            16 + zlib.MAX_WBITS if name.endswith("gzip") else zlib.MAX_WBITS)
        self._may_be_raw = name == "deflate"  # "deflate" is sometimes sent raw, without its zlib header

    def feed(self, data: bytes, most: int) -> bytes:
        """``data`` decoded, at most ``most`` (> 0) bytes of it: a full ``most`` means there may be more."""
        if self._zlib is None:
            return data[:most]
        try:
            out = self._zlib.decompress(data, most)
        except zlib.error:
            if not self._may_be_raw:
                raise FetchError("the body is not valid compressed data", where=self._url, reason="encoding") from None
            self._may_be_raw, self._zlib = False, zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, most)
        self._may_be_raw = False
        return out


def _read_body(response: httpx.Response, max_bytes: int, truncate: bool, url: str) -> tuple[bytes, bool]:
    """The decoded body and whether it was cut at ``max_bytes`` (FetchError ``too_large`` unless ``truncate``)."""
    too_large = FetchError(f"the answer is larger than {max_bytes:,} bytes", where=url, reason="too_large",
                           hint="raise max_bytes, or set truncate to keep the first max_bytes")
    encoding = response.headers.get("content-encoding", "")
    declared = response.headers.get("content-length", "")
    if not truncate and not encoding and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    decoder, chunks, size = _Decoder(encoding, url), [], 0
    for raw in response.iter_raw():
        out = decoder.feed(raw, max_bytes - size + 1)
        if size + len(out) > max_bytes:
            if not truncate:
                raise too_large
            chunks.append(out[: max_bytes - size])
            return b"".join(chunks), True
        chunks.append(out)
        size += len(out)
    return b"".join(chunks), False


_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:+-]+)""", re.I)


def decode_text(body: bytes, content_type: str | None) -> str:
    """``body`` as text: in the charset the Content-Type names, else the one charset-normalizer finds
    (it also reads a ``<meta charset>``), else UTF-8; undecodable bytes become U+FFFD."""
    if not body:
        return ""
    declared = _CHARSET.search(content_type or "")
    if declared:
        try:
            return body.decode(declared.group(1), errors="replace")
        except LookupError:
            pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", errors="replace")


def parse_set_cookies(values: Sequence[str]) -> dict[str, str]:
    """name -> value of each Set-Cookie header (the pair before the first ``;``, RFC 6265 5.2); a later
    cookie of the same name wins."""
    cookies: dict[str, str] = {}
    for value in values:
        name, sep, content = value.split(";", 1)[0].partition("=")
        if sep and name.strip():
            cookies[name.strip()] = content.strip()
    return cookies


@dataclass(frozen=True)
class Fetched:
    """One answer: what was asked (``url``), where it ended (``final_url``, after ``redirects``), and
    what came back. ``headers`` are (name, value) pairs in the order sent, names in lower case,
    repeated headers (Set-Cookie) kept; ``cookies`` maps the Set-Cookie names to their values;
    ``elapsed_s`` is the whole call's time, polite waits and robots.txt included."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    elapsed_s: float
    cookies: dict[str, str] = field(default_factory=dict)
    truncated: bool = False
    redirects: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        return next((v for n, v in self.headers if n == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in order."""
        return [v for n, v in self.headers if n == name.lower()]

    @cached_property
    def text(self) -> str:
        """The body decoded (see :func:`decode_text`)."""
        return decode_text(self.body, self.header("content-type"))

    def raise_for_status(self) -> Fetched:
        """Itself when the status is 2xx, else a FetchError (``http_status``)."""
        if not 200 <= self.status < 300:
            raise FetchError(f"the server answered HTTP {self.status}", where=self.final_url, reason="http_status")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The answer without its body (its size instead), for logs and provenance."""
        return {"url": self.url, "final_url": self.final_url, "status": self.status,
                "headers": [list(h) for h in self.headers], "cookies": dict(self.cookies),
                "bytes": len(self.body), "truncated": self.truncated, "redirects": list(self.redirects),
                "elapsed_s": self.elapsed_s}


# ------------------------------------------------------------------------------- the fetcher

class FetchSettings(BaseModel):
    """The fetcher's knobs, as the enrichment configuration passes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(10.0, gt=0, description="Connecting, and each read or write, ends after this.")
    deadline_s: float = Field(30.0, gt=0, description="The most time a whole call's exchanges take (redirects "
                                                      "included; polite waits and robots.txt not counted).")
    max_bytes: int = Field(2_000_000, gt=0, description="The most bytes of decoded body read.")
    truncate: bool = Field(False, description="Keep the first max_bytes of a larger body instead of failing.")
    max_redirects: int = Field(5, ge=0, le=20)
    per_host_interval_s: float = Field(1.0, ge=0, description="The least time between two requests to one host.")
    respect_robots: bool = Field(True, description="Fetcher.get honours robots.txt.")
    allow_private: bool = Field(False, description="Allow private, loopback and link-local addresses.")
    allowed_networks: tuple[IPvAnyNetwork, ...] = Field((), description="Networks allowed although not public.")
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1)


class _Pacer:
    """Spaces the requests to each host at least ``interval`` apart, across threads."""

    def __init__(self, interval: float) -> None:
        self._interval, self._lock = interval, threading.Lock()
        self._next: dict[str, float] = {}  # host -> when it may be asked next (time.monotonic)

    def wait(self, host: str) -> float:
        """Sleep until ``host`` may be asked again; the seconds slept."""
        if self._interval <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, now))
            self._next[host] = at + self._interval
            if len(self._next) > 4096:
                self._next = {h: t for h, t in self._next.items() if t > now}
        if at > now:
            time.sleep(at - now)
        return at - now


class _Once:
    """Values made once per key (one maker at a time per key, keys in parallel); the oldest dropped
    past ``size``. A maker that raises leaves the key to be made again."""

    def __init__(self, size: int) -> None:
        self._size, self._lock = size, threading.Lock()
        self._slots: OrderedDict[str, list[Any]] = OrderedDict()  # key -> [lock, value or None]

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = [threading.Lock(), None]
                if len(self._slots) > self._size:
                    self._slots.popitem(last=False)
            self._slots.move_to_end(key)
        with slot[0]:
            if slot[1] is None:
                slot[1] = make()
            return slot[1]


@dataclass(frozen=True)
class _Hop:
    """One request of a call: the first, or one a redirect leads to."""

    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | None = None

    def follow(self, response: httpx.Response) -> _Hop | None:
        """The request a redirect answer leads to, or None when ``response`` is not one."""
        location = response.headers.get("location")
        if response.status_code not in _REDIRECT_STATUSES or not location:
            return None
        try:
            url = str(response.url.join(location))
        except (httpx.InvalidURL, ValueError):
            raise FetchError(f"the redirect to '{location}' is not a valid URL", where=self.url,
                             reason="bad_url") from None
        method, body, content = self.method, self.json, self.content
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method, body, content = "GET", None, None
        headers = self.headers
        if parse_url(url).origin != parse_url(self.url).origin:
            headers = {k: v for k, v in headers.items() if k.lower() in CROSS_ORIGIN_HEADERS}
        return _Hop(method, url, headers, None, body, content)


class Fetcher:
    """Fetches web pages (:meth:`get`, robots.txt honoured) and API endpoints (:meth:`request`)
    under the rules of the module's docstring. Thread-safe; close it (or use ``with``) when done.

    ``resolve`` replaces the system resolver (``getaddrinfo``): tests map made-up names to loopback
    addresses with it; the address rules apply to whatever it returns. ``ssl_context`` replaces the
    verifying TLS context (httpx's, with the certifi CA bundle), e.g. to trust a company CA.
    """

    def __init__(self, settings: FetchSettings | None = None, *, resolve: Resolver | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if httpx is None:
            raise DependencyError("fetching web pages needs httpx, which is not installed",
                                  hint="pip install 'icpkit[enrich]'")
        self.settings = settings or FetchSettings()
        self.policy = AddressPolicy(self.settings.allow_private, tuple(self.settings.allowed_networks),
                                    resolve or system_resolve)
        self._client = _client(self.settings, self.policy, ssl_context or _ssl_context())
        self._pacer = _Pacer(self.settings.per_host_interval_s)
        self._robots = _Once(ROBOTS_CACHE_SIZE)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._client.close()

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Fetched:
        """GET a web page: :meth:`request`, and robots.txt asked first for every hop when
        ``respect_robots`` (FetchError ``robots`` when it disallows the page)."""
        return self._call(_Hop("GET", url, dict(headers or {})), robots=self.settings.respect_robots)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, Any] | None = None, json: Any = None, content: bytes | None = None) -> Fetched:
        """GET or POST (with an optional JSON body, or ``content``: bytes sent as they are) under the
        address, redirect, size and time rules, without robots.txt (API endpoints, webhooks). Any
        HTTP status is returned, not raised."""
        method = method.upper()
        body = json is not None or content is not None
        if method not in ("GET", "POST") or (body and method == "GET") or (json is not None and content is not None):
            raise ValueError(f"only GET, and POST with an optional JSON or bytes body, are sent, not {method}")
        return self._call(_Hop(method, url, dict(headers or {}), params, json, content), robots=False)

    def _call(self, hop: _Hop, *, robots: bool, pace: bool = True, max_bytes: int | None = None,
              truncate: bool | None = None) -> Fetched:
        """Send ``hop`` and follow its redirects by hand, checking each one. ``deadline_s`` bounds the
        time spent in the hops' exchanges (not the polite waits, nor the robots.txt fetches)."""
        started, spent = time.monotonic(), 0.0
        first, seen, chain = hop.url, {(hop.method, hop.url)}, []
        while True:
            target = self._checked(hop.url)
            if robots:
                self._obey_robots(target, hop.url)
            if pace:
                self._pacer.wait(target.host)
            hop_started = time.monotonic()
            with _errors_named(hop.url, hop_started + self.settings.deadline_s - spent), self._client.stream(
                    hop.method, hop.url, headers=dict(hop.headers), params=hop.params, json=hop.json,
                    content=hop.content) as response:
                follow = hop.follow(response)
                if follow is None:
                    body, cut = _read_body(response, max_bytes or self.settings.max_bytes,
                                           self.settings.truncate if truncate is None else truncate, hop.url)
                    return self._fetched(first, response, body, cut, chain, started)
            spent += time.monotonic() - hop_started
            chain.append(hop.url)
            if (follow.method, follow.url) in seen:
                raise FetchError(f"the redirects loop back to {follow.url}", where=first, reason="redirect_loop")
            if len(chain) > self.settings.max_redirects:
                raise FetchError(f"more than {self.settings.max_redirects} redirects", where=first,
                                 reason="too_many_redirects")
            seen.add((follow.method, follow.url))
            hop = follow

    def _checked(self, url: str) -> Target:
        """``url``'s target, refused before any connection when its host spells a refused address
        (names are resolved and checked as the connection is made)."""
        target = parse_url(url)
        if literal_ip(target.host) is not None:
            try:
                self.policy.addresses(target.host, target.port)
            except FetchError as exc:
                raise replace(exc, where=url) from None
        return target

    @staticmethod
    def _fetched(url: str, response: httpx.Response, body: bytes, truncated: bool, chain: list[str],
                 started: float) -> Fetched:
        headers = tuple((name.lower(), value) for name, value in response.headers.multi_items())
        return Fetched(url=url, final_url=str(response.url), status=response.status_code, headers=headers,
                       body=body, elapsed_s=time.monotonic() - started, truncated=truncated, redirects=tuple(chain),
                       cookies=parse_set_cookies([v for n, v in headers if n == "set-cookie"]))

    # -- robots.txt ---------------------------------------------------------------------------

    def _obey_robots(self, target: Target, url: str) -> None:
        """Nothing when robots.txt allows ``url``, else a FetchError (``robots``)."""
        try:
            rules: RobotFileParser = self._robots.get(target.origin, lambda: self._load_robots(target))
        except FetchError as exc:  # the robots.txt URL refused: the page is refused too
            raise replace(exc, where=url) from None
        if not rules.can_fetch(self.settings.user_agent, url):
            raise FetchError(f"the robots.txt of {target.origin} does not allow this page", where=url, reason="robots",
                             hint="the site asks robots not to fetch it; respect_robots: false only with its "
                                  "owner's consent")

    def _load_robots(self, target: Target) -> RobotFileParser:
        """The robots.txt rules of ``target``'s origin (the conventions of the module's docstring)."""
        rules = RobotFileParser(f"{target.origin}/robots.txt")
        try:
            got: Fetched | None = self._call(_Hop("GET", rules.url, {}), robots=False, pace=False,
                                             max_bytes=ROBOTS_MAX_BYTES, truncate=True)
        except FetchError as exc:
            if exc.reason in ("refused_address", "bad_url"):
                raise
            got = None
        if got is not None and got.status in (401, 403):
            rules.disallow_all = True
        elif got is not None and 200 <= got.status < 300:
            rules.parse(got.body.decode("utf-8", errors="replace").splitlines())
        else:
            rules.allow_all = True
        return rules
