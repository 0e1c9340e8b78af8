"""The safe fetcher against real HTTP servers on loopback addresses (no mocked sockets or httpx).

Loopback is what the fetcher refuses, so the tests reach their servers in one of two honest ways:
``allow_private=True``, or ``allowed_networks=["127.0.0.2/32"]`` with a server on 127.0.0.2, which
leaves 127.0.0.1 (and every other loopback form) refused by the real check. Made-up names
(``site.test``) reach the servers through an injected resolver; the rules apply to what it returns.
"""

from __future__ import annotations

import gzip
import ipaddress
import shutil
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from icpkit.enrich.fetch import (
    AddressPolicy,
    Fetcher,
    FetchError,
    FetchSettings,
    check_target,
    is_public,
    literal_ip,
    parse_set_cookies,
    system_resolve,
)
from icpkit.errors import DataError
from tests.enrich_servers import Reply, Site, redirect, self_signed, silent_listener

FAST = {"per_host_interval_s": 0.0, "respect_robots": False}
#: The one loopback address the tests allow when they do not allow every private one.
ALLOWED = "127.0.0.2"


def fetcher(names: dict[str, str] | None = None, **settings: object) -> Fetcher:
    """A Fetcher whose resolver knows ``names`` (and asks the system for localhost only)."""
    known = dict(names or {})

    def resolve(host: str, port: int) -> list[str]:
        if host == "localhost":
            return system_resolve(host, port)
        if host not in known:
            raise OSError(f"unknown test name {host}")
        return [known[host]]

    return Fetcher(FetchSettings(**{**FAST, **settings}), resolve=resolve)


def refused(call: object, reason: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.reason == reason, str(caught.value)
    return caught.value


PAGE = b"<html><head><title>Acme</title></head><body>Hello</body></html>"


@pytest.fixture
def site() -> Iterator[Site]:
    cookies = [("Set-Cookie", "session=abc123; Path=/; HttpOnly"), ("Set-Cookie", "_ga=GA1.2.3; Max-Age=60")]
    with Site({"/": Reply(200, PAGE, [("Content-Type", "text/html; charset=utf-8"), ("X-Powered-By", "PHP/8.2"),
                                      *cookies])}) as s:
        yield s


# ------------------------------------------------------------------------------- addresses

def test_a_page_is_fetched_when_private_addresses_are_allowed(site: Site) -> None:
    with fetcher({"site.test": "127.0.0.1"}, allow_private=True) as f:
        page = f.get(site.url("/", host="site.test"))
    assert (page.status, page.body, page.text, page.truncated, page.redirects) == (200, PAGE, PAGE.decode(), False, ())
    assert page.url == page.final_url == site.url("/", host="site.test")
    assert page.header("X-POWERED-BY") == "PHP/8.2" and page.elapsed_s > 0
    assert [n for n, _ in page.headers if n == "set-cookie"] == ["set-cookie", "set-cookie"]
    assert page.cookies == {"session": "abc123", "_ga": "GA1.2.3"}
    (seen,) = site.requests
    # connected to the checked address, named as asked: the Host header keeps the name
    assert seen.headers["host"] == f"site.test:{site.port}" and seen.headers["user-agent"].startswith("icpkit/")
    assert page.to_dict()["bytes"] == len(PAGE)


def test_the_same_page_is_refused_by_default_without_a_connection(site: Site) -> None:
    with fetcher({"site.test": "127.0.0.1"}) as f:
        for url in (site.url("/"), site.url("/", host="site.test")):
            error = refused(lambda: f.get(url), "refused_address")  # noqa: B023
            assert error.where == url and "127.0.0.1, which is not a public address" in error.message
            assert isinstance(error, DataError) and str(error).startswith(url)
    assert site.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "017700000001", "0x7f000001", "127.1",
                                  "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "0.0.0.0", "0", "localhost",
                                  "LOCALHOST", "127.0.0.1.", "10.1.2.3", "192.168.0.1", "172.16.0.1", "100.64.0.1",
                                  "169.254.169.254", "224.0.0.1", "255.255.255.255", "240.0.0.1", "198.18.0.1",
                                  "[fe80::1]", "[fc00::1]", "[fec0::1]", "[ff02::1]", "[::]", "[64:ff9b::7f00:1]",
                                  "[2002:7f00:1::]", "[::7f00:1]", "[2001:db8::1]"])
def test_every_form_of_a_private_address_is_refused(site: Site, host: str) -> None:
    with Fetcher(FetchSettings(**FAST)) as f:
        refused(lambda: f.get(f"http://{host}:{site.port}/"), "refused_address")
        refused(lambda: f.request("POST", f"http://{host}:{site.port}/", json={"a": 1}), "refused_address")
    assert site.connections == 0


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "http:///x", "javascript:alert(1)",
                                 "http://user:pw@93.184.216.34/", "http://@93.184.216.34/", "http://[::1/",
                                 "http://1.2.3.4.5/", "http://256.1.1.1/", "http://08.1.1.1/", "http://foo.123/",
                                 "http://x:99999/"])
def test_only_http_urls_with_a_host_and_no_user(url: str) -> None:
    with Fetcher(FetchSettings(**FAST, allow_private=True)) as f:
        refused(lambda: f.get(url), "bad_url")


def test_what_counts_as_public() -> None:
    public = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34", "64:ff9b::5db8:d822",
              "2002:5db8:d822::1"]
    private = ["127.0.0.1", "10.0.0.1", "100.64.0.1", "169.254.1.1", "224.0.0.1", "0.0.0.0", "::1", "::",
               "fe80::1", "fc00::1", "ff0e::1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "192.0.2.1",
               "2001:db8::1", "fec0::1"]
    assert all(is_public(ipaddress.ip_address(a)) for a in public)
    assert not any(is_public(ipaddress.ip_address(a)) for a in private)
    assert [str(literal_ip(h)) for h in ("2130706433", "0x7f.1", "017700000001", "127.1", "[::1]")] == [
        "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "::1"]
    assert literal_ip("example.com") is None
    policy = AddressPolicy(allowed_networks=(ipaddress.ip_network(f"{ALLOWED}/32"),))
    assert policy.allows(ipaddress.ip_address(ALLOWED)) and not policy.allows(ipaddress.ip_address("127.0.0.1"))
    assert check_target("http://93.184.216.34/") == [ipaddress.ip_address("93.184.216.34")]
    assert refused(lambda: check_target("http://0x7f.1/"), "refused_address").where == "http://0x7f.1/"


@pytest.fixture
def inside() -> Iterator[Site]:
    """A server on 127.0.0.1 that no test may reach unless private addresses are allowed."""
    with Site({"/secret": Reply(200, b"secret")}) as s:
        yield s


@pytest.mark.parametrize("where", ["http://127.0.0.1:{port}/secret", "http://2130706433:{port}/secret",
                                   "http://localhost:{port}/secret", "http://inside.test:{port}/secret",
                                   "http://[::ffff:127.0.0.1]:{port}/secret"])
def test_a_redirect_to_a_private_address_is_refused_at_the_redirect(inside: Site, where: str) -> None:
    target = where.format(port=inside.port)
    with Site({"/go": redirect(target), "/fine": redirect("/page"), "/page": Reply(200, b"ok")}, host=ALLOWED) as a, \
            fetcher({"site.test": ALLOWED, "inside.test": "127.0.0.1"}, allowed_networks=[f"{ALLOWED}/32"]) as f:
        page = f.get(a.url("/fine", host="site.test"))
        assert (page.body, page.redirects) == (b"ok", (a.url("/fine", host="site.test"),))
        error = refused(lambda: f.get(a.url("/go", host="site.test")), "refused_address")
        assert error.where == target
    assert a.paths == ["/fine", "/page", "/go"] and inside.connections == 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_connects_to_the_checked_address_and_verifies_the_name(tmp_path: Path) -> None:
    """TLS SNI and the certificate check use the URL's name, while the socket goes to the address
    the resolver gave and the policy checked."""
    server_tls, client_tls = self_signed(tmp_path, "site.test")
    with Site({"/": Reply(200, PAGE)}, host=ALLOWED, tls=server_tls) as s, \
            Fetcher(FetchSettings(**FAST, allowed_networks=[f"{ALLOWED}/32"]), ssl_context=client_tls,
                    resolve=lambda host, port: [ALLOWED]) as f:
        assert f.get(s.url("/", host="site.test")).body == PAGE
        refused(lambda: f.get(s.url("/", host="other.test")), "tls")  # the certificate does not name it
    assert s.paths == ["/"]


def test_dns_rebinding_finds_the_address_that_was_checked() -> None:
    """The name is resolved once per connection and the socket goes to that address: the second
    answer (loopback) is refused, and the server behind it is never reached."""
    answers = [[ALLOWED], ["127.0.0.1"], [ALLOWED, "127.0.0.1"]]
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[len(calls) - 1]

    with Site({"/": Reply(200, b"outside")}, host=ALLOWED) as outside:
        with Site({"/": Reply(200, b"inside")}, port=outside.port) as inside, \
                Fetcher(FetchSettings(**FAST, allowed_networks=[f"{ALLOWED}/32"]), resolve=resolve) as f:
            url = outside.url("/", host="rebind.test")
            assert f.get(url).body == b"outside" and calls == ["rebind.test"]
            refused(lambda: f.get(url), "refused_address")  # a new connection, a new answer: checked again
            refused(lambda: f.get(url), "refused_address")  # one bad address among good ones is enough
            assert (inside.connections, outside.connections, len(calls)) == (0, 1, 3)


# ------------------------------------------------------------------------------- redirects and size

def test_redirects_are_counted_and_loops_are_named() -> None:
    routes = {f"/r/{i}": redirect(f"/r/{i + 1}") for i in range(8)} | {"/r/8": Reply(200, b"end")}
    routes |= {"/a": redirect("/b", 301), "/b": redirect("/a", 307)}
    with Site(routes) as s, fetcher(allow_private=True, max_redirects=3) as f:
        error = refused(lambda: f.get(s.url("/r/0")), "too_many_redirects")
        assert error.where == s.url("/r/0") and s.paths == ["/r/0", "/r/1", "/r/2", "/r/3"]
        assert f.get(s.url("/r/5")).redirects == (s.url("/r/5"), s.url("/r/6"), s.url("/r/7"))
        s.requests.clear()
        refused(lambda: f.get(s.url("/a")), "redirect_loop")
        assert s.paths == ["/a", "/b"]


def _stream(total: int, record: dict[str, object]) -> object:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        sent, chunk = 0, b"x" * 65536
        try:
            while sent < total:
                h.wfile.write(chunk)
                sent += len(chunk)
                time.sleep(0.002)
        except OSError:
            pass
        record["sent"] = sent
        record["done"].set()  # type: ignore[attr-defined]
    return handler


def test_a_large_body_stops_at_the_cap() -> None:
    ten_mb = 10_000_000
    record: dict[str, object] = {"done": threading.Event()}
    bomb = gzip.compress(b"\0" * ten_mb)
    routes = {"/big": _stream(ten_mb, record), "/bomb": Reply(200, bomb, [("Content-Encoding", "gzip")]),
              "/declared": Reply(200, b"x" * 300_000), "/gz": Reply(200, gzip.compress(PAGE), [("Content-Encoding",
                                                                                                   "gzip")])}
    with Site(routes) as s, fetcher(allow_private=True, max_bytes=100_000) as f:
        started = time.monotonic()
        error = refused(lambda: f.get(s.url("/big")), "too_large")
        assert time.monotonic() - started < 1.0 and "100,000 bytes" in error.message
        assert record["done"].wait(5) and record["sent"] < ten_mb  # type: ignore[attr-defined, operator]
        refused(lambda: f.get(s.url("/bomb")), "too_large")
        refused(lambda: f.get(s.url("/declared")), "too_large")
        assert f.get(s.url("/gz")).body == PAGE
    with Site(routes) as s, fetcher(allow_private=True, max_bytes=100_000, truncate=True) as f:
        page = f.get(s.url("/bomb"))
        assert (len(page.body), page.truncated) == (100_000, True) and page.body == b"\0" * 100_000
        assert len(f.get(s.url("/declared")).body) == 100_000


# ------------------------------------------------------------------------------- robots.txt

def test_robots_txt_is_honoured_and_asked_once_per_site() -> None:
    robots = b"User-agent: *\nDisallow: /private\n\nUser-agent: icpkit\nDisallow: /no-icpkit\n"
    routes = {"/robots.txt": Reply(200, robots), "/": Reply(200, PAGE), "/private": Reply(200, b"no"),
              "/no-icpkit": Reply(200, b"no"), "/api": Reply(200, b"{}")}
    with Site(routes) as s, fetcher(allow_private=True, respect_robots=True) as f:
        error = refused(lambda: f.get(s.url("/no-icpkit")), "robots")
        assert error.where == s.url("/no-icpkit") and s.paths == ["/robots.txt"]
        assert f.get(s.url("/")).body == PAGE
        assert f.get(s.url("/private")).body == b"no"  # our own group replaces the * group
        assert f.request("GET", s.url("/no-icpkit")).status == 200  # request() is for APIs: no robots.txt
        assert s.paths == ["/robots.txt", "/", "/private", "/no-icpkit"]


@pytest.mark.parametrize("answer, allowed", [(Reply(404), True), (Reply(500), True), (Reply(401), False),
                                             (Reply(403), False), (Reply(200, b"User-agent: *\nDisallow: /\n"), False),
                                             (Reply(200, b""), True)])
def test_robots_txt_statuses(answer: Reply, allowed: bool) -> None:
    with Site({"/robots.txt": answer, "/": Reply(200, PAGE)}) as s, \
            fetcher(allow_private=True, respect_robots=True) as f:
        if allowed:
            assert f.get(s.url("/")).body == PAGE
        else:
            refused(lambda: f.get(s.url("/")), "robots")
        assert s.paths == (["/robots.txt", "/"] if allowed else ["/robots.txt"])


def test_an_unreachable_robots_txt_allows() -> None:
    def hang(h: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)

    with Site({"/robots.txt": hang, "/": Reply(200, PAGE)}) as s, \
            fetcher(allow_private=True, respect_robots=True, timeout_s=0.2) as f:
        assert f.get(s.url("/")).body == PAGE


# ------------------------------------------------------------------------------- politeness and time

def test_requests_to_one_host_are_spaced_and_other_hosts_do_not_wait(site: Site) -> None:
    names = {"a.test": "127.0.0.1", "b.test": "127.0.0.1"}
    with fetcher(names, allow_private=True, per_host_interval_s=0.3) as f:
        started = time.monotonic()
        f.get(site.url("/", host="a.test"))
        f.get(site.url("/", host="b.test"))
        assert time.monotonic() - started < 0.25
        f.get(site.url("/", host="a.test"))
        assert time.monotonic() - started >= 0.3
        threads = [threading.Thread(target=f.get, args=(site.url("/", host="b.test"),)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    b_times = [r.at for r in site.requests if r.headers["host"].startswith("b.test")]
    assert len(b_times) == 4 and all(later - earlier >= 0.28 for earlier, later in zip(b_times, b_times[1:]))


def test_a_server_that_never_answers_times_out() -> None:
    sock = silent_listener()
    try:
        with fetcher(allow_private=True, timeout_s=0.3) as f:
            started = time.monotonic()
            error = refused(lambda: f.get(f"http://127.0.0.1:{sock.getsockname()[1]}/"), "timeout")
            assert 0.25 < time.monotonic() - started < 1.5 and "timed out" in error.message
    finally:
        sock.close()


def test_the_deadline_ends_a_trickle() -> None:
    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()
        try:
            for _ in range(40):
                h.wfile.write(b"x")
                time.sleep(0.05)
        except OSError:
            pass

    with Site({"/": trickle}) as s, fetcher(allow_private=True, timeout_s=1.0, deadline_s=0.4) as f:
        started = time.monotonic()
        refused(lambda: f.get(s.url("/")), "timeout")
        assert time.monotonic() - started < 1.0


def test_connection_refused_and_unknown_names() -> None:
    sock = silent_listener()
    port = sock.getsockname()[1]
    sock.close()
    with fetcher(allow_private=True) as f:
        refused(lambda: f.get(f"http://127.0.0.1:{port}/"), "connect")
        refused(lambda: f.get("http://nowhere.test/"), "dns")


# ------------------------------------------------------------------------------- content

def test_pages_that_are_not_utf8_are_decoded() -> None:
    french = "<html><body>Café crème à la française, déjà vu – “quoted”.</body></html>"
    meta = f'<html><head><meta charset="windows-1252"></head>{french}</html>'
    japanese = "<html><body>これは日本語のテキストです。ウェブサイトの技術を調べます。</body></html>"
    routes = {"/header": Reply(200, french.encode("cp1252"), [("Content-Type", "text/html; charset=windows-1252")]),
              "/meta": Reply(200, meta.encode("cp1252"), [("Content-Type", "text/html")]),
              "/sjis": Reply(200, japanese.encode("shift_jis"), [("Content-Type", "text/html")]),
              "/bogus": Reply(200, french.encode(), [("Content-Type", "text/html; charset=nonsense")])}
    with Site(routes) as s, fetcher(allow_private=True) as f:
        assert f.get(s.url("/header")).text == french
        assert f.get(s.url("/meta")).text == meta
        assert f.get(s.url("/sjis")).text == japanese
        assert f.get(s.url("/bogus")).text == french


def test_compressed_bodies_are_decoded() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    routes = {"/gzip": Reply(200, gzip.compress(PAGE), [("Content-Encoding", "gzip")]),
              "/deflate": Reply(200, zlib.compress(PAGE), [("Content-Encoding", "deflate")]),
              "/raw-deflate": Reply(200, raw.compress(PAGE) + raw.flush(), [("Content-Encoding", "deflate")]),
              "/br": Reply(200, b"\x1b", [("Content-Encoding", "br")]),
              "/broken": Reply(200, b"not gzip at all", [("Content-Encoding", "gzip")])}
    with Site(routes) as s, fetcher(allow_private=True) as f:
        assert [f.get(s.url(p)).body for p in ("/gzip", "/deflate", "/raw-deflate")] == [PAGE] * 3
        refused(lambda: f.get(s.url("/br")), "encoding")
        refused(lambda: f.get(s.url("/broken")), "encoding")
    assert all(r.headers["accept-encoding"] == "gzip, deflate" for r in s.requests)


def test_cookies_are_read_but_never_sent_back(site: Site) -> None:
    with fetcher(allow_private=True) as f:
        assert f.get(site.url()).cookies == {"session": "abc123", "_ga": "GA1.2.3"}
        f.get(site.url())
    assert all("cookie" not in r.headers for r in site.requests)
    assert parse_set_cookies(["a=1; Path=/", "b=x=y", "junk", "=nameless", "a=2"]) == {"a": "2", "b": "x=y"}


def test_api_requests_post_json_and_keep_keys_on_their_origin() -> None:
    with Site({"/elsewhere": Reply(200, b"{}")}) as other, \
            Site({"/v1": Reply(200, b'{"ok": true}', [("Content-Type", "application/json")]),
                  "/moved": redirect(other.url("/elsewhere"), 307), "/here": redirect("/v1", 308)}) as api, \
            fetcher(allow_private=True, respect_robots=True) as f:
        got = f.request("POST", api.url("/v1"), headers={"Authorization": "Bearer k"}, params={"domain": "acme.com"},
                        json={"q": "acme"})
        assert (got.status, got.body, got.final_url) == (200, b'{"ok": true}', api.url("/v1?domain=acme.com"))
        f.request("POST", api.url("/here"), headers={"Authorization": "Bearer k"}, json={"q": 1})
        f.request("POST", api.url("/moved"), headers={"Authorization": "Bearer k", "Accept": "application/json"},
                  json={"q": 2})
        with pytest.raises(ValueError):
            f.request("DELETE", api.url("/v1"))
    first, kept = (r for r in api.requests if r.path.startswith("/v1"))
    assert (first.method, first.body, first.headers["authorization"]) == ("POST", b'{"q":"acme"}', "Bearer k")
    assert kept.headers["authorization"] == "Bearer k" and kept.body == b'{"q":1}'
    (moved,) = other.requests
    assert "authorization" not in moved.headers and moved.headers["accept"] == "application/json"
    assert (moved.method, moved.body) == ("POST", b'{"q":2}')
    assert "/robots.txt" not in api.paths


def test_a_bytes_body_is_sent_as_it_is_and_kept_on_a_307() -> None:
    body = b'{"event": "tier_upgrade",  "spaces kept": true}'
    with Site({"/hook": redirect("/final", 307), "/final": Reply(204)}) as receiver, fetcher(allow_private=True) as f:
        got = f.request("POST", receiver.url("/hook"), headers={"Content-Type": "application/json"}, content=body)
        with pytest.raises(ValueError):
            f.request("POST", receiver.url("/hook"), json={"a": 1}, content=body)
    assert got.status == 204
    assert [(r.path, r.body) for r in receiver.requests] == [("/hook", body), ("/final", body)]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        FetchSettings(timeout=3)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        FetchSettings(max_bytes=0)
    assert FetchSettings().respect_robots and not FetchSettings().allow_private
