"""Registrable domains from the bundled Public Suffix List (icpkit.io.suffixes), held to
tldextract itself (offline: its snapshot, no URL, no cache) on chosen and generated hosts."""

from __future__ import annotations

import pytest
import tldextract
from hypothesis import given, settings
from hypothesis import strategies as st

from icpkit.io import suffixes

EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def oracle(host: str) -> str:
    parts = EXTRACT(host)
    if not parts.suffix:  # an unlisted last label: the list's default rule "*" makes it the suffix
        return ".".join(host.split(".")[-2:])
    # A host that is itself a public suffix has no registrable domain: it stays as it is.
    return parts.top_domain_under_public_suffix or host


@pytest.mark.parametrize(("host", "expected"), [
    ("app.acme.com", "acme.com"),
    ("mail.acme.com", "acme.com"),
    ("www.app.acme.co.uk", "acme.co.uk"),
    ("acme.co.uk", "acme.co.uk"),
    ("a.b.c.act.edu.au", "c.act.edu.au"),  # a 3-label suffix
    ("act.edu.au", "act.edu.au"),  # itself a suffix: stays
    ("foo.github.io", "foo.github.io"),  # the private section: hosting platforms
    ("shop.acme.myshopify.com", "acme.myshopify.com"),
    ("x.y.ck", "x.y.ck"),  # wildcard *.ck
    ("a.www.ck", "www.ck"),  # exception !www.ck
    ("x.city.kawasaki.jp", "city.kawasaki.jp"),
    ("foo.kawasaki.jp", "foo.kawasaki.jp"),
    ("app.acme.example", "acme.example"),  # an unlisted last label is a suffix by default
    ("shop.acme.公司.cn", "acme.公司.cn"),  # Unicode suffix
    ("shop.acme.xn--55qx5d.cn", "acme.xn--55qx5d.cn"),  # and its punycode form
])
def test_registrable(host: str, expected: str) -> None:
    assert suffixes.registrable(host) == expected
    assert oracle(host) == expected


def test_rules_of_more_than_four_labels_are_left_out() -> None:
    # *.compute.amazonaws.com.cn names a cloud's internal hosts, never a company's website.
    assert suffixes.registrable("x.y.z.compute.amazonaws.com.cn") == "amazonaws.com.cn"
    assert oracle("x.y.z.compute.amazonaws.com.cn") == "y.z.compute.amazonaws.com.cn"


def test_snapshot_is_read_offline_from_the_package() -> None:
    r = suffixes.rules()
    assert "co.uk" in r.multi and "github.io" in r.multi and "ck" in r.wildcard
    assert "www.ck" in r.exceptions and r.version


_RULE_LABELS = sorted({label for rule in suffixes.rules().multi for label in rule.split(".")}
                      | {"com", "uk", "ck", "www"})
_LABEL = st.one_of(st.sampled_from(_RULE_LABELS), st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), st.just("city"))


@settings(max_examples=400, deadline=None)
@given(st.lists(_LABEL, min_size=3, max_size=6), st.sampled_from(sorted(suffixes.rules().multi)))
def test_registrable_agrees_with_tldextract(prefix: list[str], suffix: str) -> None:
    for host in (".".join(prefix), ".".join([*prefix, suffix]), ".".join(prefix[:2] + [suffix])):
        assert suffixes.registrable(host) == oracle(host), host
