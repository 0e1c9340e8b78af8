"""The SQL the PostgreSQL backend runs for an ibis expression: ibis's PostgreSQL SQL
(``ibis.to_sql(expr, dialect="postgres")``) with rewrites that change how fast it runs,
never what it computes (:func:`compiled`): functions instead of subqueries over arrays
(:func:`_compiler`), each step computed once per row (:func:`_fenced`), repeated
subexpressions computed once (:func:`_without_repeats`), and cheaper forms of the regular
expressions the canonical plan runs on every value (:func:`_faster_regex`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import sqlglot.expressions as sge


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_COMPILER: Any = None


def _compiler() -> Any:
    """ibis's PostgreSQL compiler, with these changes.

    ibis writes a map or a filter over an array as ``ARRAY(SELECT f(x) FROM UNNEST(a) AS
    x ...)``, a subquery run for every row (~5 us each). Two common ones are written with
    built-in functions instead (~0.5 us), with the same results: lower- or upper-casing
    every item, as ``lower(a::text)::text[]`` (the array's text form keeps NULL items,
    quotes and escapes, and casing it changes nothing else), and keeping the items that
    are not NULL and differ from some strings, as ``array_remove`` of each. Both give an
    empty array for a NULL one, as ibis's subquery does.

    A position in a constant array (a literal, or a literal string split by a literal
    delimiter, which PostgreSQL folds once when it plans the query) is found with
    ``array_position`` (PostgreSQL 9.5+). ibis writes ``(SELECT ordinality FROM
    UNNEST(array) ... WHERE value = x LIMIT 1)``, which unnests the array and evaluates
    ``x`` again for every element, for every row: the country lookup of
    :mod:`icpkit.io.values` (1,000 keys) then costs ~20 ms a row instead of ~5 us. The
    results are the same: the array holds no NULL (``array_position`` would find a NULL
    ``x`` there; ``=`` never does).

    An empty array literal gets its type (ibis writes ``ARRAY[]``, which PostgreSQL rejects).
    """
    global _COMPILER
    if _COMPILER is None:
        import ibis.expr.datatypes as dt
        import ibis.expr.operations as ops
        from ibis.backends.sql.compilers.base import NULL
        from ibis.backends.sql.compilers.postgres import PostgresCompiler

        class Compiler(PostgresCompiler):  # type: ignore[misc]
            def visit_ArrayPosition(self, op: Any, *, arg: Any, other: Any) -> Any:
                if _constant_without_nulls(op.arg, ops):
                    return self.f.coalesce(self.f.array_position(arg, other), 0)
                return super().visit_ArrayPosition(op, arg=arg, other=other)

            def visit_ArrayMap(self, op: Any, *, arg: Any, body: Any, param: Any, index: Any) -> Any:
                if index is None and isinstance(op.body, (ops.Lowercase, ops.Uppercase)) \
                        and op.body.arg == op.param and op.dtype.value_type.is_string():
                    case = self.f.lower if isinstance(op.body, ops.Lowercase) else self.f.upper
                    text = case(self.cast(arg, dt.string))
                    return self.f.coalesce(self.cast(text, op.dtype), self.cast(self.f.array(), op.dtype))
                return super().visit_ArrayMap(op, arg=arg, body=body, param=param, index=index)

            def visit_ArrayFilter(self, op: Any, *, arg: Any, body: Any, param: Any, index: Any) -> Any:
                dropped = _dropped_values(op.body, op.param, ops)
                if index is None and dropped is not None:
                    out = arg
                    for value in [*dropped, None]:
                        item = sge.Literal.string(value) if value is not None else self.cast(NULL, op.dtype.value_type)
                        out = self.f.array_remove(out, item)
                    return self.f.coalesce(out, self.cast(self.f.array(), op.dtype))
                return super().visit_ArrayFilter(op, arg=arg, body=body, param=param, index=index)

            def visit_NonNullLiteral(self, op: Any, *, value: Any, dtype: Any) -> Any:
                if dtype.is_array() and len(value) == 0:
                    return self.cast(self.f.array(), dtype)
                return super().visit_NonNullLiteral(op, value=value, dtype=dtype)

        _COMPILER = Compiler()
    return _COMPILER


def _constant_without_nulls(arg: Any, ops: Any) -> bool:
    """Whether an array operation is a constant holding no NULL: a literal, or a literal
    string split by a literal delimiter (``string_to_array`` never gives a NULL item)."""
    if isinstance(arg, ops.Literal):
        return arg.value is not None and None not in arg.value
    if isinstance(arg, ops.StringSplit):
        return all(isinstance(a, ops.Literal) and a.value is not None for a in (arg.arg, arg.delimiter))
    return False


def _dropped_values(body: Any, param: Any, ops: Any) -> list[str] | None:
    """The strings a filter's predicate drops, when it only keeps items that are not NULL
    and differ from those strings (``x IS NOT NULL AND x != 'a' AND ...``); else None."""
    parts, values = [body], []
    while parts:
        node = parts.pop()
        if isinstance(node, ops.And):
            parts += [node.left, node.right]
        elif isinstance(node, ops.NotNull) and node.arg == param:
            continue
        elif isinstance(node, ops.NotEquals):
            other = node.right if node.left == param else node.left if node.right == param else None
            if not isinstance(other, ops.Literal) or not isinstance(other.value, str):
                return None
            values.append(other.value)
        else:
            return None
    return values


#: The column that keeps a derived table from being merged into the query that reads it.
_FENCE = "_icp_once"
_TRIVIAL = (sge.Column, sge.Literal, sge.Null, sge.Star, sge.Boolean)


def _is_computed(e: Any) -> bool:
    """Whether an item of a select list computes something (not a column or a constant,
    possibly cast)."""
    inner = e.this if isinstance(e, sge.Alias) else e
    if isinstance(inner, sge.Cast) and isinstance(inner.this, _TRIVIAL):
        return False
    return not isinstance(inner, _TRIVIAL)


def _computes(select: sge.Select) -> bool:
    """Whether a SELECT computes anything beyond passing columns and constants through."""
    return any(_is_computed(e) for e in select.expressions)


def _fenced(tree: Any, statement: bool = False) -> Any:
    """``tree`` with every derived table that computes something computed once per row.

    ibis writes each step of an expression (``mutate``, ``select``) as a subquery whose
    columns the next one reads, relying on the engine to compute each column once.
    PostgreSQL merges such subqueries into the query that reads them and has no common
    subexpression elimination, so a column read three times is computed three times, and
    one read by a column read by another... grows exponentially (a fit score feeds the
    tier, which feeds the route: the combinations step of a scoring plan took seconds for
    a few hundred rows). A volatile column (``random()``) in the subquery's select list
    keeps PostgreSQL from merging it (``is_simple_subquery``) while conditions on its other
    columns can still be pushed into it. A subquery read with ``SELECT *`` is left alone:
    the column would show; its parent only passes columns on.

    ``statement``: ``tree`` is run as it is (``CREATE TABLE ... AS tree``), not read by
    another query: see :func:`_read_twice`.
    """
    for select in list(tree.find_all(sge.Select)):
        if any(isinstance(e, sge.Star) for e in select.expressions):
            continue
        sources = [select.args.get("from_")] + list(select.args.get("joins") or [])
        for source in sources:
            sub = source.this if source is not None else None
            if not isinstance(sub, sge.Subquery) or not isinstance(sub.this, sge.Select):
                continue
            inner = sub.this
            if inner.args.get("group") or inner.args.get("distinct") or inner.args.get("limit") \
                    or inner.args.get("offset") or not _computes(inner) \
                    or (statement and select is tree and not _read_twice(select, sub)):
                continue  # PostgreSQL does not merge those, or there is nothing to compute twice
            inner.select(sge.alias_(sge.func("random"), _FENCE), append=True, copy=False)
    return tree


def _read_twice(outer: sge.Select, sub: sge.Subquery) -> bool:
    """Whether the statement ``outer`` reads a column of ``sub`` more than once. If not,
    merged into it, ``sub`` computes each column once still (its own subqueries were
    fenced by what ``sub`` reads of them), and a pass over the rows is saved: the write
    of a result, which reads its last step once, ~0.2 s faster for 1M rows. Only for the
    statement itself (a subquery merged further up could be read twice there)."""
    alias = sub.alias_or_name
    names = {e.alias_or_name for e in sub.this.expressions}
    seen: set[str] = set()
    for col in outer.find_all(sge.Column):
        if col.name in names and col.table in ("", alias) and not _inside(col, sub):
            if col.name in seen:
                return True
            seen.add(col.name)
    return False


def _inside(node: Any, ancestor: Any) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


# -- common subexpressions ------------------------------------------------------------

#: Clauses that keep a SELECT from being given a subquery of its common subexpressions.
_CSE_BLOCKERS = ("joins", "where", "group", "having", "qualify", "order", "limit", "offset", "distinct",
                 "windows", "with_", "laterals", "pivots", "sample", "connect", "prewhere", "match")
_VOLATILE = {"random", "nextval", "setval", "setseed", "clock_timestamp", "timeofday", "gen_random_uuid"}
_LEAVES = (sge.Column, sge.Literal, sge.Null, sge.Boolean, sge.Identifier, sge.DataType, sge.Star, sge.Var)
_CSE_MIN_NODES = 4
_CSE = "_icp_cse"


def _conditional_args(node: Any) -> set[int]:
    """ids of the children of ``node`` that PostgreSQL may leave unevaluated for a row."""
    if isinstance(node, sge.Case):  # the operand and the first condition are evaluated
        return {id(node.args.get("default"))}
    if isinstance(node, sge.If):  # a branch of a CASE, or IF(cond, a, b) (written as a CASE)
        case = node.parent
        if not isinstance(case, sge.Case):
            return {id(node.args.get("true")), id(node.args.get("false"))}
        first = (case.args.get("ifs") or [None])[0] is node
        return {id(node.args.get("true"))} | (set() if first else {id(node.this)})
    if isinstance(node, (sge.And, sge.Or)):
        return {id(node.expression)}
    if isinstance(node, sge.Coalesce):
        return {id(c) for c in node.args.get("expressions") or []}
    return set()


def _shared_subexpressions(select: sge.Select) -> list[Any] | None:
    """Representatives of the largest subexpressions the select list computes more than
    once, each evaluated for every row at least once (so computing it once per row, in a
    subquery, adds no work and raises no error the query would not raise), or None when
    the SELECT is not a plain projection of one source."""
    source = select.args.get("from_")
    if source is None or not isinstance(source.this, (sge.Table, sge.Subquery)) or not source.this.alias_or_name \
            or any(select.args.get(k) for k in _CSE_BLOCKERS) \
            or any(isinstance(e, sge.Star) for e in select.expressions):
        return None
    keys: dict[Any, int] = {}
    found: dict[int, list[tuple[Any, bool, int]]] = {}  # key -> (node, unconditional, size)

    def walk(node: Any, sure: bool) -> tuple[int, int, bool]:
        """(key, size, pure) of ``node``."""
        if isinstance(node, (sge.Subquery, sge.Select, sge.AggFunc, sge.Window)):
            return keys.setdefault(("opaque", id(node)), len(keys)), 1, False
        cond = _conditional_args(node)
        parts: list[Any] = [type(node).__name__]
        size, pure = 1, True
        for name, value in node.args.items():
            for child in (value if isinstance(value, list) else [value]):
                if isinstance(child, sge.Expression):
                    k, n, p = walk(child, sure and id(child) not in cond)
                    parts.append((name, k))
                    size, pure = size + n, pure and p
                elif child is not None:
                    parts.append((name, child if isinstance(child, (str, int, float, bool)) else str(child)))
        name = node.name.lower() if isinstance(node, sge.Anonymous) else type(node).__name__.lower()
        pure = pure and name not in _VOLATILE and not isinstance(node, sge.Rand)
        key = keys.setdefault(tuple(parts), len(keys))
        if pure and size >= _CSE_MIN_NODES and not isinstance(node, (*_LEAVES, sge.Alias, sge.Paren, sge.Cast)):
            found.setdefault(key, []).append((node, sure, size))
        return key, size, pure

    for e in select.expressions:
        walk(e.this if isinstance(e, sge.Alias) else e, True)
    shared = [v for v in found.values() if len(v) > 1 and any(sure for _, sure, _ in v)]
    shared.sort(key=lambda v: -v[0][2])
    chosen: list[list[Any]] = []
    taken: set[int] = set()
    for occurrences in shared:
        nodes = [n for n, _, _ in occurrences if not any(id(a) in taken for a in _ancestors(n))]
        if len(nodes) < 2:
            continue
        chosen.append(nodes)
        taken.update(id(n) for n in nodes)
    return chosen or None


def _ancestors(node: Any) -> Iterator[Any]:
    while node is not None:
        yield node
        node = node.parent


def _without_repeats(tree: Any) -> Any:
    """``tree`` with the subexpressions each SELECT computes more than once computed once,
    in a subquery of it (PostgreSQL has no common subexpression elimination).

    The canonical plan repeats its tests where DuckDB computes them once: the domain's
    "canonical already" regex in the domain and in its check, the whole country lookup in
    the country and in its check, the blank test of a value in its fast path and in its
    slow one. Only subexpressions evaluated for every row at least once are moved (the
    first condition of a CASE, the left side of AND / OR, ...), so the query does no more
    work and raises no error it would not raise. A volatile column (``random()``) keeps the
    subquery from being merged back (see :func:`_fenced`).
    """
    pending = [s for s in tree.find_all(sge.Select)]
    seq = 0
    while pending:
        select = pending.pop()
        for _ in range(4):  # a subexpression inside a larger one shared too
            groups = _shared_subexpressions(select)
            if not groups:
                break
            source = select.args["from_"].this
            alias = source.alias_or_name
            inner = sge.select(sge.Column(this=sge.Star(), table=sge.to_identifier(alias, quoted=True)))
            inner = inner.from_(source.copy(), copy=False)
            for nodes in groups:
                seq += 1
                name = f"{_CSE}{seq}"
                inner.select(sge.alias_(nodes[0].copy(), name, quoted=True), append=True, copy=False)
                for n in nodes:
                    n.replace(sge.column(name, table=alias, quoted=True))
            inner.select(sge.alias_(sge.func("random"), f"{_FENCE}{seq}"), append=True, copy=False)
            select.set("from_", sge.From(this=sge.Subquery(this=inner, alias=sge.TableAlias(
                this=sge.to_identifier(alias, quoted=True)))))
            pending.append(inner)
    return tree


# -- regular expressions --------------------------------------------------------------
#
# PostgreSQL runs a regular expression in ~0.4-1.5 us (the string is converted to wide
# characters and run through its NFA), where a built-in test of a byte or an equality
# takes ~0.05 us. The tests icpkit's canonical plan runs on every value are given cheaper
# forms with the same results.

#: ``^(A[DE]|B[AB])$``-like patterns: alternatives of plain letters, digits and classes of
#: them, anchored at both ends (a finite set of strings).
_FINITE_RE = re.compile(r"\^\(?((?:[A-Za-z0-9]|\[[A-Za-z0-9]+\])+(?:\|(?:[A-Za-z0-9]|\[[A-Za-z0-9]+\])+)*)\)?\$")
_FINITE_MAX = 5000


def _finite_strings(pattern: str) -> list[str] | None:
    """The strings a case-sensitive pattern such as ``^(A[DE]|B[AB])$`` matches, in order,
    or None for any other pattern (or too many strings)."""
    found = _FINITE_RE.fullmatch(pattern)
    grouped = pattern.startswith("^(")
    if found is None or grouped != pattern.endswith(")$") or (not grouped and "|" in pattern):
        return None  # ``^A|B$`` is ``^A`` or ``B$``
    out: list[str] = []
    for alt in found.group(1).split("|"):
        parts = [p[1:-1] if p.startswith("[") else p for p in re.findall(r"\[[^\]]+\]|.", alt)]
        words = [""]
        for chars in parts:
            words = [w + c for w in words for c in dict.fromkeys(chars)]
            if len(words) + len(out) > _FINITE_MAX:
                return None
        out += words
    return list(dict.fromkeys(out))


@lru_cache(maxsize=16)
def _pair_bitmap(pattern: str) -> str | None:
    """For a pattern matching a finite set of two-character ASCII strings (``^(A[DE]|...)$``:
    the ISO country codes), a bitmap of them, bit ``128 * first + second`` (hex, for
    ``get_bit(decode(..., 'hex'), n)``); else None."""
    words = _finite_strings(pattern)
    if not words or any(len(w) != 2 for w in words):
        return None
    bits = bytearray(128 * 128 // 8)
    for w in words:
        n = ord(w[0]) * 128 + ord(w[1])
        bits[n // 8] |= 1 << (n % 8)  # get_bit counts bits from the lowest of each byte
    return bits.hex()


@lru_cache(maxsize=1)
def _first_char_tests() -> dict[str, tuple[bool, frozenset[int]]]:
    """Patterns that cannot match a value whose first character (and, when the flag is
    set, last character) is printable ASCII (``!`` to ``~``) outside a few characters:
    pattern -> (whether the last character counts too, the code points still possible).

    - blank placeholders (:func:`icpkit.io.values.is_blank`): a match starts with
      whitespace, the first letter of a placeholder (either case) or nothing at all;
    - whitespace at either end (:func:`icpkit.io.values.normalize_text`): a match starts
      or ends with whitespace, never a printable ASCII character.
    """
    from ..io import values

    words = re.search(r"\(([^()]*)\)\?", values._BLANK_RE)  # (n/a|na|null|...)?
    firsts = {ord(c) for w in (words.group(1).split("|") if words else []) for c in {w[0].lower(), w[0].upper()}}
    tests = {values._EDGE_WS_RE: (True, frozenset())}
    if firsts and all(c < 128 for c in firsts):
        tests[values._BLANK_RE] = (False, frozenset(firsts))
    return tests


def _is_cheap(e: Any) -> bool:
    """A column, possibly cast or collated: cheap to read twice."""
    while isinstance(e, (sge.Cast, sge.Collate, sge.Paren)):
        e = e.this
    return isinstance(e, sge.Column)


def _printable(e: Any) -> Any:
    return sge.Between(this=e, low=sge.Literal.number(33), high=sge.Literal.number(126))


def _faster_regex(node: Any, ascii_ok: bool) -> Any:
    """``x ~ 'pattern'`` in a cheaper form with the same results (see above), else as it is.

    ``ascii()`` gives the code point of the first character on a UTF-8 (or single-byte)
    database, and NULL for NULL, which then reaches the pattern and gives NULL as before.

    - A set of two-character ASCII strings (:func:`_pair_bitmap`) is a bit of a constant
      bitmap, for a value of two ASCII bytes (~0.2 us instead of ~1 us). Not an ``IN``
      list: PostgreSQL 14-16 looks up only the first long ``IN`` list of a query in a hash
      table and compares the others item by item (2.5 us for 249 codes).
    - The patterns of :func:`_first_char_tests` are tried only where the first (and last)
      character is not printable ASCII or is one that may start a match.

    Only on a column (possibly cast): the value is read several times.
    """
    if not isinstance(node, sge.RegexpLike) or not isinstance(node.expression, sge.Literal) \
            or not node.expression.is_string:
        return node
    pattern, arg = node.expression.this, node.this
    if not ascii_ok or not _is_cheap(arg):
        return node
    bitmap = _pair_bitmap(pattern)
    if bitmap is not None:
        first = sge.func("ascii", arg.copy())
        second = sge.func("ascii", sge.func("substr", arg.copy(), sge.Literal.number(2)))
        two_ascii = sge.and_(sge.EQ(this=sge.func("octet_length", arg.copy()), expression=sge.Literal.number(2)),
                             sge.LT(this=first, expression=sge.Literal.number(128)),
                             sge.LT(this=second, expression=sge.Literal.number(128)))
        table = sge.Anonymous(this="decode", expressions=[sge.Literal.string(bitmap), sge.Literal.string("hex")])
        index = sge.Add(this=sge.Mul(this=first.copy(), expression=sge.Literal.number(128)), expression=second.copy())
        bit = sge.Anonymous(this="get_bit", expressions=[table, index])
        is_set = sge.EQ(this=bit, expression=sge.Literal.number(1))
        return sge.Case(ifs=[sge.If(this=two_ascii, true=is_set)], default=node)
    test = _first_char_tests().get(pattern)
    if test is None:
        return node
    last, allowed = test
    first = sge.func("ascii", arg.copy())
    conds = [_printable(first)]
    if allowed:
        starts = [sge.Literal.number(c) for c in sorted(allowed)]
        conds.append(sge.Not(this=sge.In(this=first.copy(), expressions=starts)))
    if last:
        conds.append(_printable(sge.func("ascii", sge.func("right", arg.copy(), sge.Literal.number(1)))))
    return sge.Case(ifs=[sge.If(this=sge.and_(*conds), true=sge.false())], default=node)


@lru_cache(maxsize=64)
def compiled(op: Any, pretty: bool, view: bool, ascii_ok: bool = False, statement: bool = False) -> str:
    """The SQL of an expression, given as its operation (equal expressions share it:
    compiling a plan costs ~0.1-1 s, the country lookup alone holds 2,000 literals, and
    checks and summaries compile the same parts again).

    ``view``: the query of a view, computed once per row wherever the view is used
    (see :func:`_fenced`), with the expression's columns only."""
    expr = op.to_expr()
    tree = _without_repeats(_fenced(_compiler().to_sqlglot(expr.unbind()), statement and not view))
    tree = tree.transform(lambda node: _faster_regex(node, ascii_ok), copy=False)
    if not view or not isinstance(tree, sge.Select) or not _computes(tree):
        return str(tree.sql(dialect="postgres", pretty=pretty))
    tree.select(sge.alias_(sge.func("random"), _FENCE), append=True, copy=False)
    cols = ", ".join(quote_ident(c) for c in expr.columns)
    return f"SELECT {cols} FROM ({tree.sql(dialect='postgres')}) AS v"
