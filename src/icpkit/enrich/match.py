"""Leads matched to accounts: the one matcher behind ``icp match`` and the server's
``POST /v1/leads``.

A lead (an inbound person) is matched to the account (a company, keyed by its domain) it
works at, by the first of these that holds:

1. ``email_domain`` (confidence :data:`EMAIL_CONFIDENCE`, 1.0): the registrable domain of
   the lead's e-mail address (``ann@uk.acme.com`` -> ``acme.com``) is an account's domain.
   A free-mail or disposable address (:mod:`icpkit.io.mail`) is never used: such a lead is
   matched by its website or company name only.
2. ``website`` (:data:`WEBSITE_CONFIDENCE`, 0.95): the registrable domain of the lead's
   website (``https://www.acme.com/about``) is an account's domain. A free-mail provider's
   domain written as a website names no employer either, and is passed over.
3. ``exact_name`` (:data:`EXACT_CONFIDENCE`, 0.9): the company name's key
   (:func:`~icpkit.enrich.names.company_key`, compared without spaces) is the key of the
   accounts of one domain. When accounts of several domains share the key, the lead's
   country picks the one domain with accounts in it, provided every other domain's accounts
   are known to be elsewhere (:data:`EXACT_BY_COUNTRY_CONFIDENCE`); otherwise the name is
   ambiguous and the lead stays unmatched (its candidates are listed). A unique key whose
   accounts are all in another country than the lead's still matches (people work abroad;
   multinationals have one account), with :data:`EXACT_OTHER_COUNTRY_CONFIDENCE`.
4. ``fuzzy_name``: the most similar key among the accounts whose keys share a word, or their
   first or last four letters, or their first two letters and about their length, with the
   lead's (token blocking: no lead is compared with every account). Similarity is
   1 - (edits / letters) of the keys without spaces (rapidfuzz's optimal string alignment:
   a letter changed, added, dropped or two swapped is one edit).
   The best must be at least :data:`FUZZY_MIN_SCORE` similar, beat every other domain's best
   by :data:`FUZZY_MIN_MARGIN`, have :data:`FUZZY_MIN_LENGTH` letters or more, and differ
   from the lead's key only as a typo would (:func:`~icpkit.enrich.names.typo_close`: word
   by word, ``north`` is not a typo of ``south``). Accounts in another country than the
   lead's (both known) are candidates only when none in its country matches, and then
   must be :data:`FUZZY_ABROAD_MIN_SCORE` similar, with the confidence times
   :data:`ABROAD_FACTOR` (people work abroad, as for exact names). The confidence grows
   with the score and the margin (:func:`fuzzy_confidence`).

A name match (3 or 4) made while the lead gives a work address or a website at a domain
that is no account's is less sure: its confidence is multiplied by
:data:`OTHER_DOMAIN_FACTOR`.

**Accounts sharing a domain** (subsidiaries, regional entities) are one answer for the
domain steps: the domain is certain whichever of them is meant. :attr:`Match.account` then
names the one whose key is most similar to the lead's company (then the one in the lead's
country, then the first in input order); name steps count distinct domains, never accounts,
so two accounts of one domain never make a name ambiguous. Ties are broken the same way
everywhere: higher similarity, then same country, then input order.

:meth:`AccountIndex.match` matches one lead (a mapping); :meth:`AccountIndex.match_table`
matches a table of leads with the same rules, vectorised: the domain steps in Arrow and
numpy over distinct values, the name steps once per distinct (name, country).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..io.mail import MAIL_HOST_PATTERN, host_domain, is_disposable, is_free_mail, mail_host
from ..io.record import normalize_country, normalize_text
from .names import block_keys, compact, company_key, typo_close

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["EMAIL_CONFIDENCE", "EXACT_BY_COUNTRY_CONFIDENCE", "EXACT_CONFIDENCE", "EXACT_OTHER_COUNTRY_CONFIDENCE",
           "ABROAD_FACTOR", "FUZZY_ABROAD_MIN_SCORE", "FUZZY_BLOCK_MAX", "FUZZY_FULL_MARGIN", "FUZZY_LENGTH_SPREAD", "FUZZY_MAX_CONFIDENCE", "FUZZY_MIN_LENGTH",
           "FUZZY_MIN_MARGIN", "FUZZY_MIN_SCORE", "LEAD_FIELDS", "MAIL_KINDS", "METHODS", "OTHER_DOMAIN_FACTOR",
           "WEBSITE_CONFIDENCE", "AccountIndex", "Candidate", "Hits", "Match", "fuzzy_confidence", "lead_columns",
           "lead_values"]

#: The methods, in the order they are tried.
METHODS = ("email_domain", "website", "exact_name", "fuzzy_name")
#: What a lead's address is, in :meth:`AccountIndex.match_table`'s ``mail_kind`` column.
MAIL_KINDS = ("work", "free_mail", "disposable")

#: The e-mail's domain is the account's: the lead works there.
EMAIL_CONFIDENCE = 1.0
#: The lead's website is the account's: almost as sure (a website field is sometimes a partner's
#: or a parent's).
WEBSITE_CONFIDENCE = 0.95
#: The company name's key is the key of one domain's accounts.
EXACT_CONFIDENCE = 0.9
#: The key is several domains' and the lead's country leaves one.
EXACT_BY_COUNTRY_CONFIDENCE = 0.85
#: The key is one domain's, whose accounts are all in another country than the lead's.
EXACT_OTHER_COUNTRY_CONFIDENCE = 0.7
#: A name match while the lead's work e-mail or website is at a domain that is no account's.
OTHER_DOMAIN_FACTOR = 0.9

#: The least similarity (1 - edits / letters, see the module docstring) of the lead's key and
#: an account's for a fuzzy match: one edit in five letters, two in ten. What edits are
#: allowed where is :func:`~icpkit.enrich.names.typo_close`'s to say (a word of three letters
#: none, a one-word name one), so this threshold is loose on purpose.
FUZZY_MIN_SCORE = 0.80
#: How much the best domain's similarity must beat every other domain's: two close candidates
#: mean the name cannot tell them apart (about one edit more in a name of up to 20 letters).
FUZZY_MIN_MARGIN = 0.05
#: Keys shorter than this (letters and digits) are matched exactly or not at all: one letter
#: changes a short name into another company's (``dell`` / ``bell``, ``areva`` / ``fareva``).
FUZZY_MIN_LENGTH = 7
#: The confidence of a perfect fuzzy match with a wide margin (below :data:`EXACT_CONFIDENCE`).
FUZZY_MAX_CONFIDENCE = 0.85
#: A margin from which the runner-up no longer lowers a fuzzy match's confidence.
FUZZY_FULL_MARGIN = 0.15
#: How many letters longer or shorter than the lead's key an account's may be to be found by
#: its first letters and length (see :func:`~icpkit.enrich.names.block_keys`).
FUZZY_LENGTH_SPREAD = 2
#: A fuzzy match among accounts in another country than the lead's (none in its own matched):
#: at least this similar, and its confidence times :data:`ABROAD_FACTOR`.
FUZZY_ABROAD_MIN_SCORE = 0.9
ABROAD_FACTOR = EXACT_OTHER_COUNTRY_CONFIDENCE / EXACT_CONFIDENCE
#: A blocking key shared by more distinct account keys than this (``bank``, ``university``)
#: is not used to find candidates, unless the lead's key has no other.
FUZZY_BLOCK_MAX = 1000

#: Canonical lead fields and the column names (or mapping keys) they are read from, compared
#: ignoring case, spaces, underscores and hyphens; the first with a value wins.
LEAD_FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "email_address", "work_email", "business_email", "contact_email", "mail"),
    "company": ("company", "company_name", "account", "account_name", "organization", "organisation",
                "organization_name", "employer"),
    "website": ("website", "company_website", "company_domain", "company_domain_name", "domain", "url",
                "web_site", "company_url"),
    "country": ("country", "company_country", "country/region", "country_code", "company_country_code"),
}


def _field_key(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "").replace("-", "")


def lead_columns(names: Iterable[str]) -> dict[str, list[str]]:
    """The columns (or keys) each lead field is read from, in the order of :data:`LEAD_FIELDS`."""
    by_key: dict[str, list[str]] = {}
    for name in names:
        if isinstance(name, str):
            by_key.setdefault(_field_key(name), []).append(name)
    return {f: [c for alias in aliases for c in by_key.get(_field_key(alias), [])]
            for f, aliases in LEAD_FIELDS.items()}


def _text(value: Any) -> str | None:
    """A cell as trimmed text; None for a blank, a placeholder (``n/a``) or a non-text value
    other than a number."""
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, str):
        if not isinstance(value, (int, float)) or value != value:
            return None
        value = str(value)
    return normalize_text(value)


def lead_values(lead: Mapping[str, Any]) -> dict[str, str | None]:
    """The lead's e-mail, company, website and country as text (see :data:`LEAD_FIELDS`)."""
    cols = lead_columns(lead.keys())
    return {f: next((t for c in cols[f] if (t := _text(lead[c])) is not None), None) for f in LEAD_FIELDS}


@dataclass(frozen=True)
class Candidate:
    """An account a name match considered: its domain, name and similarity (0-1)."""

    domain: str
    name: str | None
    score: float


@dataclass(frozen=True)
class Match:
    """Where a lead was matched: the account's ``domain`` (None: unmatched), the ``method``
    (one of :data:`METHODS`, None when unmatched), the ``confidence`` (0-1, 0 when unmatched),
    the account's position in the index and name, and for name steps the best candidates
    considered (an ambiguous name lists them while staying unmatched)."""

    domain: str | None
    method: str | None
    confidence: float
    account: int | None = None
    name: str | None = None
    candidates: tuple[Candidate, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "match_method": self.method, "confidence": self.confidence,
                "account_name": self.name,
                "candidates": [{"domain": c.domain, "name": c.name, "score": c.score} for c in self.candidates]}


def fuzzy_confidence(score: float, margin: float) -> float:
    """A fuzzy match's confidence: :data:`FUZZY_MAX_CONFIDENCE` times the similarity, times a
    factor from 0.5 (no margin) to 1 (a margin of :data:`FUZZY_FULL_MARGIN` or more)."""
    return round(FUZZY_MAX_CONFIDENCE * score * (0.5 + 0.5 * min(1.0, margin / FUZZY_FULL_MARGIN)), 4)


def _site_domain(text: str | None) -> str | None:
    """The registrable domain a website names; None for no plausible host or a mailbox provider's."""
    if text is None:
        return None
    domain = host_domain(text)
    return None if domain is None or is_free_mail(domain) or is_disposable(domain) else domain


#: The account keys (without spaces) similar to a lead's, with their similarity, best first.
Hits = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _Named:
    """What the name steps found for one (key, country)."""

    domain: str | None
    method: str | None
    confidence: float
    account: int | None
    candidates: tuple[Candidate, ...] = ()


class AccountIndex:
    """Accounts indexed once for matching leads: by domain, by name key, and (built when a
    fuzzy match is first needed) by blocking key. Accounts without a usable domain are left
    out (:attr:`skipped` counts them): a match names a domain."""

    def __init__(self, domains: Sequence[str | None], names: Sequence[str | None] | None = None,
                 countries: Sequence[str | None] | None = None) -> None:
        """Accounts given column by column, already normalised: ``domains`` as account keys
        (:func:`~icpkit.io.record.account_domain`; a blank one leaves its account out), the
        names as written, ``countries`` as ISO codes. :meth:`from_records` and
        :meth:`from_arrow` normalise raw values first."""
        n = len(domains)
        names = list(names) if names is not None else [None] * n
        countries = list(countries) if countries is not None else [None] * n
        self.domains: list[str] = []
        self.names: list[str | None] = []
        self.countries: list[str | None] = []
        self.keys: list[str] = []
        self.by_domain: dict[str, list[int]] = {}
        self.by_key: dict[str, list[int]] = {}
        self.skipped = 0
        for domain, name, country in zip(domains, names, countries):
            if not domain:
                self.skipped += 1
                continue
            i = len(self.domains)
            key = company_key(_text(name))
            self.domains.append(domain)
            self.names.append(_text(name))
            self.countries.append(country)
            self.keys.append(key)
            self.by_domain.setdefault(domain, []).append(i)
            if key:
                self.by_key.setdefault(compact(key), []).append(i)
        self._blocking: _Blocking | None = None  # built when a fuzzy match is first needed
        self._hits = lru_cache(maxsize=1 << 16)(self._fuzzy_hits)

    def __len__(self) -> int:
        return len(self.domains)

    # -- building -----------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, domain: str = "domain", name: str = "name",
                     country: str = "country", website: str | None = None) -> AccountIndex:
        """Accounts from mappings (``domain``, ``name``, ``country``; ``website`` fills a blank
        domain when given). Domains go through :func:`~icpkit.io.record.account_domain`,
        countries through :func:`~icpkit.io.record.normalize_country`."""
        rows = list(records)
        return cls([_account_domain(r.get(domain), r.get(website) if website else None) for r in rows],
                   [r.get(name) for r in rows], [_country(r.get(country)) for r in rows])

    @classmethod
    def from_arrow(cls, table: pa.Table, *, domain: str = "domain", name: str = "name", country: str = "country",
                   website: str | None = None) -> AccountIndex:
        """Accounts from an Arrow table, each distinct value normalised once. The ``domain``
        column (or the ``website`` one) must exist; ``name`` and ``country`` are optional (no
        name: no name steps). A DataError names a missing column."""
        cols = table.column_names
        if domain not in cols and (website is None or website not in cols):
            raise DataError(f"the accounts have no '{domain}' column" +
                            (f" and no '{website}' column" if website else ""), where=f"column '{domain}'",
                            hint=f"the columns are: {', '.join(cols[:20]) or 'none'}")

        def mapped(col: str | None, fn: Callable[[Any], Any]) -> list[Any]:
            if col is None or col not in cols:
                return [None] * table.num_rows
            return _per_distinct(table.column(col), fn)

        given = mapped(domain, lambda v: _account_domain(v, None))
        if website is not None and website in cols:
            sites = mapped(website, lambda v: _account_domain(None, v))
            given = [d or s for d, s in zip(given, sites)]
        names = table.column(name).to_pylist() if name in cols else None
        return cls(given, names, mapped(country, _country))

    # -- one lead -----------------------------------------------------------------------

    def match(self, lead: Mapping[str, Any]) -> Match:
        """The account of one lead (see the module docstring for the rules)."""
        v = lead_values(lead)
        key = company_key(v["company"])
        country = _country(v["country"])
        mail = None if v["email"] is None else mail_host(v["email"])
        mail_domain = None if mail is None else host_domain(mail)
        work = mail_domain is not None and not (is_free_mail(mail_domain) or is_disposable(mail_domain))
        if work and mail_domain in self.by_domain:
            return self._domain_match(mail_domain, "email_domain", EMAIL_CONFIDENCE, key, country)
        site = _site_domain(v["website"])
        if site is not None and site in self.by_domain:
            return self._domain_match(site, "website", WEBSITE_CONFIDENCE, key, country)
        found = self._by_name(key, country)
        if found.domain is None:
            return Match(None, None, 0.0, candidates=found.candidates)
        confidence = found.confidence
        if work or site is not None:
            confidence = round(confidence * OTHER_DOMAIN_FACTOR, 4)
        assert found.account is not None
        return Match(found.domain, found.method, confidence, found.account, self.names[found.account],
                     found.candidates)

    def _domain_match(self, domain: str, method: str, confidence: float, key: str, country: str | None) -> Match:
        ids = self.by_domain[domain]
        i = ids[0] if len(ids) == 1 else self._pick(ids, key, country)
        return Match(domain, method, confidence, i, self.names[i])

    def _pick(self, ids: Sequence[int], key: str, country: str | None) -> int:
        """Of accounts sharing a domain, the one meant: the most similar key, then the lead's
        country, then the first in input order."""
        from rapidfuzz.distance import OSA

        q = compact(key)
        return min(ids, key=lambda i: (-(OSA.normalized_similarity(q, compact(self.keys[i])) if q else 0.0),
                                       not (country is not None and self.countries[i] == country), i))

    # -- names --------------------------------------------------------------------------

    def _by_name(self, key: str, country: str | None, *, hits: Hits | None = None, near: Hits | None = None
                 ) -> _Named:
        """The name steps (exact, then fuzzy) for a company key and an ISO country code;
        ``hits`` and ``near``: the key's fuzzy candidates from :data:`FUZZY_MIN_SCORE` and from
        ``FUZZY_MIN_SCORE - FUZZY_MIN_MARGIN`` when already found (:meth:`_fuzzy_hits_of`)."""
        if not key:
            return _Named(None, None, 0.0, None)
        ids = self.by_key.get(compact(key))
        if ids:
            return self._exact(ids, key, country)
        return self._fuzzy(key, country, hits, near)

    def _exact(self, ids: list[int], key: str, country: str | None) -> _Named:
        domains = list(dict.fromkeys(self.domains[i] for i in ids))
        if len(domains) == 1:
            here = [i for i in ids if country is not None and self.countries[i] == country]
            elsewhere = country is not None and not here and all(self.countries[i] is not None for i in ids)
            i = here[0] if here else ids[0]
            return _Named(domains[0], "exact_name",
                          EXACT_OTHER_COUNTRY_CONFIDENCE if elsewhere else EXACT_CONFIDENCE, i)
        # several domains: the lead's country picks one when every other is known to be elsewhere
        here = [i for i in ids if country is not None and self.countries[i] == country]
        picked = {self.domains[i] for i in here}
        if len(picked) == 1 and all(self.countries[i] is not None for i in ids if self.domains[i] not in picked):
            return _Named(self.domains[here[0]], "exact_name", EXACT_BY_COUNTRY_CONFIDENCE, here[0])
        candidates = tuple(Candidate(d, self.names[self.by_domain[d][0]], 1.0) for d in domains[:5])
        return _Named(None, None, 0.0, None, candidates)

    def _fuzzy(self, key: str, country: str | None, hits: Hits | None = None, near: Hits | None = None) -> _Named:
        found = self._fuzzy_in(key, country, hits, near)
        if found.domain is None and country is not None:
            abroad = self._fuzzy_in(key, None, hits, near)
            if abroad.domain is not None and abroad.candidates[0].score >= FUZZY_ABROAD_MIN_SCORE:
                return _Named(abroad.domain, "fuzzy_name", abroad.confidence * ABROAD_FACTOR, abroad.account,
                              abroad.candidates)
        return found

    def _fuzzy_in(self, key: str, country: str | None, hits: Hits | None = None, near: Hits | None = None) -> _Named:
        ranked = self._ranked(self._hits(key, FUZZY_MIN_SCORE) if hits is None else hits, country)
        if ranked and ranked[0][1][0] < FUZZY_MIN_SCORE + FUZZY_MIN_MARGIN:
            # a best close to the threshold: runner-ups below it may be within the margin
            low = self._hits(key, FUZZY_MIN_SCORE - FUZZY_MIN_MARGIN) if near is None else near
            ranked = self._ranked(low, country)
        if not ranked:
            return _Named(None, None, 0.0, None)
        candidates = tuple(Candidate(d, self.names[i], round(sc, 4)) for d, (sc, i) in ranked[:5])
        domain, (top, i) = ranked[0]
        margin = top - (ranked[1][1][0] if len(ranked) > 1 else 0.0)
        if top < FUZZY_MIN_SCORE or margin < FUZZY_MIN_MARGIN or not typo_close(key, self.keys[i]):
            return _Named(None, None, 0.0, None, candidates)
        return _Named(domain, "fuzzy_name", fuzzy_confidence(top, margin), i, candidates)

    def _ranked(self, hits: Iterable[tuple[str, float]], country: str | None) -> list[tuple[str, tuple[float, int]]]:
        """The domains of the accounts behind ``hits`` that may be in the lead's country, each
        with its best (similarity, account), best first (then input order)."""
        best: dict[str, tuple[float, int]] = {}  # domain -> (score, account)
        for choice, score in hits:
            for i in self.by_key[choice]:
                if country is not None and self.countries[i] is not None and self.countries[i] != country:
                    continue
                d = self.domains[i]
                if d not in best or (score, -i) > (best[d][0], -best[d][1]):
                    best[d] = (score, i)
        return sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))

    def _fuzzy_hits(self, key: str, floor: float) -> Hits:
        """The compact account keys at least ``floor`` similar to ``key``, with their
        similarity, best first; whatever the country (cached by key: leads of one company
        come from several countries)."""
        return self._fuzzy_hits_of([key], floor)[0]

    def _fuzzy_hits_of(self, keys: Sequence[str], floor: float = FUZZY_MIN_SCORE) -> list[Hits]:
        """:meth:`_fuzzy_hits` of many keys at once (see :meth:`_Blocking.hits`)."""
        long_enough = [k for k in keys if len(compact(k)) >= FUZZY_MIN_LENGTH]
        if not long_enough:
            return [() for _ in keys]
        if self._blocking is None:
            self._blocking = _Blocking(self.keys)
        found = dict(zip(long_enough, self._blocking.hits(long_enough, floor)))
        return [found.get(k, ()) for k in keys]

    # -- many leads ---------------------------------------------------------------------

    def match_table(self, leads: pa.Table, *, progress: Callable[[str, float | None], None] | None = None,
                    mail_kind: bool = False) -> pa.Table:
        """Every lead of ``leads`` matched, in their order: ``email`` (trimmed, lower-cased),
        ``domain``, ``match_method`` and ``confidence`` (0 when unmatched); with ``mail_kind``
        also what the address is (:data:`MAIL_KINDS`, null when there is none). The same
        rules as :meth:`match`, computed once per distinct value. A DataError when the leads
        have neither an e-mail nor a company column (nothing to match on)."""
        return _match_table(self, leads, progress, mail_kind)


def _account_domain(domain: Any, website: Any) -> str | None:
    """An account's key domain from its domain (else its website) cell; None when neither
    is a plausible host."""
    for value in (domain, website):
        text = _text(value)
        if text is not None and (d := host_domain(text)) is not None:
            return d
    return None


def _country(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else normalize_country(text)


def _per_distinct(column: pa.ChunkedArray, fn: Callable[[Any], Any]) -> list[Any]:
    """``fn`` of every cell of ``column``, called once per distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
    else:
        column = column.combine_chunks()
    values = [fn(v) for v in column.dictionary.to_pylist()]
    return [None if i is None else values[i] for i in column.indices.to_pylist()]


class _Blocking:
    """The fuzzy step's candidate lookup: blocking key -> the distinct compact account keys
    holding it (see :func:`~icpkit.enrich.names.block_keys`), as positions in ``keys``; and
    each key's length and letter counts, for two cheap bounds on the edits between two keys
    that leave out most of a block before any string is compared."""

    def __init__(self, keys: Iterable[str]) -> None:
        import numpy as np

        spaced = {compact(k): k for k in keys if k}
        self.keys = np.array(list(spaced), dtype=object)
        self.lengths = np.array([len(c) for c in spaced], dtype=np.int32)
        self.counts = np.array([_letter_counts(c) for c in spaced], dtype=np.uint8).reshape(len(spaced), _BUCKETS)
        lists: dict[str, list[int]] = {}
        for j, c in enumerate(spaced):
            for b in block_keys(spaced[c]):
                lists.setdefault(b, []).append(j)
        # each block's keys in order of length, with their lengths: a length window is a slice
        self.blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for b, v in lists.items():
            ids = np.asarray(v, dtype=np.int32)
            ids = ids[np.argsort(self.lengths[ids], kind="stable")]
            self.blocks[b] = (ids, self.lengths[ids])

    def hits(self, keys: Sequence[str], floor: float) -> list[Hits]:
        """For each key, the compact account keys at least ``floor`` similar to it, with their
        similarity. Candidates are those sharing a blocking key (only the blocks of at most
        :data:`FUZZY_BLOCK_MAX` keys when there are such); before any string is compared, the
        pairs that cannot reach ``floor`` are left out by two bounds on the edits between two
        keys: the difference of their lengths, and half the letters counted differently (a
        changed letter changes two counts). All keys' pairs are filtered together in numpy,
        a chunk at a time, and compared by rapidfuzz's ``cpdist`` on every core."""
        import numpy as np
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        out: list[dict[str, float]] = [{} for _ in keys]
        arrays: list[np.ndarray] = []
        owners: list[int] = []
        queries = [compact(k) for k in keys]
        for i, key in enumerate(keys):
            blocks = [b for k in block_keys(key, spread=FUZZY_LENGTH_SPREAD) if (b := self.blocks.get(k)) is not None]
            small = [b for b in blocks if len(b[0]) <= FUZZY_BLOCK_MAX] or sorted(blocks, key=lambda b: len(b[0]))[:1]
            shortest, longest = floor * len(queries[i]) - 1, len(queries[i]) / floor + 1
            for ids, lengths in small:
                lo, hi = np.searchsorted(lengths, (shortest, longest)).tolist()
                if hi > lo:
                    arrays.append(ids[lo:hi])
                    owners.append(i)
        if not arrays:
            return [() for _ in keys]
        q_len = np.array([len(c) for c in queries], dtype=np.int32)
        q_counts = np.array([_letter_counts(c) for c in queries], dtype=np.uint8).reshape(len(keys), _BUCKETS)
        pair_q = np.repeat(np.asarray(owners, dtype=np.int64), [len(a) for a in arrays])
        pair_c = np.concatenate(arrays).astype(np.int64)
        n = len(self.keys)
        for start in range(0, len(pair_q), _PAIRS_AT_ONCE):
            q, c = pair_q[start:start + _PAIRS_AT_ONCE], pair_c[start:start + _PAIRS_AT_ONCE]
            lq, lc = q_len[q], self.lengths[c]
            ok = (lc >= floor * lq) & (lc * floor <= lq)
            q, c, lq, lc = q[ok], c[ok], lq[ok], lc[ok]
            a, b = q_counts[q], self.counts[c]
            apart = (np.maximum(a, b) - np.minimum(a, b)).sum(axis=1, dtype=np.int32)
            ok = apart <= 2 * (1 - floor) * np.maximum(lq, lc)
            pairs = np.unique(q[ok] * n + c[ok])
            q, c = pairs // n, pairs % n
            if not len(pairs):
                continue
            scores = process.cpdist([queries[i] for i in q.tolist()], self.keys[c].tolist(),
                                    scorer=OSA.normalized_similarity, score_cutoff=floor, workers=-1,
                                    dtype=np.float64)
            keep = scores >= floor
            for i, j, score in zip(q[keep].tolist(), c[keep].tolist(), scores[keep].tolist()):
                out[i][self.keys[j]] = score
        return [tuple(sorted(h.items(), key=lambda kv: (-kv[1], kv[0]))) for h in out]


#: Candidate pairs filtered at once by :meth:`_Blocking.hits` (memory: ~100 bytes a pair).
_PAIRS_AT_ONCE = 1 << 19


#: Letter-count buckets: a-z, 0-9 and one for every other character.
_BUCKETS = 37


def _bucket_table() -> bytes:
    table = bytearray([_BUCKETS - 1] * 256)
    for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz0123456789"):
        table[ord(ch)] = i
    return bytes(table)


_BUCKET_TABLE = _bucket_table()


def _letter_counts(text: str) -> list[int]:
    """How many times each bucket's characters occur in ``text`` (a non-ASCII character is one
    character of the last bucket)."""
    counts = [0] * _BUCKETS
    for b in text.encode("ascii", "replace").translate(_BUCKET_TABLE):
        counts[b] += 1
    return counts


# ------------------------------------------------------------------------- many leads at once

def _match_table(index: AccountIndex, leads: pa.Table, progress: Callable[[str, float | None], None] | None,
                 mail_kind: bool) -> pa.Table:
    """:meth:`AccountIndex.match_table`: the rules of :meth:`AccountIndex.match` over columns.
    Each step computes what it needs once per distinct value (a host, a website, a company
    name, a (key, country) pair) and spreads it over the rows with numpy."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = lead_columns(leads.column_names)
    if not cols["email"] and not cols["company"]:
        raise DataError("the leads have neither an e-mail nor a company column: nothing to match them by",
                        where="columns", hint="name a column email or company (the columns are: "
                                              f"{', '.join(leads.column_names[:20]) or 'none'})")
    n = leads.num_rows
    if progress is not None:
        progress("matching leads by domain", None)

    # The e-mail: trimmed, its host taken by the same pattern as mail_host, its domain per host.
    email = _coalesced(leads, cols["email"])
    out_email = pc.utf8_lower(email) if email is not None else pa.nulls(n, pa.string())
    work = np.zeros(n, dtype=bool)
    kind = np.zeros(n, dtype=np.int8)  # 0 no address, then 1-3: MAIL_KINDS in order
    method = np.zeros(n, dtype=np.int8)  # 0 none, then 1-4: METHODS in order
    domain = np.full(n, None, dtype=object)
    confidence = np.zeros(n, dtype=np.float64)
    if email is not None:
        hosts = pc.struct_field(pc.extract_regex(pc.utf8_trim(email, characters=_MAIL_TRIM), MAIL_HOST_PATTERN),
                                [0])
        codes, distinct = _encoded(hosts)
        mail = np.array([host_domain(h) for h in distinct] + [None], dtype=object)
        kinds = np.array([_mail_kind(d) for d in mail[:-1]] + [0], dtype=np.int8)
        is_work = kinds == 1
        known = np.array([bool(w) and d in index.by_domain for d, w in zip(mail[:-1], is_work[:-1])] + [False])
        work, kind = is_work[codes], kinds[codes]
        hit = known[codes]
        method[hit], domain[hit], confidence[hit] = 1, mail[codes[hit]], EMAIL_CONFIDENCE

    site_given = np.zeros(n, dtype=bool)
    website = _coalesced(leads, cols["website"])
    if website is not None:
        codes, distinct = _encoded(website)
        sites = np.array([_site_domain(_text(w)) for w in distinct] + [None], dtype=object)
        site_given = sites[codes] != None  # noqa: E711 - elementwise
        known = np.array([d is not None and d in index.by_domain for d in sites[:-1]] + [False])
        hit = known[codes] & (method == 0)
        method[hit], domain[hit], confidence[hit] = 2, sites[codes[hit]], WEBSITE_CONFIDENCE
    if progress is not None:
        progress("matching leads by domain", 100.0)

    company = _coalesced(leads, cols["company"])
    if company is not None:
        codes, distinct = _encoded(company)
        keys = [company_key(_text(c)) for c in distinct] + [""]
        has_key = np.array([bool(k) for k in keys])[codes]
        country = _coalesced(leads, cols["country"])
        if country is not None:
            ccodes, cdistinct = _encoded(country)
            countries = [_country(c) for c in cdistinct] + [None]
        else:
            ccodes, countries = np.zeros(n, dtype=np.int64), [None]
        need = np.flatnonzero((method == 0) & has_key)
        pairs, inverse = np.unique(codes[need] * len(countries) + ccodes[need], return_inverse=True)
        found_method = np.zeros(len(pairs), dtype=np.int8)
        found_domain = np.full(len(pairs), None, dtype=object)
        plain = np.zeros(len(pairs), dtype=np.float64)
        lowered = np.zeros(len(pairs), dtype=np.float64)
        seen: dict[tuple[str, str | None], _Named] = {}
        fuzzy = sorted({k for k in (keys[p // len(countries)] for p in pairs.tolist())
                        if compact(k) not in index.by_key})
        if progress is not None:
            progress("matching leads by name", 0.0)
        hits = dict(zip(fuzzy, index._fuzzy_hits_of(fuzzy)))
        close = [k for k, h in hits.items() if h and h[-1][1] < FUZZY_MIN_SCORE + FUZZY_MIN_MARGIN]
        near = dict(zip(close, index._fuzzy_hits_of(close, FUZZY_MIN_SCORE - FUZZY_MIN_MARGIN)))
        step = max(1, len(pairs) // 20)
        for j, pair in enumerate(pairs.tolist()):
            key, where = keys[pair // len(countries)], countries[pair % len(countries)]
            named = seen.get((key, where))
            if named is None:
                named = seen[(key, where)] = index._by_name(key, where, hits=hits.get(key), near=near.get(key))
            if named.domain is not None:
                found_method[j] = METHODS.index(named.method or "") + 1
                found_domain[j] = named.domain
                plain[j], lowered[j] = named.confidence, round(named.confidence * OTHER_DOMAIN_FACTOR, 4)
            if progress is not None and j % step == 0:
                progress("matching leads by name", 50.0 + 50.0 * j / len(pairs))
        other = (work | site_given)[need]
        method[need] = found_method[inverse]
        domain[need] = found_domain[inverse]
        confidence[need] = np.where(other, lowered[inverse], plain[inverse])
        if progress is not None:
            progress("matching leads by name", 100.0)

    names = np.array([None, *METHODS], dtype=object)
    columns = {"email": out_email, "domain": pa.array(domain, type=pa.string()),
               "match_method": pa.array(names[method], type=pa.string()),
               "confidence": pa.array(confidence, type=pa.float64())}
    if mail_kind:
        columns["mail_kind"] = pa.array(np.array([None, *MAIL_KINDS], dtype=object)[kind], type=pa.string())
    return pa.table(columns)


def _mail_kind(domain: str | None) -> int:
    """What an address at ``domain`` is: 0 none, else its position in :data:`MAIL_KINDS` plus one."""
    if domain is None:
        return 0
    return 3 if is_disposable(domain) else 2 if is_free_mail(domain) else 1


#: What :func:`~icpkit.io.record.normalize_text` trims, and then :func:`~icpkit.io.mail.mail_host`.
_TEXT_TRIM = " \t\n\f\r\u00a0\ufeff"
_MAIL_TRIM = " \t\n\r\f\v"
_PLACEHOLDERS = ("n/a", "na", "null", "none", "-", "--", "nan", "#n/a")


def _coalesced(leads: pa.Table, columns: list[str]) -> pa.Array | None:
    """The first non-blank value of ``columns`` on each row, trimmed as :func:`_text` trims
    (blanks and placeholders are nulls); None when there is no such column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for name in columns:
        col = leads.column(name)
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if not pa.types.is_string(col.type):
            if not (pa.types.is_large_string(col.type) or pa.types.is_dictionary(col.type)
                    or pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
                continue  # not text (a list, a date): never an e-mail, a name or a website
            col = col.cast(pa.string())
        trimmed = pc.utf8_trim(col, characters=_TEXT_TRIM)
        blank = pc.or_(pc.equal(trimmed, ""), pc.is_in(pc.utf8_lower(trimmed), pa.array(_PLACEHOLDERS)))
        arrays.append(pc.if_else(blank, pa.scalar(None, pa.string()), trimmed))
    if not arrays:
        return None
    return arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)


def _encoded(values: pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Each row's position among the distinct values (nulls: one past the last) and the
    distinct values."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, distinct
