"""``icp discover``: which attributes separate the best accounts from the rest?

Who is "best". With deals, an account is labelled by its closed deals: ``won`` (the
default) compares accounts with a won deal against accounts whose closed deals were all
lost; ``win_rate`` or ``won_amount`` take the top share (default: a quarter) of accounts
by that measure. With an outcomes table (or a column of the accounts), any numeric health
measure (ARR, NPS, retention months...) works the same way: the top share against the rest.

The evidence. Every attribute is cut into groups (numeric bins made monotone, or peaked
when the data says so; text levels; list items); per group its win rate (the share of its
accounts that are best), the lift (that win rate over the base rate, the share of all
accounts that are best) with a 95% interval (Wilson's interval of the win rate over the
base rate), and the support. Attributes are ranked by information value (IV) and called
weak, medium or strong against what shuffled labels give the same attribute; pairs that
carry the same information (Cramer's V >= 0.7) are noted. Whether there is anything to
find at all is tested by shuffling the labels: the best attribute's IV must beat what
shuffled labels reach 95 times in 100. With ``--best`` on a measure that grows with the
number of deals (``won_amount``), attributes that tell how many deals an account has rather
than how often it wins are called volume, not fit.

The proposal. The 4-6 strongest attributes that are neither leaky, volume nor collinear
with a stronger one become criteria, with weights in proportion to their IV and partial
credit in proportion to each group's log-lift; groups with enough records whose win rate is
at most half the base rate become kill-list suggestions. Each comes with its evidence as a
YAML comment.
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
from ..profile.model import Condition, Criterion, Disqualifier, Profile, format_number, range_label
from .binning import bin_attribute, rate_difference_p, woe
from .backtest import wilson_interval
from .features import Attribute, Binned, Labelled, check_usable, read_labelled, require_classes
from .features import min_support as group_support
from .learn import _alone_auc, criterion
from .profile_yaml import commented_yaml

#: An attribute that alone ranks best vs rest at least this well (AUC) is most likely recorded after
#: the outcome (leaky): never proposed, never on the kill list.
LEAK_AUC = 0.9
#: An attribute whose IV is under this is of no practical use, however sure the evidence: never proposed.
IV_USEFUL = 0.02
#: Candidates for the proposal: the strongest attributes by IV, then chosen one by one.
CANDIDATES = 12
#: Attributes with a Cramer's V at least this high carry the same information.
COLLINEAR_V = 0.7
#: A proposal has at most this many criteria, and at least MIN_CRITERIA when the evidence allows.
MAX_CRITERIA, MIN_CRITERIA = 6, 4
#: Label shuffles of the signal test.
SHUFFLES = 50
#: Strength: the IV of an attribute against the IVs it reaches over this many label shuffles
#: (binned anew each time, as the real labels were). Above their 99th percentile it is
#: "medium", above STRONG_MARGIN times that percentile "strong", else "weak".
STRENGTH_SHUFFLES, STRENGTH_QUANTILE, STRONG_MARGIN = 100, 0.99, 2.0
#: Fewest records behind a named strongest value or a kill-list suggestion: this many, or
#: MIN_SUPPORT_SHARE of the records when that is more (``--min-support`` replaces both).
MIN_SUPPORT, MIN_SUPPORT_SHARE = 30, 0.01
#: Adjacent numeric bins count as one before the strongest value is named when their win
#: rates do not differ at this level (two-sided z-test) or their lifts round to the same tenth.
MERGE_P = 0.05
#: A trait is a kill-list suggestion when accounts with it win at most this share of the base
#: rate (lift <= 0.5) and the lift's 95% interval stays below 1.
KILL_LIFT = 0.5
#: Measures of ``best`` that grow with the number of deals: attributes are checked for volume.
VOLUME_MEASURES = ("won_amount", "deals_won", "deals_lost")
#: An attribute is volume when its association with an account's closed deal count is at least
#: VOLUME_RATIO times its association with the account's win rate, and significant at VOLUME_P.
VOLUME_RATIO, VOLUME_P = 2.0, 0.01
#: Deal outcome words (lower case; "closed won" and the like contain them).
WON, LOST = "won", "lost"
BEST_FROM_DEALS = ("won", "win_rate", "won_amount")


@dataclass
class ValueEvidence:
    """One group of an attribute: its best and other accounts, their shares of all best and
    all other accounts (what IV uses), the group's win rate (share of its accounts that are
    best) and lift (win rate / base rate) with a 95% interval, and the support (accounts)."""

    label: str
    n_best: int
    n_rest: int
    share_best: float
    share_rest: float
    win_rate: float | None
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
    #: The 99th percentile of this attribute's IV over shuffled labels (the strength baseline).
    shuffled_iv_99: float = 0.0
    #: The group with the highest lift among those with at least the minimum support (adjacent
    #: numeric bins with the same lift merged first); None when no such group has a lift above 1.
    strongest: ValueEvidence | None = None
    #: Mostly tells how many deals an account has, not how often it wins (see :func:`_volume_check`).
    volume: bool = False
    volume_check: dict[str, float] | None = None


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
    #: The share of the accounts that are best: every lift is a win rate over this.
    base_rate: float = 0.0
    #: Fewest accounts behind a named strongest value or a kill-list suggestion.
    min_support: int = MIN_SUPPORT

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
             seed: int = 0, min_support: int | None = None, backend: Any = None) -> Discovery:
    """Compare the best accounts with the rest (see the module docstring), reading the
    inputs on ``backend`` (default: the embedded DuckDB).

    ``accounts`` is a path or table of accounts; ``deals`` a deals table (``domain`` or
    ``key``, and an ``outcome``/``deal_stage``/``stage``/``status`` column reading won or
    lost); ``outcomes`` a table of measures per account. ``best`` names how "best" is
    decided: ``won``, ``win_rate``, ``won_amount`` (from deals) or a numeric column of the
    outcomes or accounts, of which the top ``top_share`` is best. ``min_support`` is the
    fewest accounts behind a named strongest value or a kill-list suggestion (default: 30,
    or 1% of the accounts when that is more). ``seed`` makes the label shuffles repeatable.
    """
    if not 0 < top_share < 1:
        raise IcpError(f"--top-share {top_share:g} must be between 0 and 1", hint="e.g. 0.25 for the top quartile")
    _check_min_support(min_support)
    table, label, description, bad = _label_accounts(accounts, deals, outcomes, best, top_share, key, backend)
    wins = pa.compute.sum(table.column("_best")).as_py() or 0
    if best == "won" and table.num_rows and wins == table.num_rows:
        raise DataError(f"every one of the {table.num_rows} accounts with closed deals has won at least once: "
                        "won vs lost cannot tell them apart",
                        hint="compare the best accounts by --best win_rate or --best won_amount instead")
    bad_labels = table.column("_bad").to_numpy(zero_copy_only=False) if bad else None
    volume = None
    if best in VOLUME_MEASURES and "_deals" in table.column_names:
        volume = (_floats(table.column("_deals")), _floats(table.column("_deals_won")))
    helpers = [c for c in ("_bad", "_key", "_deals", "_deals_won") if c in table.column_names]
    data = read_labelled(table.drop_columns(helpers), label, exclude=exclude, backend=backend)
    data.notes.insert(0, f"compared: {description}")
    return analyse(data, description, bad_labels, seed=seed, min_support=min_support, volume=volume)


def _check_min_support(min_support: int | None) -> None:
    if min_support is not None and (isinstance(min_support, bool) or not isinstance(min_support, int)
                                    or min_support < 1):
        raise IcpError(f"--min-support {min_support} must be a whole number of accounts, at least 1",
                       hint=f"e.g. {MIN_SUPPORT}")


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _label_accounts(accounts: Any, deals: Any, outcomes: Any, best: str, top_share: float,
                    key: str, backend: Any = None) -> tuple[pa.Table, str, str, bool]:
    """The accounts with a ``_best`` label (1/0), and ``_bad`` (1 = lost or churned, 0 =
    won) when deals say so, and with deals ``_deals`` (closed deals) and ``_deals_won``;
    rows without a verdict are left out."""
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
            # ties at the cut (many accounts with no won amount): the side of it nearer the top share
            above = float(np.mean(known > cut))
            strict = above > 0 and abs(above - top_share) < abs(float(np.mean(known >= cut)) - top_share)
            label = ibis.cases(((v > cut) if strict else (v >= cut), 1), (v.notnull(), 0), else_=ibis.null("int64"))
            description = (f"the top {top_share:.0%} of accounts by {best} ({'>' if strict else '>='} "
                           f"{format_number(cut)}) vs the other accounts with a value")
            has_bad = "deals_won" in measures
        bad = ibis.cases((m.deals_won > 0, 0), (m.deals_lost > 0, 1), else_=0) if has_bad else ibis.literal(0)
        used = set(measures) | ({col} if best != "won" else set())  # the health measure itself is no attribute
        keep = [c for c in m.columns if c != "_row" and c not in used]
        counts = {"_deals": m.deals_won + m.deals_lost, "_deals_won": m.deals_won} if "deals_won" in measures else {}
        labelled = m.select(*keep, _best=label, _bad=bad, _order=m["_row"], **counts)
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


def analyse(data: Labelled, description: str, bad: np.ndarray | None = None, *, seed: int = 0,
            min_support: int | None = None,
            volume: tuple[np.ndarray, np.ndarray] | None = None) -> Discovery:
    """The evidence, the signal test and the proposal for a labelled table. ``bad`` marks
    lost accounts (for the kill list); ``volume`` is each account's closed deals and won
    deals, when ``best`` is a measure that grows with the number of deals."""
    check_usable(data)
    _check_min_support(min_support)
    y = data.labels
    require_classes(y, "the best / rest split")
    support = group_support(len(y))
    suggest = min_support if min_support is not None else max(MIN_SUPPORT, math.ceil(MIN_SUPPORT_SHARE * len(y)))
    base = float(y.mean())
    binned = [b for a in data.attributes for b in bin_attribute(a, support, monotone_labels=y)]
    binned = [b for b in binned if len(b.groups) > 1]
    evidence = [_evidence(b, y) for b in binned]
    for e, q in zip(evidence, _shuffled_ivs(binned, y, support, seed), strict=True):
        e.shuffled_iv_99, e.strength = q, _strength(e.iv, q)
    for b, e in zip(binned, evidence, strict=True):
        e.strongest = _strongest(b, y, suggest)
        if volume is not None:
            e.volume_check = _volume_check(b, *volume)
            e.volume = _is_volume(e.volume_check)
    order = np.argsort([-e.iv for e in evidence], kind="stable")
    binned, evidence = [binned[i] for i in order], [evidence[i] for i in order]
    _note_collinear(binned, evidence)
    signal_test = _signal_test(data, y, support, seed)
    signal = bool(evidence) and signal_test["observed_iv"] > signal_test["shuffled_iv_95"]
    notes = list(data.notes)
    notes += [f"{e.header}: {_volume_text(e)}; not proposed" for e in evidence if e.volume]
    left_out = {e.name for e in evidence if e.leaky or e.volume}
    anti = _anti(binned, bad, suggest, left_out) if bad is not None and 0 < bad.sum() < len(bad) else []
    profile, yaml_text = None, ""
    chosen, skipped = _select(binned, evidence, y) if signal else ([], [])
    if signal and not chosen:
        signal = False
        why = ("the attributes that separate them tell how many deals an account has, not how often it wins"
               if any(e.volume for e in evidence) else "no attribute pays for itself in a model of best vs rest")
        notes.append(f"no signal: shuffled labels do worse, but {why}; no profile proposed")
    elif signal:
        profile, yaml_text = _propose(binned, evidence, anti, data, description, chosen, skipped)
    else:
        notes.append("no signal: no attribute separates the best accounts from the rest better than shuffled "
                     f"labels do (best IV {signal_test['observed_iv']:.3f}, shuffled labels reach "
                     f"{signal_test['shuffled_iv_95']:.3f}); no profile proposed")
    return Discovery(description, int(y.sum()), int(len(y) - y.sum()), len(y), evidence, anti, profile,
                     yaml_text, signal, signal_test, notes, base_rate=base, min_support=suggest)


def _value(label: str, a: int, c: int, n1: float, n0: float) -> ValueEvidence:
    """A group with ``a`` best and ``c`` other accounts, of ``n1`` best and ``n0`` others."""
    lift, low, high = _lift(a, a + c, n1 / (n1 + n0))
    return ValueEvidence(label, a, c, a / n1, c / n0, a / (a + c) if a + c else None, lift, low, high, a + c)


def _evidence(b: Binned, y: np.ndarray) -> AttributeEvidence:
    n1, n0 = float(y.sum()), float(len(y) - y.sum())
    values, iv = [], 0.0
    for g in b.groups:
        a, c = int(y[g.mask].sum()), int(g.mask.sum() - y[g.mask].sum())
        iv += (a / n1 - c / n0) * _woe(a, c, n1, n0)
        values.append(_value(g.label, a, c, n1, n0))
    alone = _alone_auc(b, y)
    return AttributeEvidence(b.name, b.attribute.field, b.title, b.attribute.kind, iv, "", alone,
                             values, leaky=alone >= LEAK_AUC)


def _woe(a: float, c: float, n1: float, n0: float) -> float:
    """:func:`~.binning.woe` of a group of ``a`` best and ``c`` other accounts, of ``n1`` and ``n0``."""
    return woe(a + c, a, n1 + n0, n1)


def _iv_of_codes(codes: np.ndarray, y: np.ndarray) -> float:
    """Information value of the groups ``codes`` (0..k-1) for labels ``y``, as :func:`_evidence` computes it."""
    k = int(codes.max()) + 1
    a = np.bincount(codes, weights=y, minlength=k)
    c = np.bincount(codes, minlength=k) - a
    n1, n0 = float(a.sum()), float(c.sum())
    woe = np.log(((a + 0.5) / (n1 + 1)) / ((c + 0.5) / (n0 + 1)))
    return float(np.sum((a / n1 - c / n0) * woe))


def _lift(wins: int, n: int, base: float) -> tuple[float | None, float | None, float | None]:
    """A group's win rate (``wins`` of ``n``) over the ``base`` rate, with a 95% interval: the
    Wilson score interval of the win rate, divided by the base rate (which, counted on every
    account, is taken as known). None for an empty group."""
    if n <= 0:
        return None, None, None
    low, high = wilson_interval(wins, n)
    return wins / n / base, low / base, high / base


def _strength(iv: float, shuffled_99: float) -> str:
    """Strong when ``iv`` is over :data:`STRONG_MARGIN` times the 99th percentile of the
    attribute's IV on shuffled labels, medium when over that percentile, weak otherwise
    (within what chance gives)."""
    if iv > STRONG_MARGIN * shuffled_99:
        return "strong"
    return "medium" if iv > shuffled_99 else "weak"


def _shuffled_ivs(binned: list[Binned], y: np.ndarray, support: int, seed: int) -> list[float]:
    """Per attribute, the 99th percentile of its IV over :data:`STRENGTH_SHUFFLES` label
    shuffles (seeded by ``seed``; its own random stream, apart from the signal test's). Text
    levels and list items are the same groups whatever the labels; numeric bins, which follow
    the labels, are formed anew from the same label-free bins on each shuffle, so a bin's
    freedom to fit the labels counts against it as it did for the real labels."""
    plans: list[Attribute | np.ndarray] = []
    for b in binned:
        if b.attribute.kind == "number":
            (free,) = bin_attribute(b.attribute, support)
            codes = _codes(free).astype(float)
            codes[b.attribute.missing] = np.nan
            plans.append(Attribute(b.attribute.field, b.attribute.header, "number", codes))
        else:
            plans.append(_codes(b))
    rng = np.random.default_rng([seed, 1])
    ivs = np.zeros((STRENGTH_SHUFFLES, len(plans)))
    for s in range(STRENGTH_SHUFFLES):
        labels = rng.permutation(y)
        for j, plan in enumerate(plans):
            codes = _codes(bin_attribute(plan, support, monotone_labels=labels)[0]) \
                if isinstance(plan, Attribute) else plan
            ivs[s, j] = _iv_of_codes(codes, labels)
    return [float(q) for q in np.quantile(ivs, STRENGTH_QUANTILE, axis=0)] if plans else []


def _strongest(b: Binned, y: np.ndarray, support: int) -> ValueEvidence | None:
    """The group with the highest lift above 1 among those with at least ``support``
    accounts; adjacent numeric bins whose win rates do not differ (see :func:`_merge_alike`)
    count as one range first. Ties go to the larger group."""
    n1, n0 = float(y.sum()), float(len(y) - y.sum())
    bins = [[g.rule[1], g.rule[2], int(y[g.mask].sum()), int(g.mask.sum())] for g in b.groups if g.rule[0] == "bin"]
    candidates = [_value(range_label(lo, hi), w, n - w, n1, n0) for lo, hi, w, n in _merge_alike(bins, n1 / len(y))]
    candidates += [_value(g.label, int(y[g.mask].sum()), int(g.mask.sum() - y[g.mask].sum()), n1, n0)
                   for g in b.groups if g.rule[0] != "bin"]
    fit = [v for v in candidates if v.support >= support and v.lift is not None and v.lift > 1]
    return max(fit, key=lambda v: (v.lift or 0.0, v.support), default=None)


def _merge_alike(bins: list[list[Any]], base: float) -> list[list[Any]]:
    """Merge adjacent bins ``[low, high, wins, n]`` (in order) while some neighbours are
    alike: their win rates do not differ at :data:`MERGE_P` (two-sided z-test of two
    proportions) or their lifts round to the same tenth; the most alike pair first."""
    bins = [list(x) for x in bins]
    while len(bins) > 1:
        best, best_p = -1, -1.0
        for j in range(len(bins) - 1):
            (_, _, w1, n1), (_, _, w2, n2) = bins[j], bins[j + 1]
            p = rate_difference_p(n1, w1, n2, w2)
            same = n1 > 0 and n2 > 0 and round(w1 / n1 / base, 1) == round(w2 / n2 / base, 1)
            if (p >= MERGE_P or same) and p > best_p:
                best, best_p = j, p
        if best < 0:
            break
        left, right = bins[best], bins.pop(best + 1)
        bins[best] = [left[0], right[1], left[2] + right[2], left[3] + right[3]]
    return bins


def _volume_check(b: Binned, deals: np.ndarray, won: np.ndarray) -> dict[str, float]:
    """How strongly the attribute's groups tell an account's closed deal count apart, and
    its win rate (won / closed deals): the share of the variance of the ranks that lies
    between the groups (epsilon squared of the Kruskal-Wallis test, 0 to 1, ties
    averaged), with the test's p-value; accounts without closed deals are left out."""
    keep = np.isfinite(deals) & (deals > 0)
    codes = _codes(b)[keep]
    count_e2, count_p = _rank_effect(codes, deals[keep])
    rate_e2, rate_p = _rank_effect(codes, won[keep] / deals[keep])
    return {"deal_count": count_e2, "deal_count_p": count_p, "win_rate": rate_e2, "win_rate_p": rate_p}


def _rank_effect(codes: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    from scipy.stats import chi2, rankdata

    if len(x) < 3:
        return 0.0, 1.0
    r = rankdata(x)
    total = float(np.sum((r - r.mean()) ** 2))
    n = np.bincount(codes)
    used = n > 0
    if total <= 0 or used.sum() < 2:
        return 0.0, 1.0
    means = np.bincount(codes, weights=r)[used] / n[used]
    e2 = float(np.sum(n[used] * (means - r.mean()) ** 2) / total)
    return e2, float(chi2.sf((len(x) - 1) * e2, int(used.sum()) - 1))


def _is_volume(check: dict[str, float]) -> bool:
    return check["deal_count_p"] < VOLUME_P and check["deal_count"] >= VOLUME_RATIO * check["win_rate"]


def _volume_text(e: AttributeEvidence) -> str:
    c = e.volume_check or {}
    return (f"mostly tells how many deals an account has (association with its closed deal count "
            f"{c.get('deal_count', 0.0):.3f}, with its win rate {c.get('win_rate', 0.0):.3f}), not how often "
            "it wins: volume, not fit")


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
    base = float(data.labels.mean())
    criteria, comments = [], {}
    for i in chosen:
        b, e = binned[i], evidence[i]
        weight = max(5.0, round(100 * e.iv / total_iv))
        criteria.append(_criterion(b, e, weight))
        comments[b.name] = [f"{e.header}: IV {e.iv:.3f} ({e.strength}; shuffled labels reach {e.shuffled_iv_99:.3f}); "
                            f"win rate per group (base rate {base:.0%}):"] + [
            f"  {v.label}: {_fmt_rate(v)}, lift {_fmt_lift(v)}" for v in e.values]
    disqualifiers, dq_comments = [], []
    for a in anti[:3]:
        disqualifiers.append(a["disqualifier"])
        dq_comments.append(f"{a['field']} {a['label']}: win rate {a['win_rate']:.0%} ({a['n_won']} of {a['n']}) vs "
                           f"{a['base_rate']:.0%} overall, lift {a['lift']:.2f} "
                           f"(95% {a['lift_low']:.2f}-{a['lift_high']:.2f})")
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
    sections = {"disqualifiers": ["Kill-list suggestions: traits of accounts that win at most half as often as the "
                                  "average (lift = win rate / base rate)."] + dq_comments}
    return prof, commented_yaml(prof, header, comments, sections)


def _select(binned: list[Binned], evidence: list[AttributeEvidence], y: np.ndarray) -> tuple[list[int], list[str]]:
    """Forward selection: among the :data:`CANDIDATES` strongest attributes that are neither
    leaky nor volume, stronger than chance (medium or strong) and of use (IV at least
    :data:`IV_USEFUL`), add the one that most improves a logistic model of best vs rest on the
    attributes' weights of evidence, while the improvement beats its cost in Akaike's
    information criterion (AIC), up to :data:`MAX_CRITERIA`. An attribute whose information
    is already in the model (a proxy of a chosen one) does not pay for itself."""
    skipped = [f"{e.header} (alone AUC {e.alone_auc:.2f}: likely recorded after the outcome)"
               for e in evidence if e.leaky]
    skipped += [f"{e.header} (IV {e.iv:.2f}, but it {_volume_text(e)})" for e in evidence if e.volume and not e.leaky]
    pool = [i for i, e in enumerate(evidence)
            if not e.leaky and not e.volume and e.strength != "weak" and e.iv >= IV_USEFUL][:CANDIDATES]
    columns = {i: _woe_column(binned[i], y) for i in pool}
    chosen: list[int] = []
    current = _aic([], columns, y)
    while pool and len(chosen) < MAX_CRITERIA:
        trials = {i: _aic(chosen + [i], columns, y) for i in pool}
        best = min(trials, key=lambda i: trials[i])
        if trials[best] >= current:
            break
        chosen.append(best)
        pool.remove(best)
        current = trials[best]
    skipped += [f"{evidence[i].header} (IV {evidence[i].iv:.2f}, but adds little once the chosen attributes "
                "are known)" for i in pool]
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


def _fmt_rate(v: ValueEvidence) -> str:
    return "no accounts" if v.win_rate is None else f"{v.win_rate:.0%} ({v.n_best} of {v.support})"


def _criterion(b: Binned, e: AttributeEvidence, weight: float) -> Criterion:
    """Points per group: groups that win more often than the base rate (lift > 1) earn the
    weight times their log-lift over the strongest group's; the others earn 0."""
    logs = np.array([max(math.log(v.lift), 0.0) if v.lift else 0.0 for v in e.values])
    points = np.round(weight * logs / logs.max(), 1) if logs.max() > 0 else np.zeros(len(logs))
    return criterion(b, points, weight, idle_levels=False)


def _anti(binned: list[Binned], bad: np.ndarray, support: int, left_out: set[str]) -> list[dict[str, Any]]:
    """Kill-list suggestions: groups of at least ``support`` accounts that win (have a won
    deal: ``bad`` is 0) at most :data:`KILL_LIFT` times the base rate, with the lift's 95%
    interval below 1; the surest first (lowest upper end of the interval). Attributes in
    ``left_out`` (leaky, volume) are left out."""
    n_bad, n_won = float(bad.sum()), float(len(bad) - bad.sum())
    base = n_won / len(bad)
    out = []
    for b in binned:
        for g in b.groups:
            rules = getattr(g, "rules", (g.rule,))  # a group may join several rules
            if any(r[0] in ("missing", "other", "no_item") for r in rules) or g.mask.sum() < support \
                    or b.name in left_out:
                continue
            n = int(g.mask.sum())
            lost = int(bad[g.mask].sum())
            lift, low, high = _lift(n - lost, n, base)
            if lift is None or lift > KILL_LIFT or (high if high is not None else 1.0) >= 1:
                continue
            parts = [_condition(b, r) for r in rules]
            when = parts[0] if len(parts) == 1 else Condition(any=parts)
            name = f"anti_{b.name}"[:63]
            rate = (n - lost) / n
            out.append({"field": b.title, "label": g.label, "n": n, "n_bad": lost, "n_won": n - lost,
                        "win_rate": rate, "base_rate": base, "share_bad": lost / n_bad,
                        "share_rest": (n - lost) / n_won,
                        "lift": lift, "lift_low": low, "lift_high": high,
                        "disqualifier": Disqualifier(name=name, when=when,
                                                     reason=f"{b.title} {g.label}: win rate {rate:.0%} against "
                                                            f"{base:.0%} overall")})
    out.sort(key=lambda r: (r["lift_high"], r["lift"]))
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
