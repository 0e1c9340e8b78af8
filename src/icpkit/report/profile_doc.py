"""The ICP as the one-page document a go-to-market team shares, in Markdown and in HTML.

Both renderings come from one plain description of the profile (:func:`_document`): the
title with the version label and hash, the summary, "who we sell to" (the criteria and what
earns points, in words), adjustments, the kill list, tiers with their score ranges and
routes, ABM tiers, and the narrative sections, each left out when empty.

Every string a user wrote is escaped for its target: the HTML comes from a Jinja2 template
with autoescape on and carries its CSS inline (no fonts, scripts or links to fetch); the
Markdown escapes ``|`` and backslashes, tag-like ``<``, emphasis and link characters, and
characters that would start a heading, list, quote or spreadsheet formula at a line start.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from ..profile.model import Condition, Criterion, Profile, Range

__all__ = ["criterion_rules", "describe_condition", "render_html", "render_markdown"]

_SYMBOLS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_NARRATIVE = (
    ("pain_points", "Pain points"),
    ("buying_triggers", "Buying triggers"),
    ("key_roles", "Key roles"),
    ("buying_behaviour", "Buying behaviour"),
    ("psychographics", "Psychographics"),
    ("anti_icp", "Anti-ICP notes"),
)


def _n(x: float) -> str:
    """A number in plain digits: 25, 37.5, 69.99 (never exponent notation)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(round(x, 6))


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _n(v)
    return json.dumps(str(v), ensure_ascii=False)


def _values(vs: list[Any], joiner: str = ", ") -> str:
    return joiner.join(_value(v) for v in vs)


def describe_condition(cond: Condition) -> str:
    """A condition in words, e.g. ``industry is one of "agency", "consulting"`` or ``employees < 10``."""
    if cond.all is not None:
        return "all of (" + "; ".join(describe_condition(c) for c in cond.all) + ")"
    if cond.any is not None:
        return "any of (" + "; ".join(describe_condition(c) for c in cond.any) + ")"
    if cond.not_ is not None:
        return f"not ({describe_condition(cond.not_)})"
    field, op = cond.field or "", cond.op
    if op == "eq":
        return f"{field} is {_value(cond.eq)}"
    if op == "in":
        vs = cond.in_ or []
        return f"{field} is {_value(vs[0])}" if len(vs) == 1 else f"{field} is one of {_values(vs)}"
    if op in _SYMBOLS:
        return f"{field} {_SYMBOLS[op]} {_n(getattr(cond, op))}"
    if op == "between" and cond.between is not None:
        return f"{field} is between {_n(cond.between[0])} and {_n(cond.between[1])} inclusive"
    if op == "contains_any":
        return f"{field} contains any of {_values(cond.contains_any or [])}"
    return f"{field} is missing" if cond.is_missing else f"{field} is present"


def _range_parts(r: Range, weight: float) -> list[str]:
    band = (f"{_n(r.min)} to {_n(r.max)}" if r.min is not None and r.max is not None
            else f"{_n(r.min)} or more" if r.min is not None else f"up to {_n(r.max or 0)}")
    parts = [f"{band}: {_n(r.points if r.points is not None else weight)}"]
    if r.tolerance > 0:
        near = []
        if r.min is not None:
            near.append(f"{_n(r.min * (1 - r.tolerance))} to under {_n(r.min)}")
        if r.max is not None:
            near.append(f"over {_n(r.max)} to {_n(r.max * (1 + r.tolerance))}")
        parts.append(f"{' or '.join(near)} (within {_n(r.tolerance * 100)}%): {_n(r.tolerance_points)}")
    return parts


def criterion_rules(c: Criterion) -> list[str]:
    """What earns points under one criterion, one phrase per rule, then otherwise and missing."""
    parts: list[str] = []
    for lv in c.levels or []:
        label = f" — {lv.label}" if lv.label else ""
        parts.append(f"is {_values(lv.values, ' or ')}{label}: {_n(lv.points)}")
    if c.aliases:
        parts.append("also read as: " + ", ".join(f"{_value(a)} = {_value(t)}" for a, t in c.aliases.items()))
    if c.range is not None:
        parts += _range_parts(c.range, c.weight)
    for b in c.bins or []:
        bounds = b.model_copy(update={"label": None}).describe()
        parts.append(f"{b.label} ({bounds}): {_n(b.points)}" if b.label else f"{bounds}: {_n(b.points)}")
    for it in c.items or []:
        label = f" — {it.label}" if it.label else ""
        parts.append(f"has {_values(it.values, ' or ')}{label}: {_n(it.points)}")
    return parts + [f"otherwise: {_n(c.otherwise)}", f"missing: {_n(c.missing)}"]


def _signed(x: float) -> str:
    return f"+{_n(x)}" if x > 0 else f"-{_n(-x)}"


def _signals(profile: Profile) -> list[str]:
    """Intent, triggers, personas and priority, one plain sentence each."""
    lines: list[str] = []
    it = profile.intent
    if it is not None:
        for sig in it.signals:
            caps = [f"at most {sig.cap_per_day} per day" if sig.cap_per_day else "",
                    f"the latest {sig.cap_per_window} in the window" if sig.cap_per_window else ""]
            decay = sig.decay or it.decay
            lines.append(f"{sig.type}: {_signed(sig.points)} per event"
                         + "".join(f", {c}" for c in caps if c) + (f", {_decay(decay)}" if decay else ""))
        if it.window_days:
            lines.append(f"only events of the last {_n(it.window_days)} days count")
        bg = it.buying_group
        if bg is not None:
            lines.append(f"buying group: {bg.min_people}+ people {bg.label or 'with ' + ' or '.join(bg.types)} "
                         f"within {_n(bg.window_days)} days: {_signed(bg.points)}")
        lines.append("intent score = the sum, clamped to 0-100")
    for t in profile.triggers:
        window = f" and {t.fields[1]} (last {t.window_days} days)" if t.window_days else ""
        lines.append(f"trigger {t.type}: {t.fields[0]}{window}")
    for p in profile.personas:
        lines.append(f"persona {p.label or p.name}: {describe_condition(p.when)}"
                     + (f"; engaged: {_signed(p.points)} intent" if p.points else ""))
    if profile.committee is not None:
        lines.append(f"buying committee: {', '.join(profile.committee.roles)} "
                     f"(engaged = active in the last {_n(profile.committee.engaged_days)} days)")
    pr = profile.priority
    if pr is not None:
        blends = [f"{'/'.join(st.values)} {_n(st.fit)}/{_n(st.intent)}" for st in pr.stages]
        lines.append(f"priority = fit/intent blended by {pr.stage_field}: " + ", ".join(blends)
                     + f", otherwise {_n(pr.otherwise.fit)}/{_n(pr.otherwise.intent)}; tiers on {pr.tiers_on}")
    return lines


def _decay(d: Any) -> str:
    return f"half-life {_n(d.half_life_days)} days" if d.half_life_days else f"fades to 0 over {_n(d.lifespan_days)} days"


def _document(profile: Profile) -> dict[str, Any]:
    """The profile as plain, unescaped strings in the order of the page."""
    tiers = profile.ordered_tiers
    tier_rows = []
    for i, t in enumerate(tiers):
        top = "100" if i == 0 else _n(tiers[i - 1].min - 0.01)
        tier_rows.append({"name": t.name, "range": f"{_n(t.min)}-{top}", "route": t.route})
    abm = profile.abm
    abm_line = (f"A: top {abm.a} of {abm.tier} by fit score; B: next {abm.b}; C: the rest of {abm.tier}"
                if abm is not None else None)
    nar = profile.narrative
    return {
        "name": profile.name,
        "version": profile.version,
        "hash": profile.version_hash,
        "description": profile.description,
        "summary": nar.summary,
        "scoring_note": (f"Fit score = points earned × 100 / total weight ({_n(profile.total_weight)}), "
                         "plus adjustments, clamped to 0-100.") if profile.criteria else "",
        "criteria": [{"name": c.key, "field": c.field, "description": c.description,
                      "weight": _n(c.weight), "rules": criterion_rules(c)} for c in profile.criteria],
        "adjustments": [{"name": a.name, "when": describe_condition(a.when), "points": _signed(a.points),
                         "reason": a.reason or ""} for a in profile.adjustments],
        "disqualifiers": [{"name": d.name, "when": describe_condition(d.when),
                           "tier": d.tier or tiers[-1].name, "reason": d.reason} for d in profile.disqualifiers],
        "tiers": tier_rows,
        "abm": abm_line,
        "signals": _signals(profile),
        "narrative": [{"title": title, "lines": list(getattr(nar, key))}
                      for key, title in _NARRATIVE if getattr(nar, key)],
    }


# ---------------------------------------------------------------- Markdown

_MD_INLINE = re.compile(r"([\\`*\[\]|])|<(?=[A-Za-z/!?])")
_MD_LEADING = re.compile(r"^(\s*)([#>+=@-])")


def _md(text: str | None) -> str:
    """User text made inert for a Markdown line or table cell."""
    flat = " ".join((text or "").split())
    out = _MD_INLINE.sub(lambda m: "\\" + (m.group(1) or "<"), flat)
    return _MD_LEADING.sub(r"\1\\\2", out)


def _md_table(head: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    sep = [("---:" if col in align else "---") for col in "abcdefgh"[: len(head)]]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |",
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def render_markdown(profile: Profile) -> str:
    """The one-page ICP document as Markdown."""
    doc = _document(profile)
    version = f"Version {_md(doc['version'])} · " if doc["version"] else ""
    lines = [f"# {_md(doc['name'])}", "", f"{version}hash `{doc['hash']}`", ""]
    for text in (doc["description"], doc["summary"]):
        if text:
            lines += [_md(text), ""]
    if doc["criteria"]:
        lines += ["## Who we sell to", "", doc["scoring_note"], ""]
        rows = [[_md(c["name"]) + (f" — {_md(c['description'])}" if c["description"] else ""), _md(c["field"]),
                 c["weight"], "; ".join(_md(r) for r in c["rules"])] for c in doc["criteria"]]
        lines += _md_table(["Criterion", "Field", "Weight", "What earns points"], rows, align="c")
    if doc["signals"]:
        lines += ["## Who is buying now", "", *(f"- {_md(line)}" for line in doc["signals"]), ""]
    if doc["adjustments"]:
        lines += ["## Adjustments", ""]
        rows = [[_md(a["name"]), _md(a["when"]), a["points"], _md(a["reason"])] for a in doc["adjustments"]]
        lines += _md_table(["Adjustment", "When", "Points", "Reason"], rows, align="c")
    if doc["disqualifiers"]:
        lines += ["## Kill list", ""]
        rows = [[_md(d["name"]), _md(d["when"]), _md(d["tier"]), _md(d["reason"])] for d in doc["disqualifiers"]]
        lines += _md_table(["Disqualifier", "When", "Forced tier", "Reason"], rows)
    lines += ["## Tiers and routes", ""]
    lines += _md_table(["Tier", "Fit score", "Route"],
                       [[_md(t["name"]), t["range"], _md(t["route"])] for t in doc["tiers"]])
    if doc["abm"]:
        lines += [f"**ABM tiers:** {_md(doc['abm'])}", ""]
    for section in doc["narrative"]:
        lines += [f"## {section['title']}", "", *(f"- {_md(item)}" for item in section["lines"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------- HTML


def _template_source(name: str) -> str:
    return resources.files("icpkit.report").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(profile: Profile) -> str:
    """The one-page ICP document as a self-contained HTML page (inline CSS, printable on A4)."""
    return _environment().get_template("profile_doc.html.j2").render(doc=_document(profile))
