"""Raw values of one record normalised in plain Python, exactly as :mod:`icpkit.io.values`
normalises a column in SQL.

:mod:`icpkit.io.values` is the specification; this module is its pure-Python twin for the
one-record :class:`~icpkit.scoring.record.Scorer` (no ibis, no engine). The regular
expressions are the same, with the two points where Python's ``re`` reads them differently
from RE2 written out: ``\\s`` is RE2's ``[\\t\\n\\f\\r ]`` (Python's also takes ``\\v`` and
Unicode spaces) and ``$`` is the end of the text (Python's also matches before a final
newline). Letter case follows the engine too: lower and upper case map one character at a
time (``İ`` lowers to ``i``, a final ``Σ`` to ``σ``, ``ß`` uppers to ``ẞ``).

Each ``normalize_*`` takes text and gives the canonical value or None (blank); a value that
is not blank but cannot be read gives None too, and the ``*_is_invalid`` companions say so.
``tests/unit/test_record_values.py`` holds every function to the SQL on the same cases.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from .industries import NON_ASCII_LETTERS, industry_spellings
from .suffixes import registrable

# RE2's \s, plus the no-break space and BOM (see values._WS).
SPACES = " \t\n\f\r\u00a0\ufeff"
_S = "[ \t\n\f\r\u00a0\ufeff]"
#: The placeholders for "no value" (ignoring case and surrounding whitespace).
BLANK_WORDS = ("n/a", "na", "null", "none", "-", "--", "nan", "#n/a")
_BLANK_WORDS = frozenset(BLANK_WORDS)


# --------------------------------------------------------------------------- letter case

@lru_cache(maxsize=4096)
def _lower_char(c: str) -> str:
    low = c.lower()
    return low if len(low) == 1 else "i" if c == "\u0130" else c


@lru_cache(maxsize=4096)
def _upper_char(c: str) -> str:
    up = c.upper()
    if len(up) == 1:
        return up
    if c == "\u00df":
        return "\u1e9e"
    title = c.title()
    return title if len(title) == 1 else c


def sql_lower(s: str) -> str:
    """``lower(s)`` as the engine computes it: one character at a time."""
    return s.lower() if s.isascii() else "".join(map(_lower_char, s))


def sql_upper(s: str) -> str:
    """``upper(s)`` as the engine computes it: one character at a time."""
    return s.upper() if s.isascii() else "".join(map(_upper_char, s))


# ------------------------------------------------------------------------- text and blanks

def as_text(value: Any) -> str:
    """A non-null value of any JSON type as the engine casts it to text (``CAST(x AS VARCHAR)``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, datetime, date)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join("NULL" if v is None else _list_item(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_list_item(k)}: {'NULL' if v is None else _list_item(v)}"
                               for k, v in value.items()) + "}"
    return str(value)


def _list_item(v: Any) -> str:
    text = as_text(v)
    if isinstance(v, str) and (text == "" or text != text.strip() or any(c in text for c in ",'\"[]{}:\\")
                               or text.upper() == "NULL"):
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return text


def is_blank(s: str | None) -> bool:
    """NULL, empty after trimming, or a placeholder (``n/a``, ``null``, ``-``...)."""
    if s is None:
        return True
    t = s.strip(SPACES)
    return not t or (len(t) <= 4 and t.lower() in _BLANK_WORDS)


def normalize_text(s: str | None) -> str | None:
    """Trimmed text; blank -> None. Case is kept."""
    if not s:
        return None
    if s[0] not in SPACES and s[-1] not in SPACES:
        return None if len(s) <= 4 and s.lower() in _BLANK_WORDS else s
    t = s.strip(SPACES)
    return None if not t or (len(t) <= 4 and t.lower() in _BLANK_WORDS) else t


# --------------------------------------------------------------------------------- domains

_CANONICAL_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_DOMAIN_PREFIX = re.compile(f"\\A{_S}*<?{_S}*(?:[a-z][a-z0-9+.-]*://|//)?(?:[^/?#@]*@)?(?:www[0-9]*\\.)?")
_DOMAIN_SUFFIX = re.compile(f"[.{SPACES}]*[/?#:<>@].*\\Z|[.{SPACES}]+\\Z")
#: A host name's label (the SQL twins in :mod:`.values` use it too).
HOST_LABEL = f"[a-z0-9{NON_ASCII_LETTERS}-]+"
_VALID_HOST = re.compile(f"{HOST_LABEL}(?:\\.{HOST_LABEL})+")


def _clean_host(s: str) -> bool:
    return _CANONICAL_HOST.fullmatch(s) is not None and not s.startswith("www")


def normalize_domain(s: str | None) -> str | None:
    """The host name of a website, URL or e-mail address (see values.normalize_domain)."""
    if s is None:
        return None
    if _clean_host(s):
        return s
    if is_blank(s):
        return None
    host = _DOMAIN_SUFFIX.sub("", _DOMAIN_PREFIX.sub("", sql_lower(s), count=1))
    return host or None


#: A host's last label when it holds a letter (no IPv4 address); also used by :mod:`.values`.
LAST_LABEL = f"[a-z0-9{NON_ASCII_LETTERS}-]*[a-z{NON_ASCII_LETTERS}][a-z0-9{NON_ASCII_LETTERS}-]*"
_DEEP_HOST = re.compile(f"{HOST_LABEL}(?:\\.{HOST_LABEL})+\\.{LAST_LABEL}")


def account_domain(s: str | None) -> str | None:
    """The domain that keys an account: the host of ``s`` (:func:`normalize_domain`) rolled
    up to its registrable domain (see values.with_registrable)."""
    return _rolled_up(normalize_domain(s))


def domain_is_invalid(raw: str | None, normalized: str | None) -> bool:
    """``raw`` is not blank but ``normalized`` is not a plausible host name."""
    if raw is None or _clean_host(raw):
        return False
    return (normalized is None or _VALID_HOST.fullmatch(normalized) is None) and not is_blank(raw)


# ------------------------------------------------------------------------------- countries

_COUNTRY_DROP_TABLE = re.compile(f"^[\\s\u00a0\ufeff]*the[\\s\u00a0\ufeff]+|[^a-z0-9{NON_ASCII_LETTERS}]+")
_COUNTRY_DROP = re.compile(f"\\A{_S}*the{_S}+|[^a-z0-9{NON_ASCII_LETTERS}]+")
_COMMON = "US GB DE CA FR AU IN NL ES IT BR SE CH IE SG IL JP DK NO BE PL MX FI AT NZ".split()


@lru_cache(maxsize=1)
def country_keys() -> dict[str, str]:
    """Lookup key -> ISO alpha-2 code, from ``countries.csv`` (code, alpha3, name, aliases
    separated by ``|``): most common countries first, blank placeholders never keys ("n/a",
    "#n/a" and "N.A." all have the key "na": never read as Namibia). The one table of the
    engines' lookup (``values.normalize_country``) and of this module's."""
    source = resources.files("icpkit.io").joinpath("countries.csv")
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def key(text: str) -> str:
        return _COUNTRY_DROP_TABLE.sub("", text.lower().replace("&", "and"))

    blank_keys = {key(text) for text in _BLANK_WORDS}
    rank = {code: i for i, code in enumerate(_COMMON)}
    rows.sort(key=lambda row: rank.get(row["code"], len(rank)))
    keys: dict[str, str] = {}
    for row in rows:
        code = row["code"]
        for text in [code, row["alpha3"], row["name"], *row["aliases"].split("|")]:
            k = key(text)
            if k and k not in blank_keys and keys.setdefault(k, code) != code:
                raise ValueError(f"countries.csv: {text!r} names both {keys[k]} and {code}")
    return keys


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Every ISO alpha-2 code."""
    return frozenset(country_keys().values())


@lru_cache(maxsize=1)
def _fast_codes() -> frozenset[str]:
    return country_codes() - {"NA"}


def country_code(text: str) -> str | None:
    """The alpha-2 code of a country name or code written in a profile."""
    return country_keys().get(_COUNTRY_DROP_TABLE.sub("", text.lower().replace("&", "and")))


def normalize_country(s: str | None) -> str | None:
    """ISO alpha-2 code of a country in any usual spelling; unknown values trimmed and
    upper-cased; blank -> None (see values.normalize_country)."""
    if s is None:
        return None
    if s in _fast_codes():
        return s
    if is_blank(s):
        return None
    key = _COUNTRY_DROP.sub("", sql_lower(s).replace("&", "and"))
    return country_keys().get(key) or sql_upper(s.strip(SPACES))


# ------------------------------------------------------------------------------ industries

def industry_is_unrecognised(raw: str | None) -> bool:
    """``raw`` is not blank and is no known industry's spelling (values.industry_is_unrecognised)."""
    text = normalize_text(raw)
    return text is not None and sql_lower(text) not in industry_spellings()


# --------------------------------------------------------------------------------- numbers

_GAP = "[ \t\u00a0\u202f]"
_UNUM = (f"(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]{{1,3}}(?:{_GAP}[0-9]{{3}})+|[0-9]+)(?:\\.[0-9]+)?|\\.[0-9]+")
_SUFFIX = "thousand|trillion|billion|million|mio|mm|mn|bn|tn|k|m|b|t"
_AMOUNT = f"[+-]?(?:{_UNUM})(?:e[+-]?[0-9]{{1,2}})?{_GAP}*(?:{_SUFFIX})?"
_CUR = "(?:[$€£¥]|usd|eur|gbp)?"
_SIGNED_CUR = f"(?:[+-]?{_S}*[$€£¥]|{_CUR})"
_PREFIX_WORDS = "over|more than|at least|about|approx\\.?"
_OPEN_END_WORDS = "or more|and more|and above|or above|plus"
_PEOPLE = "employees|employee|people|staff"
_NUMBER = re.compile(
    f"\\A{_S}*(?:(?:>=?|≥|~|{_PREFIX_WORDS}){_S}*)?"
    f"{_SIGNED_CUR}{_S}*{_AMOUNT}{_S}*{_CUR}"
    f"(?:{_S}*(?:-|–|—|to){_S}*{_SIGNED_CUR}{_S}*{_AMOUNT}{_S}*{_CUR})?"
    f"{_S}*(?:\\+|{_OPEN_END_WORDS})?{_S}*(?:{_PEOPLE})?{_S}*\\Z")
_NOISE = re.compile(f"[{SPACES}\u202f,+$€£¥=>≥~]|usd|eur|gbp|{_PEOPLE}|{_OPEN_END_WORDS}|{_PREFIX_WORDS}")
_NUM_PART = "-?[0-9.]+(?:e-?[0-9]+)?"
_LO = re.compile(f"({_NUM_PART})([a-df-z]*)")
_HI = re.compile(f"{_NUM_PART}[a-df-z]*-({_NUM_PART})([a-df-z]*)")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_MAX_NUMBER_CHARS = 64


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _scale(suffix: str) -> float | None:
    """1000 ** n for a suffix (k: 1 ... t: 4); None when there is none."""
    first = suffix.replace("thousand", "k")[:1]
    if not first:
        return None
    position = "kmbt".find(first)
    return 1000.0 ** (position + 1)


def parse_number(s: str | None) -> float | None:
    """A number as people and CRM exports write it (see values.parse_number)."""
    if s is None or len(s) > _MAX_NUMBER_CHARS:
        return None
    if _PLAIN_NUMBER.fullmatch(s):
        return float(s)
    text = sql_lower(s)
    if _NUMBER.match(text) is None:
        return None
    canonical = _NOISE.sub("", text).replace("–", "-").replace("—", "-").replace("to", "-")
    lo_match = _LO.match(canonical)
    if lo_match is None:
        return None
    hi_match = _HI.match(canonical)
    lo_scale = _scale(lo_match.group(2))
    hi_scale = _scale(hi_match.group(2)) if hi_match else None
    lo_num = _float(lo_match.group(1))
    lo = None if lo_num is None else lo_num * (lo_scale if lo_scale is not None else
                                               hi_scale if hi_scale is not None else 1)
    hi_num = _float(hi_match.group(1)) if hi_match and hi_match.group(1) else None
    if lo is not None and hi_num is not None:
        return (lo + hi_num * (hi_scale if hi_scale is not None else 1)) / 2
    return lo


# ------------------------------------------------------------------------------------ lists

_LIST_SEPARATOR = re.compile(f"{_S}*[;,]{_S}*")


def split_list(s: str | None) -> list[str] | None:
    """A ``;``/``,``-separated string as a list of lower-case items; blank -> None."""
    if is_blank(s):
        return None
    assert s is not None
    return [item for item in _LIST_SEPARATOR.split(sql_lower(s.strip(SPACES))) if item]


def normalize_list(items: list[Any] | tuple[Any, ...]) -> list[str]:
    """A native list: items lower-cased (not trimmed), empty and null items dropped."""
    out = []
    for item in items:
        if item.__class__ is str and item.isascii():
            if item:
                out.append(item.lower())
        elif item is not None:
            low = sql_lower(item if isinstance(item, str) else as_text(item))
            if low:
                out.append(low)
    return out


# ------------------------------------------------------------------------------ timestamps

_TIMESTAMP = re.compile(
    r"([0-9]+)([-/])([0-9]{1,2})\2([0-9]{1,2})"
    r"(?:(?:T|T?[ \t\n\v\f\r]+)([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]*))?)?"
    r"(?:(Z)|([+-])([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2}))?)?| ([A-Za-z][A-Za-z0-9_/+-]*))?)?")
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# The usual forms, which Python's ``datetime.fromisoformat`` reads exactly as the engine does
# (anything else, or what it refuses, such as 24:00, takes the full grammar above).
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?")
_DAY_US = 86_400_000_000
_SPECIAL_TIMES = {"epoch": 0, "infinity": 253402300799999999, "-infinity": -62135596800000000}


def micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of a datetime (a naive one is UTC)."""
    return (moment - (_EPOCH if moment.tzinfo is None else _EPOCH_UTC)) // _ONE_US


def from_micros(us: int) -> datetime:
    """The naive UTC datetime of microseconds since the epoch."""
    day, rest = divmod(us, _DAY_US)
    d = date.fromordinal(day + _EPOCH_DAY)
    seconds, micro = divmod(rest, 1_000_000)
    return datetime(d.year, d.month, d.day, seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def parse_timestamp(value: Any) -> int | None:
    """An event time as UTC microseconds since the epoch, read as the engine reads it
    (``TRY_CAST(text AS TIMESTAMPTZ)`` with the session in UTC): ISO 8601 dates and times,
    with ``Z``, an offset or a zone name, or without (UTC). None when it cannot be read."""
    if value.__class__ is str:
        text = normalize_text(value)
    elif isinstance(value, datetime):
        return micros(value)
    elif isinstance(value, date):
        return (value.toordinal() - _EPOCH_DAY) * _DAY_US
    else:
        text = normalize_text(value if isinstance(value, str) or value is None else as_text(value))
    if text is None:
        return None
    if len(text) == 20 and text[19] == "Z" and text[10] == "T" and text[4] == "-" and text[7] == "-" \
            and text[13] == ":" and text[16] == ":":  # the commonest form, without a regex
        try:
            return (datetime.fromisoformat(text[:19]) - _EPOCH) // _ONE_US
        except ValueError:
            pass
    elif _ISO.fullmatch(text):
        try:
            return micros(datetime.fromisoformat(text))
        except ValueError:
            pass
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return _SPECIAL_TIMES.get(text.lower())
    year, _, month, day, hour, minute, second, fraction, zulu, sign, oh, om, osec, zone = m.groups()
    try:
        ordinal = date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        return None
    h, mi, sec = int(hour or 0), int(minute or 0), int(second or 0)
    if mi > 59 or sec > 59 or h > 24 or h == 24 and (mi or sec or int(fraction or 0)):
        return None
    us = ((ordinal - _EPOCH_DAY) * 86400 + h * 3600 + mi * 60 + sec) * 1_000_000 + int((fraction or "")[:6].ljust(6, "0"))
    if sign:
        us -= (1 if sign == "+" else -1) * (int(oh) * 3600 + int(om or 0) * 60 + int(osec or 0)) * 1_000_000
    elif zone:
        return _in_zone(us, zone)
    return us


def _in_zone(local_us: int, name: str) -> int | None:
    from zoneinfo import ZoneInfo

    key = _zone_names().get(name.lower())
    if key is None:
        return None
    local = from_micros(local_us)
    return micros(local.replace(tzinfo=ZoneInfo(key)))


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    from zoneinfo import available_timezones

    return {name.lower(): name for name in available_timezones()} | {"utc": "UTC"}


# ------------------------------------------------------------------------------- rounding

def sql_round(x: float, digits: int) -> float:
    """``ROUND(x, digits)`` of a DOUBLE: half away from zero on ``x * 10 ** digits``."""
    if math.isinf(x) or math.isnan(x):
        return x
    m = 10.0 ** digits
    y = x * m
    if math.isinf(y):
        return x
    a = abs(y)
    f = math.floor(a)
    r = math.copysign(f + 1.0 if a - f >= 0.5 else float(f), y) / m
    return x if math.isinf(r) or math.isnan(r) else r


# ------------------------------------------------------------------------ a record's fields

#: ``(canonical value, unreadable)`` of one raw value; see :func:`reader`.
Reader = Callable[[Any], tuple[Any, bool]]


def _read_domain(value: Any) -> tuple[str | None, bool]:
    if value.__class__ is str and value.count(".") == 1 and _clean_host(value):
        return value, False
    text = None if value is None else as_text(value)
    host = normalize_domain(text)
    return _rolled_up(host), domain_is_invalid(text, host)


def _rolled_up(host: str | None) -> str | None:
    return registrable(host) if host is not None and _DEEP_HOST.fullmatch(host) else host


def _read_number(value: Any) -> tuple[float | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, float):
        return (None if value != value else value), False
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value), False
        except OverflowError:
            return None, True
    text = value if isinstance(value, str) else as_text(value)
    number = parse_number(text)
    return number, number is None and not is_blank(text)


def _read_list(value: Any) -> tuple[list[str] | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, (list, tuple)):
        return normalize_list(value), False
    return split_list(value if isinstance(value, str) else as_text(value)), False


def _read_text(value: Any) -> tuple[str | None, bool]:
    if value is None:
        return None, False
    return normalize_text(value if isinstance(value, str) else as_text(value)), False


def _read_country(value: Any) -> tuple[str | None, bool]:
    if value is None:
        return None, False
    return normalize_country(value if isinstance(value, str) else as_text(value)), False


def reader(name: str, kind: str) -> Reader:
    """How field ``name`` of ``kind`` is read from a raw JSON value, as ``io.canonical`` reads
    a column: domains normalised and checked, numbers parsed (native ones taken as they
    are, NaN as missing), lists split or lower-cased item by item, countries as ISO codes,
    other text trimmed; blanks are None."""
    if name == "domain":
        return _read_domain
    if kind == "number":
        return _read_number
    if kind == "list":
        return _read_list
    return _read_country if name == "country" else _read_text


def unreadable(kind: str, name: str, value: Any) -> str:
    """Why a value could not be read, worded as the bulk reader words it."""
    text = "None" if value is None else as_text(value)
    if name == "domain":
        return f"'{text}' is not a domain name"
    if kind == "number":
        return f"cannot read '{text}' as a number"
    return f"cannot read '{text}'"
