"""Triggers on real data: Crunchbase's 2013 funding rounds as dated events.

Every funding round is an event of type ``funding_round`` for its company. A profile with a
trigger turns them into account features as of a date (``days_since_funding_round``,
``funding_round_count_365d``) and scores on them. The question a sales team asks of such a
trigger: do recently funded companies raise again (grow, hire, buy) soon after? Here, as of
``--as-of`` (default 2012-01-01), the companies funded at least once before that date are
scored with the trigger profile below, and the score is measured (AUC) against whether the
company raised another round in the 21 months after the date (to 2013-10-01, the end of
the export). As-of scoring matters: scoring as of the end of the export instead lets the
future rounds leak into the features, and the AUC says so.

Crunchbase 2013 has no web domains: companies are keyed by their permalink written as a
host name (``/company/waywire`` -> ``waywire.cb``), in the accounts and in the events alike.

    .venv/bin/python eval/crunchbase_triggers.py [--data-dir ../shared/data] [--as-of 2012-01-01]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import icpkit
from icpkit.discover.backtest import auc
from icpkit.profile.load import parse_profile

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
END = datetime(2013, 10, 1, tzinfo=UTC)

PROFILE = """
name: Funding trigger
triggers:
  - {type: funding_round, window_days: 365}
criteria:
  - field: days_since_funding_round
    weight: 70
    bins:
      - {lte: 90, points: 70, label: funded in the last 90 days}
      - {lte: 180, points: 55, label: funded 3-6 months ago}
      - {lte: 365, points: 40, label: funded 6-12 months ago}
      - {lte: 730, points: 15, label: funded 1-2 years ago}
  - field: funding_round_count_365d
    weight: 30
    bins:
      - {gte: 2, points: 30, label: two or more rounds in a year}
      - {gte: 1, points: 15, label: one round in the last year}
"""


def host(permalink: pd.Series) -> pd.Series:
    slug = permalink.str.replace("/company/", "", regex=False).str.lower()
    return slug.str.replace(r"[^a-z0-9-]+", "-", regex=True).str.strip("-") + ".cb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--as-of", default="2012-01-01")
    args = parser.parse_args(argv)
    folder = args.data_dir / "crunchbase_2013"
    if not (folder / "crunchbase-rounds.csv").is_file():
        sys.exit(f"crunchbase_triggers.py: no crunchbase_2013/crunchbase-rounds.csv under {args.data_dir} "
                 "(use --data-dir)")
    as_of = datetime.fromisoformat(args.as_of).replace(tzinfo=UTC)
    rounds = pd.read_csv(folder / "crunchbase-rounds.csv", encoding="mac_roman")
    rounds = rounds[rounds["company_permalink"].notna() & rounds["funded_at"].notna()].copy()
    rounds["domain"] = host(rounds["company_permalink"])
    when = pd.to_datetime(rounds["funded_at"], errors="coerce", utc=True)
    rounds = rounds[when.notna()].assign(occurred_at=when[when.notna()])

    before = rounds[rounds["occurred_at"] < as_of]
    after = rounds[(rounds["occurred_at"] >= as_of) & (rounds["occurred_at"] <= END)]
    accounts = pd.DataFrame({"domain": sorted(set(before["domain"]))})
    label = accounts["domain"].isin(set(after["domain"])).astype(int).to_numpy()
    events = pd.DataFrame({
        "event_id": [f"round-{i}" for i in range(len(rounds))],
        "domain": rounds["domain"].to_numpy(),
        "type": "funding_round",
        "occurred_at": rounds["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
    })
    profile = parse_profile(PROFILE)
    print(f"Crunchbase 2013: {len(rounds):,} funding rounds of {rounds['domain'].nunique():,} companies.")
    print(f"As of {as_of:%Y-%m-%d}: {len(accounts):,} companies funded before; {label.sum():,} "
          f"({label.mean():.1%}) raised again by {END:%Y-%m-%d}.\n")
    with tempfile.TemporaryDirectory() as tmp:
        events_path = Path(tmp) / "events.csv"
        events.to_csv(events_path, index=False)
        rows = ["| scored as of | AUC of the trigger profile | raised again: high tier | others |",
                "|---|---:|---:|---:|"]
        for moment, note in ((as_of, ""), (END, " (leaks the future)")):
            scored = icpkit.score(profile, accounts, events=events_path, as_of=moment)
            scores = scored["fit_score"].to_numpy(dtype=float)
            high = scored["tier"].to_numpy() == "high"
            rows.append(f"| {moment:%Y-%m-%d}{note} | {auc(scores, label):.3f} | "
                        f"{label[high].mean():.1%} of {high.sum():,} | {label[~high].mean():.1%} of {(~high).sum():,} |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
