"""Duplicate accounts found with a Splink model and merged by survivorship rules.

The model (Fellegi-Sunter, run by Splink on the DuckDB connection the backend hands in)
compares pairs of accounts on the match keys of :mod:`.dedupe_features`, each comparison
with these levels (a missing value says nothing either way):

==========  ====================================================================================
name        the same key; the same words in another order; one's words inside the other's
            ("Acme" / "Acme Capital": another company, a policy); Jaro-Winkler >= 0.95; one
            edit apart; Jaro-Winkler >= 0.88; different
domain      the same registrable domain; the same stem on another suffix (acme.com /
            acme.co.uk); different
country     same, different          city      same, different
phone       same, different          linkedin  same, different
==========  ====================================================================================

Only pairs sharing a blocking key are compared: the domain, its stem, the name key, the
name's ends (first three and last two letters, first and last four: a typo leaves one),
the LinkedIn page, the phone number.

The parameters. m (how often duplicates agree so) starts from :data:`PRIORS`; with
1,000 accounts or more (``training="auto"``) it is estimated by expectation-maximisation,
blocked on the domain then on the name key (each comparison trained on the pairs the other
blocked); EM on fewer pairs is unstable, so a small input keeps the priors
(``training="fixed"``). u (how often other pairs agree so) is not sampled: random pairs
hold duplicates, which agree on the name far more often than different companies do
(measured on 20,000 real companies with 40% duplicates: Splink's
``estimate_u_using_random_sampling`` put an equal name key at 4.9e-5 a pair, 19 times the
2.6e-6 of pairs with different websites, and took 20 s for 10 million pairs). So the
name's u is measured on the pairs whose websites differ (:func:`apart_u`), country and
city u are counted from their values' shares (:func:`counted_u`), the rest are priors
measured on real company lists. The prior probability that two accounts match is counted:
the pairs sharing a domain or a name key over all pairs, allowing for the duplicates they
miss. Nothing is random: the same input gives the same clusters.

Pairs at or above the threshold probability are linked and Splink's connected components
are the clusters, except that a sparse account may not bridge two companies
(:func:`split_bridges`); a cluster's id is its first row number. :func:`merge` then makes
one record of each cluster by the rules of :mod:`.survivorship`.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from ..errors import DataError, DependencyError
from .dedupe_features import match_columns, match_keys
from .survivorship import CLUSTER_ID, CLUSTER_SIZE, DedupeRules, check_columns, merge

if TYPE_CHECKING:
    import pyarrow as pa

Training = Literal["auto", "estimate", "fixed"]

#: Below this many accounts ``training="auto"`` keeps the priors (EM needs many pairs).
MIN_ROWS_TO_ESTIMATE = 1_000
#: The share of true duplicate pairs the counted blocking keys (same domain, same name)
#: are assumed to find, when the prior match probability is counted.
ASSUMED_RECALL = 0.7
#: The highest prior match probability: more than one pair in a hundred duplicates is a
#: small list's chance, not a rate.
MAX_PRIOR = 0.01
#: The fewest pairs sharing a domain (or a name) EM is run on.
MIN_EM_PAIRS = 50
#: The fewest pairs of different websites the name's u is measured on.
MIN_APART_PAIRS = 100_000
#: The fewest filled values a column needs for its u to be counted on the input.
MIN_VALUES_TO_COUNT = 30


@dataclass(frozen=True)
class Level:
    """One level of a comparison: ``kind`` (exact, extension, levenshtein, jaro_winkler,
    else) on ``column`` (default: the comparison's) at ``threshold``; ``m`` the share of
    duplicate pairs at this level, ``u`` the share of other pairs; ``fix_m``: m is a
    policy, never trained."""

    kind: str
    m: float
    u: float
    column: str | None = None
    threshold: float | None = None
    fix_m: bool = False


#: comparison -> its levels after the null level, most alike first. The u were measured on
#: real company lists (pairs of distinct companies among the 21,000 of People Data Labs and
#: the 23,000 of Inc. 5000, Fortune 1000 and Crunchbase: an equal name key 4e-6, Jaro-Winkler
#: >= 0.95 6e-7 to 2e-6, >= 0.88 5e-5 to 3e-4, one word list inside the other 3e-6 to 3e-5);
#: the name's exact u is measured on the input when it can be (:func:`apart_u`), country
#: and city u are counted on it (:func:`counted_u`). A name that is another plus words
#: ("Acme" and "Acme Capital"; legal forms aside: "Acme Inc." is Acme, "Acme Group" is not)
#: is a policy, not trained: another company (a subsidiary, a fund, a branch), even on the
#: same website, unless the LinkedIn page or phone number says otherwise.
PRIORS: dict[str, tuple[Level, ...]] = {
    "name_key": (
        Level("exact", 0.60, 5e-6),
        Level("exact", 0.01, 1e-7, "name_sorted"),
        Level("extension", 1e-12, 3e-5, "name_words", fix_m=True),
        Level("jaro_winkler", 0.12, 2e-6, threshold=0.95),
        Level("levenshtein", 0.05, 1.5e-5, threshold=1),
        Level("jaro_winkler", 0.10, 2e-4, threshold=0.88),
        Level("else", 0.12, 0.0),
    ),
    "domain": (Level("exact", 0.85, 5e-6), Level("exact", 0.05, 3e-5, "domain_stem"), Level("else", 0.10, 0.0)),
    "country": (Level("exact", 0.99, 0.25), Level("else", 0.01, 0.0)),
    "city": (Level("exact", 0.85, 0.02), Level("else", 0.15, 0.0)),
    "phone": (Level("exact", 0.70, 1e-6), Level("else", 0.30, 0.0)),
    "linkedin": (Level("exact", 0.90, 1e-6), Level("else", 0.10, 0.0)),
}
#: The comparisons whose exact level's u is counted on the input.
COUNTED = ("country", "city")
#: The comparison of each match-key column, by its output name.
OUTPUT_NAMES = {"name_key": "name", "domain": "domain", "country": "country", "city": "city", "phone": "phone",
                "linkedin": "linkedin"}
#: Blocking keys: columns whose equal values make a pair a candidate.
BLOCKING_KEYS = (("domain",), ("name_key",), ("domain_stem",), ("name_ends",), ("name_ends2",),
                 ("linkedin",), ("phone",))


@dataclass
class PairCounts:
    """Pairs of accounts: ``compared`` (candidates of the blocking keys, scored),
    ``matched`` (at or above the threshold) and ``in_clusters`` (every pair of two accounts
    of the same cluster; more than ``matched`` when a cluster links A-B and B-C)."""

    compared: int
    matched: int
    in_clusters: int


@dataclass
class Matches:
    """The clusters the model found: one entry per input row, in row order."""

    unique_ids: list[int]
    cluster_ids: list[int]
    pairs: PairCounts
    training: str  # "fixed" or "estimated"
    notes: list[str] = field(default_factory=list)


@dataclass
class DedupeResult:
    """What :func:`dedupe` found: ``clusters`` (``row``, ``cluster_id``, ``cluster_size``
    and the compared columns as read, one row per input row, in input order), ``merged``
    (one account per cluster: ``cluster_id``, ``cluster_size``, ``merged_rows`` -- the row
    numbers merged, ``;``-separated -- then the input's columns, merged by the
    survivorship rules) and the pair counts."""

    rows: int
    clusters: pa.Table
    merged: pa.Table
    pairs: PairCounts
    columns: dict[str, str]  # field -> the input's column compared
    threshold: float
    training: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def duplicate_rows(self) -> int:
        """Rows merged into another one (rows minus merged accounts)."""
        return self.rows - self.merged.num_rows

    def to_dict(self) -> dict[str, Any]:
        sizes = self.clusters.column(CLUSTER_SIZE).to_pylist()
        multi = [s for s in sizes if s > 1]
        return {"rows": self.rows, "accounts": self.merged.num_rows, "duplicate_rows": self.duplicate_rows,
                "clusters_with_duplicates": len({c for c, s in zip(self.clusters.column(CLUSTER_ID).to_pylist(), sizes)
                                                 if s > 1}),
                "rows_in_clusters_with_duplicates": len(multi), "largest_cluster": max(sizes, default=0),
                "pairs": asdict(self.pairs), "columns": self.columns, "threshold": self.threshold,
                "training": self.training, "seconds": round(self.seconds, 3), "notes": self.notes}


def check_threshold(threshold: float | None) -> None:
    """A DataError unless ``threshold`` is None or a probability strictly between 0 and 1."""
    if threshold is not None and not 0 < threshold < 1:
        raise DataError(f"the threshold {threshold} is not a probability between 0 and 1", where="threshold",
                        hint="0.9 is the default; lower finds more duplicates, with more mistakes")


def dedupe(api_factory: Callable[[], AbstractContextManager[Any]], table: pa.Table, rules: DedupeRules | None = None,
           *, threshold: float | None = None, row_column: str = "_row", where: str = "input",
           training: Training = "auto") -> DedupeResult:
    """Find the duplicate accounts of ``table`` and merge each cluster into one record.

    ``api_factory`` makes a context manager yielding a Splink database API (a backend's
    ``splink_api``, which removes Splink's tables after); ``row_column`` holds each row's
    number; ``where`` names the input in errors. ``threshold`` overrides the rules' match
    probability; ``training`` is "auto" (EM from :data:`MIN_ROWS_TO_ESTIMATE` rows),
    "estimate" or "fixed"."""
    import pyarrow as pa

    started = time.perf_counter()
    rules = rules or DedupeRules()
    check_threshold(threshold)
    threshold = rules.threshold if threshold is None else threshold
    data_columns = [c for c in table.column_names if c != row_column]
    columns = match_columns(data_columns, rules.columns.model_dump(), where)
    check_columns(rules.survivorship, data_columns, where)
    keys = match_keys(table, columns, row_column)
    with api_factory() as api:
        found = find_clusters(api, keys, threshold=threshold, training=training)
    rows = table.column(row_column).cast(pa.int64()).to_pylist()
    cluster_of = dict(zip(found.unique_ids, found.cluster_ids))
    cluster_ids = [cluster_of[r] for r in rows]
    size: dict[int, int] = {}
    for c in cluster_ids:
        size[c] = size.get(c, 0) + 1
    clusters = pa.table({"row": pa.array(rows, pa.int64()), CLUSTER_ID: pa.array(cluster_ids, pa.int64()),
                         CLUSTER_SIZE: pa.array([size[c] for c in cluster_ids], pa.int64()),
                         **{h: table.column(h) for h in dict.fromkeys(columns.values())
                            if h not in ("row", CLUSTER_ID, CLUSTER_SIZE)}})
    merged, notes = merge(table.drop_columns([row_column]), rows, cluster_ids, rules.survivorship)
    return DedupeResult(len(rows), clusters, merged, found.pairs, columns, threshold, found.training,
                        time.perf_counter() - started, found.notes + notes)


# ----------------------------------------------------------------------------- the model

def find_clusters(api: Any, keys: pa.Table, *, threshold: float, training: Training = "auto") -> Matches:
    """Cluster the accounts of ``keys`` (``unique_id`` and match keys, see
    :func:`~.dedupe_features.match_keys`) with a Splink model on ``api``."""
    import pyarrow.compute as pc

    if keys.num_rows < 2:  # nothing to compare
        ids = keys.column("unique_id").to_pylist()
        return Matches(ids, ids, PairCounts(0, 0, 0), "fixed")
    present = [c for c in PRIORS if c in keys.column_names]
    estimate = training == "estimate" or (training == "auto" and keys.num_rows >= MIN_ROWS_TO_ESTIMATE)
    notes: list[str] = []
    with _quiet():
        from splink import Linker

        frame = api.register(keys)
        linker = Linker(frame, _settings(present, keys), log_level=None)
        if estimate:
            linker = _trained(linker, frame, present, keys, notes)
        predictions = linker.inference.predict()
        pairs = predictions.as_pyarrow_table()
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold).as_pyarrow_table()
    edges = pairs.filter(pc.greater_equal(pairs.column("match_probability"), threshold))
    ids = [int(u) for u in clustered.column("unique_id").to_pylist()]
    raw = clustered.column("cluster_id").to_pylist()
    first: dict[Any, int] = {}
    for u, c in zip(ids, raw):
        first[c] = min(first.get(c, u), u)
    cluster_of = split_bridges({u: first[c] for u, c in zip(ids, raw)}, edges, keys)
    unique_ids = sorted(cluster_of)
    cluster_ids = [cluster_of[u] for u in unique_ids]
    sizes: dict[int, int] = {}
    for c in cluster_ids:
        sizes[c] = sizes.get(c, 0) + 1
    in_clusters = sum(s * (s - 1) // 2 for s in sizes.values())
    return Matches(unique_ids, cluster_ids, PairCounts(pairs.num_rows, edges.num_rows, in_clusters),
                   "estimated" if estimate else "fixed", notes)


#: Match keys on which two accounts of one cluster may not differ unless they are matched
#: to each other directly: different LinkedIn pages, or domains of different stems.
CANNOT_DIFFER = ("linkedin", "domain_stem")


def split_bridges(cluster_of: dict[int, int], edges: pa.Table, keys: pa.Table) -> dict[int, int]:
    """Clusters without bridges: a sparse account (a name alone) matched to two accounts
    that are not matched to each other and differ on a key of :data:`CANNOT_DIFFER` (two
    LinkedIn pages, two websites) links two companies by transitivity. Such a cluster is
    rebuilt from its matched pairs, most probable first (ties by row), skipping a pair
    that would join two accounts differing so without a match of their own; a sparse
    account thus joins the company it matches best. Other clusters stay as they are;
    every cluster's id is its first row."""
    columns = [c for c in CANNOT_DIFFER if c in keys.column_names]
    if not columns or edges.num_rows == 0:
        return cluster_of
    ids = keys.column("unique_id").to_pylist()
    values = {c: dict(zip(ids, keys.column(c).to_pylist())) for c in columns}
    members: dict[int, list[int]] = {}
    for u, c in cluster_of.items():
        members.setdefault(c, []).append(u)

    def conflict(a: int, b: int) -> bool:
        return any(values[c][a] is not None and values[c][b] is not None and values[c][a] != values[c][b]
                   for c in columns)

    suspect = {c for c, m in members.items() if len(m) > 2 and
               any(conflict(a, b) for i, a in enumerate(m) for b in m[i + 1:])}
    if not suspect:
        return cluster_of
    left, right = edges.column("unique_id_l").to_pylist(), edges.column("unique_id_r").to_pylist()
    probability = edges.column("match_probability").to_pylist()
    linked = {(min(a, b), max(a, b)) for a, b in zip(left, right)}
    ranked = sorted((i for i in range(len(left)) if cluster_of[left[i]] in suspect),
                    key=lambda i: (-probability[i], min(left[i], right[i]), max(left[i], right[i])))
    group = {u: [u] for c in suspect for u in members[c]}
    for i in ranked:
        a, b = group[left[i]], group[right[i]]
        if a is b or any(conflict(x, y) and (min(x, y), max(x, y)) not in linked for x in a for y in b):
            continue
        a.extend(b)
        for u in b:
            group[u] = a
    out = dict(cluster_of)
    for u, g in group.items():
        out[u] = min(g)
    return out


def _settings(present: Sequence[str], keys: pa.Table) -> Any:
    from splink import SettingsCreator, block_on

    blocking = [block_on(*k) for k in BLOCKING_KEYS if all(c in keys.column_names for c in k)]
    return SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="unique_id",
        probability_two_random_records_match=prior_match_probability(keys),
        comparisons=[_comparison(c, model_levels(c, keys)) for c in present],
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False, retain_intermediate_calculation_columns=False,
        max_iterations=25, em_convergence=0.0001)


def model_levels(column: str, keys: pa.Table) -> tuple[Level, ...]:
    """The levels of a comparison with their m and u: the priors; the exact level's u
    counted on the input for :data:`COUNTED` columns and measured on pairs of different
    websites for the name (when the input allows); the else level taking what is left."""
    levels = list(PRIORS[column])
    u = counted_u(keys, column) if column in COUNTED else apart_u(keys, column) if column == "name_key" else None
    if u is not None:
        levels[0] = replace(levels[0], u=u)
    m_rest = 1 - sum(lv.m for lv in levels[:-1])
    u_rest = 1 - sum(lv.u for lv in levels[:-1])
    levels[-1] = replace(levels[-1], m=max(m_rest, 1e-6), u=max(u_rest, 1e-6))
    return tuple(levels)


def counted_u(keys: pa.Table, column: str) -> float | None:
    """The chance that two accounts with a value in ``column`` share it, counted on the
    input (the sum of each value's squared share); None with fewer than
    :data:`MIN_VALUES_TO_COUNT` values. Duplicates add little to it for a column such as
    the country, whose values every account shares with many others."""
    import pyarrow.compute as pc

    counts = pc.value_counts(keys.column(column).drop_null()).field("counts").to_pylist()
    n = sum(counts)
    if n < MIN_VALUES_TO_COUNT:
        return None
    return min(max(sum(c * (c - 1) for c in counts) / (n * (n - 1)), 1e-6), 0.99)


def apart_u(keys: pa.Table, column: str, apart: str = "domain_stem") -> float | None:
    """The chance that two different companies share a value of ``column``, measured on
    the pairs of the input that are surely different companies -- their websites differ
    (``apart``) -- with the prior u as one pseudo-pair; None when there are fewer than
    :data:`MIN_APART_PAIRS` such pairs. Random pairs would hold duplicates, which share a
    name far more often than different companies do."""
    import pyarrow.compute as pc

    if apart not in keys.column_names:
        return None
    both = keys.select([column, apart]).filter(pc.and_(pc.is_valid(keys.column(column)),
                                                       pc.is_valid(keys.column(apart))))
    n = both.num_rows
    pairs = n * (n - 1) // 2 - _pairs_sharing(both, [apart])
    if pairs < MIN_APART_PAIRS:
        return None
    shared = _pairs_sharing(both, [column]) - _pairs_sharing(both, [column, apart])
    prior = PRIORS[column][0].u
    return (shared + 1) / (pairs + 1 / prior)


def _comparison(column: str, levels: Sequence[Level]) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    made: list[Any] = [cll.NullLevel(column)]
    for lv in levels:
        if lv.kind == "exact":
            level = cll.ExactMatchLevel(lv.column or column)
        elif lv.kind == "extension":
            level = cll.ArraySubsetLevel(lv.column or column)
        elif lv.kind == "levenshtein":
            level = cll.LevenshteinLevel(lv.column or column, int(lv.threshold or 1))
        elif lv.kind == "jaro_winkler":
            level = cll.JaroWinklerLevel(lv.column or column, lv.threshold or 0.9)
        else:
            level = cll.ElseLevel()
        made.append(level.configure(m_probability=lv.m, u_probability=lv.u, fix_m_probability=lv.fix_m,
                                    fix_u_probability=True))
    return cl.CustomComparison(made, output_column_name=OUTPUT_NAMES[column])


def prior_match_probability(keys: pa.Table) -> float:
    """The probability that two accounts picked at random are duplicates: the pairs that
    share a domain or a name key, over all pairs, divided by :data:`ASSUMED_RECALL` (they
    miss some duplicates); at least one pair's worth, at most :data:`MAX_PRIOR` (on a
    handful of rows the count says little)."""
    n = keys.num_rows
    total = n * (n - 1) / 2
    if total < 1:
        return MAX_PRIOR
    columns = [c for c in ("domain", "name_key") if c in keys.column_names]
    shared = sum(_pairs_sharing(keys, [c]) for c in columns)
    if len(columns) == 2:
        shared -= _pairs_sharing(keys, columns)
    return min(MAX_PRIOR, max(shared / ASSUMED_RECALL, 1.0) / total)


def _pairs_sharing(keys: pa.Table, columns: list[str]) -> int:
    import pyarrow.compute as pc

    filled = keys.select(columns)
    for c in columns:
        filled = filled.filter(pc.is_valid(filled.column(c)))
    counts = filled.group_by(columns).aggregate([([], "count_all")]).column("count_all").to_pylist()
    return sum(c * (c - 1) // 2 for c in counts)


def _trained(linker: Any, frame: Any, present: Sequence[str], keys: pa.Table, notes: list[str]) -> Any:
    """A linker whose m are estimated by EM on the pairs of the same domain (every
    comparison but the domain's), then of the same name key (the domain's). A trained m is
    kept at a tenth of its prior at least (EM gives 0 to a level its pairs never reach,
    which would forbid it); a comparison that comes out backwards (agreeing is less
    evidence of a match than disagreeing) keeps its priors (noted)."""
    from splink import Linker, block_on

    for column in ("domain", "name_key"):
        if column in present and len(present) > 1 and _pairs_sharing(keys, [column]) >= MIN_EM_PAIRS:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(column))
    model = linker.misc.save_model_to_json()
    for comparison in model["comparisons"]:
        column = next(c for c, name in OUTPUT_NAMES.items() if name == comparison["output_column_name"])
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        priors = model_levels(column, keys)
        if not _sensible(levels):
            notes.append(f"the {comparison['output_column_name']} comparison kept its prior weights (the trained "
                         "ones did not separate duplicates from other pairs)")
            for level, prior in zip(levels, priors):
                level["m_probability"] = prior.m
            continue
        floored = [max(float(level.get("m_probability") or 0.0), prior.m / 10) for level, prior in zip(levels, priors)]
        for level, m in zip(levels, floored):
            level["m_probability"] = m / sum(floored)
    return Linker(frame, model, log_level=None)


def _sensible(levels: list[dict[str, Any]]) -> bool:
    """The first (agreeing) level is at least as much evidence of a match as the last (else)."""
    def ratio(level: dict[str, Any]) -> float | None:
        m, u = level.get("m_probability"), level.get("u_probability")
        if m is None or not u or not math.isfinite(m):
            return None
        return m / u

    first, last = ratio(levels[0]), ratio(levels[-1])
    return first is not None and last is not None and first >= last


@contextmanager
def _quiet() -> Iterator[None]:
    """Splink's log messages and warnings held back for the call (errors still raise)."""
    logger = logging.getLogger("splink")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except ImportError:
        raise DependencyError("deduplication needs Splink", hint="pip install icpkit[enrich]") from None
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
