"""Registrable domains from the Public Suffix List, offline.

The list is the snapshot that the ``tldextract`` package ships (its ``.tld_set_snapshot``
file, read here as text: nothing is fetched and ``tldextract`` itself is not imported,
which would pull in ``requests``). Both sections of the list are used: the private one
names hosting platforms (``github.io``, ``myshopify.com``, ``herokuapp.com``...), so
``acme.github.io`` and ``beta.github.io`` stay two accounts instead of becoming one
``github.io``. Rules of more than :data:`MAX_LABELS` labels are left out: they name the
internal hosts of cloud providers (``*.compute.amazonaws.com.cn``), never a company's
website, and every label of depth costs the SQL lookup one more test.

The registrable domain of a host is its public suffix plus one label: ``app.acme.co.uk``
-> ``acme.co.uk``, ``app.acme.com`` -> ``acme.com``. The rules of the list apply in full:
the longest matching rule wins, wildcards (``*.ck``: every ``x.ck`` is a suffix) and
exceptions (``!www.ck``: ``www.ck`` is registrable). A host that is itself a public suffix
(``co.uk``) stays as it is. Suffixes written in Unicode are also matched in their
punycode form (``xn--...``).

:func:`registrable` is the rule in Python; ``values.with_registrable`` is the same rule in
SQL, run on every engine, and ``record.account_domain`` applies it to
one value.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

__all__ = ["MAX_LABELS", "Rules", "registrable", "rules"]

#: The most labels of a rule that is used (``*`` counts as one).
MAX_LABELS = 4


class Rules(NamedTuple):
    """The rules of two labels or more (one-label rules change nothing: a host's last
    label is a suffix by default), of at most :data:`MAX_LABELS` labels."""

    multi: frozenset[str]  # explicit suffixes: "co.uk", "act.edu.au"
    wildcard: frozenset[str]  # parents of "*" rules: "ck" for "*.ck"
    exceptions: tuple[str, ...]  # "www.ck" for "!www.ck"
    version: str  # of the snapshot, from its header


def _snapshot() -> str:
    # find_spec locates the package without importing it.
    spec = importlib.util.find_spec("tldextract")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise ModuleNotFoundError("icpkit needs the 'tldextract' package (its Public Suffix List snapshot)")
    return (Path(spec.origin).parent / ".tld_set_snapshot").read_text(encoding="utf-8")


def _punycode(rule: str) -> str | None:
    try:
        return rule.encode("idna").decode("ascii")
    except UnicodeError:  # pragma: no cover - every rule of the current list encodes
        return None


@lru_cache(maxsize=1)
def rules() -> Rules:
    """The rules of the bundled Public Suffix List snapshot."""
    text = _snapshot()
    version = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("// VERSION:")), "")
    multi: set[str] = set()
    wildcard: set[str] = set()
    exceptions: list[str] = []
    for line in text.splitlines():
        rule = line.strip().split(" ", 1)[0].lower()
        if not rule or rule.startswith("//") or rule.count(".") >= MAX_LABELS:
            continue
        forms = [rule]
        if not rule.isascii():
            code = _punycode(rule.lstrip("!*."))
            if code:
                forms.append(rule[: len(rule) - len(rule.lstrip("!*."))] + code)
        for form in forms:
            if form.startswith("!"):
                exceptions.append(form[1:])
            elif form.startswith("*."):
                wildcard.add(form[2:])
            elif "." in form:
                multi.add(form)
    return Rules(frozenset(multi), frozenset(wildcard), tuple(sorted(set(exceptions))), version)


def _is_suffix(labels: list[str], r: Rules) -> bool:
    """Whether ``labels`` (two or more) are a public suffix by an explicit or wildcard rule."""
    return ".".join(labels) in r.multi or ".".join(labels[1:]) in r.wildcard


def registrable(host: str) -> str:
    """The registrable domain of a host of non-empty labels: its public suffix and one label
    more, or the host itself when it is a public suffix or has fewer than three labels."""
    r = rules()
    for e in r.exceptions:
        if host == e or host.endswith("." + e):
            return e
    labels = host.split(".")
    # The longest suffix first: the longest matching rule wins.
    for j in range(len(labels) - 1):
        if _is_suffix(labels[j:], r):
            return ".".join(labels[max(j - 1, 0):])
    return ".".join(labels[-2:])
