"""The rules of ``icp dedupe`` (a ``dedupe.yaml`` file, or the defaults) and the merged
record they make of each cluster of duplicate accounts.

A rules file, every key optional::

    threshold: 0.9                # the match probability at which two accounts are one
    columns:                      # the input's columns compared, when their headers are
      name: Account Name          # not recognised (name, domain, country, city, phone,
      domain: Website             # linkedin)
    survivorship:
      default: most_complete      # the rule of every column not listed below
      columns:
        name: most_frequent
        employees: max
        revenue: {rule: most_recent, by: updated_at}
        owner: {rule: source_priority, by: source, order: [salesforce, hubspot]}

Each column of a merged account takes one value of its cluster's records, never blank
while one record has a value (blank: empty, whitespace or a placeholder such as ``n/a``):

* ``most_complete``: the value of the record with the most filled columns;
* ``most_frequent``: the value most records hold (ignoring case and surrounding spaces);
* ``longest``: the longest value;
* ``max`` / ``min``: the largest / smallest value: as numbers when every value reads as
  one ("1,200", "3.5M"), else as timestamps, else as text;
* ``most_recent``: the value of the record with the latest timestamp in the column ``by``;
* ``source_priority``: the value of the record whose column ``by`` names the source that
  comes first in ``order`` (sources not listed come after those listed).

Ties go to the most complete record, then to the first row. Unknown keys are errors naming
the key and its line, as in a profile.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ConfigError, MissingColumnError, suggest
from ..io.record import is_blank, parse_number, parse_timestamp

if TYPE_CHECKING:
    import pyarrow as pa

RuleName = Literal["most_complete", "most_frequent", "longest", "max", "min", "most_recent", "source_priority"]

#: The match probability at which two accounts are taken as one, by default.
DEFAULT_THRESHOLD = 0.9
#: The columns a merged account starts with, before the input's.
CLUSTER_ID, CLUSTER_SIZE, MERGED_ROWS = "cluster_id", "cluster_size", "merged_rows"


class Rule(BaseModel):
    """How one column of a merged account is chosen; written as the rule's name alone, or
    as a mapping with the column it needs (``by``) and, for ``source_priority``, ``order``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: RuleName
    by: str | None = Field(None, description="most_recent: the timestamp column; source_priority: the source column")
    order: list[str] = Field(default_factory=list, description="source_priority: the sources, best first")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"rule": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _needs(self) -> Rule:
        if self.rule in ("most_recent", "source_priority") and not self.by:
            what = "timestamp" if self.rule == "most_recent" else "source"
            raise ValueError(f"the rule {self.rule} needs `by`: the {what} column, e.g. "
                             f"{{rule: {self.rule}, by: {'updated_at' if what == 'timestamp' else 'source'}}}")
        if self.rule == "source_priority" and not self.order:
            raise ValueError("the rule source_priority needs `order`: the sources, best first")
        if self.rule not in ("most_recent", "source_priority") and (self.by or self.order):
            raise ValueError(f"the rule {self.rule} takes no `by` or `order`")
        return self


class Survivorship(BaseModel):
    """The rule of each column of the merged accounts: ``columns`` by name, ``default`` for
    the others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Rule = Rule(rule="most_complete")
    columns: dict[str, Rule] = Field(default_factory=dict)

    def rule_of(self, column: str) -> Rule:
        return self.columns.get(column, self.default)


class MatchColumns(BaseModel):
    """The input's column of each compared field, when its header is not recognised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    domain: str | None = None
    country: str | None = None
    city: str | None = None
    phone: str | None = None
    linkedin: str | None = None


class DedupeRules(BaseModel):
    """A ``dedupe.yaml`` file (see the module docstring); every key has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(DEFAULT_THRESHOLD, gt=0, lt=1)
    columns: MatchColumns = MatchColumns()
    survivorship: Survivorship = Survivorship()

    @field_validator("threshold", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("the threshold is a probability between 0 and 1, e.g. 0.9")
        return value


# ------------------------------------------------------------------------------- loading

def load_rules(path: str | Path) -> DedupeRules:
    """The rules of a YAML file; every problem is reported with its line and key path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"rules file not found: {path}", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the rules file {path}: {exc}", where=str(path)) from None
    return parse_rules(text, source=str(path))


def parse_rules(text: str, source: str = "<dedupe rules>") -> DedupeRules:
    """Rules from YAML text (``source`` names it in errors); empty text is the defaults."""
    from ..profile.load import parse_yaml

    if not text.strip() or all(line.lstrip().startswith("#") for line in text.splitlines() if line.strip()):
        return DedupeRules()
    return parse_yaml(text, DedupeRules, source, error=ConfigError, what="dedupe rules file",
                      hint="see `icp dedupe --help` for the keys")


# ------------------------------------------------------------------------------- merging

def merge(table: pa.Table, rows: Sequence[int], cluster_ids: Sequence[int],
          survivorship: Survivorship) -> tuple[pa.Table, list[str]]:
    """One record per cluster, in the order of the clusters' first rows: ``cluster_id``,
    ``cluster_size``, ``merged_rows`` and each column of ``table`` by its rule (the values
    keep their types). A column of ``table`` named like one of the three is replaced
    (noted)."""
    import pyarrow as pa

    notes = []
    clash = [c for c in (CLUSTER_ID, CLUSTER_SIZE, MERGED_ROWS) if c in table.column_names]
    if clash:
        notes.append(f"the input's column{'s' if len(clash) > 1 else ''} {', '.join(repr(c) for c in clash)} "
                     "(from an earlier dedupe?) replaced by this run's")
    members: dict[int, list[int]] = {}
    for i, c in enumerate(cluster_ids):
        members.setdefault(c, []).append(i)
    groups = list(members.values())
    out: dict[str, pa.Array] = {CLUSTER_ID: pa.array(list(members), pa.int64()),
                                CLUSTER_SIZE: pa.array([len(m) for m in groups], pa.int64()),
                                MERGED_ROWS: pa.array([";".join(str(rows[i]) for i in m) for m in groups], pa.string())}
    multi = [k for k, m in enumerate(groups) if len(m) > 1]
    data = {c: table.column(c).to_pylist() for c in table.column_names} if multi else {}
    filled: dict[int, int] = {i: 0 for k in multi for i in groups[k]}
    for values in data.values():
        for i in filled:
            filled[i] += not blank(values[i])
    orders = {k: completeness_order(groups[k], filled) for k in multi}
    for name in table.column_names:
        if name in out:
            continue
        rule = survivorship.rule_of(name)
        picked = [m[0] for m in groups]
        for k in multi:
            picked[k] = survivor(rule, data[name], orders[k], data[rule.by] if rule.by else None)
        out[name] = table.column(name).take(pa.array(picked, pa.int64()))
    return pa.table(out), notes


def check_columns(survivorship: Survivorship, columns: Sequence[str], where: str) -> None:
    """A MissingColumnError naming the first column a rule names (a column to merge, or
    its ``by``) that the input lacks."""
    for name, rule in [("default", survivorship.default), *survivorship.columns.items()]:
        if name != "default" and name not in columns:
            raise MissingColumnError(f"survivorship.columns names the column '{name}', which the input does not have",
                                     where=where, hint=suggest(name, columns, "the input's columns are: "
                                                               + ", ".join(columns)))
        if rule.by is not None and rule.by not in columns:
            raise MissingColumnError(f"the rule {rule.rule} of {name} reads the column '{rule.by}', which the input "
                                     "does not have", where=where,
                                     hint=suggest(rule.by, columns, "the input's columns are: " + ", ".join(columns)))


def blank(value: Any) -> bool:
    """No value: None, or text that is empty, whitespace or a placeholder (``n/a``)."""
    return value is None or (isinstance(value, str) and is_blank(value))


def completeness_order(rows: Sequence[int], filled: Sequence[int]) -> list[int]:
    """Positions ``rows`` (of one cluster) from the most complete record (``filled``: the
    number of filled columns of each position) to the least; ties by position."""
    return sorted(rows, key=lambda i: (-filled[i], i))


def survivor(rule: Rule, values: Sequence[Any], order: Sequence[int], by: Sequence[Any] | None) -> int:
    """The position whose value one column of a merged account takes: ``values`` are the
    column's values of every input record, ``order`` the cluster's positions, most complete
    first, ``by`` the values of the rule's ``by`` column."""
    candidates = [i for i in order if not blank(values[i])]
    if not candidates:
        return order[0]
    if len(candidates) == 1 or rule.rule == "most_complete":
        return candidates[0]
    rank = {i: n for n, i in enumerate(candidates)}  # ties: the more complete record
    if rule.rule == "most_frequent":
        keys = {i: _folded(values[i]) for i in candidates}
        counts = Counter(keys.values())
        best = max(counts.values())
        return next(i for i in candidates if counts[keys[i]] == best)
    if rule.rule == "longest":
        return max(candidates, key=lambda i: (len(str(values[i])), -rank[i]))
    if rule.rule in ("max", "min"):
        sort_key = dict(zip(candidates, _ranked([values[i] for i in candidates])))
        if rule.rule == "max":
            return max(candidates, key=lambda i: (sort_key[i], -rank[i]))
        return min(candidates, key=lambda i: (sort_key[i], rank[i]))
    assert by is not None
    if rule.rule == "most_recent":
        stamps = {i: _stamp(by[i]) for i in candidates}
        return max(candidates, key=lambda i: (stamps[i] is not None, stamps[i] or 0, -rank[i]))
    order_of = {_folded(s): n for n, s in enumerate(rule.order)}
    return min(candidates, key=lambda i: (order_of.get(_folded(by[i]), len(order_of)), rank[i]))


def _folded(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _ranked(values: list[Any]) -> list[Any]:
    """Sort keys of ``values``: numbers when every value reads as one, else timestamps
    when every value reads as one, else text."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return values
    numbers = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else parse_number(str(v))
               for v in values]
    if all(n is not None for n in numbers):
        return numbers
    stamps = [_stamp(v) for v in values]
    if all(s is not None for s in stamps):
        return stamps
    return [str(v) for v in values]


def _stamp(value: Any) -> int | None:
    if blank(value):
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
