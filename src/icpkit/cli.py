"""The ``icp`` command: one thin function per verb; parsing and rendering only.

Exit codes: 0 ok, 1 user or data error (an ``IcpError`` or a usage error), 2 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .cli_common import (
    AsOfOpt,
    BackendOpt,
    ContactsOpt,
    DataOpt,
    DateOpt,
    EventsOnErrorOpt,
    EventsOpt,
    HtmlOpt,
    JsonOpt,
    LabelOpt,
    OnError,
    ProfileArg,
    ProfileOpt,
    SplitAtOpt,
    WorkspaceOpt,
    _workspace,
)
from .cli_dedupe import dedupe
from .cli_enrich import enrich
from .cli_match import match
from .cli_monitor import drift, review, runs
from .cli_render import (
    _atomic_text,
    _auc3,
    _compare_tables,
    _count,
    _json_to_stdout,
    _progress,
    _range,
    _segment_table,
    _tier_table,
    _top_table,
    _with_ci,
    _write_json,
    err,
    escape,
    out,
)
from .cli_server import keys_app, serve
from .errors import IcpError, ProfileError
from .workspace import DEFAULT_DIR, Workspace

# Commands import what they need when they run: `icp --help` stays fast.

app = typer.Typer(
    name="icp",
    help="icpkit: score, tier, route and explain B2B accounts with an Ideal Customer Profile.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
)
events_app = typer.Typer(help="Events (page views, form fills, replies...) kept in the workspace for intent.",
                          no_args_is_help=True)
app.add_typer(events_app, name="events")

def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"icpkit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """icpkit: score, tier, route and explain B2B accounts with an Ideal Customer Profile."""


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter profile.")] = Path("icp.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter profile to edit."""
    from importlib.resources import files

    if path.exists() and not force:
        raise IcpError(f"{path} already exists", hint="use --force to overwrite it")
    path.write_text(files("icpkit.profile").joinpath("starter.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out.print(f"Wrote a starter profile to [bold]{escape(str(path))}[/]. Check it with: icp validate {escape(str(path))}")


@app.command()
def validate(
    profile: ProfileArg,
    accounts: Annotated[Path | None, typer.Option("--accounts", "-a",
                                                     help="Also check the columns and values of this file.")] = None,
) -> None:
    """Check a profile (and optionally that a data file has every column it uses)."""
    from .api import validate_accounts
    from .profile.load import load_profile

    prof = load_profile(profile)
    loaded = validate_accounts(prof, accounts) if accounts is not None else None  # "ok" only when all is
    out.print(f"[green]ok[/] {escape(str(profile))}: {len(prof.criteria)} criteria, "
              f"{len(prof.adjustments)} adjustments, {len(prof.disqualifiers)} disqualifiers, "
              f"tiers {', '.join(t.name for t in prof.ordered_tiers)}; version {prof.version_hash}")
    if loaded is not None:
        fields = ", ".join(f"{f.name} <- '{f.header}'" for f in loaded.canonical.fields)
        found = f" (recognised a {loaded.canonical.crm_source} export)" if loaded.canonical.crm_source else ""
        out.print(f"[green]ok[/] {escape(str(accounts))}: {loaded.rows:,} accounts{found}; columns: {escape(fields)}")
        for w in loaded.warnings:
            err.print(f"[yellow]warning:[/] {escape(w)}")


@app.command()
def schema(
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the JSON Schema of profile files (for editor completion)."""
    from .profile.load import json_schema

    text = json_schema()
    if out_file is None:
        sys.stdout.write(text + "\n")
    else:
        out_file.write_text(text + "\n", encoding="utf-8")
        out.print(f"Wrote {escape(str(out_file))}")


@app.command()
def score(
    profile: ProfileOpt,
    accounts: Annotated[str, typer.Option("--accounts", "-a", help="Accounts: CSV, Parquet or JSON lines; or, with "
                                          "a database --backend, a table or view (schema.table).")],
    out_path: Annotated[str, typer.Option("--out", "-o", help="Output .csv, .parquet or .jsonl file, or a table name "
                                          "(of the workspace, or of the --backend database).")],
    on_error: Annotated[OnError, typer.Option(
        "--on-error", help="fail: stop at bad rows; skip: set them aside in <out>.rejects.csv.")] = OnError.fail,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    contacts: ContactsOpt = None,
    backend: BackendOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Score accounts with a profile: fit score, tier, ABM tier, route and reasons; intent from events."""
    import json

    from .api import score_to

    _json_to_stdout(json_out)
    moment = _moment(as_of)
    with _progress(quiet) as progress:
        run = score_to(profile, _input(accounts, backend), out_path, workspace=_workspace(workspace),
                       backend=backend, on_error=on_error.value, progress=progress, events=_input(events, backend),
                       as_of=moment, scored_at=moment, contacts=_input(contacts, backend))
    for w in run.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    if run.rejects.rows:
        err.print(f"[yellow]warning:[/] {len(run.rejects.rows):,} row(s) set aside; see {escape(str(run.rejects_file))}")
    if json_out is not None:
        _write_json(json_out, json.dumps(run.to_dict(), indent=2, default=str) + "\n", quiet=quiet)
    if quiet:
        return
    rate = f" ({run.rows / run.seconds:,.0f}/s)" if run.rows >= 10_000 and run.seconds else ""
    found = f" ({run.crm_source} export)" if run.crm_source else ""
    out.print(f"Scored [bold]{run.rows:,}[/] accounts{found} in {run.seconds:.1f} s{rate} "
              f"with profile version {run.profile_version} -> {escape(run.output)}")
    if run.events is not None:
        ev = run.events
        source = "from the workspace's store" if events is None else "of the types the profile uses, up to the as-of instant"
        extra = [f"{_count(ev.repeated, 'repeated id')} ignored"] if ev.repeated else []
        extra += [f"{_count(ev.unattributed, 'event')} without an account"] if ev.unattributed else []
        out.print(f"Events: {ev.events:,} read ({source})" + "".join(f"; {x}" for x in extra))
    _tier_table(run.tiers, run.rows)
    _top_table(run.top)


@app.command()
def explain(
    domain: Annotated[str, typer.Argument(help="The account's domain (any URL form); its row number in "
                                              "an input without domains.")],
    profile: Annotated[Path | None, typer.Option("--profile", "-p", help="Default: the last run's.")] = None,
    accounts: Annotated[Path | None, typer.Option("--accounts", "-a", help="Default: the last run's.")] = None,
    events: Annotated[Path | None, typer.Option(
        "--events", "-e", help="Events (intent): default the last run's, else the workspace's store.")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Intent as of this date or instant: default the last run's, else now.")] = None,
    contacts: Annotated[Path | None, typer.Option("--contacts", help="Contacts (personas): default the last run's.")] = None,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
) -> None:
    """Print one account's score breakdown: every criterion's points and reason, and its intent.

    Without options it answers from the last run's output file when that run's files are
    unchanged (a fraction of a second); otherwise it scores the accounts again."""
    from .lastrun import explain_from_last_run

    ws = _workspace(workspace)
    quick = None
    if profile is None and accounts is None and events is None and as_of is None and contacts is None:
        quick = explain_from_last_run(ws, domain)
    if quick is not None:
        _print_explained(quick.profile, quick.row, quick.profile_file)
        return
    from .api import explain as explain_account
    from .profile.load import load_profile

    last = ws.settings().get("last_run", {})
    same_run = profile is None and accounts is None

    def remembered(given: Any, key: str) -> Any:
        return given if given is not None or not same_run else last.get(key)

    profile = profile or (Path(last["profile"]) if last.get("profile") else None)
    accounts = accounts or (Path(last["accounts"]) if last.get("accounts") else None)
    if profile is None or accounts is None:
        raise IcpError("no profile or accounts given and no earlier `icp score` run in this workspace",
                       hint="pass --profile and --accounts")
    prof = load_profile(profile)
    when = remembered(as_of, "as_of")
    row = explain_account(prof, accounts, domain, events=remembered(events, "events"),
                          as_of=_moment(when), contacts=remembered(contacts, "contacts"),
                          workspace=ws)
    _print_explained(prof, row, profile)


def _print_explained(prof: Any, row: dict[str, Any], profile: Path) -> None:
    """``icp explain``'s breakdown of one account."""
    title = (row["domain"] if "domain" in row else f"row {row['row']}") + (f" ({row['name']})" if row.get("name") else "")
    if prof.criteria:
        out.print(f"[bold]{escape(title)}[/]: fit score [bold]{row['fit_score']:g}[/], tier {escape(row['tier'])}"
                  + (f", ABM {escape(row['abm_tier'])}" if row.get("abm_tier") else "")
                  + f", route {escape(row['route'])}")
        if row.get("disqualified_by"):
            out.print(f"[red]disqualified[/] by {escape(row['disqualified_by'])}")
        t = Table(show_header=True)
        t.add_column("criterion")
        t.add_column("points", justify="right")
        t.add_column("max", justify="right")
        t.add_column("why", overflow="fold")
        scale = 100.0 / prof.total_weight
        for c in prof.criteria:
            t.add_row(escape(c.key), f"{row['points_' + c.key]:g}", f"{c.weight * scale:g}",
                      escape(row["reason_" + c.key]))
        for a in prof.adjustments:
            pts = row["points_" + a.name]
            t.add_row(escape(a.name), f"{pts:g}", "", escape(row["reason_" + a.name] or "(does not apply)"))
        out.print(t)
    else:
        out.print(f"[bold]{escape(title)}[/]")
    if prof.intent is not None:
        group = f", buying group of {row['buying_group_people']}" if row.get("buying_group") else ""
        priority = f", priority [bold]{row['priority']:g}[/]" if "priority" in row else ""
        out.print(f"intent score [bold]{row['intent_score']:g}[/]{group}{priority}: "
                  f"{escape(row['intent_reasons'] or 'no counted events')}")
        if row.get("personas"):
            out.print(f"personas: {escape(row['personas'])} (* engaged)")
    out.print(f"profile {escape(str(profile))} version {escape(row['profile_version'])}")


@app.command()
def doc(
    profile: ProfileArg,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write .md or .html (default: Markdown to stdout).")] = None,
) -> None:
    """Render the whole ICP as a one-page document (Markdown or self-contained HTML)."""
    from .profile.load import load_profile
    from .report.profile_doc import render_html, render_markdown

    prof = load_profile(profile)
    if out_file is None:
        sys.stdout.write(render_markdown(prof))
        return
    suffix = out_file.suffix.lower()
    if suffix not in (".md", ".html", ".htm"):
        raise IcpError(f"cannot tell the document format from '{out_file.name}'", hint="use a .md or .html file")
    text = render_html(prof) if suffix in (".html", ".htm") else render_markdown(prof)
    _atomic_text(out_file, text)
    out.print(f"Wrote {escape(str(out_file))}")


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the demo CRM and results.")] = Path("icp-demo"),
    accounts: Annotated[int, typer.Option("--accounts", min=10, help="Number of synthetic accounts.")] = 3000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 7,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
) -> None:
    """Generate a synthetic CRM, score it with the demo profile and summarise the result."""
    from .demo.run import run_demo

    with _progress(False) as progress:
        result = run_demo(directory, n_accounts=accounts, seed=seed, workspace=_workspace(workspace), progress=progress)
    run = result.run
    out.print(f"Generated a synthetic CRM in [bold]{escape(str(directory))}[/]: "
              f"{run.rows:,} accounts ({run.crm_source or 'csv'} export), contacts, deals, outcomes, events.")
    out.print(f"Scored it with {escape(str(result.profile))} (version {run.profile_version}) in {run.seconds:.1f} s.")
    _tier_table(run.tiers, run.rows)
    _top_table(run.top)
    if result.win_rates:
        rates = ", ".join(f"{escape(tier)} {rate:.0%}" for tier, rate in result.win_rates.items())
        out.print(f"Win rate of closed deals by tier: {rates}")
    out.print(f"Results: [bold]{escape(run.output)}[/]")
    out.print(f"Next: icp explain {escape(str(next(iter(run.top[0].values())))) if run.top else 'DOMAIN'} --workspace {escape(str(workspace))}"
              f"  ·  icp doc {escape(str(result.profile))}")
    out.print(f"Find the ICP in the deals yourself: icp discover --accounts {escape(str(directory / 'accounts.csv'))} "
              f"--deals {escape(str(directory / 'deals.csv'))}")


@app.command()
def backtest(
    profile: ProfileOpt,
    data: DataOpt,
    label: LabelOpt,
    date: DateOpt = None,
    split_at: SplitAtOpt = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    contacts: ContactsOpt = None,
) -> None:
    """Does the profile's score predict wins? AUC, KS, win rate by tier, gains by decile."""
    from .api import backtest as run_backtest

    _json_to_stdout(json_out)
    bt = run_backtest(profile, data, label, date=date, split_at=split_at, events=events,
                      as_of=_moment(as_of), contacts=contacts)
    used = f"{bt.rows:,} labelled rows ({bt.wins:,} wins, {bt.base_rate:.1%})"
    if bt.split:
        used += (f" dated on or after {bt.split['split_at']} ({escape(str(bt.split['date_column']))}); "
                 f"{bt.split['rows_before']:,} earlier rows left out")
    out.print(f"Backtest of {escape(str(profile))} (version {bt.profile_version}) on {used}")
    out.print(_with_ci(f"AUC [bold]{bt.auc:.3f}[/]", bt.auc_low, bt.auc_high, _auc3) + f"  KS [bold]{bt.ks:.3f}[/]")
    t = Table(title="Win rate by tier", title_justify="left")
    for col in ("tier", "n", "wins", "win rate", "95% interval"):
        t.add_column(col, justify="left" if col == "tier" else "right")
    for r in bt.tiers:
        if r["n"]:
            t.add_row(escape(r["tier"]), f"{r['n']:,}", f"{r['wins']:,}", f"{r['win_rate']:.1%}",
                      f"{r['ci_low']:.1%}-{r['ci_high']:.1%}")
        else:
            t.add_row(escape(r["tier"]), "0", "-", "empty", "-")
    out.print(t)
    bottom_empty = not bt.tiers[-1]["n"]
    ratio = (f"{bt.top_bottom_ratio:.1f}x" if bt.top_bottom_ratio is not None
             else f"undefined (the bottom tier is {'empty' if bottom_empty else 'without wins'})")
    out.print(f"Top tier ({escape(bt.top_tier)}): {bt.top_share:.1%} of rows, {bt.top_recall:.1%} of wins; "
              f"win rate {ratio} the bottom tier's ({escape(bt.bottom_tier)})")
    g = Table(title="Gains by decile (highest scores first)", title_justify="left")
    for col in ("decile", "scores", "n", "wins", "win rate", "cum. wins", "lift"):
        g.add_column(col, justify="right")
    for r in bt.gains:
        g.add_row(str(r["decile"]), f"{r['min_score']:g}-{r['max_score']:g}", f"{r['n']:,}", f"{r['wins']:.1f}",
                  f"{r['win_rate']:.1%}", f"{r['cum_share_wins']:.1%}", f"{r['lift']:.2f}")
    out.print(g)
    verdict = "[green]PASS[/]" if bt.madkudu_pass else "[red]FAIL[/]"
    out.print(f"MadKudu validation bar: {verdict} (top tier = {escape(bt.top_tier)})")
    for name, c in bt.madkudu["checks"].items():
        value = c["value"]
        fmt = (lambda v: f"{v:.1f}x") if name == "top_bottom_ratio" else (lambda v: f"{v:.1%}")
        shown = "undefined" if value is None else fmt(value)
        ci = _range(c.get("low"), c.get("high"), fmt)
        mark = "[green]pass[/]" if c["pass"] else "[red]fail[/]"
        out.print(f"  {mark} {name.replace('_', ' ')}: {shown} ({f'95% CI {ci}; ' if ci else ''}target {c['target']})")
    for note in bt.notes:
        out.print(f"  note: {escape(note)}")
    if bt.shift is not None:
        out.print(f"Shift from the training population: PSI {bt.shift['psi']:.3f} ({bt.shift['level']})")
    for w in bt.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    if json_out is not None:
        _write_json(json_out, bt.to_json())
    if html is not None:
        from .report.evidence import backtest_report, write_report

        write_report(backtest_report(bt.to_dict(), title=f"Backtest of {profile.name}"), html)
        out.print(f"Wrote {escape(str(html))}")


@events_app.command("load")
def events_load(
    path: Annotated[Path, typer.Argument(help="Events: CSV, Parquet or JSON lines with type, occurred_at and "
                                              "domain and/or email (event_id, properties optional).")],
    on_error: EventsOnErrorOpt = OnError.fail,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
) -> None:
    """Add events to the workspace's store; events already stored (same event_id) are not added twice."""
    from .intent.store import load_events

    with err.status("loading events"):
        done = load_events(_workspace(workspace), path, on_error=on_error.value)
    r = done.read
    out.print(f"Read {r.rows:,} rows of {escape(r.label)}: [bold]{done.added:,}[/] new events stored, "
              f"{done.already_stored:,} already stored, {r.duplicates:,} repeated in the file"
              + (f", {r.rejected:,} unreadable left out" if r.rejected else "") + ".")
    if r.unattributed:
        out.print(f"{_count(r.unattributed, 'event')} without an account ({r.free_mail:,} from free-mail addresses "
                  "such as gmail.com): kept, but earning no account intent.")
    out.print(f"The store of {escape(str(workspace))} holds {done.stored:,} events; `icp score` uses them for "
              "profiles with an intent section when no --events is given.")


@events_app.command("types")
def events_types(
    path: Annotated[Path | None, typer.Argument(help="Events file; default: the workspace's store.")] = None,
    on_error: EventsOnErrorOpt = OnError.fail,
    workspace: WorkspaceOpt = Path(DEFAULT_DIR),
) -> None:
    """List the event types (as a profile's signals name them), with their events, accounts,
    people and dates."""
    from .intent.store import event_types

    label, types = event_types(path, workspace=Workspace(workspace), on_error=on_error.value)
    t = Table(title=f"Event types of {escape(label)}", title_justify="left")
    t.add_column("type", overflow="fold")
    for name in ("events", "accounts", "people"):
        t.add_column(name, justify="right")
    t.add_column("first (UTC)", no_wrap=True)
    t.add_column("last (UTC)", no_wrap=True)
    for e in types:
        t.add_row(escape(e.type), f"{e.events:,}", f"{e.accounts:,}", f"{e.people:,}", f"{e.first:%Y-%m-%d}",
                  f"{e.last:%Y-%m-%d}")
    out.print(t)


@app.command()
def discover(
    accounts: Annotated[Path, typer.Option("--accounts", "-a", help="Accounts: CSV, Parquet or JSON lines.")],
    deals: Annotated[Path | None, typer.Option("--deals", help="Deals with an outcome column (won/lost).")] = None,
    outcomes: Annotated[Path | None, typer.Option(
        "--outcomes", help="Measures per account (ARR, NPS, retention months...), keyed like the accounts.")] = None,
    best: Annotated[str, typer.Option(
        "--best", help="Who is best: won (vs lost), win_rate, won_amount, or a numeric health column "
                       "(its top share).")] = "won",
    top_share: Annotated[float, typer.Option("--top-share", help="Share of accounts counted as best by a "
                                                                  "measure.")] = 0.25,
    key: Annotated[str, typer.Option("--key", help="The column joining accounts, deals and outcomes.")] = "domain",
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x", help="A column to leave out "
                                                                             "(repeatable).")] = None,
    min_support: Annotated[int | None, typer.Option(
        "--min-support", min=1, help="Fewest accounts behind a named strongest value or a kill-list suggestion "
                                     "(default: 30, or 1% of the accounts when that is more).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the proposed profile here.")] = None,
    html: HtmlOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Find the attributes that separate the best accounts from the rest, and propose a profile."""
    from .discover.discover import discover as run_discover
    from .report.evidence import discover_report, write_report

    _json_to_stdout(json_out)
    with err.status("discovering"):
        result = run_discover(accounts, deals=deals, outcomes=outcomes, best=best, top_share=top_share, key=key,
                              exclude=exclude or [], min_support=min_support)
    out.print(f"Compared {result.n_best:,} best accounts with {result.n_rest:,} others: "
              f"{escape(result.best_definition)}")
    for note in result.notes[1:]:
        out.print(f"[dim]note: {escape(note)}[/]")
    t = Table(title=f"Attributes by information value (lift = win rate / base rate {result.base_rate:.0%})",
              title_justify="left")
    for col in ("attribute", "IV", "strength", f"strongest value, n >= {result.min_support} (lift, 95% interval)",
                "notes"):
        t.add_column(col, justify="right" if col == "IV" else "left", overflow="fold")
    for a in result.attributes[:15]:
        top = a.strongest
        shown = f"{top.label}: {top.lift:.2f} ({top.lift_low:.2f}-{top.lift_high:.2f})" if top else ""
        notes = ", ".join(([f"leaky? (alone AUC {a.alone_auc:.2f})"] if a.leaky else [])
                          + (["volume, not fit"] if a.volume else [])
                          + ([f"like {', '.join(a.collinear_with)}"] if a.collinear_with else []))
        t.add_row(escape(a.header), f"{a.iv:.3f}", a.strength, escape(shown), escape(notes))
    out.print(t)
    if result.anti:
        out.print("Win far less often (kill-list suggestions): " + "; ".join(
            f"{escape(r['field'])} {escape(r['label'])} (win rate {r['win_rate']:.0%}, lift {r['lift']:.2f})"
            for r in result.anti[:5]))
    if html is not None:
        write_report(discover_report(result.to_dict()), html)
        out.print(f"Wrote {escape(str(html))}")
    if json_out is not None:
        _write_json(json_out, result.to_json())
    if not result.signal:
        raise IcpError(result.notes[-1], hint="the attributes of these accounts do not tell the best from the "
                                              "rest; add attributes, or more accounts")
    if out_path is not None:
        _atomic_text(out_path, result.proposed_profile_yaml)
        out.print(f"Wrote the proposed profile to {escape(str(out_path))} "
                  f"({', '.join(c.name or c.field for c in result.profile.criteria) if result.profile else ''})")
    else:
        out.print(result.proposed_profile_yaml, markup=False, highlight=False)


@app.command()
def learn(
    data: DataOpt,
    label: LabelOpt,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the learned profile (YAML).")],
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", "-x", help="A column to leave out, e.g. one filled in after the outcome (repeatable).")] = None,
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="Keep a column flagged as leaky, deliberately (repeatable).")] = None,
    date: Annotated[str | None, typer.Option(
        "--date", help="A date column: validate by training on the past and testing on the next period.")] = None,
    min_share: Annotated[float, typer.Option(
        "--min-share", help="Fewest records in any group (bin, level, other, missing), as a share.")] = 0.05,
    leak_auc: Annotated[float, typer.Option(
        "--leak-auc", help="A column that alone reaches this AUC is left out as leaky.")] = 0.80,
    name: Annotated[str | None, typer.Option("--name", help="The profile's name.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write the profile even when there is no signal.")] = False,
) -> None:
    """Learn a points scorecard from won/lost records and write it as a profile."""
    from .discover.learn import learn as learn_scorecard
    from .discover.learn import require_signal

    with err.status("learning"):
        result = learn_scorecard(data, label, exclude=exclude or [], allow=allow or [], date=date, name=name,
                                 min_share=min_share, leak_auc=leak_auc)
    out.print(f"Learned from {result.rows:,} labelled records ({result.wins:,} wins, {result.wins / result.rows:.1%}); "
              f"cross-validated AUC [bold]{result.cv_auc:.3f}[/] (95% interval {result.cv_auc_low:.3f}-"
              f"{result.cv_auc_high:.3f})")
    if result.time_auc is not None:
        out.print(f"Trained on the past, tested on the next period: AUC [bold]{result.time_auc:.3f}[/] (95% interval "
                  f"{result.time_auc_low:.3f}-{result.time_auc_high:.3f})")
        f = Table(title="Forward-chaining folds", title_justify="left")
        for col in ("trained on", "tested on", "records", "wins", "AUC"):
            f.add_column(col, justify="left" if col.endswith("on") else "right")
        for fold in result.folds:
            f.add_row(fold.train, fold.test, f"{fold.rows:,}", f"{fold.wins:,}", f"{fold.auc:.3f}")
        out.print(f)
    for leak in result.leaks:
        verdict = "kept (--allow)" if leak.allowed else "left out"
        err.print(f"[yellow]leaky, {verdict}:[/] '{escape(leak.column)}' {escape(leak.reason)}")
    for note in result.notes:
        if not note.startswith("left out as leaky"):
            out.print(f"[dim]note: {escape(note)}[/]")
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    t = Table(title="Criteria, strongest first", title_justify="left")
    for col in ("criterion", "weight", "alone AUC", "groups", "shape"):
        t.add_column(col, justify="left" if col in ("criterion", "shape") else "right")
    for c in result.criteria:
        t.add_row(escape(c.title), f"{c.weight:g}", f"{c.auc:.3f}", str(len(c.groups)), c.shape)
    out.print(t)
    if not force:
        require_signal(result)
    _atomic_text(out_path, result.to_yaml())
    out.print(f"Wrote {escape(str(out_path))}")
    out.print(f"Next: icp backtest --profile {escape(str(out_path))} --data NEW_DATA --label {escape(label)}")


@app.command()
def tam(
    profile: ProfileOpt,
    universe: Annotated[Path, typer.Option("--universe", "-u", help="Companies to size: CSV, Parquet or JSON lines.")],
    narrow: Annotated[int, typer.Option("--narrow", min=0, help="Top tier smaller than this: too narrow.")] = 50,
    broad: Annotated[int, typer.Option("--broad", min=0, help="Top tier larger than this: too broad.")] = 5000,
    broad_share: Annotated[float, typer.Option("--broad-share", min=0, max=1,
                                               help="Top tier above this share of the universe: too broad.")] = 0.2,
    json_out: JsonOpt = None,
) -> None:
    """How many companies of a universe land in each tier; warns when the ICP is too narrow or too broad."""
    import json

    from .api import size_tam
    from .discover.tam import TamLimits
    from .profile.load import load_profile

    _json_to_stdout(json_out)
    with _progress(False) as progress:
        result = size_tam(load_profile(profile), universe, limits=TamLimits(narrow, broad, broad_share),
                          progress=progress)
    out.print(f"TAM of {escape(str(profile))} in {escape(str(universe))}: {result.total:,} companies"
              + (f" ({result.rejected:,} set aside: no usable domain or a duplicate)" if result.rejected else ""))
    _tier_table(result.tiers, result.total)
    for dimension in result.dimensions:
        _segment_table(result, dimension)
    colour = "green" if result.verdict == "ok" else "yellow"
    out.print(f"Top tier ({escape(result.top_tier)}): {result.top:,} companies -> [{colour}]{result.verdict}[/]")
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    if json_out is not None:
        _write_json(json_out, json.dumps(result.to_dict(), indent=2) + "\n")


@app.command()
def compare(
    profile_a: Annotated[Path, typer.Argument(help="The current profile (A).", show_default=False)],
    profile_b: Annotated[Path, typer.Argument(help="The candidate profile (B).", show_default=False)],
    data: DataOpt,
    label: LabelOpt,
    date: DateOpt = None,
    split_at: SplitAtOpt = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Backtest two profiles on the same history, side by side, test whether B ranks better than A, and count
    records that change tier."""
    from .api import compare_profiles

    _json_to_stdout(json_out)
    cmp = compare_profiles(profile_a, profile_b, data, label, date=date, split_at=split_at)
    a, b = cmp.a, cmp.b
    out.print(f"A: {escape(str(profile_a))} (version {a.profile_version})   "
              f"B: {escape(str(profile_b))} (version {b.profile_version})   on {a.rows:,} labelled rows")
    _compare_tables(cmp)
    if json_out is not None:
        _write_json(json_out, cmp.to_json())
    if html is not None:
        from .report.compare import compare_report
        from .report.evidence import write_report

        write_report(compare_report(cmp.to_dict(), names=(profile_a.name, profile_b.name)), html)
        out.print(f"Wrote {escape(str(html))}")



def _input(value: str | Path | None, backend: str | None) -> Any:
    """An input option: a file, or with a database backend a table (``schema.table``) when
    no such file exists."""
    if value is None:
        return None
    from .io.sources import TableName, file_format

    text = str(value)
    database = backend is not None and not backend.strip().lower().startswith("duckdb")
    if database and not Path(text).exists() and "/" not in text:
        try:
            file_format(text)
        except IcpError:
            return TableName(text)
    return Path(text)


@app.command()
def sql(
    profile: ProfileOpt,
    dialect: Annotated[str, typer.Option("--dialect", help="duckdb, postgres, spark, snowflake or bigquery.")] = "duckdb",
    accounts_table: Annotated[str, typer.Option("--accounts-table", help="The accounts table or view the "
                                                "statement reads (schema.table).")] = "accounts",
    text_columns: Annotated[bool, typer.Option("--text-columns", help="The table's columns are all text (a staging "
                                               "table loaded from CSV); default: typed by the profile.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the SQL that scores an accounts table in your warehouse: one statement giving the score table."""
    from .api import scoring_sql

    text = scoring_sql(profile, accounts_table, dialect, text_columns=text_columns)
    if out_file is None:
        sys.stdout.write(text + "\n")
    else:
        _atomic_text(out_file, text + "\n")
        err.print(f"Wrote {escape(str(out_file))}")


def _moment(text: str | None) -> datetime | None:
    """``--as-of``: a date (00:00 UTC) or an ISO 8601 timestamp (UTC when it has no offset)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise IcpError(f"--as-of '{text}' is not a date or timestamp",
                       hint="write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


app.command()(runs)
app.command()(drift)
app.command()(review)
app.command()(serve)
app.command()(enrich)
app.command()(match)
app.command()(dedupe)
app.add_typer(keys_app, name="keys")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``icp``: runs the app and maps errors to exit codes."""
    try:
        app(args=argv, standalone_mode=False)
    except IcpError as exc:
        label = "invalid profile" if isinstance(exc, ProfileError) and len(exc.errors) > 1 else "error"
        err.print(f"[red]{label}:[/] " + "\n".join(escape(line) for line in str(exc).split("\n")))
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 1
    except typer.TyperException as exc:  # usage errors: a user error, exit 1
        if type(exc).__name__ == "NoArgsIsHelpError":
            return 0
        show = getattr(exc, "show", None)
        if callable(show):
            show(file=sys.stderr)
        else:
            err.print(f"[red]error:[/] {escape(exc.format_message())}")
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 1
    except Exception as exc:  # noqa: BLE001 - everything else is a bug: say so, exit 2
        if os.environ.get("ICP_DEBUG"):
            traceback.print_exc()
        err.print(f"[red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}\n"
                  "This is a bug in icpkit; set ICP_DEBUG=1 for the traceback and please report it.")
        return 2
    finally:
        out.stderr = False  # --json - sent the report to standard error for one command
    return 0


if __name__ == "__main__":
    sys.exit(main())
