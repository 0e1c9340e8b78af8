"""``icp discover``: which attributes separate the best accounts from the rest?

Who is "best". With deals, an account is labelled by its closed deals: ``won`` (the
default) compares accounts with a won deal against accounts whose closed deals were all
lost; ``win_rate`` or ``won_amount`` take the top share (default: a quarter) of accounts
by that measure. With an outcomes table (or a column of the accounts), any numeric health
measure (ARR, NPS, retention months...) works the same way: the top share against the rest.

The evidence. Every attribute is cut into groups (numeric bins made monotone, or peaked
when the data says so; text levels; list items); per group the share among the best and
among the rest, their ratio (the lift) with a 95% interval, and the support. Attributes
are ranked by information value (IV); pairs that carry the same information (Cramer's V
>= 0.7) are noted. Whether there is anything to find at all is tested by shuffling the
labels: the best attribute's IV must beat what shuffled labels reach 95 times in 100.

The proposal. The 4-6 strongest attributes that are neither leaky nor collinear with a
stronger one become criteria, with weights in proportion to their IV and partial credit
in proportion to each group's log-lift; groups over-represented among lost (or bottom)
accounts become kill-list suggestions. Each comes with its evidence as a YAML comment.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

import ibis

from ..errors import DataError, IcpError
from ..io import values
from ..profile.model import Condition, Criterion, Disqualifier, Profile, format_number
from .features import Binned, Labelled, bin_attribute, check_usable, min_support, read_labelled, require_classes
from .learn import LEAK_AUC, _alone_auc, criterion
from .profile_yaml import commented_yaml

#: Information value bands (the usual credit-scoring reading).
IV_BANDS = ((0.02, "useless"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong"))
#: Candidates for the proposal: the strongest attributes by IV, then chosen one by one.
CANDIDATES = 12
#: Attributes with a Cramer's V at least this high carry the same information.
COLLINEAR_V = 0.7
#: A proposal has at most this many criteria, and at least MIN_CRITERIA when the evidence allows.
MAX_CRITERIA, MIN_CRITERIA = 6, 4
#: Label shuffles of the signal test.
SHUFFLES = 50
#: A trait is a kill-list suggestion when the bad accounts hold it this many times more often.
KILL_LIFT = 2.0
#: Deal outcome words (lower case; "closed won" and the like contain them).
WON, LOST = "won", "lost"
BEST_FROM_DEALS = ("won", "win_rate", "won_amount")


@dataclass
class ValueEvidence:
    label: str
    n_best: int
    n_rest: int
    share_best: float
    share_rest: float
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    support: int


@dataclass
class AttributeEvidence:
    name: str
    field: str
    header: str
    kind: str
    iv: float
    strength: str
    alone_auc: float
    values: list[ValueEvidence]
    collinear_with: list[str] = field(default_factory=list)
    leaky: bool = False


@dataclass
class Discovery:
    """What :func:`discover` found; :meth:`to_dict` is the shape the HTML report reads."""

    best_definition: str
    n_best: int
    n_rest: int
    n_accounts: int
    attributes: list[AttributeEvidence]
    anti: list[dict[str, Any]]
    profile: Profile | None
    proposed_profile_yaml: str
    signal: bool
    signal_test: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("profile")
        for r in data["anti"]:
            r["disqualifier"] = r["disqualifier"].model_dump(mode="json", by_alias=True, exclude_none=True)
        for a in data["attributes"]:
            a["field"] = a.pop("header")  # the report names attributes by their column
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"


# -- inputs ----------------------------------------------------------------------------


def discover(accounts: Any, *, deals: Any = None, outcomes: Any = None, best: str = "won",
             top_share: float = 0.25, key: str = "domain", exclude: Sequence[str] = (),
             seed: int = 0, backend: Any = None) -> Discovery:
    """Compare the best accounts with the rest (see the module docstring), reading the
    inputs on ``backend`` (default: the embedded DuckDB).

    ``accounts`` is a path or table of accounts; ``deals`` a deals table (``domain`` or
    ``key``, and an ``outcome``/``deal_stage``/``stage``/``status`` column reading won or
    lost); ``outcomes`` a table of measures per account. ``best`` names how "best" is
    decided: ``won``, ``win_rate``, ``won_amount`` (from deals) or a numeric column of the
    outcomes or accounts, of which the top ``top_share`` is best.
    """
    if not 0 < top_share < 1:
        raise IcpError(f"--top-share {top_share:g} must be between 0 and 1", hint="e.g. 0.25 for the top quartile")
    table, label, description, bad = _label_accounts(accounts, deals, outcomes, best, top_share, key, backend)
    wins = pa.compute.sum(table.column("_best")).as_py() or 0
    if best == "won" and table.num_rows and wins == table.num_rows:
        raise DataError(f"every one of the {table.num_rows} accounts with closed deals has won at least once: "
                        "won vs lost cannot tell them apart",
                        hint="compare the best accounts by --best win_rate or --best won_amount instead")
    bad_labels = table.column("_bad").to_numpy(zero_copy_only=False) if bad else None
    data = read_labelled(table.drop_columns(["_bad", "_key"]), label, exclude=exclude, backend=backend)
    data.notes.insert(0, f"compared: {description}")
    return analyse(data, description, bad_labels, seed=seed)


def _label_accounts(accounts: Any, deals: Any, outcomes: Any, best: str, top_share: float,
                    key: str, backend: Any = None) -> tuple[pa.Table, str, str, bool]:
    """The accounts with a ``_best`` label (1/0), and ``_bad`` (1 = lost or churned, 0 =
    won) when deals say so; rows without a verdict are left out."""
    from ..backends import connect
    from ..io.frames import as_source
    from ..io.sources import source_label
    from .backtest import _column

    b = backend or connect()
    try:
        where = source_label(as_source(accounts))
        raw = b.read(as_source(accounts), "icp_raw")
        acc = _keyed(raw, _key_column(_headers(raw), key, where), key)
        measures: list[str] = []
        m = acc
        if deals is not None:
            source = as_source(deals)
            d_where = source_label(source)
            d_raw = b.read(source, "icp_deals_raw")
            d_headers = _headers(d_raw)
            d = _keyed(d_raw, _key_column(d_headers, key, d_where), key)
            outcome = _outcome_column(d_headers, d_where)
            amount = next((h for h in d_headers if h.strip().lower() in ("amount", "close_value", "value")), None)
            o = d[outcome].cast("string").strip().lower()
            won, lost = o.contains(WON), o.contains(LOST)
            amt = d[amount].cast("string").try_cast("float64").sum(where=won).fill_null(0.0) if amount \
                else ibis.literal(0.0, type="float64")
            closed = d.filter(d._key.notnull() & (won | lost))
            per = closed.group_by("_key").aggregate(
                deals_won=won.sum().cast("float64"), deals_lost=lost.sum().cast("float64"),
                won_amount=amt)
            per = b.materialize("icp_deal_measures", per)
            if not b.scalar(per.count()):
                raise DataError(f"no closed deal in the deals (the column '{outcome}' never reads won or lost)",
                                where=d_where, hint="closed deals have an outcome of won or lost")
            per = per.select(_dkey="_key", deals_won="deals_won", deals_lost="deals_lost", won_amount="won_amount",
                             win_rate=per.deals_won / (per.deals_won + per.deals_lost))
            j = m.left_join(per, m._key == per._dkey)
            m = j.select(*m.columns, "deals_won", "deals_lost", "won_amount", "win_rate")
            measures += ["deals_won", "deals_lost", "won_amount", "win_rate"]
        elif best in BEST_FROM_DEALS:
            raise IcpError(f"--best {best} needs --deals", hint="give the deals, or name a health measure")
        if outcomes is not None:
            source = as_source(outcomes)
            o_where = source_label(source)
            o_raw = b.read(source, "icp_out_raw")
            o_headers = _headers(o_raw)
            o_key = _key_column(o_headers, key, o_where)
            out = _keyed(o_raw, o_key, key)
            first = out.group_by("_key").aggregate(_first=out["_row"].min())  # the first row of each key
            out = out.join(first, (out._key == first._key) & (out["_row"] == first._first))
            cols = [h for h in o_headers if h != o_key]
            out = out.select(_okey=out._key, **{"outcome_" + h: out[h] for h in cols})
            j = m.left_join(out, m._key == out._okey)
            m = j.select(*m.columns, *["outcome_" + h for h in cols])
            measures += ["outcome_" + h for h in cols]
        col = ""
        if best == "won":
            label = ibis.cases((m.deals_won > 0, 1), (m.deals_lost > 0, 0), else_=ibis.null("int64"))
            description = "accounts with a won deal vs accounts whose closed deals were all lost"
            has_bad = True
        else:
            col = best if best in measures else ("outcome_" + best if "outcome_" + best in measures else None)
            if col is None:
                col = _column([c for c in m.columns if not c.startswith("_")], best, "health", where)
            v = m[col].cast("string").try_cast("float64") if not m[col].type().is_numeric() else m[col].cast("float64")
            known = b.to_arrow(m.filter(v.notnull()).select(v=v))["v"].to_numpy(zero_copy_only=False)
            if not len(known):
                raise DataError(f"no account has a number in '{best}'", where=where, hint="check the health column")
            cut = float(np.quantile(known, 1 - top_share, method="inverted_cdf"))
            label = ibis.cases((v >= cut, 1), (v.notnull(), 0), else_=ibis.null("int64"))
            description = (f"the top {top_share:.0%} of accounts by {best} (>= {format_number(cut)}) "
                           f"vs the other accounts with a value")
            has_bad = "deals_won" in measures
        bad = ibis.cases((m.deals_won > 0, 0), (m.deals_lost > 0, 1), else_=0) if has_bad else ibis.literal(0)
        used = set(measures) | ({col} if best != "won" else set())  # the health measure itself is no attribute
        keep = [c for c in m.columns if c != "_row" and c not in used]
        labelled = m.select(*keep, _best=label, _bad=bad, _order=m["_row"])
        labelled = labelled.filter(labelled._best.notnull()).order_by("_order").drop("_order")
        table = b.to_arrow(labelled)
    finally:
        if backend is None:
            b.close()
    return table, "_best", description, has_bad


def _headers(t: Any) -> list[str]:
    return [c for c in t.columns if c != "_row"]


def _key_column(headers: list[str], key: str, where: str) -> str:
    """The key column of a table: ``key`` itself, or for domains a recognised CRM header."""
    from ..io.crm import canonical_mapping
    from .backtest import _column

    if key == "domain":
        found = canonical_mapping(headers).columns.get("domain")
        if found:
            return found
    return _column(headers, key, "key", where)


def _keyed(t: Any, header: str, key: str) -> Any:
    """The rows of ``t`` with ``_key``, the key normalised (domains as scoring reads them;
    other keys trimmed and lower-cased)."""
    text = t[header].cast("string")
    if key == "domain":
        return values.with_registrable(t.mutate(_key=values.normalize_domain(text)), "_key")
    return t.mutate(_key=text.strip().lower())


def _outcome_column(headers: list[str], where: str) -> str:
    for wanted in ("outcome", "deal_stage", "stage", "status", "dealstage", "deal stage"):
        for h in headers:
            if h.strip().lower() == wanted:
                return h
    raise DataError("the deals have no outcome column", where=where,
                    hint="name it outcome (or deal_stage, stage, status) with values won / lost")


# -- analysis --------------------------------------------------------------------------


def analyse(data: Labelled, description: str, bad: np.ndarray | None = None, *, seed: int = 0) -> Discovery:
    """The evidence, the signal test and the proposal for a labelled table."""
    check_usable(data)
    y = data.labels
    require_classes(y, "the best / rest split")
    support = min_support(len(y))
    binned = [b for a in data.attributes for b in bin_attribute(a, support, monotone_labels=y)]
    binned = [b for b in binned if len(b.groups) > 1]
    evidence = [_evidence(b, y) for b in binned]
    order = np.argsort([-e.iv for e in evidence], kind="stable")
    binned, evidence = [binned[i] for i in order], [evidence[i] for i in order]
    _note_collinear(binned, evidence)
    signal_test = _signal_test(data, y, support, seed)
    signal = bool(evidence) and signal_test["observed_iv"] > signal_test["shuffled_iv_95"]
    notes = list(data.notes)
    leaky = {e.name for e in evidence if e.leaky}
    anti = _anti(binned, bad, support, leaky) if bad is not None and 0 < bad.sum() < len(bad) else []
    profile, yaml_text = None, ""
    chosen, skipped = _select(binned, evidence, y) if signal else ([], [])
    if signal and not chosen:
        signal = False
        notes.append("no signal: shuffled labels do worse, but no attribute pays for itself in a model of "
                     "best vs rest; no profile proposed")
    elif signal:
        profile, yaml_text = _propose(binned, evidence, anti, data, description, chosen, skipped)
    else:
        notes.append("no signal: no attribute separates the best accounts from the rest better than shuffled "
                     f"labels do (best IV {signal_test['observed_iv']:.3f}, shuffled labels reach "
                     f"{signal_test['shuffled_iv_95']:.3f}); no profile proposed")
    return Discovery(description, int(y.sum()), int(len(y) - y.sum()), len(y), evidence, anti, profile,
                     yaml_text, signal, signal_test, notes)


def _evidence(b: Binned, y: np.ndarray) -> AttributeEvidence:
    n1, n0 = float(y.sum()), float(len(y) - y.sum())
    values, iv = [], 0.0
    for g in b.groups:
        a, c = int(y[g.mask].sum()), int(g.mask.sum() - y[g.mask].sum())
        sb, sr = a / n1, c / n0
        iv += (sb - sr) * _woe(a, c, n1, n0)
        lift, low, high = _lift(a, n1, c, n0)
        values.append(ValueEvidence(g.label, a, c, sb, sr, lift, low, high, a + c))
    alone = _alone_auc(b, y)
    return AttributeEvidence(b.name, b.attribute.field, b.title, b.attribute.kind, iv, _strength(iv), alone,
                             values, leaky=alone >= LEAK_AUC)


def _woe(a: float, c: float, n1: float, n0: float) -> float:
    """Weight of evidence of a group, with half a count added so empty cells stay finite."""
    return math.log(((a + 0.5) / (n1 + 1)) / ((c + 0.5) / (n0 + 1)))


def _lift(a: int, n1: float, c: int, n0: float) -> tuple[float | None, float | None, float | None]:
    """share among best / share among rest, with a 95% interval (log risk ratio)."""
    if a + c == 0:
        return None, None, None
    aa, cc = a + 0.5, c + 0.5  # keeps a lift of zero or infinity finite and its interval honest
    lift = (aa / (n1 + 0.5)) / (cc / (n0 + 0.5))
    se = math.sqrt(max(1 / aa - 1 / (n1 + 0.5) + 1 / cc - 1 / (n0 + 0.5), 0.0))
    return lift, lift * math.exp(-1.96 * se), lift * math.exp(1.96 * se)


def _strength(iv: float) -> str:
    for limit, name in IV_BANDS:
        if iv < limit:
            return name
    return "very strong"


def _codes(b: Binned) -> np.ndarray:
    code = np.zeros(len(b.groups[0].mask), dtype=np.int64)
    for j, g in enumerate(b.groups):
        code[g.mask] = j
    return code


def _cramers_v(x: np.ndarray, y: np.ndarray) -> float:
    kx, ky = int(x.max()) + 1, int(y.max()) + 1
    if kx < 2 or ky < 2:
        return 0.0
    table = np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky).astype(float)
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0))
    return math.sqrt(chi2 / (n * (min(kx, ky) - 1)))


def _note_collinear(binned: list[Binned], evidence: list[AttributeEvidence]) -> None:
    codes = [_codes(b) for b in binned]
    for i in range(len(binned)):
        for j in range(i + 1, len(binned)):
            if binned[i].attribute is binned[j].attribute:
                continue
            if _cramers_v(codes[i], codes[j]) >= COLLINEAR_V:
                evidence[i].collinear_with.append(evidence[j].header)
                evidence[j].collinear_with.append(evidence[i].header)


def _signal_test(data: Labelled, y: np.ndarray, support: int, seed: int) -> dict[str, float]:
    """Largest IV of any attribute (on its label-free bins; leaky ones left out) against the
    same with shuffled labels: the 95th percentile of :data:`SHUFFLES` shuffles."""
    codes = [_codes(b) for a in data.attributes for b in bin_attribute(a, support) if _alone_auc(b, y) < LEAK_AUC]
    codes = [c for c in codes if c.max() > 0]
    if not codes:
        return {"observed_iv": 0.0, "shuffled_iv_95": 0.0}

    def max_iv(labels: np.ndarray) -> float:
        n1, n0 = labels.sum() + 1.0, len(labels) - labels.sum() + 1.0
        best = 0.0
        for c in codes:
            a = np.bincount(c, weights=labels, minlength=c.max() + 1)
            t = np.bincount(c, minlength=c.max() + 1)
            sb, sr = (a + 0.5) / n1, (t - a + 0.5) / n0
            best = max(best, float(np.sum((sb - sr) * np.log(sb / sr))))
        return best

    rng = np.random.default_rng(seed)
    shuffled = [max_iv(rng.permutation(y)) for _ in range(SHUFFLES)]
    return {"observed_iv": max_iv(y), "shuffled_iv_95": float(np.quantile(shuffled, 0.95))}


# -- the proposal ----------------------------------------------------------------------


def _propose(binned: list[Binned], evidence: list[AttributeEvidence], anti: list[dict[str, Any]],
             data: Labelled, description: str, chosen: list[int], skipped: list[str]) -> tuple[Profile, str]:
    total_iv = sum(evidence[i].iv for i in chosen)
    criteria, comments = [], {}
    for i in chosen:
        b, e = binned[i], evidence[i]
        weight = max(5.0, round(100 * e.iv / total_iv))
        criteria.append(_criterion(b, e, weight))
        comments[b.name] = [f"{e.header}: IV {e.iv:.3f} ({e.strength}); the best accounts vs the rest:"] + [
            f"  {v.label}: {v.share_best:.0%} vs {v.share_rest:.0%}, lift {_fmt_lift(v)} (n={v.support})"
            for v in e.values]
    disqualifiers, dq_comments = [], []
    for a in anti[:3]:
        disqualifiers.append(a["disqualifier"])
        dq_comments.append(f"{a['field']} {a['label']}: {a['share_bad']:.0%} of lost accounts vs "
                           f"{a['share_rest']:.0%} of won, lift {a['lift']:.1f} "
                           f"(95% {a['lift_low']:.1f}-{a['lift_high']:.1f})")
    columns = {b.attribute.field: b.attribute.header for b in (binned[i] for i in chosen)
               if b.attribute.field != b.attribute.header}
    for d in disqualifiers:
        for fld, _ in d.when.fields():
            header = next(a.header for a in data.attributes if a.field == fld)
            if fld != header:
                columns[fld] = header
    prof = Profile(name="Discovered ICP", description=f"Proposed by icpkit discover: {description}.",
                   columns=columns, criteria=criteria, disqualifiers=disqualifiers)
    header = [f"Proposed by `icp discover`: {description}.",
              f"{int(data.labels.sum())} best accounts vs {int(len(data.labels) - data.labels.sum())} others. "
              "Weights follow each attribute's information value;",
              "partial credit follows each group's lift (log scale). Review, edit, then backtest."]
    header += [f"Not used: {s}" for s in skipped]
    sections = {"disqualifiers": ["Kill-list suggestions: traits over-represented among lost accounts."] + dq_comments}
    return prof, commented_yaml(prof, header, comments, sections)


def _select(binned: list[Binned], evidence: list[AttributeEvidence], y: np.ndarray) -> tuple[list[int], list[str]]:
    """Forward selection: among the :data:`CANDIDATES` strongest attributes that are not
    leaky, add the one that most improves a logistic model of best vs rest on the
    attributes' weights of evidence, while the improvement beats its cost in Akaike's
    information criterion (AIC), up to :data:`MAX_CRITERIA`. An attribute whose information
    is already in the model (a proxy of a chosen one) does not pay for itself."""
    skipped = [f"{e.header} (alone AUC {e.alone_auc:.2f}: likely recorded after the outcome)"
               for e in evidence if e.leaky]
    pool = [i for i, e in enumerate(evidence) if not e.leaky and e.iv >= IV_BANDS[0][0]][:CANDIDATES]
    woe = {i: _woe_column(binned[i], y) for i in pool}
    chosen: list[int] = []
    current = _aic([], woe, y)
    while pool and len(chosen) < MAX_CRITERIA:
        trials = {i: _aic(chosen + [i], woe, y) for i in pool}
        best = min(trials, key=lambda i: trials[i])
        if trials[best] >= current:
            break
        chosen.append(best)
        pool.remove(best)
        current = trials[best]
    skipped += [f"{evidence[i].header} (IV {evidence[i].iv:.2f}, but adds little once the chosen attributes "
                "are known)" for i in pool if evidence[i].iv >= IV_BANDS[1][0]]
    return chosen, skipped


def _woe_column(b: Binned, y: np.ndarray) -> np.ndarray:
    n1, n0 = float(y.sum()), float(len(y) - y.sum())
    out = np.zeros(len(y))
    for g in b.groups:
        a = float(y[g.mask].sum())
        out[g.mask] = _woe(a, float(g.mask.sum()) - a, n1, n0)
    return out


def _aic(idx: list[int], woe: dict[int, np.ndarray], y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression

    p = y.mean()
    if not idx:
        return -2 * len(y) * (p * math.log(p) + (1 - p) * math.log(1 - p)) + 2.0
    x = np.column_stack([woe[i] for i in idx])
    model = LogisticRegression(C=1e4, solver="newton-cholesky", max_iter=100).fit(x, y)
    prob = np.clip(model.predict_proba(x)[:, 1], 1e-12, 1 - 1e-12)
    loglik = float(np.sum(y * np.log(prob) + (1 - y) * np.log(1 - prob)))
    return -2 * loglik + 2.0 * (len(idx) + 1)


def _fmt_lift(v: ValueEvidence) -> str:
    if v.lift is None:
        return "n/a"
    return f"{v.lift:.2f} (95% {v.lift_low:.2f}-{v.lift_high:.2f})"


def _criterion(b: Binned, e: AttributeEvidence, weight: float) -> Criterion:
    """Points per group: groups over-represented among the best (lift > 1) earn the weight
    times their log-lift over the strongest group's; the others earn 0."""
    logs = np.array([max(math.log(v.lift), 0.0) if v.lift else 0.0 for v in e.values])
    points = np.round(weight * logs / logs.max(), 1) if logs.max() > 0 else np.zeros(len(logs))
    return criterion(b, points, weight, idle_levels=False)


def _anti(binned: list[Binned], bad: np.ndarray, support: int, leaky: set[str]) -> list[dict[str, Any]]:
    """Groups over-represented among bad (lost) accounts: lift >= :data:`KILL_LIFT` with
    the interval above 1, strongest first; attributes in ``leaky`` are left out."""
    n1, n0 = float(bad.sum()), float(len(bad) - bad.sum())
    out = []
    for b in binned:
        for g in b.groups:
            if g.rule[0] in ("missing", "other", "no_item") or g.mask.sum() < support or b.name in leaky:
                continue
            a, c = int(bad[g.mask].sum()), int(g.mask.sum() - bad[g.mask].sum())
            lift, low, high = _lift(a, n1, c, n0)
            if lift is None or lift < KILL_LIFT or (low or 0) <= 1:
                continue
            when = _condition(b, g.rule)
            name = f"anti_{b.name}"[:63]
            out.append({"field": b.title, "label": g.label, "n_bad": a, "share_bad": a / n1, "share_rest": c / n0,
                        "lift": lift, "lift_low": low, "lift_high": high,
                        "disqualifier": Disqualifier(name=name, when=when,
                                                     reason=f"{b.title} {g.label}: {lift:.1f}x more common "
                                                            "among lost accounts")})
    out.sort(key=lambda r: -r["lift_low"])
    seen: set[str] = set()
    unique = []
    for r in out:
        if r["disqualifier"].name not in seen:
            seen.add(r["disqualifier"].name)
            unique.append(r)
    return unique


def _condition(b: Binned, rule: tuple[Any, ...]) -> Condition:
    fld = b.attribute.field
    if rule[0] == "item":
        return Condition(field=fld, contains_any=[b.attribute.display.get(rule[1], rule[1])])
    if rule[0] == "bin":
        low, high = rule[1], rule[2]
        parts = []
        if not math.isinf(low):
            parts.append(Condition(field=fld, gte=low))
        if not math.isinf(high):
            parts.append(Condition(field=fld, lt=high))
        return parts[0] if len(parts) == 1 else Condition(all=parts)
    values = [b.attribute.display.get(v, v) for v in rule[1]]
    return Condition(field=fld, eq=values[0]) if len(values) == 1 else Condition(**{"in": values})
