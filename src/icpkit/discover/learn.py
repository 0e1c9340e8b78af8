"""``icp learn``: a points scorecard learned from won and lost records, written as a profile.

How it learns, the credit-scorecard way. Every usable attribute (see :mod:`.features`) is
cut into groups by constrained binning (:mod:`.binning`): numeric bins that follow one shape
(ascending, descending, a peak or a valley), every group (the pooled "other" and "missing"
included) holding at least a minimum share of the rows (default 5%), neighbours that do not
differ significantly merged, text levels grouped by their weight of evidence. A logistic
regression with an L2 penalty then gives every group its part of the log-odds: text levels,
items, "other" and "missing" freely; numeric bins through one step per boundary whose sign
the shape sets and whose size is never negative, so that a numeric attribute's points rise,
fall, or rise then fall, and never zigzag, whatever the other attributes say. The points are
scaled the scorecard way (:data:`PDO` points double the odds, :data:`ANCHOR_SCORE` stands for
odds of :data:`ANCHOR_ODDS`; the profile's ``scorecard`` section keeps the mapping), then
mapped to the profile's 0-100: each criterion's weakest group earns 0 and the strongest
groups add up to 100, so the fit score ranks records exactly as the model does.

Validation. Five shuffled folds re-fit the binning and the model on each training part
(cross-validated AUC with its interval). With a date column, forward-chaining folds train
on the past and test on the next period; that AUC is the honest one, and a large gap
between the two is a warning.

Honesty. Fewer than 20 wins or losses is "insufficient data", not a model. When the AUC
does not beat chance (below 0.55 or its 95% interval reaching 0.5) there is "no signal"
and no profile is written unless the caller insists. Leaky attributes, which usually record
what happened after the outcome, are left out by default (:func:`leaks_of`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import IcpError
from ..profile.model import Bin, Criterion, Item, Level, Population, Profile, Scorecard, Tier
from .backtest import _column, auc_weighted
from .binning import MIN_SHARE, Coarse, Fine, coarse, fine
from .stats import delong, interval
from .features import Binned, Labelled, check_usable, min_support, read_labelled, require_classes

#: Penalty strength of the logistic regression (scikit-learn's C).
PENALTY_C = 1.0
#: Rows used to measure the cross-validated AUC.
CV_ROWS = 200_000
#: Below this AUC (or with an interval reaching 0.5) there is no signal.
MIN_SIGNAL_AUC = 0.55
#: Share of records in the learned high tier, and in high + monitor.
HIGH_SHARE, MONITOR_SHARE = 0.25, 0.60
#: An attribute alone reaching this AUC (or its missing values alone) is leaky.
LEAK_AUC = 0.80
#: Values held (almost) by one class only and covering this share of the rows make an attribute leaky.
LEAK_PURE_SHARE = 0.05
#: A cross-validated AUC above this is rarely honest on sales data.
SUSPICIOUS_AUC = 0.95
#: Forward-chaining validation cuts the dated records into this many periods.
PERIODS = 5
#: Shuffled minus time-ordered AUC above this is a warning.
TIME_GAP = 0.05
#: The scorecard scaling: points to double the odds, and a score standing for given odds.
PDO, ANCHOR_SCORE, ANCHOR_ODDS = 20.0, 600.0, 1.0


class NoSignalError(IcpError):
    """The attributes do not separate wins from losses better than chance."""


@dataclass
class GroupEvidence:
    label: str
    n: int
    wins: int
    win_rate: float
    points: float


@dataclass
class CriterionEvidence:
    name: str
    title: str
    weight: float
    auc: float  # the attribute alone, in sample
    groups: list[GroupEvidence]
    shape: str = ""  # numbers: ascending, descending, peak or valley


@dataclass
class Leak:
    """An attribute flagged as leaky, and why."""

    column: str
    reason: str
    allowed: bool = False


@dataclass
class Fold:
    """One forward-chaining fold: trained on ``train`` (dates), tested on ``test``."""

    train: str
    test: str
    rows: int
    wins: int
    auc: float


@dataclass
class Learned:
    """A learned scorecard: the profile, and the evidence behind it. ``time_auc`` (with
    its interval and ``folds``) is set when it was learned with a date column."""

    profile: Profile
    cv_auc: float
    cv_auc_low: float
    cv_auc_high: float
    signal: bool
    rows: int
    wins: int
    penalty_c: float
    criteria: list[CriterionEvidence]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    time_auc: float | None = None
    time_auc_low: float | None = None
    time_auc_high: float | None = None
    folds: list[Fold] = field(default_factory=list)
    min_share: float = MIN_SHARE

    @property
    def auc(self) -> float:
        """The AUC the signal is judged on: time-ordered when there is one."""
        return self.cv_auc if self.time_auc is None else self.time_auc

    def to_yaml(self) -> str:
        from .profile_yaml import learned_yaml

        return learned_yaml(self)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["profile"] = self.profile.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return data


def learn(data: Any, label: str, *, exclude: Sequence[str] = (), allow: Sequence[str] = (), date: str | None = None,
          name: str | None = None, seed: int = 0, min_share: float = MIN_SHARE, leak_auc: float = LEAK_AUC,
          backend: Any = None) -> Learned:
    """Learn a points scorecard from ``data`` (a path, Arrow table or DataFrame) and its
    0/1 ``label`` column, read on ``backend`` (default: the embedded DuckDB). ``date``
    names a column for forward-chaining validation; ``allow`` keeps leaky columns
    deliberately. Raises :class:`NoSignalError` only through :func:`require_signal`."""
    table = read_labelled(data, label, exclude=exclude, date=date, backend=backend)
    return learn_labelled(table, allow=allow, name=name, seed=seed, min_share=min_share, leak_auc=leak_auc)


def learn_labelled(data: Labelled, *, allow: Sequence[str] = (), name: str | None = None, seed: int = 0,
                   min_share: float = MIN_SHARE, leak_auc: float = LEAK_AUC) -> Learned:
    check_usable(data)
    if not 0 < min_share <= 0.5:
        raise IcpError(f"the minimum share of a group must be above 0 and at most 0.5, not {min_share:g}",
                       hint="e.g. 0.05: every group holds at least 5% of the rows")
    if not 0.5 < leak_auc <= 1:
        raise IcpError(f"the leakage threshold must be an AUC above 0.5 and at most 1, not {leak_auc:g}")
    y = data.labels
    require_classes(y, f"column '{data.label}'")
    headers = [a.header for a in data.attributes]
    allowed = {_column(headers, a, "allowed", data.where) for a in allow}
    fines = [f for a in data.attributes for f in fine(a, math.ceil(min_share * len(y)))]
    leaks = leaks_of(fines, y, leak_auc, allowed)
    out = {k.column for k in leaks if not k.allowed}
    fines = [f for f in fines if f.attribute.header not in out]
    notes = list(data.notes)
    warnings = [f"'{k.column}' {k.reason}; kept because it was allowed (--allow): check that it is known "
                "before the outcome" for k in leaks if k.allowed]
    if out:
        notes.append("left out as leaky (use --allow COLUMN to keep one): "
                     + "; ".join(f"'{k.column}' {k.reason}" for k in leaks if not k.allowed))
    cv, (low, high) = _shuffled_auc(fines, y, min_share, seed)
    result_time: tuple[float, float, float, list[Fold]] | None = None
    if data.dates is not None:
        result_time = _time_auc(fines, y, data.dates, min_share)
    model = fit(fines, y, np.arange(len(y)), min_share)
    prof, evidence = _profile(model, y, data, name, cv)
    if result_time is None:
        time_auc = time_low = time_high = None
        folds: list[Fold] = []
        judged, judged_low = cv, low
    else:
        time_auc, time_low, time_high, folds = result_time
        judged, judged_low = time_auc, time_low
        if cv - time_auc > TIME_GAP:
            warnings.append(f"shuffled folds promise an AUC of {cv:.3f}, but trained on the past and tested on the "
                            f"next period it reaches {time_auc:.3f}: what wins changes over time, so expect later "
                            "records to rank closer to the second figure; learn again on recent history often")
    signal = bool(evidence) and judged >= MIN_SIGNAL_AUC and judged_low > 0.5
    if cv > SUSPICIOUS_AUC:
        warnings.append(f"a cross-validated AUC of {cv:.3f} is rarely seen on real pipeline data: check the "
                        "strongest criteria for columns recorded after the outcome")
    if len(y) < 200:
        notes.append(f"only {len(y)} labelled records: the points are rough; add history and learn again")
    return Learned(prof, cv, low, high, signal, len(y), int(y.sum()), PENALTY_C, evidence, notes, warnings, leaks,
                   time_auc, time_low, time_high, folds, min_share)


def require_signal(result: Learned) -> None:
    if not result.signal:
        which = "time-ordered" if result.time_auc is not None else "cross-validated"
        low, high = ((result.time_auc_low, result.time_auc_high) if result.time_auc is not None
                     else (result.cv_auc_low, result.cv_auc_high))
        raise NoSignalError(
            f"no signal: these attributes do not separate wins from losses ({which} AUC {result.auc:.3f}, "
            f"95% interval {low:.3f}-{high:.3f}); no profile written",
            hint="a scorecard from this data would rank records at random; add attributes that describe "
                 "the accounts (firmographics, technologies, behaviour), or use --force to write it anyway")


# -- leakage ---------------------------------------------------------------------------


def leaks_of(fines: list[Fine], y: np.ndarray, threshold: float, allowed: set[str]) -> list[Leak]:
    """Attributes that are leaky, each with its evidence: alone they reach an AUC of
    ``threshold`` (their groups of at least 1% of the rows, in sample, read to the three
    decimals it is shown with); their missing values alone do; or text values (almost) only
    one class has cover :data:`LEAK_PURE_SHARE` of the rows (a numeric range, such as "no
    page viewed", may be lost by everyone for real)."""
    support = min_support(len(y))
    total_w, total_n = float(y.sum()), float(len(y))
    found: dict[str, Leak] = {}
    for f in fines:
        head = f.attribute.header
        if head in found:
            continue
        n, w = f.counts(y)
        reason = None
        grouped = coarse(f, n, w, support, alpha=None, shaped=False)
        alone = round(_auc_of_groups(*grouped.counts(y)), 3) if grouped is not None else 0.5
        filled = np.array([n[0], total_n - n[0]]), np.array([w[0], total_w - w[0]])
        missing_auc = round(_auc_of_groups(*filled), 3) if 0 < n[0] < total_n else 0.5
        # a text value only one class has is a recorded outcome; a numeric range (no page views) can be real
        pure = _one_class_rows(n[1:], w[1:], total_w / total_n) if f.attribute.kind != "number" else 0.0
        if missing_auc >= threshold:
            r1, r0 = 1 - w[0] / total_w, 1 - (n[0] - w[0]) / (total_n - total_w)
            reason = (f"is filled for {r1:.0%} of wins but {r0:.0%} of losses (its missing values alone reach an "
                      f"AUC of {missing_auc:.3f}): it may be recorded because of the outcome")
        elif alone >= threshold:
            reason = f"alone predicts the label with an AUC of {alone:.3f} (at or above {threshold:.2f})"
        elif pure >= LEAK_PURE_SHARE * total_n:
            reason = (f"has values that only one class has, held by {pure / total_n:.0%} of the rows: such values "
                      "are usually written once the outcome is known")
        if reason:
            found[head] = Leak(head, reason, head in allowed)
    return list(found.values())


def _one_class_rows(n: np.ndarray, w: np.ndarray, base: float) -> float:
    """Rows in values of at least 30 rows where the other class makes at most 1% and at
    most a tenth of what the base rate would give."""
    losses = n - w
    win_only = (losses <= 0.01 * n) & (losses <= 0.1 * n * (1 - base))
    loss_only = (w <= 0.01 * n) & (w <= 0.1 * n * base)
    return float(n[(n >= 30) & (win_only | loss_only)].sum())


def _auc_of_groups(n: np.ndarray, w: np.ndarray) -> float:
    """In-sample AUC of scoring each record by its group's win rate."""
    keep = n > 0
    return auc_weighted(w[keep] / n[keep], n[keep], w[keep])


def _alone_auc(b: Binned, y: np.ndarray) -> float:
    """AUC of an attribute's groups alone, scoring each record by its group's win rate."""
    n = np.array([g.mask.sum() for g in b.groups], dtype=float)
    w = np.array([y[g.mask].sum() for g in b.groups], dtype=float)
    return _auc_of_groups(n, w)


# -- the model -------------------------------------------------------------------------


@dataclass
class Model:
    """The fitted scorecard: per attribute its groups, each group's part of the log-odds
    (``effects``) and the part of a value no group covers (``neutral``: an average
    record's, the row-weighted mean of the effects in training)."""

    parts: list[Coarse]
    effects: list[np.ndarray]
    neutral: list[float]
    intercept: float

    def logit(self, rows: np.ndarray) -> np.ndarray:
        """The model's log-odds of the rows ``rows``."""
        z = np.full(len(rows), self.intercept)
        for part, effects, neutral in zip(self.parts, self.effects, self.neutral, strict=True):
            codes = part.codes(rows)
            z += np.where(codes >= 0, effects[np.maximum(codes, 0)], neutral)
        return z


def fit(fines: list[Fine], y: np.ndarray, rows: np.ndarray, min_share: float, c: float = PENALTY_C) -> Model:
    """Bin every attribute on the rows ``rows`` and fit the logistic regression, its
    numeric attributes' effects held to their shape (see :func:`_basis`)."""
    support = max(1.0, min_share * len(rows))
    yr = y[rows].astype(float)
    parts, bases, sizes, bounds, columns = [], [], [], [], []
    for f in fines:
        part = coarse(f, *f.counts(y, rows), support)
        if part is None:
            continue
        counts = part.counts(y, rows)
        basis, signed = _basis(part, *counts)
        parts.append(part)
        sizes.append(counts[0])
        bases.append(basis)
        bounds += [(0.0, None) if s else (None, None) for s in signed]
        columns.append(basis[part.codes(rows)])
    if not parts:
        total_w = float(yr.sum())
        return Model([], [], [], math.log((total_w + 0.5) / (len(rows) - total_w + 0.5)))
    coef, intercept = _logistic(np.hstack(columns), yr, c, bounds)
    kept, effects, neutral, at = [], [], [], 0
    for part, basis, n in zip(parts, bases, sizes, strict=True):
        effect = basis @ coef[at: at + basis.shape[1]]
        at += basis.shape[1]
        if np.ptp(effect) < 1e-6:
            continue
        kept.append(part)
        effects.append(effect)
        neutral.append(float(effect @ n / n.sum()))
    return Model(kept, effects, neutral, intercept)


def _basis(part: Coarse, n: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, list[bool]]:
    """The features of each group of ``part`` (one row per group) and which features' weights
    must not be negative. Text levels, items, "other" and "missing": one indicator each,
    free. Numeric bins: one step per boundary (1 for the bins above it), its sign set by the
    shape (rising steps up to a peak, falling after it), its weight never negative: the
    bins' effects then follow the shape whatever the other attributes say, and the penalty
    pulls neighbouring bins together rather than towards 0."""
    k = len(part.buckets)
    bins = [i for i, b in enumerate(part.buckets) if b.rules[0][0] == "bin"]
    if not bins:
        return np.eye(k), [False] * k
    rates = (w[bins] + 0.5) / (n[bins] + 1.0)
    turn = int(np.argmax(rates)) if part.shape == "peak" else int(np.argmin(rates)) if part.shape == "valley" else -1
    rising = part.shape in ("ascending", "peak")
    basis = np.zeros((k, len(bins) - 1 + (k - len(bins))))
    for j in range(1, len(bins)):
        sign = 1.0 if rising else -1.0
        if turn >= 0 and j > turn:
            sign = -sign
        basis[bins[j:], j - 1] = sign
    for col, i in enumerate(i for i in range(k) if i not in bins):
        basis[i, len(bins) - 1 + col] = 1.0
    return basis, [True] * (len(bins) - 1) + [False] * (k - len(bins))


def _logistic(x: np.ndarray, y: np.ndarray, c: float,
              bounds: list[tuple[float | None, float | None]]) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression (scikit-learn's ``C``) with bounds on the weights."""
    from scipy.optimize import minimize
    from scipy.special import expit

    rows, k = x.shape
    penalty = 1.0 / (c * rows)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[:k] + theta[k]
        p = expit(z)
        value = float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * penalty * theta[:k] @ theta[:k])
        grad = np.empty(k + 1)
        grad[:k] = x.T @ (p - y) / rows + penalty * theta[:k]
        grad[k] = float(np.mean(p - y))
        return value, grad

    start = np.zeros(k + 1)
    start[k] = math.log((y.sum() + 0.5) / (rows - y.sum() + 0.5))
    found = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)],
                     options={"maxiter": 1000})
    return found.x[:k], float(found.x[k])


# -- validation ------------------------------------------------------------------------


def _shuffled_auc(fines: list[Fine], y: np.ndarray, min_share: float, seed: int) -> tuple[float, tuple[float, float]]:
    """Out-of-fold AUC of five stratified folds (at most :data:`CV_ROWS` rows), binning and
    model re-fitted on each training part, and its 95% interval."""
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    idx = np.arange(len(y)) if len(y) <= CV_ROWS else np.sort(rng.choice(len(y), CV_ROWS, replace=False))
    ys = y[idx]
    folds = StratifiedKFold(5 if len(ys) >= 100 else 3, shuffle=True, random_state=seed).split(idx, ys)
    oof = np.zeros(len(idx))
    for train, test in folds:
        oof[test] = fit(fines, y, idx[train], min_share).logit(idx[test])
    a, var = delong(oof, ys)
    return a, _auc_interval(a, var, widen=1.25)


def _time_auc(fines: list[Fine], y: np.ndarray, dates: np.ndarray,
              min_share: float) -> tuple[float, float, float, list[Fold]]:
    """Forward chaining: the dated records cut into :data:`PERIODS` periods (a date never
    split), each period after the first tested with a model trained on all before it. The
    mean of the periods' AUCs and its 95% interval."""
    order = np.argsort(dates, kind="stable")
    ordered = dates[order]
    cuts = sorted({int(np.searchsorted(ordered, ordered[len(order) * k // PERIODS], side="left"))
                   for k in range(1, PERIODS)} - {0})
    chunks = np.split(order, cuts)
    folds, variances = [], []
    for i in range(1, len(chunks)):
        train, test = np.concatenate(chunks[:i]), chunks[i]
        wins = int(y[test].sum())
        if min(wins, len(test) - wins) < 5 or min(y[train].sum(), len(train) - y[train].sum()) < 10:
            continue
        a, var = delong(fit(fines, y, train, min_share).logit(test), y[test])
        variances.append(var)
        folds.append(Fold(_span(dates[train]), _span(dates[test]), len(test), wins, a))
    if not folds:
        raise IcpError("the dates do not leave two periods with wins and losses to train and test on",
                       hint="forward-chaining validation needs dated history over several periods; learn without "
                            "--date, or give more dated records")
    mean = float(np.mean([f.auc for f in folds]))
    low, high = _auc_interval(mean, sum(variances) / len(folds) ** 2)
    return mean, low, high, folds


def _span(dates: np.ndarray) -> str:
    low, high = str(dates.min())[:10], str(dates.max())[:10]
    return low if low == high else f"{low} to {high}"


def _auc_interval(a: float, variance: float, widen: float = 1.0) -> tuple[float, float]:
    """95% interval of an AUC from DeLong's variance (:func:`~.stats.interval`); ``widen``
    it for an AUC pooled over cross-validation folds, which varies more than one measured on
    a single sample (by a quarter, measured on random labels). Nothing known: 0 to 1."""
    low, high = interval(a, variance, z=1.96 * widen)
    return (0.0, 1.0) if low is None or high is None else (low, high)


# -- from the model to a profile -------------------------------------------------------


def _profile(model: Model, y: np.ndarray, data: Labelled, name: str | None,
             cv: float) -> tuple[Profile, list[CriterionEvidence]]:
    """The profile of a fitted model (criteria strongest first) and its evidence."""
    factor = PDO / math.log(2)
    raw = [factor * e for e in model.effects]
    span = sum(float(p.max() - p.min()) for p in raw)
    criteria, evidence, fit_scores = [], [], np.zeros(len(y))
    if span > 1e-9:
        scale = 100.0 / span
        for part, p, middle in zip(model.parts, raw, model.neutral, strict=True):
            points = np.round((p - p.min()) * scale, 1)
            if points.max() < 0.1:
                continue
            neutral = round(float((factor * middle - p.min()) * scale), 1)
            b = part.binned()
            criteria.append(criterion(b, points, neutral=neutral))
            codes = part.codes()
            fit_scores += points[codes]
            n, w = part.counts(y)
            evidence.append(CriterionEvidence(part.fine.name, part.fine.title, float(points.max()),
                                              _auc_of_groups(n, w), [
                GroupEvidence(bucket.label, int(a), int(b_), float(b_ / a) if a else 0.0, float(pt))
                for bucket, a, b_, pt in zip(part.buckets, n, w, points, strict=True)], part.shape))
    order = np.argsort([-e.weight for e in evidence], kind="stable")
    evidence, criteria = [evidence[i] for i in order], [criteria[i] for i in order]
    if not criteria:  # the honest scorecard of no signal: everyone earns the same
        first = next(iter(data.attributes))
        criteria = [Criterion(field=first.field, weight=1.0, missing=1.0, **_one_rule(first))]
        fit_scores[:] = 100.0
    used = {c.field for c in criteria}
    prof = Profile(name=name or f"Learned from {data.where}", description=(
        f"Learned by icpkit from {len(y)} labelled records ({int(y.sum())} wins): constrained bins, "
        f"L2-penalised logistic regression with shaped numeric effects, cross-validated AUC {cv:.3f}."),
        columns={a.field: a.header for a in data.attributes if a.field in used and a.field != a.header},
        criteria=criteria, tiers=list(Profile.model_fields["tiers"].default), abm=None)
    fit_scores = np.round(fit_scores * 100.0 / prof.total_weight, 2)
    tiers = _tiers(fit_scores)
    prof = prof.model_copy(update={"tiers": tiers})
    offset = ANCHOR_SCORE - factor * math.log(ANCHOR_ODDS)
    low = offset + factor * model.intercept + sum(float(p.min()) for p in raw)
    card = Scorecard(pdo=PDO, anchor_score=ANCHOR_SCORE, anchor_odds=ANCHOR_ODDS, score_at_fit_0=round(low, 2),
                     points_per_fit=float(f"{span / 100.0:.6g}") if span > 1e-9 else 1.0)
    population = _population(fit_scores, tiers, prof.version_hash, data)
    return prof.model_copy(update={"scorecard": card, "population": population}), evidence


def _population(fit_scores: np.ndarray, tiers: list[Tier], version: str, data: Labelled) -> Population:
    """The training population's fit-score deciles and tier shares."""
    edges = np.unique(np.quantile(fit_scores, np.linspace(0.1, 0.9, 9), method="higher"))
    edges = edges[edges > fit_scores.min()]
    band = np.searchsorted(edges, fit_scores, side="right")
    shares = np.bincount(band, minlength=len(edges) + 1) / len(fit_scores)
    ordered = sorted(tiers, key=lambda t: -t.min)
    tier_shares = {}
    taken = np.zeros(len(fit_scores), dtype=bool)
    for t in ordered:
        mask = (fit_scores >= t.min) & ~taken
        tier_shares[t.name] = round(float(mask.mean()), 4)
        taken |= mask
    period = _span(data.dates) if data.dates is not None else None
    return Population(rows=len(fit_scores), version=version, score_edges=[float(e) for e in edges],
                      score_shares=[round(float(s), 4) for s in shares], tier_shares=tier_shares, period=period)


def _one_rule(attr: Any) -> dict[str, Any]:
    """A rule that names an attribute and gives nothing (the scorecard of no signal)."""
    if attr.kind == "number":
        return {"bins": [Bin(gte=-1e308, points=1.0)]}
    if attr.kind == "list":
        first = next(iter(attr.display), "item")
        return {"items": [Item(values=[attr.display.get(first, first)], points=1.0)], "otherwise": 1.0}
    first = next(iter(attr.display), "value")
    return {"levels": [Level(values=[attr.display.get(first, first)], points=1.0)], "otherwise": 1.0}


def criterion(b: Binned, points: np.ndarray, weight: float | None = None, *, idle_levels: bool = True,
              neutral: float = 0.0) -> Criterion:
    """The criterion of ``b`` giving each of its groups ``points`` (aligned with
    ``b.groups``); ``weight`` defaults to the largest. A value the groups do not cover
    (missing, or a text value no level lists) earns ``neutral`` unless a group holds it.
    With ``idle_levels=False`` levels earning 0 are left to ``otherwise`` when that earns 0
    too (the same score, a shorter file)."""
    pairs = list(zip(b.groups, (float(p) for p in points), strict=True))
    fallback = {r[0]: p for g, p in pairs for r in g.rules if r[0] in ("missing", "other", "no_item")}
    common: dict[str, Any] = {"name": b.name, "field": b.attribute.field,
                              "weight": float(points.max()) if weight is None else weight,
                              "missing": fallback.get("missing", neutral)}
    shown = b.attribute.display
    if b.item is not None:
        has = next(p for g, p in pairs if g.rule[0] == "item")
        return Criterion(**common, items=[Item(values=[shown.get(b.item, b.item)], points=has)],
                         otherwise=fallback.get("no_item", neutral))
    if b.attribute.kind == "number":
        return Criterion(**common, bins=[_bin(r[1], r[2], p) for g, p in pairs for r in g.rules if r[0] == "bin"])
    other = fallback.get("other", neutral)
    levels = [Level(values=[shown.get(v, v) for v in r[1]], points=p) for g, p in pairs for r in g.rules
              if r[0] == "level" and (idle_levels or p > 0 or other > 0)]
    if not levels:  # no level of its own (every value rare, or only "missing" earns): one names the rule
        listed = [r[1][0] for g in b.groups for r in g.rules if r[0] == "level"]
        first = listed[0] if listed else next(iter(shown), "value")
        levels = [Level(values=[shown.get(first, first)], points=0.0 if listed else other)]
    return Criterion(**common, levels=levels, otherwise=other)


def _bin(low: float, high: float, points: float) -> Bin:
    bounds: dict[str, float] = {}
    if not math.isinf(low):
        bounds["gte"] = low
    if not math.isinf(high):
        bounds["lt"] = high
    if not bounds:
        bounds["gte"] = -1e308
    return Bin(**bounds, points=points)


def _tiers(fit_scores: np.ndarray) -> list[Tier]:
    """High = the best :data:`HIGH_SHARE` of the training records, monitor down to
    :data:`MONITOR_SHARE`: thresholds at those quantiles of the learned fit score."""
    high = float(np.quantile(fit_scores, 1 - HIGH_SHARE, method="higher"))
    monitor = float(np.quantile(fit_scores, 1 - MONITOR_SHARE, method="higher"))
    high = min(max(high, 0.02), 100.0)
    monitor = min(max(monitor, 0.01), high - 0.01)
    return [Tier(name="high", min=round(high, 2), route="ae_queue"),
            Tier(name="monitor", min=round(monitor, 2), route="nurture"),
            Tier(name="disqualify", min=0, route="suppress")]


__all__ = ["Fold", "Learned", "Leak", "NoSignalError", "learn", "learn_labelled", "require_signal"]
