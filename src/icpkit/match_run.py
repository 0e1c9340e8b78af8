"""``icp match``: a file of leads matched to a file of accounts, written out with the match
beside each lead.

:func:`run_match` reads both inputs (CSV, Parquet or JSON lines files, or frames) through a
backend, indexes the accounts (:class:`~icpkit.enrich.match.AccountIndex`), matches every
lead (:meth:`~icpkit.enrich.match.AccountIndex.match_table`) and writes, atomically and in
the leads' order, every column of the leads file followed by:

* ``email`` -- the lead's address, trimmed and lower-cased;
* ``domain`` -- the matched account's domain (empty when unmatched);
* ``match_method`` -- ``email_domain``, ``website``, ``exact_name`` or ``fuzzy_name``;
* ``confidence`` -- 0 to 1 (0 when unmatched).

A column of the leads file named ``domain``, ``match_method`` or ``confidence`` is kept
under the name ``input_<name>`` (``input_domain``), so that nothing given is lost and the
names always mean the same thing; a leads column ``email`` is kept as it is (no second
``email`` column is added).

The accounts' columns are recognised as ``icp score`` recognises them
(:func:`~icpkit.io.crm.canonical_mapping`: ``Company Domain Name``, ``Website``... fill
``domain``); the leads' as :data:`~icpkit.enrich.match.LEAD_FIELDS` says. The output is
checked before anything is read; an error leaves no output file (nor any part of one).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends import using
from .enrich.match import MAIL_KINDS, METHODS
from .errors import DataError, located
from .io.frames import as_source
from .io.sources import source_label

if TYPE_CHECKING:
    import pyarrow as pa

    from .backends.base import Backend, ProgressFn

#: The columns added to the leads, in order.
OUTPUT_COLUMNS = ("email", "domain", "match_method", "confidence")
#: What a leads column named like an output column is renamed to (``input_email``).
INPUT_PREFIX = "input_"


@dataclass
class MatchSummary:
    """What a match run did: leads per method, how many stayed unmatched, how many gave a
    free-mail or disposable address (matched by website or name only), the accounts indexed
    and those left out for want of a usable domain."""

    leads: int
    accounts: int
    output: str
    methods: dict[str, int]
    unmatched: int
    free_mail: int
    disposable: int
    seconds: float
    accounts_without_domain: int = 0
    renamed: dict[str, str] = field(default_factory=dict)  # a leads column -> its name in the output

    @property
    def matched(self) -> int:
        return self.leads - self.unmatched

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON data (``icp match --json``)."""
        return {"ok": True, **asdict(self), "matched": self.matched, "seconds": round(self.seconds, 3)}


def run_match(leads: Any, accounts: Any, out: str | Path, *, backend: str | Backend | None = None,
              progress: ProgressFn | None = None) -> MatchSummary:
    """Match the leads of ``leads`` to the accounts of ``accounts`` and write them to ``out``
    (see the module docstring). ``backend``: a backend URL or name (the embedded DuckDB by
    default) or an open backend, which is left open. DataError when an input cannot be read,
    the leads have neither an e-mail nor a company column, or the accounts no domain column."""
    from .io.atomic import check_output_file

    start = time.perf_counter()
    target = Path(out)
    check_output_file(target)
    with using(backend) as b:
        lead_table, lead_label = _read(b, leads, "icp_match_leads", "reading leads", progress)
        _check_leads(lead_table, lead_label)
        account_table, account_label = _read(b, accounts, "icp_match_accounts", "reading accounts", progress)
        if progress is not None:
            progress("indexing accounts", None)
        index = _index(account_table, account_label)
        if progress is not None:
            progress("indexing accounts", 100.0)
        found = index.match_table(lead_table, progress=progress, mail_kind=True)
        result, renamed = _output(lead_table, found)
        written = b.write(b.read(result, "icp_match_out").order_by("_row").select(*result.column_names),
                          target, progress=progress)
    return _summary(found, len(index), index.skipped, written, renamed, time.perf_counter() - start)


def _read(b: Backend, data: Any, name: str, phase: str, progress: ProgressFn | None) -> tuple[pa.Table, str]:
    """An input as Arrow, in its order, without the backend's ``_row``; and its label."""
    source = as_source(data)
    table = b.read(source, name)
    arrow = b.to_arrow(table.order_by("_row"), progress=progress, phase=phase)
    return arrow.drop_columns(["_row"]), source_label(source)


def _index(table: pa.Table, label: str) -> Any:
    """The accounts indexed; a DataError naming the file when they have no domain column."""
    from .enrich.match import AccountIndex
    from .io.crm import canonical_mapping, domain_column_guess

    mapping = canonical_mapping(table.column_names)
    domain = mapping.columns.get("domain")
    if domain is None:
        sample = {c: [None if v is None else str(v) for v in table.column(c).slice(0, 50).to_pylist()]
                  for c in table.column_names}
        guess = domain_column_guess(sample)
        raise DataError("the accounts have no domain column: leads are matched to accounts by their domains",
                        where=located(label, column="domain"),
                        hint=(f"the column '{guess}' looks like one: name it domain" if guess else
                              "add a domain (or website) column; the columns are: "
                              + (", ".join(table.column_names[:20]) or "none")))
    return AccountIndex.from_arrow(table, domain=domain, name=mapping.columns.get("name", "name"),
                                   country=mapping.columns.get("country", "country"))


def _check_leads(table: pa.Table, label: str) -> None:
    from .enrich.match import LEAD_FIELDS, lead_columns

    cols = lead_columns(table.column_names)
    if not cols["email"] and not cols["company"]:
        raise DataError("the leads have neither an e-mail nor a company column: nothing to match them by",
                        where=located(label, column="email"),
                        hint=f"name a column email (or {', '.join(LEAD_FIELDS['email'][1:3])}) or company (or "
                             f"{', '.join(LEAD_FIELDS['company'][1:3])}); the columns are: "
                             + (", ".join(table.column_names[:20]) or "none"))


def _output(leads: pa.Table, found: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    """The leads' columns (renamed where they clash, see the module docstring) and then the
    matcher's four."""
    import pyarrow as pa

    names = list(leads.column_names)
    added = [c for c in OUTPUT_COLUMNS if not (c == "email" and c in names)]  # the leads' own e-mail stays
    taken = set(names) | set(OUTPUT_COLUMNS)
    renamed: dict[str, str] = {}
    for i, name in enumerate(names):
        if name in added:
            new = INPUT_PREFIX + name
            while new in taken:
                new = INPUT_PREFIX + new
            taken.add(new)
            renamed[name] = names[i] = new
    columns = [*leads.columns, *(found.column(c) for c in added)]
    return pa.Table.from_arrays(columns, names=[*names, *added]), renamed


def _summary(found: pa.Table, accounts: int, skipped: int, written: str, renamed: dict[str, str],
             seconds: float) -> MatchSummary:
    import pyarrow.compute as pc

    def counts(column: str) -> dict[str, int]:
        return {str(r["values"]): int(r["counts"]) for r in pc.value_counts(found.column(column)).to_pylist()
                if r["values"] is not None}

    methods, kinds = counts("match_method"), counts("mail_kind")
    by_method = {m: methods.get(m, 0) for m in METHODS}
    return MatchSummary(found.num_rows, accounts, written, by_method, found.num_rows - sum(by_method.values()),
                        kinds.get(MAIL_KINDS[1], 0), kinds.get(MAIL_KINDS[2], 0), seconds, skipped, renamed)


__all__ = ["INPUT_PREFIX", "OUTPUT_COLUMNS", "MatchSummary", "run_match"]
