"""E-mail addresses: the domain they belong to, and whether it is a free or throw-away mailbox.

:func:`email_domain` is the registrable domain of an address's host, the key of the account
the sender works at (``ann@uk.acme.com`` -> ``acme.com``), computed with the offline Public
Suffix List of :mod:`icpkit.io.suffixes` through :func:`icpkit.io.record.account_domain`.

:func:`is_free_mail` and :func:`is_disposable` tell the addresses that say nothing of an
employer. The lists are read once, when first asked, from data files of installed packages:

* free mail: ``freemail``'s ``data/free.txt`` (about 10,000 providers, webmail and internet
  service providers' mailboxes), plus the project's hand list
  :data:`icpkit.intent.record.FREE_MAIL`;
* disposable: ``freemail``'s ``data/disposable.txt`` and ``disposable-email-domains``'
  ``blocklist``.

The ``freemail`` module itself is never imported: its functions call ``tldextract``, which
fetches the Public Suffix List over the network. Its data files are read as text.

A domain counts when it or any domain it is under is listed (``mail.yahoo.co.uk`` is under
``yahoo.co.uk``). The free-mail list is broad: it names some companies' own domains too
(``comcast.com``, ``facebook.com``, ``yahoo.com``), whose employees' addresses are then
treated as free mail (matched by company name only) -- a deliberate lean towards precision.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from .record import account_domain

__all__ = ["disposable_domains", "email_domain", "free_mail_domains", "host_domain", "is_disposable",
           "is_free_mail", "mail_host"]

#: An address: a local part and a host, no spaces, exactly one ``@`` (the twin of
#: :data:`MAIL_HOST_PATTERN`, which the vectorised matcher runs in Arrow).
MAIL_HOST_PATTERN = r"^[^@ \t\n\r\f\v]+@(?P<host>[^@ \t\n\r\f\v]+)$"
_MAIL = re.compile(MAIL_HOST_PATTERN)
#: A plausible host name once normalised: two labels or more of letters (any script), digits
#: and inner hyphens, the last one holding a letter (no IP address).
_LABEL = r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?"
_HOST = re.compile(rf"(?:{_LABEL}\.)+(?=[^.]*[^\W\d_]){_LABEL}")


def mail_host(email: object) -> str | None:
    """The host of an address as written (``Ann@UK.Acme.com`` -> ``UK.Acme.com``): surrounding
    spaces trimmed; None unless it is a local part, one ``@`` and a host without spaces."""
    if not isinstance(email, str):
        return None
    found = _MAIL.match(email.strip(" \t\n\r\f\v"))
    return found["host"] if found else None


@lru_cache(maxsize=1 << 16)
def host_domain(host: str) -> str | None:
    """The registrable domain of a host as written (lower-cased, ``www.`` and a trailing dot
    dropped, rolled up: ``UK.Acme.com.`` -> ``acme.com``); None when it is no plausible host."""
    domain = account_domain(host)
    return domain if domain is not None and _HOST.fullmatch(domain) else None


def email_domain(email: object) -> str | None:
    """The registrable domain of an e-mail address's host, lower-cased (``ann@uk.ACME.com``
    -> ``acme.com``); None for anything that is not an address (no ``@``, spaces, no host,
    an IP address, not text)."""
    host = mail_host(email)
    return None if host is None else host_domain(host)


def _package_data(package: str, *parts: str) -> Path:
    """A data file of an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise ModuleNotFoundError(f"icpkit needs the '{package}' package (its list of mail domains)")
    return Path(spec.origin).parent.joinpath(*parts)


def _domains(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {d for line in lines if (d := line.strip().lower()) and not d.startswith("#")}


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    """Every free-mail provider's domain (see the module docstring)."""
    from ..intent.record import FREE_MAIL

    return frozenset(_domains(_package_data("freemail", "data", "free.txt")) | FREE_MAIL)


@lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    """Every throw-away mailbox provider's domain (see the module docstring)."""
    from disposable_email_domains import blocklist

    return frozenset(_domains(_package_data("freemail", "data", "disposable.txt"))
                     | {d.strip().lower() for d in blocklist})


def _listed(domain: object, listed: frozenset[str]) -> bool:
    if not isinstance(domain, str) or not domain:
        return False
    d = domain.strip().lower().rstrip(".")
    while True:
        if d in listed:
            return True
        dot = d.find(".")
        if dot < 0:
            return False
        d = d[dot + 1:]


def is_free_mail(domain: object) -> bool:
    """Whether ``domain`` (or a domain it is under) is a free-mail provider's: ``gmail.com``,
    ``yahoo.co.uk``, ``mail.gmx.de``."""
    return _listed(domain, free_mail_domains())


def is_disposable(domain: object) -> bool:
    """Whether ``domain`` (or a domain it is under) is a throw-away mailbox provider's:
    ``mailinator.com``, ``x.guerrillamail.com``."""
    return _listed(domain, disposable_domains())
