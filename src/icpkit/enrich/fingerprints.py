"""Wappalyzer-format technology fingerprints, loaded from a path the user gives.

The fingerprints (e.g. the community ``webappanalyzer`` set) are GPL-3.0 data: icpkit never
bundles them, it reads them from wherever the user keeps them. Two layouts are accepted:

* a directory holding ``technologies/*.json`` (each file an object keyed by technology name)
  and ``categories.json``;
* a single JSON file, either keyed by technology name (with a ``categories.json`` beside it)
  or an object with ``technologies`` (or ``apps``) and ``categories`` members.

Loading is cheap (about 0.2 s for the 7,586 technologies of the full set): the JSON is read and
checked, and every pattern string is split into its regex and its ``\\;version:`` /
``\\;confidence:`` tags. A regex is compiled the first time a page needs it, because compiling
all ~7,800 of them costs about half a second more and a page needs a small share of them.
``dom`` selectors are parsed at load; only simple compound ones are kept (:class:`DomPattern`).

Malformed input is a :class:`~icpkit.errors.DataError` naming the file and the key path inside
it (``technologies/w.json, technology 'WordPress', key 'meta.generator'``). The one exception is
a regex that Python cannot compile (JavaScript-only syntax such as ``[^]``): it is skipped and
counted (:meth:`Fingerprints.invalid_patterns`), as a browser extension would skip a pattern it
could not use, rather than refusing the whole set for one pattern out of thousands.

Each regex is made safe to run on hostile pages before it is compiled (:func:`bounded`): the
open quantifiers ``*``, ``+`` and ``{n,}`` become ``{0,250}``, ``{1,250}`` and ``{n,250}`` (the
bound Wappalyzer itself applies), and :func:`required_factors` finds literal text that every
match must contain, so that a page is searched only near where that text occurs.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from icpkit.errors import DataError, quoted, suggest

#: Fields whose value is one pattern or a list of patterns, matched against one text each.
LIST_FIELDS = ("html", "scriptSrc", "scripts", "url", "text", "css")
#: Fields whose value maps a name (header, cookie, meta tag) to one pattern or a list of them.
KEYED_FIELDS = ("headers", "cookies", "meta")
#: Fields read but never matched: they need a browser that runs the page (``js``) or requests
#: other than the page itself (``dns``, ``xhr``, ``probe``, ``robots``, ``certIssuer``). ``dom``
#: is matched in part: see :class:`DomPattern`.
SKIPPED_FIELDS = ("js", "dns", "xhr", "probe", "robots", "certIssuer")
#: The bound put on open quantifiers (``*``, ``+``, ``{n,}``), as Wappalyzer does.
QUANTIFIER_CAP = 250
#: Flags every fingerprint regex is compiled with: case-insensitive like JavaScript's ``i``, and
#: ASCII classes, since JavaScript's ``\\w``, ``\\d`` and ``\\b`` are ASCII-only.
REGEX_FLAGS = re.IGNORECASE | re.ASCII


@dataclass(frozen=True)
class Pattern:
    """One fingerprint pattern: a regex with the version template and confidence it carries.

    ``key`` is the header, cookie or meta name for the keyed fields (lowercase; a cookie name
    may hold ``*`` wildcards) and empty otherwise. The compiled regex and the literal factors
    are computed on first use and cached; the object is otherwise immutable.
    """

    source: str
    confidence: int = 100
    version: str = ""
    key: str = ""

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str] | None, str]:
        with warnings.catch_warnings():  # Python 3.11 warns on "[[" or "--" inside a class
            warnings.simplefilter("ignore")
            try:
                return re.compile(bounded(self.source), REGEX_FLAGS), ""
            except (re.error, OverflowError, RecursionError) as exc:
                return None, str(exc)

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The compiled regex, or None when Python cannot compile it (the pattern is skipped)."""
        return self._compiled[0]

    @property
    def error(self) -> str:
        """Why the regex could not be compiled ("" when it compiles)."""
        return self._compiled[1]

    @cached_property
    def factors(self) -> Factors:
        """Sets of lowercase texts, one member of each set in every match (see :func:`required_factors`)."""
        return required_factors(bounded(self.source))

    @cached_property
    def key_regex(self) -> re.Pattern[str] | None:
        """For a cookie name with ``*`` wildcards, the regex its names must match in full."""
        if "*" not in self.key:
            return None
        return re.compile(".*".join(re.escape(part) for part in self.key.split("*")), re.IGNORECASE)


@dataclass(frozen=True)
class Implied:
    """A technology another one implies, with the confidence and version the implication carries."""

    name: str
    confidence: int = 100
    version: str = ""


@dataclass(frozen=True)
class AttributeTest:
    """One condition of a selector on an element's attribute: present (``op`` empty) or compared
    with ``value`` by a CSS operator (``=``, ``*=``, ``^=``, ``$=``, ``~=``, ``|=``)."""

    name: str
    op: str = ""
    value: str = ""
    ignore_case: bool = False

    def accepts(self, attributes: Mapping[str, str]) -> bool:
        have = attributes.get(self.name)
        if have is None or not self.op:
            return have is not None
        want = self.value
        if self.ignore_case:
            have, want = have.lower(), want.lower()
        if self.op == "=":
            return have == want
        if self.op == "~=":
            return want in have.split()
        if self.op == "|=":
            return have == want or have.startswith(want + "-")
        return bool(want) and {"*=": want in have, "^=": have.startswith(want), "$=": have.endswith(want)}[self.op]


@dataclass(frozen=True)
class Selector:
    """A simple compound CSS selector: an optional tag name and ``#id``, ``.class`` and
    ``[attribute]`` conditions, all on one element (no combinators, no pseudo-classes)."""

    source: str
    tag: str
    tests: tuple[AttributeTest, ...]

    @cached_property
    def needles(self) -> tuple[str, ...]:
        """Lowercase texts the page's HTML must contain for an element to match."""
        out = [f"<{self.tag}"] if self.tag else []
        for test in self.tests:
            out.append(test.name)
            if test.op and test.value and test.value.isascii() and "&" not in test.value:
                out.append(test.value.lower())
        return tuple(sorted(out, key=len, reverse=True))


@dataclass(frozen=True)
class DomPattern:
    """A ``dom`` fingerprint as far as it can be checked on the HTML as sent (no script runs):
    an element matching any of ``selectors`` exists, or, when ``attribute`` is set, that
    attribute's value matches ``pattern``. The ``text`` and ``properties`` conditions, and
    selectors with combinators or pseudo-classes, are not supported and are left out."""

    selectors: tuple[Selector, ...]
    attribute: str = ""
    pattern: Pattern = Pattern("")


@dataclass(frozen=True)
class Technology:
    """One technology's fingerprint, its category ids and its relations to other technologies."""

    name: str
    categories: tuple[int, ...]
    html: tuple[Pattern, ...] = ()
    scriptSrc: tuple[Pattern, ...] = ()  # the field's name in the fingerprint files
    scripts: tuple[Pattern, ...] = ()
    url: tuple[Pattern, ...] = ()
    text: tuple[Pattern, ...] = ()
    css: tuple[Pattern, ...] = ()
    headers: tuple[Pattern, ...] = ()
    cookies: tuple[Pattern, ...] = ()
    meta: tuple[Pattern, ...] = ()
    dom: tuple[DomPattern, ...] = ()
    implies: tuple[Implied, ...] = ()
    excludes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    requires_category: tuple[int, ...] = ()

    def patterns(self) -> Iterator[tuple[str, Pattern]]:
        """Every matchable pattern as (field, pattern)."""
        for name in LIST_FIELDS + KEYED_FIELDS:
            for pattern in getattr(self, name):
                yield name, pattern
        for dom in self.dom:
            if dom.attribute:
                yield "dom", dom.pattern


@dataclass(frozen=True)
class SkippedPattern:
    """A regex Python could not compile: whose it is, where, and why."""

    technology: str
    field: str
    source: str
    error: str


@dataclass(frozen=True)
class Fingerprints:
    """A loaded, immutable set of fingerprints: technologies by name and category names by id."""

    technologies: Mapping[str, Technology]
    categories: Mapping[int, str]
    source: str = ""

    def __len__(self) -> int:
        return len(self.technologies)

    def category_names(self, tech: Technology) -> tuple[str, ...]:
        """The names of a technology's categories, in the order the file lists them."""
        return tuple(self.categories.get(c, f"category {c}") for c in tech.categories)

    @cached_property
    def unconditional(self) -> tuple[Technology, ...]:
        """The technologies matched on every page (no ``requires`` / ``requiresCategory``)."""
        return tuple(t for t in self.technologies.values() if not t.requires and not t.requires_category)

    @cached_property
    def conditional(self) -> tuple[Technology, ...]:
        """The technologies matched only once what they require has been detected."""
        return tuple(t for t in self.technologies.values() if t.requires or t.requires_category)

    def compile_all(self) -> int:
        """Compile every regex now (about a second for the full set); return how many were skipped."""
        return len(self.invalid_patterns())

    def invalid_patterns(self) -> tuple[SkippedPattern, ...]:
        """The regexes Python cannot compile, which detection skips. Compiles every regex."""
        return tuple(SkippedPattern(t.name, f, p.source, p.error) for t in self.technologies.values()
                     for f, p in t.patterns() if p.regex is None)


# ---------------------------------------------------------------------------------------------
# Loading


def load_fingerprints(path: str | Path) -> Fingerprints:
    """Load fingerprints from a directory (``technologies/*.json`` + ``categories.json``) or
    from one JSON file. Raises :class:`DataError` naming the file and key for malformed input."""
    path = Path(path)
    if path.is_dir():
        folder = path / "technologies"
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        if not files:
            raise DataError("no technologies/*.json files in the fingerprint directory", where=str(path),
                            hint="give the folder that holds technologies/ and categories.json")
        raw: list[tuple[Path, dict]] = [(f, _object(_read_json(f), f, "the file")) for f in files]
        categories = _categories(_read_json(_categories_file(path / "categories.json")), path / "categories.json")
    elif path.is_file():
        data = _object(_read_json(path), path, "the file")
        inner = data.get("technologies", data.get("apps"))
        if isinstance(inner, dict) and "cats" not in inner:
            raw = [(path, inner)]
            cats_data = data.get("categories")
            cats_path = path
            if cats_data is None:
                cats_path = _categories_file(path.parent / "categories.json")
                cats_data = _read_json(cats_path)
        else:
            raw = [(path, data)]
            cats_path = _categories_file(path.parent / "categories.json")
            cats_data = _read_json(cats_path)
        categories = _categories(cats_data, cats_path)
    else:
        raise DataError("no such fingerprint file or directory", where=str(path),
                        hint="give the path of a webappanalyzer/Wappalyzer technologies folder")
    return _build(raw, categories, str(path))


def _build(raw: list[tuple[Path, dict]], categories: Mapping[int, str], source: str) -> Fingerprints:
    techs: dict[str, Technology] = {}
    origin: dict[str, Path] = {}
    for file, entries in raw:
        for name, entry in entries.items():
            if name.startswith("$"):  # "$schema" and the like
                continue
            if name in techs:
                raise DataError(f"technology {quoted(name)} is defined twice", where=f"{file}",
                                hint=f"also defined in {origin[name]}")
            techs[name] = _technology(name, entry, file, categories)
            origin[name] = file
    for name, tech in techs.items():  # every relation names a known technology
        for key, names in (("implies", [i.name for i in tech.implies]), ("excludes", tech.excludes),
                           ("requires", tech.requires)):
            for other in names:
                if other not in techs:
                    raise DataError(f"unknown technology {quoted(other)}", where=_where(origin[name], name, key),
                                    hint=suggest(other, techs, "define it or remove the reference"))
    return Fingerprints(MappingProxyType(techs), MappingProxyType(dict(categories)), source)


def _read_json(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg}", where=f"{path}, line {exc.lineno}, column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise DataError("not UTF-8 text", where=str(path)) from exc
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", where=str(path)) from exc


def _categories_file(path: Path) -> Path:
    if not path.is_file():
        raise DataError("categories.json is missing", where=str(path),
                        hint="the fingerprint set's categories.json must sit next to technologies/")
    return path


def _categories(data: object, path: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for key, value in _object(data, path, "categories").items():
        where = f"{path}, category {quoted(key)}"
        if not str(key).isdigit():
            raise DataError("a category id must be a whole number", where=where)
        name = value.get("name") if isinstance(value, dict) else value
        if not isinstance(name, str) or not name:
            raise DataError("a category needs a name", where=where)
        out[int(key)] = name
    return out


def _object(data: object, path: Path, what: str) -> dict:
    if not isinstance(data, dict):
        raise DataError(f"{what} must be a JSON object, not {type(data).__name__}", where=str(path))
    return data


def _where(file: Path, name: str, key: str = "") -> str:
    return f"{file}, technology {quoted(name)}" + (f", key {quoted(key)}" if key else "")


def _technology(name: str, entry: object, file: Path, categories: Mapping[int, str]) -> Technology:
    if not isinstance(entry, dict):
        raise DataError(f"a technology must be a JSON object, not {type(entry).__name__}", where=_where(file, name))
    cats = entry.get("cats")
    if not isinstance(cats, list) or not cats or not all(_is_int(c) for c in cats):
        raise DataError("'cats' must be a non-empty list of category ids", where=_where(file, name, "cats"))
    for c in cats:
        if categories and int(c) not in categories:
            raise DataError(f"unknown category id {c}", where=_where(file, name, "cats"))
    kwargs: dict[str, object] = {}
    for fname in LIST_FIELDS:
        if fname in entry:
            kwargs[fname] = tuple(_pattern(p, file, name, fname) for p in _strings(entry[fname], file, name, fname))
    for fname in KEYED_FIELDS:
        if fname in entry:
            kwargs[fname] = tuple(_keyed(entry[fname], file, name, fname))
    if "dom" in entry:
        kwargs["dom"] = tuple(_dom(entry["dom"], file, name))
    if "implies" in entry:
        kwargs["implies"] = tuple(_implied(s, file, name) for s in _strings(entry["implies"], file, name, "implies"))
    for fname, attr in (("excludes", "excludes"), ("requires", "requires")):
        if fname in entry:
            kwargs[attr] = tuple(s.split("\\;")[0] for s in _strings(entry[fname], file, name, fname))
    if "requiresCategory" in entry:
        ids = entry["requiresCategory"]
        ids = ids if isinstance(ids, list) else [ids]
        if not all(_is_int(i) for i in ids) or any(categories and int(i) not in categories for i in ids):
            raise DataError("'requiresCategory' must list known category ids",
                            where=_where(file, name, "requiresCategory"))
        kwargs["requires_category"] = tuple(int(i) for i in ids)
    return Technology(name, tuple(int(c) for c in cats), **kwargs)  # type: ignore[arg-type]


def _is_int(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())


def _strings(value: object, file: Path, name: str, key: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise DataError(f"'{key.split('.')[0]}' must be a string or a list of strings",
                        where=_where(file, name, key))
    return values  # type: ignore[return-value]


def _keyed(value: object, file: Path, name: str, fname: str) -> Iterable[Pattern]:
    if not isinstance(value, dict):
        raise DataError(f"'{fname}' must map names to patterns", where=_where(file, name, fname))
    for key, patterns in value.items():
        for text in _strings(patterns, file, name, f"{fname}.{key}"):
            yield _pattern(text, file, name, f"{fname}.{key}", str(key).lower())


def _tags(text: str, file: Path, name: str, key: str) -> tuple[str, int, str]:
    """Split ``regex\\;version:\\1\\;confidence:50`` into (regex, confidence, version)."""
    regex, *tags = text.split("\\;")
    confidence, version = 100, ""
    for tag in tags:
        tag_name, _, value = tag.partition(":")
        if tag_name == "confidence":
            if not value.strip().isdigit():
                raise DataError(f"confidence must be a whole number, not {quoted(value)}",
                                where=_where(file, name, key))
            confidence = min(int(value), 100)
        elif tag_name == "version":
            version = value
    return regex, confidence, version


def _pattern(text: str, file: Path, name: str, keypath: str, key: str = "") -> Pattern:
    regex, confidence, version = _tags(text, file, name, keypath)
    return Pattern(regex, confidence, version, key)


def _implied(text: str, file: Path, name: str) -> Implied:
    other, confidence, version = _tags(text, file, name, "implies")
    return Implied(other, confidence, version)


_COMPOUND = re.compile(r"([a-zA-Z][\w-]*|\*)?((?:#[\w-]+|\.[\w-]+|\[[^\]]*\])*)")
_SELECTOR_PART = re.compile(r"""#([\w-]+)|\.([\w-]+)|\[\s*([\w:-]+)\s*(?:([*^$~|]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\s\]'"]+))"""
                            r"""\s*([iI])?\s*)?\]""")


def parse_selector(text: str) -> tuple[Selector, ...]:
    """The simple compound selectors of a comma-separated list, or () when any of them uses
    syntax not supported (combinators, pseudo-classes): then the whole list is left out."""
    out = []
    for alternative in text.split(","):
        source = alternative.strip()
        m = _COMPOUND.fullmatch(source)
        if not source or not m:
            return ()
        tests: list[AttributeTest] = []
        for part in _SELECTOR_PART.finditer(m.group(2) or ""):
            if part.group(1):
                tests.append(AttributeTest("id", "=", part.group(1)))
            elif part.group(2):
                tests.append(AttributeTest("class", "~=", part.group(2)))
            else:
                value = next((g for g in part.group(5, 6, 7) if g is not None), "")
                tests.append(AttributeTest(part.group(3).lower(), part.group(4) or "", value, bool(part.group(8))))
        if sum(len(p.group(0)) for p in _SELECTOR_PART.finditer(m.group(2) or "")) != len(m.group(2) or ""):
            return ()
        tag = (m.group(1) or "").lower()
        if tag in ("", "*") and not tests:
            return ()  # every element: no evidence of anything
        out.append(Selector(source, "" if tag == "*" else tag, tuple(tests)))
    return tuple(out)


def _dom(value: object, file: Path, name: str) -> Iterator[DomPattern]:
    """The supported part of a ``dom`` field: a selector, a list of them, or an object mapping
    selectors to ``exists`` / ``attributes`` conditions."""
    if isinstance(value, (str, list)):
        value = {s: {"exists": ""} for s in _strings(value, file, name, "dom")}
    if not isinstance(value, dict):
        raise DataError("'dom' must be a selector, a list of selectors or an object", where=_where(file, name, "dom"))
    for raw, conditions in value.items():
        key = f"dom.{raw}"
        if not isinstance(conditions, dict):
            raise DataError("a 'dom' selector must map to an object of conditions", where=_where(file, name, key))
        text, *tags = str(raw).split("\\;")
        selectors = parse_selector(text)
        if not selectors:
            continue
        if "exists" in conditions:
            exists = _strings(conditions["exists"], file, name, f"{key}.exists")[0]
            yield DomPattern(selectors, "", _pattern("\\;".join([""] + tags) + exists, file, name, f"{key}.exists"))
        attributes = conditions.get("attributes", {})
        if not isinstance(attributes, dict):
            raise DataError("'attributes' must map attribute names to patterns", where=_where(file, name, key))
        for attribute, patterns in attributes.items():
            for text in _strings(patterns, file, name, f"{key}.attributes.{attribute}"):
                yield DomPattern(selectors, str(attribute).lower(),
                                 _pattern(text, file, name, f"{key}.attributes.{attribute}"))


# ---------------------------------------------------------------------------------------------
# Making a JavaScript-flavoured regex safe and cheap to run

_OPEN_RANGE = re.compile(r"\{(\d+),\}")


def bounded(pattern: str) -> str:
    """``pattern`` with its open quantifiers bounded: ``*`` -> ``{0,250}``, ``+`` -> ``{1,250}``,
    ``{n,}`` -> ``{n,max(n,250)}``. Escapes and character classes are left alone (unlike the naive
    text replacement some ports use), so ``\\+`` and ``[+*]`` keep their meaning. Bounded
    quantifiers cap how far a failing match can backtrack at each position of a long page."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
        elif in_class:
            in_class = c != "]"
            out.append(c)
            i += 1
        elif c == "[":
            j = i + 1
            j += pattern.startswith("^", j)
            j += pattern.startswith("]", j)  # a "]" first in a class is a literal in Python
            out.append(pattern[i:j])
            in_class, i = True, j
        elif c in "*+":
            out.append(f"{{{0 if c == '*' else 1},{QUANTIFIER_CAP}}}")
            i += 1
        elif c == "{" and (m := _OPEN_RANGE.match(pattern, i)):
            low = int(m.group(1))
            out.append(f"{{{low},{max(low, QUANTIFIER_CAP)}}}")
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _Unsure(Exception):
    """The factor scanner met syntax it does not model; no factor is claimed."""


_QUANT = re.compile(r"(?:[?*+]|\{(\d*)(?:,(\d*))?\})[?+]?")


Factors = tuple[tuple[str, ...], ...]


def required_factors(pattern: str) -> Factors:
    """Sets of lowercase literal texts that every match of ``pattern`` contains: of each set, at
    least one member appears in the match. Best first (the set whose shortest member is longest);
    empty when nothing is known. Conservative: anything not modelled ends a literal run, and
    syntax that could change what a literal means (verbose mode) gives no factor at all.

    ``<link[^>]+/wp-(?:content|includes)/`` gives ``(('content', 'includes'), ('<link',), ('/wp-',),
    ('/',))``: runs do not cross groups, and a group of alternatives is one set."""
    try:
        sets, end = _alternation(pattern, 0)
    except (_Unsure, IndexError, ValueError):
        return ()
    if end != len(pattern):
        return ()
    unique = dict.fromkeys(tuple(sorted(s)) for s in sets)
    return tuple(sorted(unique, key=lambda s: (-min(len(x) for x in s), len(s))))


def _alternation(p: str, i: int) -> tuple[list[frozenset[str]], int]:
    """Parse branches from ``i`` up to an unmatched ``)`` or the end. One branch: all its required
    sets; several: one set, the union of each branch's best (none when a branch has none)."""
    branches: list[list[frozenset[str]]] = []
    while True:
        sets, i = _sequence(p, i)
        branches.append(sets)
        if i < len(p) and p[i] == "|":
            i += 1
            continue
        break
    if len(branches) == 1:
        return branches[0], i
    if any(not b for b in branches):
        return [], i
    return [frozenset().union(*(_best(b) for b in branches))], i


def _best(sets: list[frozenset[str]]) -> frozenset[str]:
    return max(sets, key=lambda s: (min(len(x) for x in s), -len(s)))


def _sequence(p: str, i: int) -> tuple[list[frozenset[str]], int]:
    """Parse one branch: every literal run and required group in it, as sets."""
    sets: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            sets.append(frozenset({"".join(run)}))
            run.clear()

    n = len(p)
    while i < n and p[i] not in "|)":
        c = p[i]
        literal: str | None = None
        group: list[frozenset[str]] = []
        if c == "\\":
            nxt = p[i + 1]
            if nxt.isascii() and not nxt.isalnum():
                literal = nxt
                i += 2
            else:
                i = _skip_escape(p, i)
        elif c == "(":
            group, i = _group(p, i)
        elif c == "[":
            i = _skip_class(p, i)
        elif c in "*+?" or (c == "{" and _QUANT.match(p, i)):
            raise _Unsure  # a quantifier with nothing to repeat
        else:  # "{" that is no quantifier is a literal in Python, as are "}" and "]"
            if c.isascii() and c.isprintable() and c not in ".^$":
                literal = c
            i += 1
        quant = _QUANT.match(p, i)
        min_count = 1
        if quant:
            text = quant.group(0)
            min_count = int(quant.group(1) or 0) if text[0] == "{" else (0 if text[0] in "?*" else 1)
            i = quant.end()
        if literal is not None and min_count > 0:
            run.append(literal.lower())
        if literal is None or quant:  # anything but a plain literal ends the run
            flush()
        if min_count > 0:
            sets.extend(group)
    flush()
    return sets, i


def _group(p: str, i: int) -> tuple[list[frozenset[str]], int]:
    """Parse a group starting at ``p[i] == "("``; return its required sets (none for lookarounds,
    whose text is not part of the match) and the index after its ``)``."""
    j = i + 1
    keep = True
    if p.startswith("?", j):
        if p.startswith(("?:", "?>"), j):
            j += 2
        elif p.startswith(("?=", "?!"), j):
            j, keep = j + 2, False
        elif p.startswith(("?<=", "?<!"), j):
            j, keep = j + 3, False
        elif p.startswith(("?P<", "?<"), j):
            j = p.index(">", j) + 1
        elif p.startswith("?#", j):
            return [], p.index(")", j) + 1
        else:  # inline flags: (?i) (?s) (?i:...) (?-i:...)
            m = _FLAGS.match(p, j)
            if not m or "x" in (m.group(1) or "") + (m.group(2) or ""):
                raise _Unsure
            if m.group(3) == ")":
                return [], m.end()
            j = m.end()
    sets, j = _alternation(p, j)
    if j >= len(p) or p[j] != ")":
        raise _Unsure
    return (sets if keep else []), j + 1


_FLAGS = re.compile(r"\?([aiLmsux]*)(?:-([imsx]*))?([:)])")
_ESCAPE_ARGS = {"x": 2, "u": 4, "U": 8}


def _skip_escape(p: str, i: int) -> int:
    """The index after the escape at ``p[i] == "\\"`` that is not a plain literal (``\\d``,
    ``\\b``, ``\\x41``, ``\\u00e9``, ``\\N{...}``, a back reference or octal ``\\12``)."""
    kind = p[i + 1]
    if kind in _ESCAPE_ARGS:
        return i + 2 + _ESCAPE_ARGS[kind]
    if kind == "N" and p.startswith("{", i + 2):
        return p.index("}", i) + 1
    j = i + 2
    if kind.isdigit():
        while j < len(p) and j < i + 4 and p[j].isdigit():
            j += 1
    return j


def _skip_class(p: str, i: int) -> int:
    """The index after the character class starting at ``p[i] == "["``."""
    j = i + 1
    j += p.startswith("^", j)
    j += p.startswith("]", j)
    while p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1
