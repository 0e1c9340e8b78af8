#!/usr/bin/env python
"""Drift on real, time-ordered data: does ``icp drift`` see the moves it should, and stay
quiet where there are none?

Three datasets of ``../shared/data`` (see ``eval/datasets.py`` for how each is read):

* **online shoppers** (sessions of one year, by month): a profile learned on February to
  June (``icpkit.learn``, without the near-leaky ``PageValues``), then drift of each later
  month's sessions against the training months, and the win rate by tier per month;
* **Crunchbase 2013** (companies as of a date, label: acquired within two years): a profile
  learned on the companies as of 2008-01-01, drift of the population as of 2011-01-01;
* **Maven CRM** (closed opportunities, account firmographics, no signal): a profile learned
  on the first half, emerging and fading segments on the second half: there should be none.

Usage (from the repository root)::

    python eval/drift_eval.py                 # a few minutes on 2 cores
    python eval/drift_eval.py --out eval/drift.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from datasets import LOADERS, MONTHS  # eval/datasets.py, next to this script

import icpkit
from icpkit.profile.load import dump_profile

YEAR = 2017  # the shoppers' year is not published; its months are placed in one year


def _learned(frame: pd.DataFrame, label: str, folder: Path, name: str) -> Path:
    learned = icpkit.learn(frame, label)
    path = folder / f"{name}.yaml"
    path.write_text(dump_profile(learned.profile), encoding="utf-8")
    return path


def _row(title: str, d: icpkit.api.Drift) -> str:
    worst = max(((k, v) for k, v in d.to_dict()["attributes"].items() if v is not None), key=lambda kv: kv[1],
                default=("-", None))
    psi = "not enough data" if d.score.psi is None else f"{d.score.psi:.3f} ({d.score.level})"
    top = f"{worst[0]} {worst[1]:.3f}" if worst[1] is not None else "-"
    return (f"| {title} | {psi} | {top} | {len(d.emerging)} | {len(d.fading)} | "
            f"{'; '.join(f'{s.attribute} = {s.value} ({s.win_rate:.0%} vs {s.tier_win_rate:.0%}, n={s.n})' for s in d.emerging[:2]) or '-'} |")


def shoppers(data_dir: Path, tmp: Path) -> list[str]:
    ds = LOADERS["online_shoppers_no_pagevalues"](data_dir)
    raw = pd.read_csv(data_dir / "online_shoppers_intention" / "online_shoppers_intention.csv")
    frame = ds.frame.copy()
    frame["date"] = [f"{YEAR}-{MONTHS[m]:02d}-15" for m in raw["Month"]]
    month = raw["Month"].map(MONTHS)
    train = frame[month <= 6].drop(columns=["date"])
    profile = _learned(train, ds.label, tmp, "shoppers")
    data = tmp / "shoppers.csv"
    frame.to_csv(data, index=False)
    lines = []
    names = {n: m for m, n in MONTHS.items()}
    for m in (7, 8, 9, 10, 11, 12):
        d = icpkit.drift(profile, f"{YEAR}-02-01..{YEAR}-06-30", f"{YEAR}-{m:02d}", data=data, label=ds.label,
                         date="date")
        lines.append(_row(f"shoppers: Feb-Jun vs {names[m]}", d))
    return lines


def crunchbase(data_dir: Path, tmp: Path) -> list[str]:
    ds = LOADERS["crunchbase"](data_dir)
    split = ds.out_of_time[-1]
    train_idx, test_idx = split.folds[0]
    train, test = ds.frame.iloc[train_idx], ds.frame.iloc[test_idx]
    profile = _learned(train, ds.label, tmp, "crunchbase")
    a, b = tmp / "cb_2009.csv", tmp / "cb_2011.csv"
    train.to_csv(a, index=False)
    test.to_csv(b, index=False)
    d = icpkit.drift(profile, str(a), str(b), label=ds.label)
    return [_row("crunchbase: as of 2009-01-01 vs 2011-01-01", d)]


def maven(data_dir: Path, tmp: Path) -> list[str]:
    ds = LOADERS["maven_crm"](data_dir)
    frame = ds.frame.copy()
    frame["date"] = ds.order.dt.strftime("%Y-%m-%d").to_numpy()
    half = len(frame) // 2
    cut = frame["date"].iloc[half]
    first = frame[frame["date"] < cut]
    try:
        profile = _learned(first.drop(columns=["date"]), ds.label, tmp, "maven")
    except icpkit.IcpError as exc:  # no signal: learn refuses; force it for the drift
        print(f"maven: {exc}", file=sys.stderr)
        learned = icpkit.api.learn(first.drop(columns=["date"]), ds.label)
        profile = tmp / "maven.yaml"
        profile.write_text(dump_profile(learned.profile), encoding="utf-8")
    data = tmp / "maven.csv"
    frame.to_csv(data, index=False)
    last = frame["date"].iloc[-1]
    d = icpkit.drift(profile, f"{frame['date'].iloc[0]}..{cut}", f"{cut}..{last}", data=data, label=ds.label,
                     date="date", every="quarter")
    return [_row("maven: first half vs second half", d)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        print(f"no data directory {args.data_dir}", file=sys.stderr)
        return 1
    head = ["| comparison | score stability | most moved criterion | emerging | fading | strongest emerging |",
            "|---|---|---|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        rows = shoppers(args.data_dir, tmp) + crunchbase(args.data_dir, tmp) + maven(args.data_dir, tmp)
    text = "\n".join(head + rows) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
