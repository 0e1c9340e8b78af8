"""The industry taxonomy: LinkedIn's industry codes, read from every spelling exports use.

``industries.csv`` holds LinkedIn's industry codes V2 (id, label, parent in the hierarchy) with
the V1 label of each id LinkedIn kept from V1 (the 147 labels PDL, Apollo and HubSpot exports
use); ``industry_spellings.csv`` the spellings that follow from no label (Salesforce's standard
picklist, mapped to the closest industry or group, and a few common short forms). Sources and
how to update them: ``INDUSTRIES.md``.

A profile names an industry when its *key* matches the key of a label or spelling. The key
is the text lower-cased, ``&`` read as "and", every run of other characters than letters and
digits read as one space, the word "and" dropped and the spaces removed: "Information
Technology & Services" and ``INFORMATION_TECHNOLOGY_AND_SERVICES`` are one key. A value in
the data is one of an industry's *spellings*: its labels lower-cased, with "and" or "&", as
HubSpot writes them (``information_technology_and_services``), or a Salesforce value; the
scoring plans compare the data's trimmed, lower-cased text with the spellings of the
industries a profile names, so reading the data costs nothing more.

A profile that names an industry by its V2 label (or a Salesforce value) matches it and
every industry below it in the hierarchy, so naming a group ("Technology, Information and
Media") matches all of it; a V1 label names its one industry.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: Letters outside ASCII, approximated by code-point ranges (Latin-1 letters up to the general
#: punctuation block; kana, CJK and Hangul; CJK compatibility ideographs), as a character range
#: that RE2 (the engines) and Python read alike.
NON_ASCII_LETTERS = "\u00c0-\u1fff\u3040-\ud7ff\uf900-\ufaff"
_KEY_GAP = re.compile(f"[^a-z0-9{NON_ASCII_LETTERS}]+")


@dataclass(frozen=True)
class Industry:
    id: int
    label: str  # the V2 label: the canonical value
    parent: int | None
    v1_label: str | None


def industry_key(text: str) -> str:
    """The key a profile's industry is looked up by."""
    words = _KEY_GAP.sub(" ", text.lower().replace("&", " and "))
    return f" {words} ".replace(" and ", " ").replace(" ", "")


@lru_cache(maxsize=1)
def industries() -> dict[int, Industry]:
    """Every industry by id, from ``industries.csv``."""
    with resources.files("icpkit.io").joinpath("industries.csv").open(encoding="utf-8", newline="") as handle:
        return {int(r["id"]): Industry(int(r["id"]), r["label"], int(r["parent"]) if r["parent"] else None,
                                       r["v1_label"] or None) for r in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def industry_keys() -> dict[str, str]:
    """Lookup key -> canonical label. V2 labels take precedence over V1 labels, and both over
    the extra spellings, where two would give one key."""
    keys: dict[str, str] = {}
    for text, label in _texts():
        keys.setdefault(industry_key(text), label)
    return keys


def _texts() -> list[tuple[str, str]]:
    """(spelling, canonical label): V2 labels, then V1 labels, then the extra spellings (where
    two give one key, the first wins)."""
    table = industries()
    ordered = table.values()
    with resources.files("icpkit.io").joinpath("industry_spellings.csv").open(encoding="utf-8", newline="") as handle:
        extra = [(r["spelling"], table[int(r["id"])].label) for r in csv.DictReader(handle)]
    return [(i.label, i.label) for i in ordered] + [(i.v1_label, i.label) for i in ordered if i.v1_label] + extra


@lru_cache(maxsize=1)
def industry_spellings() -> dict[str, str]:
    """Lower-cased spelling -> canonical label, for the spellings exports use: each label, V1
    label and extra spelling lower-cased, with "and" or "&", without hyphens (PDL's
    "nonprofit organization management"), and as HubSpot writes it (``computer_software``);
    each has the key of its label."""
    keys = industry_keys()
    out: dict[str, str] = {}
    for text, label in _texts():
        low = text.lower()
        for form in (low, low.replace(" and ", " & "), low.replace(" & ", " and "), low.replace("-", ""),
                     _KEY_GAP.sub("_", low).strip("_")):
            if keys.get(industry_key(form)) == label:
                out.setdefault(form, label)
    return out


@lru_cache(maxsize=1)
def spellings_by_label() -> dict[str, list[str]]:
    """Canonical label -> its lower-cased spellings (see :func:`industry_spellings`)."""
    out: dict[str, list[str]] = {}
    for spelling, label in industry_spellings().items():
        out.setdefault(label, []).append(spelling)
    return out


def industry_label(text: str) -> str | None:
    """The canonical label of an industry or group named in a profile, or None."""
    return industry_keys().get(industry_key(text))


@lru_cache(maxsize=1)
def _children() -> dict[str, list[str]]:
    table = industries()
    out: dict[str, list[str]] = {}
    for i in table.values():
        if i.parent is not None:
            out.setdefault(table[i.parent].label, []).append(i.label)
    return out


@lru_cache(maxsize=1)
def _v1_keys() -> frozenset[str]:
    """Keys of V1 labels that are not also the key of a V2 label."""
    table = industries().values()
    v2 = {industry_key(i.label) for i in table}
    return frozenset(k for i in table if i.v1_label and (k := industry_key(i.v1_label)) not in v2)


def names_group(text: str) -> bool:
    """Whether ``text``, written in a profile, names its industry with everything below it: a
    V2 label or another spelling does; a V1 label names one industry, as it did in V1
    ("Internet" is V2's "Technology, Information and Internet" without the industries below)."""
    return industry_key(text) not in _v1_keys()


def industry_members(label: str) -> list[tuple[str, int]]:
    """``label`` and every industry below it in the hierarchy, each with its distance from
    ``label`` (0 for itself, 1 for its children...), nearest first."""
    children = _children()
    out, todo = [], [(label, 0)]
    while todo:
        current, depth = todo.pop(0)
        out.append((current, depth))
        todo.extend((child, depth + 1) for child in children.get(current, []))
    return out


def top_group(label: str) -> str:
    """The top-level group of an industry label (itself for a top-level one): one of 20, such
    as "Technology, Information and Media"."""
    table = industries()
    by_label = {i.label: i for i in table.values()}
    current = by_label[label]
    while current.parent is not None:
        current = table[current.parent]
    return current.label
