"""A learned or discovered profile as YAML, with its evidence as comments.

The file is the same profile ``icp score`` reads; the comments say where each number came
from (rows, wins, win rate per group) so that a reviewer can judge and edit it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..profile.model import Profile

if TYPE_CHECKING:
    from .learn import Learned


def commented_yaml(profile: Profile, header: list[str], criteria: dict[str, list[str]],
                   sections: dict[str, list[str]] | None = None) -> str:
    """``profile`` as YAML, ``header`` lines at the top, ``criteria[name]`` lines above the
    criterion of that name and ``sections[key]`` above a top-level key."""
    data = _whole(profile.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 110
    yaml.indent(mapping=2, sequence=4, offset=2)
    doc = _commented(data)
    for i, crit in enumerate(doc.get("criteria", [])):
        for rule in ("bins", "levels", "items"):
            for entry in crit.get(rule) or []:
                entry.fa.set_flow_style()
        lines = criteria.get(crit.get("name") or crit.get("field"))
        if lines:
            doc["criteria"].yaml_set_comment_before_after_key(i, before="\n".join(lines), indent=2)
    for key, lines in (sections or {}).items():
        if key in doc and lines:
            doc.yaml_set_comment_before_after_key(key, before="\n".join(lines))
    out = io.StringIO()
    yaml.dump(doc, out)
    top = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return top + out.getvalue()


def _commented(node: Any) -> Any:
    """Plain data as ruamel's commentable nodes (no text round trip: numbers keep every digit)."""
    if isinstance(node, dict):
        return CommentedMap((k, _commented(v)) for k, v in node.items())
    if isinstance(node, list):
        return CommentedSeq(_commented(v) for v in node)
    return node


def _whole(node: Any) -> Any:
    """12.0 -> 12, recursively: profiles read better without needless decimals."""
    if isinstance(node, dict):
        return {k: _whole(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_whole(v) for v in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def learned_yaml(result: Learned) -> str:
    header = [
        f"Learned by `icp learn` from {result.rows} labelled records ({result.wins} wins, "
        f"{result.wins / result.rows:.1%}).",
        f"Cross-validated AUC {result.cv_auc:.3f} (95% interval {result.cv_auc_low:.3f}-{result.cv_auc_high:.3f}).",
    ]
    if result.time_auc is not None:
        header.append(f"Trained on the past, tested on the next period: AUC {result.time_auc:.3f} (95% interval "
                      f"{result.time_auc_low:.3f}-{result.time_auc_high:.3f}) over {len(result.folds)} periods.")
    header += [
        f"Points: each attribute cut into groups of at least {result.min_share:.0%} of the records, numeric bins that",
        "follow one shape (rising, falling, a peak or a valley), text values grouped by weight of evidence;",
        "a logistic regression gives each group its points (numeric bins held to their shape), shifted so",
        "each criterion's weakest group earns 0 and scaled so the weights add up to 100.",
        "The scorecard section reads a fit score as odds: scorecard score = score_at_fit_0 + fit_score *",
        "points_per_fit, where pdo points double the odds and anchor_score stands for anchor_odds wins per loss.",
        "A value no group covers (missing, or a text value not listed) earns the points of an average record.",
        "Edit freely, then backtest.",
    ]
    header += [f"Note: {n}" for n in result.notes]
    header += [f"WARNING: {w}" for w in result.warnings]
    if not result.signal:
        header.append("WARNING: no signal; these points rank records no better than chance.")
    per_criterion = {}
    for c in result.criteria:
        lines = [f"{c.title}: alone AUC {c.auc:.3f}" + (f", {c.shape}" if c.shape else "")]
        lines += [f"  {g.label}: {g.n} records, {g.wins} wins ({g.win_rate:.0%}) -> {g.points:g} points"
                  for g in c.groups]
        per_criterion[c.name] = lines
    sections = {}
    pop = result.profile.population
    if pop is not None:
        shares = ", ".join(f"{share:.0%} in {name}" for name, share in pop.tier_shares.items())
        sections["tiers"] = [f"Tier thresholds at the training records' fit scores: {shares}."]
        sections["population"] = ["The training population (fit-score bands and tier shares): backtest and score",
                                  "warn when new records are scored very differently (population stability index)."]
    return commented_yaml(result.profile, header, per_criterion, sections)
