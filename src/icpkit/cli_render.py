"""What the ``icp`` command prints: the consoles, escaping of data, tables, progress bars
and JSON output (the commands themselves are in :mod:`icpkit.cli`)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

#: Characters that must not reach a terminal raw from data: C0 and C1 controls (escape
#: sequences, carriage returns, backspaces) and the marks that reorder text (bidi controls).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: object) -> str:
    """Text from data (names, values, paths, messages) as it may reach the terminal: control
    characters shown as escapes (``\\x1b``, ``\\u202e``), Rich markup escaped. Everything
    printed that did not come from this module goes through it."""
    return _markup_escape(_CONTROL.sub(_escaped_char, str(text)))


def _escaped_char(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _segment_table(result: Any, dimension: str, top: int = 5) -> None:
    """One dimension of a TAM: a row per value (the largest of each tier), a column per tier
    with its companies and their share of the tier."""
    from .discover.tam import DIMENSION_NAMES

    name = DIMENSION_NAMES[dimension]
    title = f"By {name}" + ("" if dimension == "size_band" else f" (top {top} per tier)")
    t = Table(title=title, title_justify="left")
    t.add_column(name)
    for tier in result.tiers:
        t.add_column(escape(tier), justify="right")
    for value, counts in result.crosstab(dimension, top):
        t.add_row(escape(value), *[_count_share(n, result.tiers[tier]) for tier, n in counts.items()])
    out.print(t)


def _count_share(n: int, total: int) -> str:
    """``n`` with its share of ``total``: "1,204 (35%)", "3 (<1%)", or "0"."""
    if not n or not total:
        return f"{n:,}"
    share = n / total
    return f"{n:,} ({'<1%' if share < 0.005 else f'{share:.0%}'})"


def _top_table(top: list[dict[str, Any]]) -> None:
    if not top:
        return
    if "fit_score" not in top[0]:
        t = Table(title="Top accounts by intent", title_justify="left")
        for col in ("domain", "intent", "buying group", "reasons"):
            t.add_column(col, overflow="fold")
        for r in top:
            t.add_row(escape(r["domain"]), f"{r['intent_score']:g}", "yes" if r["buying_group"] else "",
                      escape(r["intent_reasons"] or ""))
        out.print(t)
        return
    t = Table(title="Top accounts", title_justify="left")
    key = "domain" if "domain" in top[0] else "row"
    for col in (key, "fit", "tier", "abm", "reasons"):
        t.add_column(col, overflow="fold")
    for r in top:
        t.add_row(escape(str(r[key])), f"{r['fit_score']:g}", escape(r["tier"]), escape(r["abm_tier"] or ""),
                  escape(r["reasons"]))
    out.print(t)


def _count(n: int, noun: str) -> str:
    """``1 event``, ``2,000 events``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _tier_table(tiers: dict[str, int], total: int) -> None:
    if not tiers:
        return
    t = Table(title="Tiers", title_justify="left")
    t.add_column("tier")
    t.add_column("accounts", justify="right")
    t.add_column("share", justify="right")
    for name, n in tiers.items():
        t.add_row(escape(name), f"{n:,}", f"{n / total:.1%}" if total else "")
    out.print(t)


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A progress bar on stderr fed by the library's (phase, percent) callbacks."""
    if quiet:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, pct: float | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=100)
            if pct is not None:
                bar.update(tasks[phase], completed=pct)

        yield update


def _atomic_text(path: Path, text: str) -> None:
    from .io.atomic import temp_beside

    tmp = temp_beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _json_to_stdout(json_out: Path | None) -> None:
    """With ``--json -`` the JSON goes to standard output: the report goes to standard error."""
    if json_out is not None and str(json_out) == "-":
        out.stderr = True  # until main() returns


def _write_json(json_out: Path, text: str, *, quiet: bool = False) -> None:
    """``--json``: the JSON text to the file (atomically) or, for ``-``, to standard output."""
    if str(json_out) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    _atomic_text(json_out, text)
    if not quiet:
        out.print(f"Wrote {escape(str(json_out))}")



def _range(low: float | None, high: float | None, fmt: Any) -> str:
    """An interval of positive figures: "0.790-0.834"; an upper bound of None after a lower
    one is unbounded ("2.0x-no upper bound"); "" without a lower bound."""
    if low is None:
        return ""
    return f"{fmt(low)}-{fmt(high) if high is not None else 'no upper bound'}"


def _with_ci(text: str, low: float | None, high: float | None, fmt: Any, prefix: str = "95% CI ") -> str:
    """``text`` followed by its 95% interval in brackets, when there is one."""
    r = _range(low, high, fmt)
    return f"{text} ({prefix}{r})" if r else text


def _pct1(v: float) -> str:
    return f"{v:.1%}"


def _auc3(v: float) -> str:
    return f"{v:.3f}"


def _times1(v: float) -> str:
    return f"{v:.1f}x"


def _compare_tables(cmp: Any) -> None:
    """``icp compare``: the measures side by side with their 95% intervals, the paired test
    of the AUCs, and the tier moves."""
    a, b = cmp.a, cmp.b
    t = Table(title="Backtest, side by side (95% intervals in brackets)", title_justify="left")
    for col in ("measure", "A", "B"):
        t.add_column(col, justify="left" if col == "measure" else "right")

    def both(fig: str, fmt: Any) -> list[str]:
        return [("undefined" if getattr(x, fig) is None else
                 _with_ci(fmt(getattr(x, fig)), getattr(x, f"{fig}_low"), getattr(x, f"{fig}_high"), fmt, ""))
                for x in (a, b)]

    t.add_row("AUC", *both("auc", _auc3))
    t.add_row("KS", f"{a.ks:.3f}", f"{b.ks:.3f}")
    t.add_row("top tier share of rows", *both("top_share", _pct1))
    t.add_row("top tier share of wins", *both("top_recall", _pct1))
    t.add_row("top / bottom win rate", *both("top_bottom_ratio", _times1))
    t.add_row("MadKudu validation bar", "PASS" if a.madkudu_pass else "FAIL", "PASS" if b.madkudu_pass else "FAIL")
    out.print(t)
    z = f" (z = {cmp.z:.2f})" if cmp.z is not None else ""
    colour = "green" if cmp.significant else "yellow"
    out.print(f"Paired DeLong test of the AUCs{z}: [{colour}]{escape(cmp.verdict)}[/]")
    for who, bt in (("A", a), ("B", b)):
        for note in bt.notes:
            out.print(f"  note ({who}): {escape(note)}")
    tiers_b = sorted({y for row in cmp.moves.values() for y in row}, key=[r["tier"] for r in b.tiers].index)
    m = Table(title=f"Tier moves: {cmp.changed:,} of {a.rows:,} records change tier", title_justify="left")
    m.add_column("A \\ B")
    for y in tiers_b:
        m.add_column(escape(y), justify="right")
    for r in a.tiers:
        row = cmp.moves.get(r["tier"], {})
        m.add_row(escape(r["tier"]), *[f"{row.get(y, 0):,}" for y in tiers_b])
    out.print(m)
