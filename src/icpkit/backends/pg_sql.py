"""The SQL the PostgreSQL backend runs for an ibis expression: ibis's PostgreSQL SQL
(``ibis.to_sql(expr, dialect="postgres")``) with rewrites that change how fast it runs,
never what it computes (:func:`compiled`).
"""

from __future__ import annotations

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

    A position in a constant array is found with ``array_position`` (PostgreSQL 9.5+).
    ibis writes ``(SELECT ordinality FROM UNNEST(array) ... WHERE value = x LIMIT 1)``, which
    unnests the array and evaluates ``x`` again for every element, for every row: the
    country lookup of :mod:`icpkit.io.values` (1,000 keys) then costs ~20 ms a row instead
    of ~5 us. The results are the same: the array holds no NULL (``array_position`` would
    find a NULL ``x`` there; ``=`` never does).

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
                if isinstance(op.arg, ops.Literal) and None not in op.arg.value:
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


def _computes(select: sge.Select) -> bool:
    """Whether a SELECT computes anything beyond passing columns and constants through."""
    for e in select.expressions:
        inner = e.this if isinstance(e, sge.Alias) else e
        if isinstance(inner, sge.Cast) and isinstance(inner.this, _TRIVIAL):
            continue
        if not isinstance(inner, _TRIVIAL):
            return True
    return False


def _fenced(tree: Any) -> Any:
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
                    or inner.args.get("offset") or not _computes(inner):
                continue  # PostgreSQL does not merge those, or there is nothing to compute twice
            inner.select(sge.alias_(sge.func("random"), _FENCE), append=True, copy=False)
    return tree


@lru_cache(maxsize=64)
def compiled(op: Any, pretty: bool, view: bool) -> str:
    """The SQL of an expression, given as its operation (equal expressions share it:
    compiling a plan costs ~0.1-1 s, the country lookup alone holds 2,000 literals, and
    checks and summaries compile the same parts again).

    ``view``: the query of a view, computed once per row wherever the view is used
    (see :func:`_fenced`), with the expression's columns only."""
    expr = op.to_expr()
    tree = _fenced(_compiler().to_sqlglot(expr.unbind()))
    if not view or not isinstance(tree, sge.Select) or not _computes(tree):
        return str(tree.sql(dialect="postgres", pretty=pretty))
    tree.select(sge.alias_(sge.func("random"), _FENCE), append=True, copy=False)
    cols = ", ".join(quote_ident(c) for c in expr.columns)
    return f"SELECT {cols} FROM ({tree.sql(dialect='postgres')}) AS v"
