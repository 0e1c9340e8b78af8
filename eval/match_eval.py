#!/usr/bin/env python
"""Lead-to-account matching on real company names and domains: icpkit's matcher against the
straightforward script (tldextract + cleanco + rapidfuzz), overall and per kind of lead.

**Accounts** are real companies of one source of ``../shared/data`` (see each folder's
SOURCE.md):

* ``pdl`` -- People Data Labs' top 21k companies: lower-case names, real domains, countries;
* ``inc5000`` -- Inc. 5000 (2019): real domains; the name is the inc.com profile's slug
  (``big-d-construction-corp`` -> ``Big D Construction Corp``); all US;
* ``fortune1000`` -- Fortune 1000 (2016): real names; no domain in the file, so the PDL
  domain of the same name where there is one, else the name's letters + ``.com``; all US.

A share of the source's companies (``--accounts``) become accounts; a few of them get a
**subsidiary**: a second account with its own name (``<name> UK Ltd``, ``<name> Germany``...),
another country and the *same* domain. The rest of the source, and the other sources'
names, are the companies that are *not* accounts.

**Leads** are generated from them, kind by kind (:data:`KINDS`, with their shares):

* positives (the lead's company is an account; the right answer is its domain):
  ``work_email`` (``first.last@domain``, mixed case, a company field half the time),
  ``work_email_subdomain`` (``ann@UK.domain``), ``website`` (a free-mail or no address and
  ``https://www.domain/about``-like websites), ``name_exact`` (a free-mail address and the
  name as the source writes it), ``name_legal_suffix`` (its legal form removed, or one of
  the country's added: ``Inc.``, ``GmbH``, ``S.p.A.``, ``Pty Ltd``...), ``name_case_punct``
  (case, commas and dots, hyphens, ``The``), ``name_abbreviation`` (``International`` ->
  ``Intl``, ``&`` <-> ``and``, ``Corporation`` -> ``Corp``...), ``name_typo`` (one or two
  character edits: a neighbouring key, a letter dropped, doubled or swapped),
  ``disposable`` (a throw-away address and the name), ``subsidiary`` (a lead of a
  subsidiary: its work address or its name);
* negatives (the lead's company is not an account; the right answer is no match):
  ``negative_other`` (a real company's work address and name), ``negative_similar`` (a
  free-mail address and the name of a real company whose name is close to an account's:
  Indel similarity 0.8 or more, e.g. ``alliance`` / ``allianz``), ``negative_free_mail``
  (a free-mail address and a real company's name), ``negative_blank`` (a free-mail address
  only).

A negative company never has the same name as an account once lower-cased with its legal
form and punctuation removed (nothing can tell those apart by name), nor a domain whose
first label is an account's (``deloitte.de`` for ``deloitte.com``: the same brand).

Each lead's country is its company's (written as the source writes it) half of the time,
blank 40 % of the time and another country 10 % of the time (people work abroad).

**Measures**: a match is correct when its domain is the lead's company's. Precision =
correct matches / matches made; recall = correct matches / positive leads. Per kind: the
share matched correctly, and the wrong matches.

**The baseline** is the script a data engineer would write first: ``tldextract`` (offline:
``TLDExtract(suffix_list_urls=(), cache_dir=None)``) for the registrable domain of the
e-mail, then of the website (a step the issue's sketch leaves out: given here so the
comparison is not flattered), checked against the accounts' domains and a short list of
free-mail providers (icpkit's ``FREE_MAIL``); else the company name cleaned with
``cleanco.basename`` and lower-cased, looked up with ``rapidfuzz.process.extractOne``
(``default_process``, cutoff 90) among the accounts' cleaned names. It is run twice: with
rapidfuzz's usual scorer for names, ``WRatio`` (which also scores partial and reordered
names), and with the plain ``ratio``.

The generator was written and frozen first; the matcher was developed on ``--seed 1`` with
``pdl``; the figures to report are those of another seed and other sources::

    .venv/bin/python eval/match_eval.py --source pdl --seed 1            # development
    .venv/bin/python eval/match_eval.py --report                          # seed 2: pdl, inc5000, fortune1000
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

PDL = ("companies_pdl_top21k", "companies_sorted_top21000.csv")
INC = ("inc5000_2019", "companies_data_final.csv")
FORTUNE = ("fortune1000", "fortune1000.csv")

#: Kind of lead -> its share of the leads (positives, then negatives).
KINDS: dict[str, float] = {
    "work_email": 0.30, "work_email_subdomain": 0.06, "website": 0.08, "name_exact": 0.08,
    "name_legal_suffix": 0.07, "name_case_punct": 0.07, "name_abbreviation": 0.04, "name_typo": 0.06,
    "disposable": 0.02, "subsidiary": 0.04,
    "negative_other": 0.08, "negative_similar": 0.06, "negative_free_mail": 0.03, "negative_blank": 0.01,
}
NEGATIVE = frozenset(k for k in KINDS if k.startswith("negative"))

FIRST = ("ann", "bob", "carla", "dev", "emma", "farid", "grace", "hiro", "ines", "jon", "kate", "liam", "maria",
         "nina", "omar", "priya", "quinn", "rosa", "sam", "tariq", "uma", "victor", "wei", "xena", "yusuf", "zoe")
LAST = ("smith", "garcia", "mueller", "rossi", "tanaka", "kowalski", "nguyen", "okafor", "silva", "johansson",
        "dubois", "patel", "murphy", "cohen", "ivanova", "kim", "lopez", "schmidt", "brown", "haddad")
FREE = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com",
        "gmx.de", "web.de", "mail.ru", "yahoo.co.uk", "comcast.net", "btinternet.com", "orange.fr", "qq.com",
        "sbcglobal.net", "t-online.de", "libero.it", "protonmail.com")
DISPOSABLE = ("mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "trashmail.com",
              "sharklasers.com", "temp-mail.org")
SUBDOMAINS = ("uk", "us", "de", "mail", "corp", "eu", "emea", "in", "fr", "apac")
#: Legal forms people add, by the company's country (lower case as the source writes it).
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "united states": ("Inc.", ", Inc.", "Inc", "LLC", ", LLC", "Corp.", "Corporation", "Co."),
    "united kingdom": ("Ltd", "Ltd.", "Limited", "plc", "PLC", "LLP"),
    "germany": ("GmbH", "AG", "GmbH & Co. KG", "SE"), "austria": ("GmbH", "AG"), "switzerland": ("AG", "SA", "GmbH"),
    "france": ("S.A.", "SA", "SAS", "S.A.S.", "SARL"), "italy": ("S.p.A.", "SpA", "S.r.l."),
    "spain": ("S.A.", "S.L.", "SL"), "netherlands": ("B.V.", "BV", "N.V."), "belgium": ("NV", "SA", "BVBA"),
    "australia": ("Pty Ltd", "Pty. Ltd.", "Limited"), "new zealand": ("Limited", "Ltd"),
    "japan": ("K.K.", "Co., Ltd.", "Corporation"), "finland": ("Oy", "Oyj"), "sweden": ("AB", "AB (publ)"),
    "norway": ("AS", "ASA"), "denmark": ("A/S", "ApS"), "brazil": ("Ltda.", "S.A.", "LTDA"),
    "india": ("Pvt. Ltd.", "Private Limited", "Limited", "Ltd"), "canada": ("Inc.", "Ltd.", "Corp."),
    "mexico": ("S.A. de C.V.",), "singapore": ("Pte. Ltd.", "Pte Ltd"), "ireland": ("Ltd", "Limited", "DAC"),
    "poland": ("Sp. z o.o.", "S.A."), "south africa": ("(Pty) Ltd", "Ltd"), "china": ("Co., Ltd.", "Ltd."),
}
GENERIC_FORMS = ("Inc.", "Ltd", "Limited", "Corp.", "LLC", "Co.")
#: Legal forms a name may already end with (removed for the "without" variant).
ENDINGS = re.compile(r"(?:,?\s+(?:inc\.?|incorporated|corp\.?|corporation|llc|l\.l\.c\.|ltd\.?|limited|plc|llp|"
                     r"gmbh|ag|s\.?a\.?|s\.?p\.?a\.?|b\.?v\.?|n\.?v\.?|pty\.? ltd\.?|oy|oyj|ab|as|asa|a/s|"
                     r"co\.?,? ltd\.?|k\.?k\.?|ltda\.?|sas|sarl|s\.?l\.?|pvt\.? ltd\.?|private limited))+\s*$",
                     re.IGNORECASE)
#: Abbreviations people write (word -> its short form; both directions for "&"/"and").
ABBREVIATE: dict[str, tuple[str, ...]] = {
    "international": ("Intl", "Int'l", "Intl."), "corporation": ("Corp", "Corp."), "company": ("Co", "Co."),
    "manufacturing": ("Mfg",), "services": ("Svcs", "Svc"), "brothers": ("Bros", "Bros."),
    "associates": ("Assoc", "Assocs"), "university": ("Univ", "Univ."), "technologies": ("Tech",),
    "technology": ("Tech",), "management": ("Mgmt",), "national": ("Natl", "Nat'l"), "systems": ("Sys",),
    "laboratories": ("Labs",), "pharmaceuticals": ("Pharma",), "center": ("Ctr",), "department": ("Dept",),
    "and": ("&",), "&": ("and", "And"),
}
KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass(frozen=True)
class Company:
    """A real company: its name as the source writes it, its domain and its country."""

    name: str
    domain: str
    country: str  # lower-case English name, "" when unknown


@dataclass
class Lead:
    """One generated lead, with the right answer (``truth``: an account's domain, or None)."""

    kind: str
    email: str
    company: str
    website: str
    country: str
    truth: str | None


@dataclass
class Scenario:
    """Accounts and leads of one source and seed."""

    source: str
    seed: int
    accounts: list[Company]
    leads: list[Lead]
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ sources

def _rows(data: Path, folder: str, file: str) -> list[dict[str, str]]:
    with open(data / folder / file, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


_EXTRACT: Any = None


def _host(text: str) -> str:
    """A company's domain as accounts are keyed: its registrable domain (``home.bluesnap.com``
    -> ``bluesnap.com``), by tldextract offline with the private section of the list, as
    icpkit keys accounts (an independent implementation of the same rule)."""
    global _EXTRACT
    import tldextract

    if _EXTRACT is None:
        _EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
    t = text.strip().lower()
    t = re.sub(r"^[a-z]+://", "", t)
    t = t.split("/")[0]
    t = t[4:] if t.startswith("www.") else t
    return _EXTRACT(t).top_domain_under_public_suffix or t


def load_pdl(data: Path) -> list[Company]:
    """PDL companies with a domain (lower-case names as PDL writes them)."""
    out = []
    for r in _rows(data, *PDL):
        if r["domain"].strip() and r["name"].strip():
            out.append(Company(r["name"].strip(), _host(r["domain"]), r["country"].strip().lower()))
    return out


def load_inc(data: Path) -> list[Company]:
    """Inc. 5000 companies: the name from the inc.com slug, the domain from ``website``."""
    seen: set[str] = set()
    out = []
    for r in _rows(data, *INC):
        slug = r["page_url"].rstrip("/").rsplit("/", 1)[-1]
        domain = _host(r["website"])
        if not slug or not domain or slug in seen:
            continue
        seen.add(slug)
        words = re.sub(r"-\d+$", "", slug).split("-")
        out.append(Company(" ".join(w.capitalize() for w in words if w), domain, "united states"))
    return out


def _simple(name: str) -> str:
    """A name reduced for the generator's own checks (not the matcher's key): bracketed text
    (an acronym, a place) and a leading "the" dropped, legal form removed by cleanco, lower
    case, letters and digits only."""
    from cleanco import basename

    text = re.sub(r"\([^()]*\)", " ", name.replace("&", " and ")).strip()
    text = re.sub(r"^the\s+", "", basename(text).lower().strip())
    return re.sub(r"[^0-9a-z]+", "", text)


def load_fortune(data: Path) -> list[Company]:
    """Fortune 1000 names; domains from PDL by name where it has them, else ``<letters>.com``."""
    pdl = {}
    for c in load_pdl(data):
        pdl.setdefault(_simple(c.name), c.domain)
    out = []
    for r in _rows(data, *FORTUNE):
        name = r["company"].strip()
        simple = _simple(name)
        out.append(Company(name, pdl.get(simple) or f"{simple}.com", "united states"))
    return out


LOADERS: dict[str, Callable[[Path], list[Company]]] = {"pdl": load_pdl, "inc5000": load_inc,
                                                        "fortune1000": load_fortune}
#: How many of a source's companies become accounts (the rest are not accounts).
ACCOUNTS = {"pdl": 8000, "inc5000": 2500, "fortune1000": 600}


# ---------------------------------------------------------------------------- variants

def legal_suffix_variant(rng: random.Random, c: Company) -> str:
    """The name without its legal form, or with one of its country's added."""
    stripped = ENDINGS.sub("", c.name)
    if stripped != c.name and stripped.strip():
        return stripped.strip().rstrip(",")
    form = rng.choice(LEGAL_FORMS.get(c.country, GENERIC_FORMS))
    return c.name + form if form.startswith(",") else f"{c.name} {form}"


def case_punct_variant(rng: random.Random, name: str) -> str:
    """Case changed and punctuation moved, the words kept."""
    ops = [lambda s: s.upper(), lambda s: s.title(), lambda s: s.lower(),
           lambda s: s.replace("-", " ") if "-" in s else s.replace(" ", "-", 1),
           lambda s: s.replace(" ", ", ", 1) if " " in s else s + ".",
           lambda s: s.replace("'", "").replace("’", "") if ("'" in s or "’" in s) else s + ".",
           lambda s: "The " + s if not s.lower().startswith("the ") else s[4:],
           lambda s: re.sub(r"\s+", "  ", s) + " "]
    out = name
    for op in rng.sample(ops, rng.choice((1, 2, 2, 3))):
        out = op(out)
    if out == name:
        out = name.upper() if name != name.upper() else name.lower()
    return out


def abbreviation_variant(rng: random.Random, name: str) -> str | None:
    """One word abbreviated (or ``&``/``and`` swapped); None when no word of the name has one."""
    words = name.split()
    spots = [i for i, w in enumerate(words) if w.lower().strip(",.") in ABBREVIATE]
    if not spots:
        return None
    i = rng.choice(spots)
    words[i] = rng.choice(ABBREVIATE[words[i].lower().strip(",.")])
    return " ".join(words)


def typo_variant(rng: random.Random, name: str) -> str | None:
    """One or two character edits in the letters of the name (never its first letter): a
    neighbouring key, a letter dropped, doubled or swapped with the next one."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0]
    if len(letters) < 4:
        return None
    out = list(name)
    for _ in range(1 if rng.random() < 0.7 else 2):
        letters = [i for i, ch in enumerate(out) if ch.isalpha() and i > 0]
        i = rng.choice(letters)
        op = rng.choice(("near", "drop", "double", "swap"))
        if op == "near":
            out[i] = _near_key(rng, out[i])
        elif op == "drop":
            del out[i]
        elif op == "double":
            out.insert(i, out[i])
        elif i + 1 < len(out) and out[i + 1].isalpha():
            out[i], out[i + 1] = out[i + 1], out[i]
        else:
            out[i] = _near_key(rng, out[i])
    typo = "".join(out)
    return typo if typo.lower() != name.lower() else None


def _near_key(rng: random.Random, ch: str) -> str:
    low = ch.lower()
    for row in KEYBOARD:
        j = row.find(low)
        if j >= 0:
            near = [row[k] for k in (j - 1, j + 1) if 0 <= k < len(row)]
            pick = rng.choice(near)
            return pick.upper() if ch.isupper() else pick
    return ch


def mixed_case(rng: random.Random, text: str) -> str:
    r = rng.random()
    return text.upper() if r < 0.1 else text.title() if r < 0.3 else text


def person(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return rng.choice((f"{first}.{last}", f"{first[0]}{last}", first, f"{first}_{last}"))


def website_variant(rng: random.Random, domain: str) -> str:
    return rng.choice((f"https://www.{domain}/about", f"http://{domain}", f"www.{domain}", f"{domain.upper()}/",
                       f"https://{domain}/contact-us?ref=form", f"{domain}"))


# ---------------------------------------------------------------------------- generator

def _country(rng: random.Random, c: Company, countries: Sequence[str]) -> str:
    r = rng.random()
    if r < 0.5:
        return c.country
    if r < 0.9:
        return ""
    return rng.choice([x for x in countries if x != c.country] or [""])


def _subsidiary(rng: random.Random, c: Company, countries: Sequence[str]) -> Company:
    country = rng.choice([x for x in countries if x and x != c.country] or ["germany"])
    place = {"united kingdom": "UK", "united states": "USA"}.get(country, country.title())
    base = ENDINGS.sub("", c.name).strip() or c.name
    name = rng.choice((f"{base} {place}", f"{base} {place} Ltd", f"{base} {place} GmbH", f"{base} Services {place}"))
    return Company(name, c.domain, country)


def scenario(source: str, seed: int, data: Path, leads: int, n_accounts: int | None = None) -> Scenario:
    """Accounts and labelled leads of one source (see the module docstring)."""
    import rapidfuzz

    rng = random.Random(f"{source}:{seed}")
    companies = LOADERS[source](data)
    rng.shuffle(companies)
    n = min(n_accounts or ACCOUNTS[source], len(companies) * 2 // 3)
    accounts, rest = companies[:n], companies[n:]
    others = [c for s in LOADERS if s != source for c in LOADERS[s](data)]
    countries = sorted({c.country for c in companies if c.country} | {"germany", "france", "india", "brazil"})
    subsidiaries = [(c, _subsidiary(rng, c, countries)) for c in rng.sample(accounts, max(2, n // 50))]
    all_accounts = accounts + [s for _, s in subsidiaries]

    simple_keys = {_simple(c.name) for c in all_accounts}
    labels = {c.domain.split(".")[0] for c in all_accounts}
    domains = {c.domain for c in all_accounts}
    outside = [c for c in rest + others
               if _simple(c.name) and _simple(c.name) not in simple_keys and c.domain not in domains
               and c.domain.split(".")[0] not in labels]
    keys = sorted(k for k in simple_keys if k)
    close: list[Company] = []
    for c in outside:
        hit = rapidfuzz.process.extractOne(_simple(c.name), keys, scorer=rapidfuzz.fuzz.ratio, score_cutoff=80)
        if hit is not None:
            close.append(c)

    out: list[Lead] = []
    kinds = list(KINDS)
    weights = [KINDS[k] for k in kinds]
    notes = [f"{len(companies):,} companies in {source}; {len(all_accounts):,} accounts ({len(subsidiaries)} "
             f"subsidiaries sharing a parent's domain); {len(outside):,} companies outside the accounts, "
             f"{len(close):,} of them with a name close to an account's"]
    while len(out) < leads:
        kind = rng.choices(kinds, weights)[0]
        lead = _lead(rng, kind, accounts, subsidiaries, outside, close, countries)
        if lead is not None:
            out.append(lead)
    return Scenario(source, seed, all_accounts, out, notes)


def _lead(rng: random.Random, kind: str, accounts: Sequence[Company], subsidiaries: Sequence[tuple[Company, Company]],
          outside: Sequence[Company], close: Sequence[Company], countries: Sequence[str]) -> Lead | None:
    free = f"{person(rng)}@{rng.choice(FREE)}"
    if kind.startswith("negative"):
        pool = close if kind == "negative_similar" else outside
        c = rng.choice(pool)
        country = _country(rng, c, countries)
        if kind == "negative_other":
            return Lead(kind, f"{person(rng)}@{mixed_case(rng, c.domain)}", c.name, "", country, None)
        if kind == "negative_blank":
            return Lead(kind, free, "", "", country, None)
        return Lead(kind, free, case_punct_variant(rng, c.name) if rng.random() < 0.3 else c.name, "", country, None)
    if kind == "subsidiary":
        parent, sub = rng.choice(subsidiaries)
        c = rng.choice((parent, sub, sub))
        email = f"{person(rng)}@{c.domain}" if rng.random() < 0.5 else free
        return Lead(kind, email, c.name, "", _country(rng, c, countries), c.domain)
    if kind in ("name_abbreviation", "name_typo"):  # drawn among the names that have such a variant
        for _ in range(200):
            c = rng.choice(accounts)
            name = abbreviation_variant(rng, c.name) if kind == "name_abbreviation" else typo_variant(rng, c.name)
            if name is not None:
                email = free if rng.random() < 0.9 else ""
                return Lead(kind, email, name, "", _country(rng, c, countries), c.domain)
        return None
    c = rng.choice(accounts)
    country = _country(rng, c, countries)
    if kind == "work_email":
        company = c.name if rng.random() < 0.5 else ""
        return Lead(kind, mixed_case(rng, f"{person(rng)}@{c.domain}"), company, "", country, c.domain)
    if kind == "work_email_subdomain":
        sub = rng.choice(SUBDOMAINS)
        email = f"{person(rng)}@{sub.upper() if rng.random() < 0.3 else sub}.{c.domain}"
        return Lead(kind, email, c.name if rng.random() < 0.3 else "", "", country, c.domain)
    if kind == "website":
        email = free if rng.random() < 0.5 else ""
        return Lead(kind, email, c.name if rng.random() < 0.5 else "", website_variant(rng, c.domain), country,
                    c.domain)
    email = f"{person(rng)}@{rng.choice(DISPOSABLE)}" if kind == "disposable" else \
        (free if rng.random() < 0.9 else "")
    if kind in ("name_exact", "disposable"):
        name = c.name
    elif kind == "name_legal_suffix":
        name = legal_suffix_variant(rng, c)
    else:
        name = case_punct_variant(rng, c.name)
    return Lead(kind, email, name, "", country, c.domain)


# ----------------------------------------------------------------------------- matchers

def ours(s: Scenario) -> tuple[list[str | None], float]:
    """icpkit's matcher: the accounts indexed, the leads matched as one Arrow table."""
    import pyarrow as pa

    from icpkit.enrich.match import AccountIndex

    start = time.perf_counter()
    index = AccountIndex.from_records({"name": c.name, "domain": c.domain, "country": c.country} for c in s.accounts)
    leads = pa.table({"email": [x.email for x in s.leads], "company": [x.company for x in s.leads],
                      "website": [x.website for x in s.leads], "country": [x.country for x in s.leads]})
    found = index.match_table(leads)
    return found.column("domain").to_pylist(), time.perf_counter() - start


def baseline(s: Scenario, scorer: str = "WRatio") -> tuple[list[str | None], float]:
    """The straightforward script (see the module docstring), names compared by ``scorer``
    (a ``rapidfuzz.fuzz`` function's name)."""
    import tldextract
    from cleanco import basename
    from rapidfuzz import fuzz, process, utils

    from icpkit.intent.record import FREE_MAIL

    start = time.perf_counter()
    ext = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    domains = {c.domain.lower() for c in s.accounts}
    cleaned = [basename(c.name).lower() for c in s.accounts]
    by_name: dict[str, str | None] = {}

    def registered(text: str) -> str:
        return ext(text).top_domain_under_public_suffix.lower() if text else ""

    out: list[str | None] = []
    for lead in s.leads:
        mail = registered(lead.email.rsplit("@", 1)[-1]) if "@" in lead.email else ""
        site = registered(lead.website)
        if mail and mail not in FREE_MAIL and mail in domains:
            out.append(mail)
        elif site and site in domains:
            out.append(site)
        elif lead.company.strip():
            q = basename(lead.company).lower()
            if q not in by_name:
                hit = process.extractOne(q, cleaned, scorer=getattr(fuzz, scorer), processor=utils.default_process,
                                         score_cutoff=90)
                by_name[q] = s.accounts[hit[2]].domain if hit else None
            out.append(by_name[q])
        else:
            out.append(None)
    return out, time.perf_counter() - start


# ------------------------------------------------------------------------------ measures

@dataclass
class Figures:
    precision: float
    recall: float
    matched: int
    correct: int
    positives: int
    seconds: float
    by_kind: dict[str, tuple[int, int, int]]  # kind -> (leads, correct, wrong)


def measure(s: Scenario, found: Sequence[str | None], seconds: float) -> Figures:
    by_kind: dict[str, list[int]] = {k: [0, 0, 0] for k in KINDS}
    matched = correct = positives = 0
    for lead, got in zip(s.leads, found):
        row = by_kind[lead.kind]
        row[0] += 1
        positives += lead.truth is not None
        if got is None:
            continue
        matched += 1
        if got == lead.truth:
            correct += 1
            row[1] += 1
        else:
            row[2] += 1
    return Figures(correct / matched if matched else 1.0, correct / positives if positives else 1.0, matched,
                   correct, positives, seconds, {k: (v[0], v[1], v[2]) for k, v in by_kind.items() if v[0]})


#: The baselines' name scorers (see the module docstring).
BASELINES = ("WRatio", "ratio")


def report(s: Scenario, figures: dict[str, Figures]) -> list[str]:
    names = list(figures)
    first = figures[names[0]]
    lines = [f"## {s.source}, seed {s.seed}: {len(s.accounts):,} accounts, {len(s.leads):,} leads "
             f"({first.positives:,} with an account)", *[f"_{n}_" for n in s.notes], "",
             "| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names),
             "| precision | " + " | ".join(f"{f.precision:.4f}" for f in figures.values()) + " |",
             "| recall | " + " | ".join(f"{f.recall:.4f}" for f in figures.values()) + " |",
             "| matches made (correct) | " + " | ".join(f"{f.matched:,} ({f.correct:,})" for f in figures.values())
             + " |",
             "| seconds | " + " | ".join(f"{f.seconds:.2f}" for f in figures.values()) + " |", "",
             "Per kind of lead: the share matched to the right account (positives), and the wrong matches.", "",
             "| kind | leads | " + " | ".join(f"{n} right | {n} wrong" for n in names) + " |",
             "|---|---:|" + "---:|---:|" * len(names)]
    for kind, (n, _, _) in first.by_kind.items():
        cells = []
        for f in figures.values():
            _, ok, bad = f.by_kind[kind]
            cells += ["-" if kind in NEGATIVE else f"{ok / n:.1%}", str(bad)]
        lines.append(f"| {kind} | {n:,} | " + " | ".join(cells) + " |")
    return lines


def run(source: str, seed: int, data: Path, leads: int, accounts: int | None, show: int,
        baselines: Sequence[str] = BASELINES) -> dict[str, Figures]:
    s = scenario(source, seed, data, leads, accounts)
    found, seconds = ours(s)
    figures = {"icpkit": measure(s, found, seconds)}
    for scorer in baselines:
        figures[f"baseline ({scorer})"] = measure(s, *baseline(s, scorer))
    print("\n".join(report(s, figures)) + "\n", flush=True)
    if show:
        _show_errors(s, found, show)
    return figures


def _show_errors(s: Scenario, found: Sequence[str | None], limit: int) -> None:
    """The first wrong matches and misses, for development."""
    wrong = [(x, g) for x, g in zip(s.leads, found) if g is not None and g != x.truth]
    missed = [(x, g) for x, g in zip(s.leads, found) if g is None and x.truth is not None]
    by = {c.domain: c.name for c in s.accounts}
    print(f"wrong ({len(wrong)}):")
    for x, g in wrong[:limit]:
        print(f"  {x.kind}: {x.company!r} {x.email!r} {x.country!r} -> {g} ({by.get(g)!r}); truth {x.truth}")
    print(f"missed ({len(missed)}): {Counter(x.kind for x, _ in missed).most_common()}")
    for x, _ in missed[:limit]:
        print(f"  {x.kind}: {x.company!r} {x.email!r} {x.website!r} {x.country!r}; truth {x.truth} "
              f"({by.get(x.truth or '')!r})")


def main(argv: Iterable[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--source", choices=sorted(LOADERS), default="pdl")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--leads", type=int, default=20_000)
    p.add_argument("--accounts", type=int, default=None, help="accounts drawn from the source (default per source)")
    p.add_argument("--report", action="store_true", help="seed 2 on every source (the figures to report)")
    p.add_argument("--show-errors", type=int, default=0, metavar="N", help="print the first N errors of each kind")
    p.add_argument("--no-baselines", action="store_true", help="icpkit only (the WRatio baseline takes a minute)")
    args = p.parse_args(list(argv) if argv is not None else None)
    if not (args.data_dir / PDL[0]).is_dir():
        print(f"no shared data at {args.data_dir}: give --data-dir", file=sys.stderr)
        return 2
    runs = [(s, 2) for s in ("pdl", "inc5000", "fortune1000")] if args.report else [(args.source, args.seed)]
    for source, seed in runs:
        run(source, seed, args.data_dir, args.leads, args.accounts, args.show_errors,
            () if args.no_baselines else BASELINES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
