"""``icp runs`` and ``icp drift``: the history of scoring runs, and what moved between two
populations (see docs/drift.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import BackendOpt, HtmlOpt, JsonOpt, ProfileOpt, WorkspaceOpt, _workspace
from .cli_render import _json_to_stdout, _write_json, err, escape, out
from .errors import IcpError
from .workspace import DEFAULT_DIR, Workspace


def runs(workspace: WorkspaceOpt = Path(DEFAULT_DIR), json_out: JsonOpt = None) -> None:
    """List the scoring runs recorded in the workspace's history (for icp drift)."""
    from .monitor.history import History

    _json_to_stdout(json_out)
    found = History(Workspace(workspace).path).runs()
    if json_out is not None:
        _write_json(json_out, json.dumps([r.to_dict() for r in found], indent=2) + "\n")
    if not found:
        out.print(f"No run is recorded in {escape(str(workspace))} yet: `icp score` records one.")
        return
    t = Table(title=f"Scoring runs of {escape(str(workspace))}", title_justify="left")
    for name in ("run", "recorded (UTC)", "profile", "version", "input", "records", "tiers"):
        t.add_column(name, justify="right" if name in ("run", "records") else "left")
    for r in found:
        t.add_row(str(r.run_id), f"{r.recorded_at:%Y-%m-%d %H:%M}", escape(r.profile_name), r.profile_hash,
                  escape(r.source), f"{r.rows:,}", escape(", ".join(f"{k} {v:,}" for k, v in r.snapshot.tiers.items())))
    out.print(t)


Side = Annotated[str, typer.Option(help="A file, a run of the history (run:3) or a period of --data (2026-Q1).")]


def drift(
    profile: ProfileOpt,
    baseline: Side,
    current: Side,
    data: Annotated[Path | None, typer.Option("--data", "-d", help="The dated file that periods are cut from.")]
    = None,
    label: Annotated[str | None, typer.Option("--label", "-l", help="The outcome column: win rates, segments.")]
    = None,
    date: Annotated[str | None, typer.Option("--date", help="A date column: periods and win rate by period.")]
    = None,
    every: Annotated[str, typer.Option(help="Period length for win rates: month or quarter.")] = "month",
    min_support: Annotated[int | None, typer.Option(help="Fewest records of a segment (default: 30, or 1% of "
                                                          "the records if more).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="A column not to look for segments in (an id, an "
                                                           "outcome-like field); repeat for more.")] = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
    backend: BackendOpt = None,
) -> None:
    """Has the population moved, does the top tier still win, which segments is the ICP missing?"""
    import icpkit

    _json_to_stdout(json_out)
    with err.status("comparing"):
        d = icpkit.drift(profile, baseline, current, data=data, label=label, date=date, every=every,
                         workspace=_workspace(workspace), min_support=min_support, exclude=exclude or (),
                         backend=backend)
    out.print(f"Baseline: {escape(d.baseline)}\nCurrent:  {escape(d.current)}")
    t = Table(title="Population stability", title_justify="left")
    for name in ("figure", "stability index", "reading"):
        t.add_column(name)
    t.add_row("fit score", _psi(d.score.psi), escape(d.score.level or d.score.note or ""))
    for name, f in d.attributes.items():
        t.add_row(escape(name), _psi(f.psi), escape(f.level or f.note or ""))
    out.print(t)
    if d.tiers_by_period:
        p = Table(title="Win rate by tier and period (95% interval)", title_justify="left")
        p.add_column("period")
        p.add_column("records", justify="right")
        for tier in d.tiers_by_period[0]["tiers"]:
            p.add_column(escape(tier["tier"]), justify="right")
        p.add_column("top tier's share of wins", justify="right")
        for e in d.tiers_by_period:
            cells = [_rate(x) for x in e["tiers"]]
            share = e["top_share_of_wins"]
            p.add_row(e["period"], f"{e['records']:,}", *cells, "" if share is None else f"{share:.0%}")
        out.print(p)
        if d.trend is not None:
            out.print(f"Trend of the top tier's share of wins: {d.trend['direction']} "
                      f"({d.trend['slope_per_period']:+.1%} a period over {d.trend['periods']} periods, "
                      f"p = {d.trend['p_value']:.3f})")
    for title, segs in (("Emerging segments (below the top tier, winning above their tiers)", d.emerging),
                        ("Fading segments (in the top tier, winning below it)", d.fading)):
        if segs:
            s = Table(title=title, title_justify="left")
            for name in ("attribute", "value", "records", "win rate", "their tiers", "q-value"):
                s.add_column(name, justify="right" if name in ("records", "win rate", "their tiers", "q-value")
                             else "left")
            for g in segs[:15]:
                s.add_row(escape(g.attribute), escape(g.value), f"{g.n:,}", f"{g.win_rate:.0%}",
                          f"{g.tier_win_rate:.0%}", f"{g.q_value:.3g}")
            out.print(s)
    out.print("[bold]What to do[/]")
    for a in d.actions:
        out.print(f"- {escape(a)}")
    for n in d.notes:
        err.print(f"[dim]{escape(n)}[/]")
    if json_out is not None:
        _write_json(json_out, json.dumps(d.to_dict(), indent=2, default=str) + "\n")
    if html is not None:
        from .report.drift import write_drift_report

        write_drift_report(d, html)
        out.print(f"Wrote {escape(str(html))}")


def _psi(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _rate(t: dict) -> str:
    if not t["records"]:
        return "-"
    return f"{t['win_rate']:.0%} ({t['low']:.0%}-{t['high']:.0%})"


def review(
    profile: ProfileOpt,
    history: Annotated[Path, typer.Option("--history", help="Labelled, dated accounts: CSV, Parquet or JSON lines.")],
    label: Annotated[str, typer.Option("--label", "-l", help="The outcome column: 1/0, won/lost, yes/no.")],
    date: Annotated[str, typer.Option("--date", help="The date column (the periods).")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The HTML report to write.")],
    previous: Annotated[Path | None, typer.Option("--previous", help="The profile this one replaced: the changelog "
                                                                     "and both measured on the history.")] = None,
    universe: Annotated[Path | None, typer.Option("--universe", help="Companies to size the TAM in (default: the "
                                                                     "history's accounts).")] = None,
    every: Annotated[str, typer.Option(help="Period length: quarter or month.")] = "quarter",
    json_out: JsonOpt = None,
    backend: BackendOpt = None,
) -> None:
    """The quarterly review on one page: backtest, drift, segments, TAM and changelog (HTML)."""
    import icpkit

    _json_to_stdout(json_out)
    if out_file.suffix.lower() not in (".html", ".htm") or out_file.is_dir():
        raise IcpError(f"the review is an HTML page: --out {out_file} is not an .html file", where="--out")
    with err.status("reviewing"):
        r = icpkit.review(profile, history, label=label, date=date, previous=previous, universe=universe, every=every,
                          backend=backend)
    from .report.review import write_review_report

    write_review_report(r, out_file)
    if json_out is not None:
        _write_json(json_out, json.dumps(r.to_dict(), indent=2, default=str) + "\n")
    d = r.drift
    out.print(f"Review of {escape(r.profile)} on {r.rows:,} records of {escape(r.history)} ({r.first} to {r.last}); "
              f"latest period {r.latest_period}.")
    auc = r.backtest.get("auc")
    if auc is not None:
        out.print(f"AUC {auc:.3f}; score stability of {r.latest_period} against before: "
                  f"{_psi(d['psi']) or 'not enough data'}; {len(d['emerging'])} emerging and {len(d['fading'])} fading "
                  "segments.")
    for a in d["actions"]:
        out.print(f"- {escape(a)}")
    out.print(f"Wrote {escape(str(out_file))}")
