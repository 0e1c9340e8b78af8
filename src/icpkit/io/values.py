"""Normalise raw CRM values (strings) into canonical typed values, as ibis expressions.

Every function here takes an ibis expression and returns a new one: nothing is
executed and nothing is read, so one definition compiles for DuckDB, PostgreSQL and
Spark alike (``ibis.to_sql(expr, dialect=...)``). The regular expressions are kept to
the subset shared by RE2 (DuckDB), PostgreSQL AREs and Java (Spark): ``[0-9]`` rather
than ``\\d`` (PostgreSQL's ``\\d`` follows the locale), no look-arounds, no
back-references, no inline flags inside patterns that ibis wraps.

A value is *blank* (see :func:`is_blank`) when it is NULL, empty after trimming, or
one of the usual placeholders (``n/a``, ``null``, ``-``...). Blank always becomes NULL.
Each normaliser has a companion ``*_is_invalid`` / ``*_is_unrecognised`` predicate that
is true when a non-blank raw value could not be normalised, so readers can report the
row instead of silently dropping it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from . import industries, suffixes
from .industries import NON_ASCII_LETTERS
# country_code: for a profile's literals
from .record import BLANK_WORDS, HOST_LABEL, LAST_LABEL, country_code, country_codes, country_keys

__all__ = [
    "country_code",
    "country_is_unrecognised",
    "domain_is_invalid",
    "industry_is_unrecognised",
    "is_blank",
    "normalize_country",
    "normalize_domain",
    "normalize_list",
    "normalize_text",
    "number_is_invalid",
    "parse_number",
    "split_list",
    "trim_text",
    "with_registrable",
]

# Whitespace as the engines see it, plus the no-break space and BOM that spreadsheets leave.
_WS = "[\\s\u00a0\ufeff]"
_BLANK_RE = f"(?i)^{_WS}*({'|'.join(BLANK_WORDS)})?{_WS}*$"
_TRIM_RE = f"^{_WS}+|{_WS}+$"


def _null_string() -> ir.StringValue:
    return ibis.null("string")


def _trim(s: ir.StringValue) -> ir.StringValue:
    # One regex is about 3x faster on DuckDB than ``strip()`` (TRIM with a character
    # list) and also removes no-break spaces.
    return s.re_replace(_TRIM_RE, "")


def is_blank(s: ir.StringValue) -> ir.BooleanValue:
    """True when ``s`` is NULL, empty after trimming, or a placeholder for "no value".

    The placeholders are, ignoring case and surrounding whitespace: ``n/a``, ``na``,
    ``null``, ``none``, ``-``, ``--``, ``nan`` and ``#n/a``. Never NULL itself.
    """
    return s.isnull() | s.re_search(_BLANK_RE)


def _unless_blank(s: ir.StringValue) -> ir.StringValue:
    # Blank values are turned into NULL *before* the costly steps rather than after:
    # a CASE around a heavy expression costs DuckDB up to 2x (it evaluates the
    # expression on a selection of rows and may hoist it, see parse_number).
    return ibis.ifelse(is_blank(s), _null_string(), s)


def _fast_path(s: ir.StringValue, canonical: ir.BooleanValue, normalize: ir.StringValue) -> ir.StringValue:
    """``s`` itself where it is ``canonical`` already, else ``normalize``.

    ``normalize`` must be built over :func:`_slow_input` of the same ``s`` and
    ``canonical``: DuckDB evaluates both branches of a CASE for every row, so the costly
    one is fed NULL for the rows that do not need it. Clean columns (a warehouse export,
    a typed Parquet file) then cost one cheap check per value.
    """
    return ibis.ifelse(canonical, s, normalize)


def _slow_input(s: ir.StringValue, canonical: ir.BooleanValue) -> ir.StringValue:
    return ibis.ifelse(canonical, _null_string(), s)


_EDGE_WS_RE = f"^{_WS}|{_WS}$"


def normalize_text(s: ir.StringValue) -> ir.StringValue:
    """Trim ``s``; blank values (see :func:`is_blank`) become NULL. Case is kept."""
    clean = ~s.re_search(_EDGE_WS_RE) & ~is_blank(s)
    return _fast_path(s, clean, trim_text(_slow_input(s, clean)))


def trim_text(s: ir.StringValue) -> ir.StringValue:
    """:func:`normalize_text` without its fast path: for a caller with a cheaper test of
    the values that are already normalised."""
    return _trim(_unless_blank(s))


# ---------------------------------------------------------------------------------- domains

# A website, URL or e-mail address is reduced to its host by removing, after
# lower-casing, a prefix (``<``, a scheme ``xxx://`` or ``//``, user info or the mailbox
# of an e-mail address ``...@``, ``www.`` / ``www2.``) and a suffix (from the first
# ``/ ? # : < > @`` to the end, and trailing dots and spaces). Inner spaces are kept so
# that :func:`domain_is_invalid` flags them instead of hiding them. Two replacements
# run 2x faster on DuckDB than one extraction of a capture group.
_DOMAIN_PREFIX_RE = f"^{_WS}*<?{_WS}*(?:[a-z][a-z0-9+.-]*://|//)?(?:[^/?#@]*@)?(?:www[0-9]*\\.)?"
_DOMAIN_SUFFIX_RE = "[.\\s\u00a0\ufeff]*[/?#:<>@].*$|[.\\s\u00a0\ufeff]+$"
_VALID_HOST_RE = f"^{HOST_LABEL}(\\.{HOST_LABEL})+$"


# A host name already in canonical form (lower case, labels of a-z 0-9 -, at least one
# dot): nothing to strip, unless it starts with "www".
_CANONICAL_HOST_RE = "^[a-z0-9-]+(\\.[a-z0-9-]+)+$"


def _clean_host(s: ir.StringValue) -> ir.BooleanValue:
    return s.re_search(_CANONICAL_HOST_RE) & ~s.startswith("www")


def normalize_domain(s: ir.StringValue) -> ir.StringValue:
    """Reduce a website, URL or e-mail address to the host name that keys an account.

    Lower-cases and trims; strips ``<...>``, any scheme (``https://``, ``ftp://``...),
    user info or the mailbox of an e-mail address (``jane@acme.io`` -> ``acme.io``), a
    leading ``www.`` / ``www2.``, everything after the host (path, query, fragment,
    port) and trailing dots. Subdomains are kept: :func:`with_registrable` rolls them up.
    Blank -> NULL. ``HTTPS://www.Acme.com/about`` -> ``acme.com``.
    """
    clean = _clean_host(s)
    text = _unless_blank(_slow_input(s, clean)).lower()
    return _fast_path(s, clean, text.re_replace(_DOMAIN_PREFIX_RE, "").re_replace(_DOMAIN_SUFFIX_RE, "").nullif(""))


# The hosts a public suffix can roll up: valid, of three labels or more, the last holding a
# letter (no IPv4 address).
_DEEP_HOST_RE = f"^{HOST_LABEL}(\\.{HOST_LABEL})+\\.{LAST_LABEL}$"
# The host's last k labels, k = 1 .. MAX_LABELS + 1 (at 0: the host of three labels or more).
_LABELS = [f"_host_labels_{k}" for k in range(suffixes.MAX_LABELS + 2)]
_VALID = "_host_valid"  # a valid host of three labels or more whose last label holds a letter


def with_registrable(t: ir.Table, column: str) -> ir.Table:
    """``t`` with the hosts of ``column`` (from :func:`normalize_domain`) rolled up to their
    registrable domain by the Public Suffix List (see :mod:`.suffixes`): ``app.acme.com`` ->
    ``acme.com``, ``mail.acme.co.uk`` -> ``acme.co.uk``; ``co.uk`` and invalid hosts unchanged.

    :func:`.suffixes.registrable` in SQL. With ``c(k)`` the host's last ``k`` labels (the
    whole host when it has fewer), ``c(k)`` is a public suffix when it is an explicit rule or
    its parent ``c(k - 1)`` is a wildcard's; the longest wins, and the registrable domain is
    one label more, unless an exception names ``c(k)`` itself. Each step is bound in a
    projection of its own (``view``): neither ibis nor DuckDB shares a repeated subexpression,
    and Spark's generated code outgrows its 64 KB limit when the labels are extracted per
    test. The costly part runs only on the hosts with two dots or more (NULL for the others).
    Rules are tested with ``IN (subquery)`` over one split literal, which every engine runs as
    a hash join (so DuckDB no longer gives the rows in input order: see ``materialize``'s
    ``in_order``); the few exceptions by equality. A lookup without a join (the rules in a
    constant array, by last label and length) measured 4x slower on DuckDB, which splits the
    constant again for every use.
    """
    host = t[column]
    # LIKE first: a regular expression on every host costs more than the rest together.
    deep = t.mutate(**{_LABELS[0]: ibis.ifelse(host.like("%.%.%"), host, _null_string())}).view()
    h = deep[_LABELS[0]]
    c = deep.mutate(**{_LABELS[k]: h.re_extract(f"[^.]+(\\.[^.]+){{{k - 1}}}$", 0).nullif("").coalesce(h)
                       for k in range(1, len(_LABELS))}, **{_VALID: h.re_search(_DEEP_HOST_RE)}).view()
    r = suffixes.rules()
    explicit, wildcard = _one_column(sorted(r.multi)), _one_column(sorted(r.wildcard))
    exceptions: dict[int, list[str]] = {}  # by their number of labels
    for e in r.exceptions:
        exceptions.setdefault(e.count(".") + 1, []).append(e)
    cases = [(ibis.or_(*[c[_LABELS[k]] == e for e in names]).fill_null(False), c[_LABELS[k]])
             for k, names in sorted(exceptions.items(), reverse=True)]
    cases += [((c[_LABELS[k]].isin(explicit) | c[_LABELS[k - 1]].isin(wildcard)).fill_null(False), c[_LABELS[k + 1]])
              for k in range(suffixes.MAX_LABELS, 1, -1)]
    rolled = ibis.cases(*cases, else_=c[_LABELS[2]])
    return c.mutate(**{column: ibis.ifelse(c[_VALID].fill_null(False), rolled, c[column])}).drop(*_LABELS, _VALID)


def _one_column(items: list[str]) -> ir.Column:
    """``items`` as the one column of a one-row table expression, from one literal split by
    the engine (a separator in no item; a plain character also for Spark, which splits by regex)."""
    return ibis.literal(0).as_table().select(k=ibis.literal(",".join(items)).split(",").unnest()).k


def domain_is_invalid(raw: ir.StringValue, normalized: ir.StringValue) -> ir.BooleanValue:
    """True when ``raw`` is not blank but ``normalized`` is not a plausible host name.

    Plausible: at least one dot, no empty label, only ``a-z``, ``0-9``, ``-`` and
    non-ASCII letters (internationalised names), hence no spaces.
    """
    clean = _clean_host(raw)  # canonical already, hence valid
    checked = _slow_input(normalized, clean)
    bad = checked.isnull() | ~checked.re_search(_VALID_HOST_RE)
    # The costly side of AND first: DuckDB evaluates the right side on a selection of
    # rows, which makes a heavy expression there several times slower.
    return ibis.ifelse(clean, False, bad.fill_null(True) & ~is_blank(raw))


# -------------------------------------------------------------------------------- countries

# Lookup key of a country: lower case, "&" read as "and", a leading "the" dropped, and
# every character that is not a letter or a digit removed (so "U.S.A.", "u s a" and
# "USA" are one key). ``record.country_keys`` builds the table by the same rule in Python.
_COUNTRY_DROP_RE = f"^{_WS}*the{_WS}+|[^a-z0-9{NON_ASCII_LETTERS}]+"


def _lookup(key: ir.StringValue, table: dict[str, str]) -> ir.StringValue:
    """``table[key]``, or NULL: ``values[position of key in keys]`` (keys are scanned in order).

    Timings of ``normalize_country`` on 10M rows, DuckDB 2.0, 2 cores (median of 3; the
    key itself takes ~1.3 s), on realistic data (names, codes and aliases of 25 common
    countries, 4% others) / on all 1,006 keys drawn uniformly:
      this array lookup            3.4 s / 3.9 s   (correct on DuckDB, PostgreSQL, Spark)
      ibis.map(...).get(key)       4.0 s / 2.6 s   (compiles for PostgreSQL to
                                                    jsonb_contains(jsonb, text): fails)
      substitute() (CASE), by freq 9.6 s / 13.6 s
      CASE of 25 countries + array 9.2 s / 3.7 s
    Position 0 of ``codes`` is an empty sentinel (read as NULL), so a missing key (index
    -1) reads it: no negative index, which Spark's ELEMENT_AT rejects. The index is cast to
    a 32-bit integer: Spark's ARRAY_POSITION gives a BIGINT, which its ELEMENT_AT refuses.

    Both arrays are written as one string each, split by the engine at a character no key holds:
    the engines fold the split of a constant once, and compiling two literals instead of
    2,000 array elements takes 0.02 s instead of 0.5 s, on every run.
    """
    sep = ";"  # in no key or value; a plain character also for Spark, which splits by regex
    keys = ibis.literal(sep.join(table)).split(sep)
    found = ibis.literal(sep + sep.join(table.values())).split(sep)
    # A NULL key gives a NULL index, read as position 0 too: Spark's ELEMENT_AT(array, NULL)
    # gives the last element after an aggregate.
    return found[(keys.index(key) + 1).fill_null(0).cast("int32")].nullif("")


def normalize_country(s: ir.StringValue) -> ir.StringValue:
    """ISO 3166-1 alpha-2 code (upper case) of a country written in any usual way.

    Accepts alpha-2 and alpha-3 codes in any case, English short and common names of
    every country (``Viet Nam``, ``Korea, Republic of``), and common aliases and native
    names (``U.S.A.``, ``America``, ``UK``, ``England``, ``Holland``, ``UAE``,
    ``Deutschland``, ``España``...). Matching ignores case, whitespace, punctuation
    (dots, commas, hyphens, apostrophes, parentheses) and a leading "the"; "&" is read
    as "and". Unknown non-blank values come back trimmed and upper-cased, so they stay
    visible (see :func:`country_is_unrecognised`). Blank -> NULL; note that ``NA``
    (Namibia) is one of the blank placeholders.
    """
    clean = s.re_search(_codes_re(fast_path=True))
    text = _unless_blank(_slow_input(s, clean))
    key = text.lower().replace("&", "and").re_replace(_COUNTRY_DROP_RE, "")
    # The lookup must not sit inside another CASE: DuckDB 2.0 runs a large CASE nested
    # in a CASE 30-40x slower.
    return _fast_path(s, clean, _lookup(key, country_keys()).coalesce(_trim(text).upper()))


def _codes_re(fast_path: bool = False) -> str:
    """A regex matching exactly the ISO alpha-2 codes, upper case (for the fast path, not
    "NA", which is read as a blank placeholder rather than Namibia).

    Grouped by first letter (``^(A[DEFG...]|B[AB...]|...)$``): the same DFA for RE2, and
    a third of the time of 249 alternatives for PostgreSQL's regex engine."""
    codes = [c for c in sorted(country_codes()) if not (fast_path and c == "NA")]
    seconds: dict[str, str] = {}
    for code in codes:
        seconds[code[0]] = seconds.get(code[0], "") + code[1]
    return "^(" + "|".join(f"{first}[{rest}]" for first, rest in sorted(seconds.items())) + ")$"


def country_is_unrecognised(raw: ir.StringValue, normalized: ir.StringValue) -> ir.BooleanValue:
    """True when ``raw`` is not blank and ``normalized`` is not a known alpha-2 code."""
    # A regex over the 249 codes (one DFA pass) rather than ``isin``: DuckDB rewrites a
    # long IN list into a join, which made this check 4x slower than the lookup itself.
    known = normalized.re_search(_codes_re()).fill_null(False)
    return ~known & ~is_blank(raw)  # costly side first, see domain_is_invalid


# ------------------------------------------------------------------------------- industries


def industry_is_unrecognised(raw: ir.StringValue) -> ir.BooleanValue:
    """True when ``raw`` is not blank and is none of the spellings of a known industry
    (:func:`icpkit.io.industries.industry_spellings`: labels in any case, "&" or "and",
    HubSpot's enum names, Salesforce's picklist). Meant for distinct values: an IN test of
    1,200 strings."""
    spellings = list(industries.industry_spellings())
    return ~normalize_text(raw).lower().isin(spellings).fill_null(False) & ~is_blank(raw)


# ---------------------------------------------------------------------------------- numbers

_GAP = "[ \t\u00a0\u202f]"  # spacing allowed inside an amount ("1 200", "36.9 M")
_UNUM = (
    "(?:[0-9]{1,3}(?:,[0-9]{3})+"
    f"|[0-9]{{1,3}}(?:{_GAP}[0-9]{{3}})+"
    "|[0-9]+)(?:\\.[0-9]+)?"
    "|\\.[0-9]+"
)
_SUFFIX = "thousand|trillion|billion|million|mio|mm|mn|bn|tn|k|m|b|t"
_AMOUNT = f"[+-]?(?:{_UNUM})(?:e[+-]?[0-9]{{1,2}})?{_GAP}*(?:{_SUFFIX})?"
_CUR = "(?:[$€£¥]|usd|eur|gbp)?"
_SIGNED_CUR = f"(?:[+-]?{_WS}*[$€£¥]|{_CUR})"  # "-$5" as well as "$-5"
_PREFIX_WORDS = "over|more than|at least|about|approx\\.?"
_OPEN_END_WORDS = "or more|and more|and above|or above|plus"
_PEOPLE = "employees|employee|people|staff"
# The whole grammar, used only to validate (a DFA match, cheap): extracting groups
# with it costs ~10x more on RE2 than the canonicalise-then-split steps below.
_NUMBER_RE = (
    f"^{_WS}*(?:(?:>=?|≥|~|{_PREFIX_WORDS}){_WS}*)?"
    f"{_SIGNED_CUR}{_WS}*{_AMOUNT}{_WS}*{_CUR}"
    f"(?:{_WS}*(?:-|–|—|to){_WS}*{_SIGNED_CUR}{_WS}*{_AMOUNT}{_WS}*{_CUR})?"
    f"{_WS}*(?:\\+|{_OPEN_END_WORDS})?{_WS}*(?:{_PEOPLE})?{_WS}*$"
)
# Everything in a valid value that is not an amount or a range separator. Removing it
# leaves "lo" or "lo-hi" with amounts like "-1.5e3", "36.9m", "2.5billion".
_NOISE_RE = f"[\\s\u00a0\u202f\ufeff,+$€£¥=>≥~]|usd|eur|gbp|{_PEOPLE}|{_OPEN_END_WORDS}|{_PREFIX_WORDS}"
_NUM_PART = "-?[0-9.]+(?:e-?[0-9]+)?"  # of a canonical amount; "e" is never a suffix
_LO_NUM_RE = f"^{_NUM_PART}"
_LO_SUFFIX_RE = f"^{_NUM_PART}([a-df-z]*)"
_HI_NUM_RE = f"^{_NUM_PART}[a-df-z]*-({_NUM_PART})"
_HI_SUFFIX_RE = f"^{_NUM_PART}[a-df-z]*-{_NUM_PART}([a-df-z]*)"
_PLAIN_NUMBER_RE = "^[+-]?[0-9]+(\\.[0-9]+)?$"
# Longer values are rejected, so the largest is below 1e64 * 1e99 (exponent) * 1e12
# (suffix): no engine overflows (PostgreSQL raises on float overflow).
_MAX_NUMBER_CHARS = 64


def _scale(suffix: ir.StringValue) -> ir.NumericValue:
    """1000 ** n for a suffix (k, thousand: n=1 ... t, trillion: n=4); NULL if empty.

    String functions rather than a CASE: DuckDB 2.0 runs a CASE nested in boolean
    logic (as in ``number_is_invalid``) several times slower.
    """
    position = ibis.literal("kmbt").find(suffix.replace("thousand", "k").left(1).nullif(""))
    return ibis.literal(1000) ** (position + 1)


def parse_number(s: ir.StringValue) -> ir.FloatingValue:
    """Read a number the way people and CRM exports write it (float64).

    Rules (case-insensitive, surrounding whitespace ignored):

    - Plain and signed numbers: ``1200``, ``-5``, ``+7``, ``42.0``, ``.5``, ``1e3``.
    - Thousands separators are commas or spaces in groups of three (``1,200``,
      ``1 200 000``); the decimal mark is always a dot, so ``1,5`` and ``1,2,3`` are
      unparseable.
    - Suffixes multiply: ``k``/``thousand`` = 1e3; ``m``/``mm``/``mn``/``mio``/``million``
      = 1e6; ``b``/``bn``/``billion`` = 1e9; ``t``/``tn``/``trillion`` = 1e12, with or
      without a space (``36.9M``, ``36.9 M``, ``2.5 billion``).
    - Currency symbols ``$ € £ ¥`` and codes ``USD EUR GBP`` before or after an amount
      are ignored (``$2.5B``, ``€3.5m``, ``10k USD``).
    - A range (``51-200``, ``51 - 200``, ``51–200``, ``51 to 200``, ``$1M-$10M``) gives
      its midpoint (``51-200`` -> 125.5); a suffix written only on the upper end applies
      to both (``1-10M`` -> 5.5M).
    - An open-ended value (``10001+``, ``10,001+``, ``>10000``, ``10000 or more``,
      ``over 50``, ``at least 50``) gives its lower bound; ``~50``, ``about 50`` and
      ``approx. 50`` give 50.
    - A trailing ``employees``, ``people`` or ``staff`` is ignored.
    - Blank values give NULL; so does anything else (``(1,200)``, ``12.5.3``, ``--5``,
      more than 64 characters or a three-digit exponent). Use
      :func:`number_is_invalid` to find the rows that were not blank but gave NULL.
    """
    short = s.length() <= _MAX_NUMBER_CHARS
    is_plain = short & s.re_search(_PLAIN_NUMBER_RE)
    plain = ibis.ifelse(is_plain, s.try_cast("float64"), ibis.null("float64"))
    # DuckDB hoists repeated subexpressions out of CASE/COALESCE and computes them for
    # every row, so the costly steps are skipped by feeding them NULL instead.
    text = s.lower()
    valid = ibis.ifelse(short & ~is_plain & text.re_search(_NUMBER_RE), text, _null_string())
    canonical = valid.re_replace(_NOISE_RE, "").replace("–", "-").replace("—", "-").replace("to", "-")
    lo_scale = _scale(canonical.re_extract(_LO_SUFFIX_RE, 1))
    hi_scale = _scale(canonical.re_extract(_HI_SUFFIX_RE, 1))
    lo = canonical.re_extract(_LO_NUM_RE, 0).try_cast("float64") * lo_scale.coalesce(hi_scale, 1)
    hi = canonical.re_extract(_HI_NUM_RE, 1).nullif("").try_cast("float64") * hi_scale.coalesce(1)
    # Blank values match neither pattern, so they come out NULL.
    return plain.coalesce((lo + hi) / 2, lo)


def number_is_invalid(raw: ir.StringValue, parsed: ir.FloatingValue) -> ir.BooleanValue:
    """True when ``raw`` is not blank but ``parsed`` is NULL (the row should be reported)."""
    return parsed.isnull() & ~is_blank(raw)  # costly side first, see domain_is_invalid


# ------------------------------------------------------------------------------------ lists


def normalize_list(a: ir.ArrayValue) -> ir.ArrayValue:
    """Lower-case every item of a list column; drop empty and NULL items.

    Items of a native list (Parquet, JSON, DataFrames) are not trimmed one by one: a
    regex per item doubles the cost of the whole load. Lists read from text are trimmed
    (see :func:`split_list`).
    """
    items = a.map(lambda item: item.lower()).filter(lambda item: item.notnull() & (item != ""))
    return _keep_null(a, items)


def split_list(s: ir.StringValue) -> ir.ArrayValue:
    """Split a ``;``- or ``,``-separated string into a normalised list (see normalize_list).

    Blank -> NULL (missing); a non-blank string made only of separators -> empty list.
    """
    # Separators swallow the spaces around them, so items need no trimming one by one
    # (2.5x faster on DuckDB than normalize_list over a plain split). They become one ";"
    # and the text is split on it: a split by regular expression has no rule for BigQuery
    # and needs a UDF on Snowflake (on DuckDB this costs ~10% more than re_split).
    text = _trim(_unless_blank(s)).lower()
    items = text.re_replace(f"{_WS}*[;,]{_WS}*", ";").split(";")
    return _keep_null(text, items.filter(lambda item: item != ""))


def _keep_null(source: ir.Value, items: ir.ArrayValue) -> ir.ArrayValue:
    """``items``, NULL where ``source`` is NULL: PostgreSQL's filter or map over a NULL
    array (``ARRAY(SELECT ... FROM UNNEST(NULL))``) gives an empty one, not NULL."""
    return ibis.ifelse(source.isnull(), ibis.null(items.type()), items)
