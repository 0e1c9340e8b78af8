"""Company names normalised for matching: the key two spellings of one company share.

``company_key("The Acme Company, Inc.") == company_key("ACME") == "acme"``. The steps, in
order (:func:`company_key`):

1. Unicode folded: NFKD with the combining marks dropped (``Société`` -> ``societe``),
   letters NFKD leaves alone mapped by hand (``ø`` -> ``o``, ``æ`` -> ``ae``), then casefolded
   (``ß`` -> ``ss``).
2. Text in brackets dropped (``canadian natural resources limited (cnrl)``: an alias or a
   place, not the name); a web suffix ending a word dropped (``Amazon.com, Inc.`` -> ``amazon``).
3. ``&`` and ``+`` read as ``and``; apostrophes and dots removed without a space (``Wendy's``
   -> ``wendys``, ``S.p.A.`` -> ``spa``, ``U.S.`` -> ``us``); every other character that is
   not a letter or digit is a space.
4. Common abbreviations written out (:data:`ABBREVIATIONS`: ``intl`` -> ``international``).
5. Legal forms removed from the end, repeatedly (``Pty. Ltd.``, ``GmbH & Co. KG``, ``S.A. de
   C.V.``, ``Co., Ltd.``): the terms of `cleanco <https://pypi.org/project/cleanco/>`_ (its
   list of several hundred forms of many countries), split into words the same way as the
   name; then a dangling ``and`` (:data:`DANGLING_WORDS`).
A leading ``the`` is dropped before step 5; spaces are collapsed.

No step empties a key: a name that is only suffix-like words keeps its last word
(``Holdings Inc`` -> ``holdings``, ``The Company`` -> ``company``). A blank or wordless name
has the key ``""``, which matches nothing.

cleanco's own ``basename`` is not called: it costs ~90 microseconds a name (a loop over
every term) and removes one round of suffixes only (``Acme Co., Ltd.`` -> ``Acme Co.``);
its term list is used through a lookup by last word instead.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["ABBREVIATIONS", "DANGLING_WORDS", "STOP_WORDS", "WORD_TYPO_EDITS", "block_keys", "company_key", "compact",
           "legal_forms", "name_tokens", "strip_legal_forms", "typo_close"]

#: Abbreviations people write in company names, and the word each stands for: both sides are
#: written out (``Acme Intl`` and ``Acme International`` share a key). Written out, not
#: shortened: a typo in a long word (``universty``) stays one edit from the word. Where an
#: abbreviation does not tell singular from plural (``Tech``: technology or technologies?),
#: both forms of the word are read as one too.
ABBREVIATIONS: dict[str, str] = {
    "intl": "international", "internat": "international", "natl": "national", "mfg": "manufacturing",
    "mgmt": "management", "bros": "brothers", "assn": "association", "assoc": "associates", "univ": "university",
    "inst": "institute", "dept": "department", "ctr": "center", "centre": "center", "grp": "group",
    "hldgs": "holdings", "govt": "government", "mktg": "marketing", "ins": "insurance", "corp": "corporation",
    "co": "company",
    "tech": "technology", "techs": "technology", "technologies": "technology",
    "svc": "services", "svcs": "services", "service": "services",
    "sys": "systems", "system": "systems",
    "lab": "laboratories", "labs": "laboratories", "laboratory": "laboratories",
    "pharma": "pharmaceuticals", "pharmaceutical": "pharmaceuticals",
    "telecom": "telecommunications", "telecommunication": "telecommunications",
}

#: Words removed from the end of a name once its legal form is: the ``and`` that ``& Co.``
#: leaves (``Wells Fargo & Company`` -> ``wells fargo``). ``group`` and ``holdings`` stay: a
#: holding company and its operating company are often two accounts.
DANGLING_WORDS: frozenset[str] = frozenset({"and"})

#: Letters that NFKD does not decompose, written in ASCII.
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d",
                       "ł": "l", "Ł": "l", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i", "ħ": "h",
                       "Ħ": "h", "ŋ": "n", "Ŋ": "n"})
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_WEB_SUFFIX = re.compile(r"(?<=[a-z0-9])\.(?:com|net|org|io|co|ai)(?![a-z0-9.])")
_JOINED = re.compile(r"['’‘`´.]")  # removed without a space
_AND = re.compile(r"[&+]")
_NON_WORD = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """Accents and case folded (step 1 of the module docstring)."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_tokens(text: str) -> list[str]:
    """The words of ``text`` as a key is made of them (steps 1 to 4), before any word is
    removed: folded, ``&`` -> ``and``, punctuation out, abbreviations written out."""
    t = _fold(text)
    if "(" in t or "[" in t:
        t = _BRACKETS.sub(" ", t)
    t = _WEB_SUFFIX.sub("", t)
    t = _NON_WORD.sub(" ", _AND.sub(" and ", _JOINED.sub("", t)))
    return [ABBREVIATIONS.get(w, w) for w in t.split()]


@lru_cache(maxsize=1)
def legal_forms() -> dict[str, tuple[tuple[str, ...], ...]]:
    """cleanco's legal forms as word tuples (split like a name, :func:`name_tokens`), by last
    word, longest first: the lookup :func:`strip_legal_forms` uses."""
    from cleanco.termdata import terms_by_country, terms_by_type

    terms = {term for group in (terms_by_type, terms_by_country) for ts in group.values() for term in ts}
    by_last: dict[str, set[tuple[str, ...]]] = {}
    for term in terms:
        words = tuple(name_tokens(term))
        if words and all(w.isalnum() for w in words):
            by_last.setdefault(words[-1], set()).add(words)
    return {last: tuple(sorted(forms, key=lambda f: (-len(f), f))) for last, forms in by_last.items()}


def strip_legal_forms(words: list[str]) -> list[str]:
    """``words`` without the legal forms and :data:`DANGLING_WORDS` at their end (step 5),
    never emptied: the last word standing stays."""
    forms = legal_forms()
    end = len(words)
    while end > 1:
        last = words[end - 1]
        cut = 0
        if last in DANGLING_WORDS:
            cut = 1
        else:
            for form in forms.get(last, ()):
                n = len(form)
                if n < end and tuple(words[end - n:end]) == form:
                    cut = n
                    break
        if not cut:
            break
        end -= cut
    return words[:end]


def company_key(name: object) -> str:
    """The matching key of a company name (see the module docstring); ``""`` for a blank,
    wordless or non-text value."""
    if not isinstance(name, str) or not any(ch.isalnum() for ch in name):
        return ""
    return _key(name)


@lru_cache(maxsize=1 << 17)
def _key(name: str) -> str:
    words = name_tokens(name)
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(strip_legal_forms(words))


def compact(key: str) -> str:
    """A key without its spaces: ``coca cola`` and ``cocacola`` are one name."""
    return key.replace(" ", "")


#: Words too common to look candidates up by (they still count in the similarity).
STOP_WORDS: frozenset[str] = frozenset({
    "a", "an", "and", "at", "da", "das", "de", "del", "der", "des", "di", "die", "do", "du", "e", "el", "et", "for",
    "in", "la", "le", "les", "of", "on", "the", "und", "y"})


def block_keys(key: str, *, spread: int = 0) -> list[str]:
    """The blocking keys of a company key, under which the fuzzy step looks for candidates:
    each word of two letters or more (``w:acme``) but :data:`STOP_WORDS`; the first and the
    last four letters of the key without spaces (``p:acme``, ``s:dget``); and its first two
    letters with its length (``f:ac:10``), which finds a typo anywhere after the second
    letter. A lead's key is looked up with ``spread``: the lengths within ``spread`` of its
    own (a typo adds or drops letters)."""
    out = [f"w:{w}" for w in key.split() if len(w) >= 2 and w not in STOP_WORDS]
    c = compact(key)
    if len(c) >= 4:
        out += [f"p:{c[:4]}", f"s:{c[-4:]}"]
    if len(c) >= 2:
        out += [f"f:{c[:2]}:{n}" for n in range(max(2, len(c) - spread), len(c) + spread + 1)]
    return list(dict.fromkeys(out))


#: Edits a typo may make in one word, by the word's length (the longer of the two): none in a
#: word of up to 3 letters (``air`` / ``ait``), one up to 8 letters (``west`` / ``wet``, ``hotels`` /
#: ``gotels``), two beyond. Words that differ by more are different words (``north`` /
#: ``south``), however alike the rest of the names (``university of ... alabama``).
WORD_TYPO_EDITS: tuple[tuple[int, int], ...] = ((3, 0), (8, 1))
_LONG_WORD_EDITS = 2


def _word_edits(length: int) -> int:
    return next((edits for most, edits in WORD_TYPO_EDITS if length <= most), _LONG_WORD_EDITS)


def typo_close(a: str, b: str) -> bool:
    """Whether two keys differ only as a typo makes names differ: word by word, each changed
    word within its budget of edits (:data:`WORD_TYPO_EDITS`; an edit is a letter changed,
    added, dropped or two swapped), one at most in a name of one word (``interbrand`` /
    ``interbank``: nothing else in the name backs two edits up); or, when a space was added
    or lost, one edit at most between the keys without spaces (``media markt`` /
    ``mediamarkt``)."""
    from rapidfuzz.distance import OSA

    aw, bw = a.split(), b.split()
    if len(aw) != len(bw):
        return OSA.distance(compact(a), compact(b)) <= 1
    most = 1 if len(aw) == 1 else _LONG_WORD_EDITS  # no other word to back two edits up
    return all(x == y or OSA.distance(x, y) <= min(most, _word_edits(max(len(x), len(y))))
               for x, y in zip(aw, bw))
