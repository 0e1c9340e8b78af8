"""``icp dedupe``: read accounts, find and merge their duplicates, write the merged accounts
(and, when asked, which cluster each input row went to).

The accounts are read by the backend (a CSV, Parquet or JSON-lines file, a table of its
database, or an Arrow table / data frame), matched by the Splink model of
:mod:`icpkit.enrich.dedupe` on a DuckDB connection (the backend's when it is DuckDB, else an
in-memory one made for the call) and written back by the backend, each output atomically:
under a temporary name, renamed into place when complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends import connect, using
from .enrich.survivorship import DedupeRules, load_rules
from .errors import IcpError
from .io.atomic import check_output_file

if TYPE_CHECKING:
    import pyarrow as pa

    from .backends.base import Backend, ProgressFn
    from .enrich.dedupe import DedupeResult, PairCounts, Training

#: How many of the largest clusters a summary shows.
EXAMPLES = 5


@dataclass
class DedupeSummary:
    """What a dedupe run did: the counts of :class:`~icpkit.enrich.dedupe.DedupeResult`,
    where it wrote, and the largest clusters (``examples``: cluster id, size, rows and the
    names they had)."""

    source: str
    output: str
    clusters_output: str | None
    rows: int
    accounts: int
    duplicate_rows: int
    pairs: PairCounts
    columns: dict[str, str]
    threshold: float
    training: str
    seconds: float
    examples: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    result: DedupeResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON data (``icp dedupe --json``), without the tables."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("result", "pairs")}
        found = self.result.to_dict() if self.result is not None else {}
        return {"ok": True, **data, "pairs": asdict(self.pairs),
                "clusters_with_duplicates": found.get("clusters_with_duplicates"),
                "largest_cluster": found.get("largest_cluster"), "seconds": round(self.seconds, 3)}


def run_dedupe(accounts: Any, out: str | Path, *, clusters_out: str | Path | None = None,
               rules: DedupeRules | str | Path | None = None, threshold: float | None = None,
               backend: str | Backend | None = None, progress: ProgressFn | None = None,
               training: Training = "auto") -> DedupeSummary:
    """Deduplicate ``accounts`` into the file ``out`` (CSV, Parquet or JSON lines, by its
    suffix): one merged account per cluster of duplicates. ``clusters_out`` also writes
    every input row with its ``cluster_id`` and ``cluster_size``. ``rules`` is a
    ``dedupe.yaml`` file or a :class:`~icpkit.enrich.survivorship.DedupeRules` (default:
    every rule's default); ``threshold`` overrides its match probability. Both outputs are
    checked before any work and written atomically."""
    from .enrich.dedupe import check_threshold, dedupe
    from .io.frames import as_source
    from .io.sources import source_label

    check_threshold(threshold)
    targets = [Path(out)] + ([Path(clusters_out)] if clusters_out is not None else [])
    for target in targets:
        check_output_file(target)
    if len(targets) == 2 and targets[0].resolve() == targets[1].resolve():
        raise IcpError("the merged accounts and the clusters would be written to the same file",
                       where=str(targets[0]), hint="give --clusters another file name")
    parsed = rules if isinstance(rules, DedupeRules) or rules is None else load_rules(rules)
    source = as_source(accounts)
    where = source_label(source)
    with using(backend) as b:
        with _phase(progress, "reading accounts"):
            raw = b.read(source, "icp_dedupe_accounts")
            table = b.to_arrow(raw.order_by("_row"))
        with _phase(progress, "matching and merging"), _splink(b) as api_factory:
            result = dedupe(api_factory, table, parsed, threshold=threshold, where=where, training=training)
        with _phase(progress, "writing"):
            written = _write(b, result.merged, targets[0], "icp_dedupe_merged")
            clusters = _write(b, result.clusters, targets[1], "icp_dedupe_clusters") if clusters_out else None
    return DedupeSummary(where, written, clusters, result.rows, result.merged.num_rows, result.duplicate_rows,
                         result.pairs, result.columns, result.threshold, result.training, result.seconds,
                         _examples(result), result.notes, result)


def _write(b: Backend, table: pa.Table, target: Path, name: str) -> str:
    """``table`` written to ``target`` by the backend, in its order, atomically."""
    t = b.read(table, name)
    return b.write(t.order_by("_row").select(*table.column_names), target)


def _examples(result: DedupeResult) -> list[dict[str, Any]]:
    """The largest clusters: their id, size, rows and the distinct names they had."""
    name = result.columns.get("name") or result.columns.get("domain")
    merged = result.merged
    sizes = merged.column("cluster_size").to_pylist()
    top = sorted((i for i, s in enumerate(sizes) if s > 1), key=lambda i: (-sizes[i], i))[:EXAMPLES]
    if not top:
        return []
    clusters = result.clusters
    ids = clusters.column("cluster_id").to_pylist()
    names = clusters.column(name).to_pylist() if name else [None] * len(ids)
    wanted = {merged.column("cluster_id")[i].as_py() for i in top}
    seen: dict[int, list[str]] = {c: [] for c in wanted}
    for c, n in zip(ids, names):
        if c in wanted and n is not None and str(n) not in seen[c]:
            seen[c].append(str(n))
    return [{"cluster_id": merged.column("cluster_id")[i].as_py(), "size": sizes[i],
             "rows": merged.column("merged_rows")[i].as_py(), "names": seen[merged.column("cluster_id")[i].as_py()]}
            for i in top]


@contextmanager
def _splink(b: Backend) -> Iterator[Callable[[], Any]]:
    """The factory of Splink database APIs: the backend's own (DuckDB), else that of an
    in-memory DuckDB made for the call."""
    own = getattr(b, "splink_api", None)
    if own is not None:
        yield own
        return
    duck = connect("duckdb")
    try:
        yield duck.splink_api  # type: ignore[attr-defined]
    finally:
        duck.close()


@contextmanager
def _phase(progress: ProgressFn | None, phase: str) -> Iterator[None]:
    if progress is not None:
        progress(phase, None)
    yield
    if progress is not None:
        progress(phase, 100.0)
