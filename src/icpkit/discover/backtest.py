"""``icp backtest``: does a profile's fit score predict wins on labelled history?

The statistics (:func:`auc`, :func:`ks`, :func:`gains_table`, :func:`wilson_interval`,
:func:`tier_table`, :func:`calibration`) are pure functions of numpy arrays: ``scores`` are
fit scores (0-100), ``labels`` are 1 (won) or 0 (lost). :func:`run_backtest` scores a file
with the same engine as ``icp score``, joins each row's label by its row number and
computes them all into a :class:`Backtest`.

Ties. Fit scores take few distinct values (one per combination of criteria outcomes), so
ties are the rule: AUC averages the ranks of tied scores (a tie counts one half), and the
gains table spreads the wins of a tie group that straddles a decile boundary evenly over
its rows (the expected result of breaking ties at random), so that the table never depends
on the order of the input rows. Wins per decile can therefore be fractional.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError, IcpError, MissingColumnError, located, suggest

#: Label words read as a win (1) or a loss (0), after trimming and lower-casing.
TRUE_WORDS = ("1", "1.0", "true", "yes", "y", "won", "win", "t")
FALSE_WORDS = ("0", "0.0", "false", "no", "n", "lost", "loss", "f")
LABEL_HINT = "labels must be 1/0, true/false, yes/no, won/lost or y/n"

#: MadKudu's published bar for a predictive model, applied to the profile's highest tier.
MADKUDU_TOP_SHARE = (0.15, 0.35)
MADKUDU_TOP_RECALL = 0.60
MADKUDU_TOP_BOTTOM = 10.0


# -- statistics ------------------------------------------------------------------------


def _arrays(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(np.int8)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("scores and labels must be 1-d arrays of the same length")
    return s, y


def check_classes(labels: Any, what: str = "the labels") -> None:
    """Raise a :class:`DataError` unless ``labels`` has at least 2 rows and both classes."""
    y = np.asarray(labels)
    if len(y) < 2:
        raise DataError(f"{what}: {len(y)} labelled row(s); a backtest needs at least 2",
                        hint="label more history, or move --split-at earlier")
    wins = int(y.sum())
    if wins == 0:
        raise DataError(f"{what}: no positives (every label is 0 / lost): one class only",
                        hint="a backtest compares wins with losses; include won accounts")
    if wins == len(y):
        raise DataError(f"{what}: no negatives (every label is 1 / won): one class only",
                        hint="a backtest compares wins with losses; include lost accounts")


def _tie_groups(sorted_values: np.ndarray) -> np.ndarray:
    """Group id (0, 1, ...) of each value of a sorted array; equal values share a group."""
    if len(sorted_values) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1


def auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve: the probability that a random win outscores a random loss
    (ties count one half). Rank-based (Mann-Whitney U) with the ranks of ties averaged."""
    s, y = _arrays(scores, labels)
    check_classes(y)
    order = np.argsort(s, kind="mergesort")
    groups = _tie_groups(s[order])
    counts = np.bincount(groups)
    ends = np.cumsum(counts)  # 1-based rank of each group's last member
    mean_rank = ends - (counts - 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = mean_rank[groups]
    n1 = float(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def ks(scores: Any, labels: Any) -> float:
    """Kolmogorov-Smirnov statistic: the largest distance between the score distributions
    (CDFs) of wins and losses, 0 (no separation) to 1 (complete separation)."""
    s, y = _arrays(scores, labels)
    check_classes(y)
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    t = np.unique(s)
    cdf_pos = np.searchsorted(pos, t, side="right") / len(pos)
    cdf_neg = np.searchsorted(neg, t, side="right") / len(neg)
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


def gains_table(scores: Any, labels: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Rows sorted by score, highest first, cut into ``bins`` groups of (nearly) equal size.

    Per group: ``decile`` (1 = best), ``n``, ``min_score``, ``max_score``, ``wins``,
    ``win_rate``, ``cum_share_wins`` (share of all wins in this group and those above) and
    ``lift`` (group win rate / overall win rate). See the module docstring for ties.
    """
    s, y = _arrays(scores, labels)
    check_classes(y)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order].astype(float)
    groups = _tie_groups(s_sorted)
    expected = (np.bincount(groups, weights=y_sorted) / np.bincount(groups))[groups]
    total_wins, base = float(y.sum()), float(y.mean())
    out: list[dict[str, Any]] = []
    cum = 0.0
    for i, idx in enumerate(np.array_split(np.arange(len(s)), bins), start=1):
        if len(idx) == 0:
            continue
        wins = float(expected[idx].sum())
        cum += wins
        rate = wins / len(idx)
        out.append({"decile": i, "n": int(len(idx)), "min_score": float(s_sorted[idx].min()),
                    "max_score": float(s_sorted[idx].max()), "wins": round(wins, 4), "win_rate": rate,
                    "cum_share_wins": cum / total_wins, "lift": rate / base})
    return out


def wilson_interval(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion ``wins / n`` (95% for ``z=1.96``).
    ``(0.0, 1.0)`` when ``n`` is 0: nothing is known."""
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def tier_table(tiers: Any, labels: Any, tier_order: Sequence[str]) -> list[dict[str, Any]]:
    """Per tier, in ``tier_order`` (highest first): ``tier``, ``n``, ``wins``, ``win_rate``
    (None when the tier is empty) and the 95% Wilson interval ``ci_low``, ``ci_high``."""
    t = np.asarray(tiers, dtype=object)
    y = np.asarray(labels).astype(np.int64)
    out = []
    for name in tier_order:
        mask = t == name
        n, wins = int(mask.sum()), int(y[mask].sum())
        low, high = wilson_interval(wins, n)
        out.append({"tier": name, "n": n, "wins": wins, "win_rate": wins / n if n else None,
                    "ci_low": low, "ci_high": high})
    return out


def calibration(scores: Any, labels: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Per score band of equal width on 0-100 (``0-10``, ..., ``90-100``; empty bands left
    out): ``band``, ``n``, ``predicted`` (mean score / 100) and ``observed`` (win rate).
    A fit score is not a probability; this shows how far it is from one."""
    s, y = _arrays(scores, labels)
    width = 100.0 / bins
    band = np.clip(np.floor(s / width), 0, bins - 1).astype(np.int64)
    n = np.bincount(band, minlength=bins)
    score_sum = np.bincount(band, weights=s, minlength=bins)
    wins = np.bincount(band, weights=y.astype(float), minlength=bins)
    return [{"band": f"{b * width:g}-{(b + 1) * width:g}", "n": int(n[b]), "predicted": score_sum[b] / n[b] / 100.0,
             "observed": wins[b] / n[b]} for b in range(bins) if n[b]]


# -- labels ----------------------------------------------------------------------------


def _as_text(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        try:
            values = pa.array(items, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            values = pa.array([None if v is None else str(v) for v in items], pa.string())
    if pa.types.is_floating(values.type):  # 1.0 -> "1", NaN -> missing
        values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def parse_labels(values: Any, *, rows: Any = None, where: str | None = None, column: str | None = None) -> np.ndarray:
    """Read outcome labels as a 0/1 ``int8`` array.

    Accepts 1/0, true/false, yes/no, won/lost, y/n, t/f (case-insensitive, trimmed), the
    numbers 1 and 0 and booleans. Anything else, or a missing (blank) label, raises a
    :class:`DataError` naming the first such value and its row: ``rows[i]`` when the row
    numbers are given, else ``i + 1``; ``where`` and ``column`` complete the location.
    """
    text = _as_text(values)
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    won = pc.fill_null(pc.is_in(norm, value_set=pa.array(TRUE_WORDS)), False).to_numpy(zero_copy_only=False)
    lost = pc.fill_null(pc.is_in(norm, value_set=pa.array(FALSE_WORDS)), False).to_numpy(zero_copy_only=False)
    bad = ~(won | lost)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = int(np.asarray(rows)[i]) if rows is not None else i + 1
        raw = text[i].as_py()
        n_bad = int(bad.sum())
        more = f" ({n_bad} rows in all)" if n_bad > 1 else ""
        if raw is None or raw.strip() == "":
            msg = f"the label is missing{more}"
            hint = "every row needs an outcome; leave out rows that are still open"
        else:
            msg = f"the label '{raw}' is not a win/loss value{more}"
            hint = LABEL_HINT
        raise DataError(msg, where=located(where, row, column), hint=hint)
    return won.astype(np.int8)


# -- the backtest ----------------------------------------------------------------------


@dataclass
class Backtest:
    """The result of :func:`run_backtest`; :meth:`to_dict` / :meth:`to_json` for output.

    ``top_tier`` is the profile's highest tier and ``bottom_tier`` its lowest.
    ``top_bottom_ratio`` is None when it is undefined (the bottom tier has no wins, or no
    rows); the MadKudu check on it then passes when the top tier has wins and the bottom
    tier has rows but no wins (an infinitely better top), and fails otherwise.
    """

    rows: int  # rows evaluated
    rows_total: int  # rows in the file
    wins: int
    base_rate: float
    auc: float
    ks: float
    tiers: list[dict[str, Any]]
    top_tier: str
    bottom_tier: str
    top_share: float
    top_recall: float
    top_bottom_ratio: float | None
    gains: list[dict[str, Any]]
    calibration: list[dict[str, Any]]
    madkudu_pass: bool
    madkudu: dict[str, Any]
    label: str
    profile_version: str
    split: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def summarize(scores: Any, labels: Any, tiers: Any, tier_order: Sequence[str], **meta: Any) -> Backtest:
    """Every statistic of a backtest from aligned arrays of fit scores, 0/1 labels and tiers."""
    s, y = _arrays(scores, labels)
    check_classes(y)
    table = tier_table(tiers, y, tier_order)
    top, bottom = table[0], table[-1]
    n, wins = len(y), int(y.sum())
    top_share = top["n"] / n
    top_recall = top["wins"] / wins
    ratio = None
    if top["win_rate"] is not None and bottom["win_rate"]:
        ratio = top["win_rate"] / bottom["win_rate"]
    if ratio is not None:
        ratio_ok = ratio >= MADKUDU_TOP_BOTTOM
    else:
        ratio_ok = bool(top["wins"]) and bottom["n"] > 0 and bottom["wins"] == 0
    share_ok = MADKUDU_TOP_SHARE[0] <= top_share <= MADKUDU_TOP_SHARE[1]
    recall_ok = top_recall >= MADKUDU_TOP_RECALL
    madkudu = {
        "top_tier": top["tier"],
        "bottom_tier": bottom["tier"],
        "about": "MadKudu's published validation bar for a predictive model: the top tiers hold 15-35% "
                 "of records and at least 60% of conversions, and convert at least 10x better than the "
                 "bottom tier. icpkit counts the profile's highest tier as the top tiers.",
        "checks": {
            "top_share": {"value": top_share, "target": "15%-35% of records", "pass": share_ok},
            "top_recall": {"value": top_recall, "target": ">= 60% of wins", "pass": recall_ok},
            "top_bottom_ratio": {"value": ratio, "target": ">= 10x the bottom tier's win rate", "pass": ratio_ok},
        },
    }
    return Backtest(
        rows=n, wins=wins, base_rate=wins / n, auc=auc(s, y), ks=ks(s, y), tiers=table,
        top_tier=top["tier"], bottom_tier=bottom["tier"], top_share=top_share, top_recall=top_recall,
        top_bottom_ratio=ratio, gains=gains_table(s, y), calibration=calibration(s, y),
        madkudu_pass=share_ok and recall_ok and ratio_ok, madkudu=madkudu, **meta,
    )


def _column(columns: list[str], wanted: str, what: str, where: str) -> str:
    """The input column ``wanted`` (exact, else the one equal ignoring case), or a
    MissingColumnError with a "did you mean"."""
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.strip().lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    hint = suggest(wanted, columns, "the columns are: " + ", ".join(columns))
    raise MissingColumnError(f"no {what} column '{wanted}'", where=where, hint=hint)


def _split_date(split_at: str) -> Date:
    try:
        return Date.fromisoformat(split_at.strip()[:10])
    except ValueError:
        raise IcpError(f"--split-at '{split_at}' is not a date", hint="write it as YYYY-MM-DD") from None


@dataclass(frozen=True)
class _Labelled:
    """Scored rows of a labelled file, in input order: ``_row``, ``fit_score``, ``tier``, labels."""

    table: pa.Table
    labels: np.ndarray
    rows_total: int
    label_col: str
    split: dict[str, Any] | None


def run_backtest(profile: Any, data_path: str | Path, label: str, *, date: str | None = None,
                 split_at: str | None = None) -> Backtest:
    """Score ``data_path`` with ``profile`` and measure the scores against the ``label`` column.

    With ``date`` and ``split_at`` only rows whose date is on or after ``split_at`` (the
    out-of-sample period) are evaluated; a row with a missing or unreadable date is an error.
    """
    from ..api import _profile

    prof = _profile(profile)
    data = _labelled_scores(prof, data_path, label, date, split_at)
    return _summary(prof, data)


def _summary(prof: Any, data: _Labelled) -> Backtest:
    scores = data.table.column("fit_score").to_numpy(zero_copy_only=False).astype(float)
    tiers = data.table.column("tier").to_numpy(zero_copy_only=False)
    return summarize(scores, data.labels, tiers, [t.name for t in prof.ordered_tiers], rows_total=data.rows_total,
                     label=data.label_col, profile_version=prof.version_hash, split=data.split)


def _labelled_scores(prof: Any, data_path: str | Path, label: str, date: str | None,
                     split_at: str | None) -> _Labelled:
    from ..api import score_rows
    from ..backends.duckdb import DuckDBBackend, quote_ident, quote_str
    from ..scoring.plan import ROW

    if (date is None) != (split_at is None):
        raise IcpError("--date and --split-at go together",
                       hint="give both to evaluate only rows dated on or after the split, or neither")
    cutoff = _split_date(split_at) if split_at is not None else None
    backend = DuckDBBackend()
    try:
        scored = score_rows(backend, prof, data_path, on_error="fail")
        where = scored.loaded.label
        columns = [c for c in backend.to_arrow("SELECT * FROM icp_raw LIMIT 0").schema.names if c != ROW]
        label_col = _column(columns, label, "label", where)
        select = f"SELECT s.{ROW} AS _row, s.fit_score, s.tier, r.{quote_ident(label_col)} AS _label"
        joined = f"FROM ({backend.compile(scored.plan.fit_scores())}) s JOIN icp_raw r ON s.{ROW} = r.{ROW}"
        rows_total = backend.rows("SELECT count(*) FROM icp_raw")[0][0]
        if cutoff is not None:
            date_col = _column(columns, date or "", "date", where)
            d = f"TRY_CAST(left(trim(CAST(r.{quote_ident(date_col)} AS VARCHAR)), 10) AS DATE)"
            bad = backend.rows(f"SELECT r.{ROW}, CAST(r.{quote_ident(date_col)} AS VARCHAR) FROM icp_raw r "
                               f"WHERE {d} IS NULL ORDER BY r.{ROW} LIMIT 1")
            if bad:
                row, value = bad[0]
                msg = "the date is missing" if value is None or not value.strip() else f"cannot read '{value}' as a date"
                raise DataError(msg, where=located(where, row, date_col), hint="write dates as YYYY-MM-DD")
            joined += f" WHERE {d} >= DATE {quote_str(cutoff.isoformat())}"
        table = backend.to_arrow(f"{select} {joined} ORDER BY s.{ROW}")
    finally:
        backend.close()
    split = None
    labels = parse_labels(table.column("_label"), rows=table.column("_row").to_numpy(), where=where, column=label_col)
    if cutoff is not None:
        split = {"date_column": date, "split_at": cutoff.isoformat(), "rows_before": rows_total - table.num_rows}
        what = f"{label_col} on or after {cutoff.isoformat()}"
    else:
        what = f"column '{label_col}'"
    check_classes(labels, what)
    return _Labelled(table, labels, rows_total, label_col, split)


@dataclass
class Comparison:
    """Two profiles backtested on the same history, and how records move between tiers."""

    a: Backtest
    b: Backtest
    moves: dict[str, dict[str, int]]  # tier under A -> tier under B -> records
    changed: int  # records whose tier differs

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "moves": self.moves, "changed": self.changed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=float) + "\n"


def compare_profiles(a: Any, b: Any, data_path: str | Path, label: str, *, date: str | None = None,
                     split_at: str | None = None) -> Comparison:
    """Backtest profiles ``a`` and ``b`` on the same labelled rows; count tier changes."""
    from ..api import _profile

    pa_, pb = _profile(a), _profile(b)
    da = _labelled_scores(pa_, data_path, label, date, split_at)
    db = _labelled_scores(pb, data_path, label, date, split_at)
    if da.table.column("_row") != db.table.column("_row"):
        raise IcpError("the two profiles did not score the same rows", hint="compare them on one file")
    ta = da.table.column("tier").to_pylist()
    tb = db.table.column("tier").to_pylist()
    moves: dict[str, dict[str, int]] = {}
    for x, y in zip(ta, tb):
        moves.setdefault(x, {}).setdefault(y, 0)
        moves[x][y] += 1
    changed = sum(n for x, row in moves.items() for y, n in row.items() if x != y)
    return Comparison(_summary(pa_, da), _summary(pb, db), moves, changed)
