"""Technographics: which technologies a web page uses, from Wappalyzer-format fingerprints.

``detect(fingerprints, page)`` reads one fetched page (its URL, response headers, cookies and
HTML; see :class:`Page`) and returns a :class:`Detection` per technology found, with its
categories, version, confidence (0-100) and the evidence that matched.

What is matched, and what is not:

* matched: ``html`` (the raw HTML), ``scriptSrc`` (the ``src`` of each ``<script>``, made
  absolute as a browser does), ``scripts`` (inline script text only: external scripts are not
  fetched), ``css`` (inline ``<style>`` text only), ``text`` (the visible text), ``meta``
  (``<meta name|property=... content=...>``), ``headers``, ``cookies`` (from the page's cookies
  and its ``Set-Cookie`` headers) and ``url``;
* ``dom`` in part: simple compound selectors (``tag#id.class[attr*='value']``, comma lists of
  them) against the start tags of the HTML as sent, for their ``exists`` and ``attributes``
  conditions; selectors with combinators or pseudo-classes and the ``text`` / ``properties``
  conditions are left out, and elements a script would add are not seen;
* skipped: ``js`` (it needs a browser that runs the page's scripts; nothing a page sends is
  ever executed here), and ``dns``, ``xhr``, ``probe``, ``robots``, ``certIssuer`` (they need
  requests other than the page itself).

The rules follow Wappalyzer's: a technology's confidence is the sum of the confidences of the
patterns that matched (100 unless a pattern says ``\\;confidence:N``), capped at 100; the version
kept is the longest one extracted (at most 15 characters, not a timestamp); ``excludes`` drop a
technology another one detected rules out (the more confident first); ``implies`` add
technologies transitively with the smaller of the two confidences. Two differences, both
deliberate: a technology with ``requires`` is looked for only once *all* the technologies it
requires are detected (Wappalyzer settles for any one), and an implied technology that a
detected one excludes is not added.

Hostile pages: only the first :data:`MAX_HTML_CHARS` characters of the HTML are read, and it is
taken apart by linear scans (not ``html.parser``, whose handling of an unclosed tag is
quadratic). Every regex has bounded quantifiers (see :mod:`icpkit.enrich.fingerprints`) and runs
only when the literal text every match must contain is on the page (looked up first among the
page's distinct words, so an absent text seldom costs a scan), and on a long text only within
:data:`WINDOW` characters of where that text occurs, in pieces of :data:`CHUNK` characters. The
searches of one page share a time budget (:data:`TIME_BUDGET_S`, checked before each piece):
a page built to make some patterns backtrack gets a partial answer, flagged by :func:`scan`,
instead of holding a worker. One search is not interrupted, so a user-supplied pattern with
nested quantifiers (``(a+)+``) can still take long on one piece; the real fingerprint set was
measured against such pages (see ``tests/unit/test_technographics.py``).
"""

from __future__ import annotations

import bisect
import functools
import html as html_lib
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from urllib.parse import urljoin

from icpkit.enrich.fingerprints import Fingerprints, Pattern, Selector, Technology
from icpkit.errors import clip

#: The most characters of a page's HTML that are read (the rest is ignored).
MAX_HTML_CHARS = 1_000_000
#: How far (characters) from the literal text a match contains a long text is searched.
WINDOW = 2_000
#: Texts up to this length are searched whole.
SMALL_TEXT = 4 * WINDOW
#: A long text is searched in pieces of this many characters (plus an overlap of 2 * WINDOW),
#: the time budget checked before each.
CHUNK = 16_384
#: The default time a page's searches may take, in seconds.
TIME_BUDGET_S = 2.0
#: The most script sources and meta tags kept from one page.
MAX_TAGS = 2_000
#: The most start tags of a page that ``dom`` selectors are checked against.
MAX_ELEMENTS = 20_000
#: The most characters of one header value, cookie, meta content, URL or script source.
MAX_VALUE_CHARS = 8_192
#: The longest version kept, as in Wappalyzer; longer ones are garbage (hashes, dates).
MAX_VERSION_CHARS = 15


@dataclass(frozen=True)
class Page:
    """What detection reads of one fetched page, however it was fetched.

    ``headers`` are (name, value) pairs (names are lowercased here), ``cookies`` maps a cookie's
    name to its value, ``html`` is the response body as text."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()
    cookies: Mapping[str, str] = field(default_factory=dict)
    html: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", tuple((str(k).lower(), str(v)) for k, v in self.headers))
        object.__setattr__(self, "cookies", MappingProxyType({str(k): str(v) for k, v in dict(self.cookies).items()}))

    @classmethod
    def from_fetched(cls, fetched: object) -> Page:
        """A page from any fetch result with ``url`` (or ``final_url``), ``headers`` (pairs or a
        mapping), ``cookies`` (a mapping) and ``text`` attributes, such as the enrichment fetcher's."""
        url = getattr(fetched, "final_url", None) or getattr(fetched, "url", "") or ""
        headers = getattr(fetched, "headers", None) or ()
        if hasattr(headers, "multi_items"):
            headers = headers.multi_items()
        elif isinstance(headers, Mapping):
            headers = headers.items()
        cookies = getattr(fetched, "cookies", None) or {}
        return cls(str(url), tuple(headers), dict(cookies), getattr(fetched, "text", "") or "")


@dataclass(frozen=True)
class Detection:
    """One technology found on a page: its category names, the version seen (None when no
    pattern gave one), the confidence 0-100 and the evidence, e.g. ``meta[generator]: ^WordPress``
    or ``implied by WordPress``."""

    name: str
    categories: tuple[str, ...]
    version: str | None
    confidence: int
    evidence: str

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["categories"] = list(self.categories)
        return out


@dataclass(frozen=True)
class Scan:
    """The result of scanning one page: the detections, and whether every search ran.

    ``complete`` is False when the page exhausted its time budget (a hostile or pathological
    page); ``searches_skipped`` counts the regex searches left out, ``seconds`` the time taken."""

    detections: tuple[Detection, ...]
    complete: bool
    searches_skipped: int
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {"detections": [d.to_dict() for d in self.detections], "complete": self.complete,
                "searches_skipped": self.searches_skipped, "seconds": round(self.seconds, 4)}


def detect(fingerprints: Fingerprints, page: Page, *, time_budget_s: float = TIME_BUDGET_S) -> list[Detection]:
    """The technologies ``page`` uses according to ``fingerprints``, most confident first.

    Searches stop after ``time_budget_s`` seconds (only a hostile page gets near it: a normal
    page takes a few tens of milliseconds); use :func:`scan` to know whether that happened."""
    return list(scan(fingerprints, page, time_budget_s=time_budget_s).detections)


def scan(fingerprints: Fingerprints, page: Page, *, time_budget_s: float = TIME_BUDGET_S) -> Scan:
    """:func:`detect`, with whether the page was scanned completely within its time budget."""
    started = time.perf_counter()
    budget = _Budget(time_budget_s)
    features = _Features.of(page)
    hits: dict[str, _Hit] = {}
    matched: set[str] = set()
    todo: Iterable[Technology] = fingerprints.unconditional
    while True:
        for tech in todo:
            _match(tech, features, hits, budget)
            matched.add(tech.name)
        resolved = _resolve(fingerprints, hits)
        found_cats = {c for name in resolved for c in fingerprints.technologies[name].categories}
        todo = [t for t in fingerprints.conditional if t.name not in matched
                and all(r in resolved for r in t.requires) and all(c in found_cats for c in t.requires_category)]
        if not todo:
            break
    detections = sorted((Detection(name, fingerprints.category_names(fingerprints.technologies[name]),
                                   hit.version or None, hit.confidence, hit.evidence)
                         for name, hit in resolved.items()), key=lambda d: (-d.confidence, d.name.casefold()))
    return Scan(tuple(detections), budget.skipped == 0, budget.skipped, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# Searching a text


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class _Budget:
    """The time a page's searches may take; once spent, every further search is skipped."""

    __slots__ = ("deadline", "skipped")

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds
        self.skipped = 0

    def spent(self) -> bool:
        if self.skipped or time.perf_counter() > self.deadline:
            self.skipped += 1
            return True
        return False


_WORD = re.compile(r"[a-z0-9_]+")


@functools.lru_cache(maxsize=65_536)
def _word_parts(needle: str) -> tuple[tuple[str, bool, bool], ...]:
    """The word runs of a lowercase ``needle`` with whether each is closed on its left and on its
    right by a non-word character of the needle (then the text's word there starts or ends too)."""
    return tuple((m.group(0), m.start() > 0, m.end() < len(needle)) for m in _WORD.finditer(needle))


class _Words:
    """The distinct words of a long text, to rule out most absent needles without scanning it:
    a needle's inner words must be words of the text, its first one the end of a word, its last
    one the start of a word (checked by bisection in sorted lists)."""

    def __init__(self, low: str) -> None:
        self.words = set(_WORD.findall(low))
        self.starts = sorted(self.words)
        self.ends = sorted(w[::-1] for w in self.words)
        self.joined = "\n".join(self.starts)

    def may_contain(self, needle: str) -> bool:
        for word, closed_left, closed_right in _word_parts(needle):
            if closed_left and closed_right:
                ok = word in self.words
            elif closed_left:
                ok = _has_prefix(self.starts, word)
            elif closed_right:
                ok = _has_prefix(self.ends, word[::-1])
            else:
                ok = word in self.joined
            if not ok:
                return False
        return True


def _has_prefix(ordered: list[str], prefix: str) -> bool:
    at = bisect.bisect_left(ordered, prefix)
    return at < len(ordered) and ordered[at].startswith(prefix)


class _Haystack:
    """A text and its lowercase copy (same length, so positions agree), searched for patterns."""

    __slots__ = ("text", "low", "_words")

    def __init__(self, text: str) -> None:
        self.text = text
        low = text.lower()
        self.low = low if len(low) == len(text) else text.translate(_ASCII_LOWER)
        self._words: _Words | None = None

    def contains(self, needle: str) -> bool:
        """Whether the lowercase ``needle`` occurs in the text (its words are looked up first in
        a long text, so that a needle that is absent seldom costs a scan of the whole text)."""
        if len(self.low) > SMALL_TEXT:
            if self._words is None:
                self._words = _Words(self.low)
            if not self._words.may_contain(needle):
                return False
        return needle in self.low

    def may_match(self, pattern: Pattern) -> bool:
        """False when some text every match contains is absent (then no need to compile)."""
        return all(any(self.contains(f) for f in group) for group in pattern.factors)

    def search(self, pattern: Pattern, budget: _Budget) -> re.Match[str] | None:
        """The first match of ``pattern``, looked for only near its rarest required text, in
        chunks of :data:`CHUNK` characters so that the budget is checked often."""
        if not self.may_match(pattern) or (regex := pattern.regex) is None or budget.spent():
            return None
        n = len(self.text)
        if n <= SMALL_TEXT:
            return regex.search(self.text)
        spans = [(0, n)]
        if pattern.factors:
            count, group = min((sum(self.low.count(f) for f in g), g) for g in pattern.factors)
            if count * 2 * WINDOW < n:  # else windows would cover most of the text anyway
                spans = self._windows(group)
        for start, end in spans:
            for piece in range(start, end, CHUNK):
                piece_end = min(end, piece + CHUNK + 2 * WINDOW)
                if budget.spent():
                    return None
                if (m := self._in_span(regex, piece, piece_end)) is not None:
                    return m
                if piece_end == end:
                    break
        return None

    def _in_span(self, regex: re.Pattern[str], start: int, end: int) -> re.Match[str] | None:
        """The first match inside [start, end) that is also a match of the whole text."""
        text = self.text
        while (m := regex.search(text, start, end)) is not None:
            if end == len(text):
                return m
            full = regex.match(text, m.start())  # "$" or a lookahead may have seen the span's end
            if full is not None:
                return full
            start = m.start() + 1
        return None

    def _windows(self, group: tuple[str, ...]) -> list[tuple[int, int]]:
        n, spans = len(self.text), []
        for f in group:
            at = self.low.find(f)
            while at >= 0:
                spans.append((max(0, at - WINDOW), min(n, at + len(f) + WINDOW)))
                at = self.low.find(f, at + 1)
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged


# ---------------------------------------------------------------------------------------------
# Taking a page apart (linear scans only)

_TAG = re.compile(r"<(script|style|meta)\b([^<>]*)>")
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_MARKUP = re.compile(r"<[^<>]*>")
_SPACE = re.compile(r"\s+")


def _attributes(body: str) -> dict[str, str]:
    """A tag's attributes (names lowercased, entities decoded), the first of each name kept."""
    out: dict[str, str] = {}
    for m in _ATTR.finditer(body[:MAX_VALUE_CHARS]):
        name = m.group(1).lower()
        if name not in out:
            value = next((g for g in m.groups()[1:] if g is not None), "")
            out[name] = html_lib.unescape(value)[:MAX_VALUE_CHARS]
        if len(out) >= 64:
            break
    return out


def _without_comments(text: str) -> str:
    parts, pos = [], 0
    while (start := text.find("<!--", pos)) >= 0:
        parts.append(text[pos:start])
        end = text.find("-->", start + 4)
        pos = len(text) if end < 0 else end + 3
    parts.append(text[pos:])
    return "".join(parts)


_ELEMENT = re.compile(r"<([a-z][a-z0-9:_-]*)(?=[\s/>])([^<>]*)>")


class _Elements:
    """The start tags of a page (name and attribute text, found by one linear scan), indexed by
    name, with attributes parsed only for the elements a selector asks about."""

    def __init__(self, html: _Haystack) -> None:
        self._html = html
        self._raw, self._low = html.text, html.low
        self._spans: list[tuple[int, int]] = []
        self._by_tag: dict[str, list[int]] = {}
        self._attributes: dict[int, dict[str, str]] = {}
        for m in _ELEMENT.finditer(self._low):
            if len(self._spans) >= MAX_ELEMENTS:
                break
            self._by_tag.setdefault(m.group(1), []).append(len(self._spans))
            self._spans.append(m.span(2))

    def attributes(self, index: int) -> dict[str, str]:
        if index not in self._attributes:
            start, end = self._spans[index]
            self._attributes[index] = _attributes(self._raw[start:end])
        return self._attributes[index]

    def matching(self, selector: Selector) -> Iterator[dict[str, str]]:
        """The attributes of each element ``selector`` matches, in document order."""
        if not all(self._html.contains(needle) for needle in selector.needles):
            return
        names = [t.name for t in selector.tests]
        candidates = self._by_tag.get(selector.tag, ()) if selector.tag else range(len(self._spans))
        for index in candidates:
            start, end = self._spans[index]
            if not all(self._low.find(name, start, end) >= 0 for name in names):
                continue
            attributes = self.attributes(index)
            if all(test.accepts(attributes) for test in selector.tests):
                yield attributes


@dataclass(frozen=True)
class _Features:
    """The parts of a page the fingerprint fields are matched against."""

    url: _Haystack
    html: _Haystack
    script_src: tuple[_Haystack, ...]
    script_src_all: _Haystack
    scripts: _Haystack
    css: _Haystack
    text: _Haystack
    meta: Mapping[str, tuple[_Haystack, ...]]
    headers: Mapping[str, tuple[_Haystack, ...]]
    cookies: Mapping[str, _Haystack]
    elements: _Elements

    @classmethod
    def of(cls, page: Page) -> _Features:
        html = _Haystack(page.html[:MAX_HTML_CHARS])
        raw, low, n = html.text, html.low, len(html.text)
        srcs: list[str] = []
        inline: list[str] = []
        styles: list[str] = []
        meta: dict[str, list[str]] = {}
        visible: list[str] = []
        pos = text_from = 0
        while (m := _TAG.search(low, pos)) is not None:
            tag, attrs, pos = m.group(1), _attributes(raw[m.start(2):m.end(2)]), m.end()
            if tag == "meta":
                key = attrs.get("name") or attrs.get("property")
                if key and "content" in attrs and len(meta) < MAX_TAGS:
                    meta.setdefault(key.lower(), []).append(attrs["content"])
                continue
            close = low.find(f"</{tag}", pos)
            close = n if close < 0 else close
            body = raw[pos:close]
            if tag == "script":
                if attrs.get("src") and len(srcs) < MAX_TAGS:
                    srcs.append(_absolute(page.url, attrs["src"]))
                elif body.strip():
                    inline.append(body)
            else:
                styles.append(body)
            visible.append(raw[text_from:m.start()])
            pos = text_from = close
        visible.append(raw[text_from:])
        text = _SPACE.sub(" ", html_lib.unescape(_MARKUP.sub(" ", _without_comments("".join(visible))))).strip()
        headers: dict[str, list[str]] = {}
        for name, value in page.headers:
            headers.setdefault(name, []).append(value[:MAX_VALUE_CHARS])
        cookies = {k.lower(): v[:MAX_VALUE_CHARS] for k, v in page.cookies.items()}
        for value in headers.get("set-cookie", ()):
            name, _, rest = value.partition("=")
            if name.strip():
                cookies.setdefault(name.strip().lower(), rest.split(";", 1)[0].strip())
        return cls(
            url=_Haystack(page.url[:MAX_VALUE_CHARS]),
            html=html,
            script_src=tuple(_Haystack(s) for s in srcs),
            script_src_all=_Haystack("\n".join(srcs)),
            scripts=_Haystack("\n".join(inline)),
            css=_Haystack("\n".join(styles)),
            text=_Haystack(text),
            meta=MappingProxyType({k: tuple(_Haystack(v) for v in vs) for k, vs in meta.items()}),
            headers=MappingProxyType({k: tuple(_Haystack(v) for v in vs) for k, vs in headers.items()}),
            cookies=MappingProxyType({k: _Haystack(v) for k, v in cookies.items()}),
            elements=_Elements(html),
        )


def _absolute(base: str, src: str) -> str:
    src = src.strip()[:MAX_VALUE_CHARS]
    try:
        return urljoin(base, src)
    except ValueError:  # e.g. a malformed IPv6 host
        return src


# ---------------------------------------------------------------------------------------------
# Matching one technology and resolving the relations


@dataclass
class _Hit:
    confidence: int
    version: str
    evidence: str


def _match(tech: Technology, features: _Features, hits: dict[str, _Hit], budget: _Budget) -> None:
    """Add to ``hits`` every match of ``tech``'s patterns on the page."""
    for name in ("html", "scripts", "css", "text", "url"):
        haystack: _Haystack = getattr(features, name)
        for pattern in getattr(tech, name):
            if (m := haystack.search(pattern, budget)) is not None:
                _add(hits, tech.name, pattern, m, name)
    for pattern in tech.scriptSrc:
        if features.script_src_all.may_match(pattern):
            for src in features.script_src:
                if (m := src.search(pattern, budget)) is not None:
                    _add(hits, tech.name, pattern, m, "scriptSrc")
    for name in ("headers", "meta"):
        values: Mapping[str, tuple[_Haystack, ...]] = getattr(features, name)
        for pattern in getattr(tech, name):
            for value in values.get(pattern.key, ()):
                if (m := value.search(pattern, budget)) is not None:
                    _add(hits, tech.name, pattern, m, name)
    for pattern in tech.cookies:
        key_regex = pattern.key_regex
        names = [k for k in features.cookies if key_regex.fullmatch(k)] if key_regex else [pattern.key]
        for cookie in names:
            if cookie in features.cookies and (m := features.cookies[cookie].search(pattern, budget)) is not None:
                _add(hits, tech.name, pattern, m, "cookies")
    for dom in tech.dom:
        for selector in dom.selectors:
            if budget.spent():
                return
            for attributes in features.elements.matching(selector):
                if not dom.attribute:
                    m = _EMPTY.match("")
                elif dom.attribute not in attributes:
                    continue
                else:
                    m = _Haystack(attributes[dom.attribute][:MAX_VALUE_CHARS]).search(dom.pattern, budget)
                if m is not None:
                    where = f"dom: {selector.source}" + (f" [{dom.attribute}]" if dom.attribute else "")
                    _add(hits, tech.name, dom.pattern, m, where, evidence=where)
                    break


_EMPTY = re.compile("")


def _add(hits: dict[str, _Hit], name: str, pattern: Pattern, m: re.Match[str], field_name: str,
         evidence: str = "") -> None:
    version = resolve_version(pattern.version, m)
    hit = hits.get(name)
    if hit is None:
        where = f"{field_name}[{pattern.key}]" if pattern.key else field_name
        hits[name] = _Hit(min(100, pattern.confidence), version if _usable(version) else "",
                          clip(evidence, 80) or f"{where}: {clip(pattern.source or '(present)', 60)}")
        return
    hit.confidence = min(100, hit.confidence + pattern.confidence)
    if _usable(version) and len(version) > len(hit.version):
        hit.version = version


def _usable(version: str) -> bool:
    """Wappalyzer's rule: a version of at most 15 characters whose leading number is below 10000
    (long numbers are timestamps or build ids)."""
    lead = re.match(r"\d+", version)
    return 0 < len(version) <= MAX_VERSION_CHARS and (lead is None or int(lead.group(0)) < 10_000)


_BACKREF = re.compile(r"\\(\d)")


def resolve_version(template: str, m: re.Match[str]) -> str:
    """The version a match gives through its template: ``\\1`` is group 1, and ``\\1?a:b`` is ``a``
    when group 1 matched (non-empty) else ``b``. Groups longer than 10 characters are ignored, as
    Wappalyzer does."""
    if not template:
        return ""
    out = template
    groups = (m.group(0), *m.groups())
    for index, value in enumerate(groups):
        if value is not None and len(value) > 10:
            continue
        ternary = re.search(rf"\\{index}\?([^:]*):(.*)$", out)
        if ternary:
            out = out.replace(ternary.group(0), ternary.group(1) if value else ternary.group(2))
        out = out.strip().replace(f"\\{index}", value or "")
    return _BACKREF.sub("", out).strip()


def _resolve(fingerprints: Fingerprints, hits: Mapping[str, _Hit]) -> dict[str, _Hit]:
    """The detected technologies after ``excludes`` and ``implies`` (transitively)."""
    techs = fingerprints.technologies
    removed: set[str] = set()
    for name in sorted(hits, key=lambda n: (-hits[n].confidence, n)):
        if name not in removed:
            removed.update(x for x in techs[name].excludes if x != name)
    resolved = {name: _Hit(h.confidence, h.version, h.evidence) for name, h in hits.items() if name not in removed}
    queue = list(resolved)
    while queue:
        parent = queue.pop(0)
        for implied in techs[parent].implies:
            if implied.name in resolved or any(implied.name in techs[n].excludes for n in resolved):
                continue
            version = implied.version if _usable(implied.version) else ""
            resolved[implied.name] = _Hit(min(resolved[parent].confidence, implied.confidence), version,
                                          f"implied by {parent}")
            queue.append(implied.name)
    return resolved
