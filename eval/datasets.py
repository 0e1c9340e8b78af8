"""The datasets and splits of ``eval/evaluate.py`` (see its docstring and docs/evaluation.md).

Every loader reads one folder of ``--data-dir`` (``../shared/data`` next to the repository;
each folder's SOURCE.md describes the files) and returns a :class:`Dataset`: one frame of
features and a 0/1 label, and how to split it.

* ``x_education`` -- ``x_education_leads/Leads.csv``, label ``Converted``. The sales-assigned
  and post-contact columns (``LEAKY_X_EDUCATION``) and the identifiers are removed; the
  form placeholder ``"Select"`` is read as missing (as SOURCE.md advises).
* ``x_education_leaky_input`` -- the same leads, rows and folds, but the icpkit model is
  given the leaky columns and the identifiers too (``Select`` still read as missing): it
  must keep them out itself (its leakage guard). The baselines see the ``x_education``
  frame, without them. Random split only (stratified 5-fold CV).
* ``maven_crm`` -- ``maven_crm_sales_opportunities``: closed opportunities (``deal_stage``
  Won/Lost; Engaging/Prospecting dropped) joined many-to-one to ``accounts.csv``; label
  ``won`` (1 = Won). Features are the account firmographics only (``MAVEN_FEATURES``).
* ``online_shoppers`` / ``online_shoppers_no_pagevalues`` -- ``online_shoppers_intention``:
  12,330 web sessions of one year, label ``Revenue`` (the session ended in a purchase). The
  only time stamp is ``Month`` (no year, no day; Jan and Apr absent). Out-of-time splits by
  month: the split SOURCE.md suggests (train Feb-Sep, test Oct-Dec) and forward chaining
  by month (train on every month before Oct / Nov / Dec, test on that month). ``Month``
  itself is not a feature: the test months never occur in training, so a month's effect
  cannot be learned, only its base rate, which does not rank sessions within a test set.
  The integer codes ``OperatingSystems``, ``Browser``, ``Region`` and ``TrafficType`` are
  nominal (their meaning is unpublished) and are given to every model as text levels
  (``os2``, ``browser1``, ...). ``SpecialDay`` is kept (it is 0 in every test month).
  The second variant drops ``PageValues``, which partly encodes the purchase (GA computes
  it from the pages seen before a transaction; alone it reaches AUC 0.863).
* ``crunchbase`` -- ``crunchbase_2013`` (October 2013 export; Mac Roman, bare CR): an
  account-level, as-of task. For an as-of date D, the population is every company with a
  funding round dated before D and no acquisition dated before D; its features are only
  what was known at D (see :func:`crunchbase_as_of`); the label is 1 when the company was
  acquired in [D, D + 2 years) by ``acquisitions.csv``'s ``acquired_at``. IPOs are not in
  the label: the export has no IPO date, only the 2013 ``status``, which is never used
  (neither are ``funding_total_usd``, ``funding_rounds``, ``last_funding_at`` or
  ``last_milestone_at`` of companies.csv: all are as of 2013). Splits: train on the
  companies as of D, test on the companies as of D' = D + 2 years, for D = 2008-01-01
  and 2009-01-01. Every training label is known by D' (no training label falls after the
  test's as-of date), and a company acquired in the training window is no longer in the
  test population, so no company carries its label across. One limit no split removes:
  the export was filled in after the fact, so companies later acquired may have their
  early rounds recorded more completely than others.

Splits are lists of (train, test) index folds:

* ``cv5`` -- stratified 5-fold CV, shuffled with a fixed seed; mean and per-fold AUC
  (``x_education``, ``x_education_leaky_input``, ``maven_crm``).
* ``time`` -- train on the earliest 80 %, test on the latest 20 % (``x_education``,
  ``maven_crm``). X Education has no date column: rows are ordered by ``Lead Number``
  ascending, *assumed* chronological (the CSV export lists leads by descending Lead Number,
  newest-first like a CRM export, and process changes such as the ``Asymmetrique`` fields
  being filled and ``Lead Import`` appearing occur in contiguous Lead Number ranges). Maven
  is ordered by ``engage_date``; the cut is made on a date, so that deals engaged on the
  same day are never split across train and test (train is therefore slightly under 80 %).
* ``cv5_by_account`` (Maven only) -- stratified 5-fold CV grouped by account. Every
  opportunity of an account shares the same features, so plain CV and the time split put
  the same accounts in train and test; this split shows the score on unseen accounts.
* the datasets' own out-of-time splits (``online_shoppers*``: ``oot_oct_dec``,
  ``forward_oct``, ``forward_nov``, ``forward_dec``; ``crunchbase``: ``as_of_2010``,
  ``as_of_2011``), one fold each, described above. ``--quick`` runs only these and ``time``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

SEED = 0
N_FOLDS = 5
TEST_FRACTION = 0.2

X_EDUCATION_DIR = "x_education_leads"
MAVEN_DIR = "maven_crm_sales_opportunities"
SHOPPERS_DIR = "online_shoppers_intention"
CRUNCHBASE_DIR = "crunchbase_2013"

# Set by the sales team during or after contact (see x_education_leads/SOURCE.md): target leakage.
LEAKY_X_EDUCATION = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
    "Last Activity",
    "Last Notable Activity",
)
IDS_X_EDUCATION = ("Prospect ID", "Lead Number")
MAVEN_FEATURES = ("sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of")

#: Online shoppers: month name -> month number (the file spells June in full; Jan and Apr are absent).
MONTHS = {"Feb": 2, "Mar": 3, "May": 5, "June": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}
#: Online shoppers' nominal integer codes, and the prefix that makes each a text level.
SHOPPERS_CODES = {"OperatingSystems": "os", "Browser": "browser", "Region": "region", "TrafficType": "traffic"}

#: Crunchbase: (train as of, test as of); the label window is LABEL_YEARS after each date.
CRUNCHBASE_SPLITS = (("2008-01-01", "2010-01-01"), ("2009-01-01", "2011-01-01"))
LABEL_YEARS = 2
#: Round types counted one by one (crowdfunding, 30 rounds in all, is counted with "other").
ROUND_TYPES = ("angel", "series-a", "series-b", "series-c+", "venture", "private-equity", "post-ipo", "other")

Fold = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Split:
    name: str
    description: str
    folds: list[Fold]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    frame: pd.DataFrame  # features + label, one row per lead/opportunity/session/company
    label: str
    order: pd.Series | None = None  # chronological key for the generic time-ordered split (aligned with frame)
    order_note: str = ""
    groups: pd.Series | None = None  # account of each row, for grouped CV
    out_of_time: tuple[Split, ...] = ()  # the dataset's own out-of-time splits (replace the generic one)
    random_cv: bool = True  # run stratified 5-fold CV (not with --quick)
    #: Columns given only to the models that must clean their input themselves (icpkit), aligned with frame.
    raw_extra: pd.DataFrame | None = None
    leaky: tuple[str, ...] = ()  # columns known to leak the label: a model using one is flagged
    #: Columns kept deliberately although icpkit's leakage check flags them (``icp learn --allow``).
    allow: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def splits(self, quick: bool) -> list[Split]:
        """``--quick``: the out-of-time splits only; otherwise random CV first, then those."""
        timed = list(self.out_of_time) or ([time_ordered(self)] if self.order is not None else [])
        if quick:
            return timed
        return ([stratified_cv(self)] if self.random_cv else []) + timed + (
            [grouped_cv(self)] if self.groups is not None else [])


# ---------------------------------------------------------------------------- X Education, Maven


def _x_education_raw(data_dir: Path) -> pd.DataFrame:
    raw = pd.read_csv(data_dir / X_EDUCATION_DIR / "Leads.csv")
    raw = raw.sort_values("Lead Number", kind="stable").reset_index(drop=True)
    text = [c for c in raw.columns if not pd.api.types.is_numeric_dtype(raw[c])]
    raw[text] = raw[text].replace("Select", np.nan)
    return raw


def load_x_education(data_dir: Path) -> Dataset:
    raw = _x_education_raw(data_dir)
    return Dataset(
        name="x_education",
        title="X Education leads (leaky columns and ids removed)",
        frame=raw.drop(columns=[*LEAKY_X_EDUCATION, *IDS_X_EDUCATION]),
        label="Converted",
        order=raw["Lead Number"],
        order_note="ordered by Lead Number ascending (assumed chronological; no date column)",
    )


def load_x_education_leaky_input(data_dir: Path) -> Dataset:
    raw = _x_education_raw(data_dir)
    extra = [*LEAKY_X_EDUCATION, *IDS_X_EDUCATION]
    return Dataset(
        name="x_education_leaky_input",
        title="X Education leads, leaky columns and ids in icpkit's input",
        frame=raw.drop(columns=extra),
        label="Converted",
        raw_extra=raw[extra],
        leaky=LEAKY_X_EDUCATION,
        notes=("icpkit_learned is given every column of Leads.csv (the 9 leaky columns and the 2 ids included, "
               "`Select` read as missing) and must leave the leaky ones out itself; the baselines see the "
               "x_education frame without them (the same rows and folds as x_education's cv5)",),
    )


def load_maven(data_dir: Path) -> Dataset:
    folder = data_dir / MAVEN_DIR
    pipeline = pd.read_csv(folder / "sales_pipeline.csv")
    accounts = pd.read_csv(folder / "accounts.csv")
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])]
    joined = closed.merge(accounts, on="account", how="inner", validate="many_to_one")
    if len(joined) != len(closed):
        raise SystemExit(f"maven_crm: {len(closed) - len(joined)} closed opportunities have no account row")
    joined["engage_date"] = pd.to_datetime(joined["engage_date"])
    joined = joined.sort_values(["engage_date", "opportunity_id"], kind="stable").reset_index(drop=True)
    frame = joined[list(MAVEN_FEATURES)].copy()
    frame["won"] = (joined["deal_stage"] == "Won").astype(int)
    return Dataset(
        name="maven_crm",
        title="Maven CRM closed opportunities (account firmographics only)",
        frame=frame,
        label="won",
        order=joined["engage_date"],
        order_note="ordered by engage_date; cut on a date so no day spans train and test",
        groups=joined["account"],
    )


# ---------------------------------------------------------------------------- online shoppers


def load_online_shoppers(data_dir: Path, *, page_values: bool = True) -> Dataset:
    raw = pd.read_csv(data_dir / SHOPPERS_DIR / "online_shoppers_intention.csv")
    month = raw["Month"].map(MONTHS)
    if month.isna().any():
        raise SystemExit(f"online_shoppers: unknown Month values {sorted(raw.loc[month.isna(), 'Month'].unique())}")
    frame = raw.drop(columns=["Month"] if page_values else ["Month", "PageValues"])
    for col, prefix in SHOPPERS_CODES.items():
        frame[col] = prefix + raw[col].astype(str)
    frame["Revenue"] = raw["Revenue"].astype(int)
    month_no = month.to_numpy()
    names = {m: n for n, m in MONTHS.items()}

    def by_month(name: str, train_months: str, train: np.ndarray, test: np.ndarray, test_months: str) -> Split:
        return Split(name, f"out of time by month: train on {train_months}, test on {test_months}",
                     [(np.flatnonzero(train), np.flatnonzero(test))])

    splits = [by_month("oot_oct_dec", "Feb-Sep", month_no <= 9, month_no >= 10, "Oct-Dec (split of SOURCE.md)")]
    splits += [by_month(f"forward_{names[m].lower()}", f"Feb-{names[m - 1]}", month_no < m, month_no == m,
                        f"{names[m]} (forward chaining)") for m in (10, 11, 12)]
    what = "with PageValues" if page_values else "without PageValues"
    return Dataset(
        name="online_shoppers" if page_values else "online_shoppers_no_pagevalues",
        title=f"Online shoppers sessions ({what})",
        frame=frame,
        label="Revenue",
        out_of_time=tuple(splits),
        random_cv=False,
        # the "with" variant keeps the near-leaky PageValues on purpose, as a user would with --allow
        allow=("PageValues",) if page_values else (),
    )


def load_online_shoppers_no_pagevalues(data_dir: Path) -> Dataset:
    return load_online_shoppers(data_dir, page_values=False)


# ---------------------------------------------------------------------------- Crunchbase


def _read_crunchbase(data_dir: Path, what: str) -> pd.DataFrame:
    out = pd.read_csv(data_dir / CRUNCHBASE_DIR / f"crunchbase-{what}.csv", encoding="mac_roman")
    return out.dropna(how="all").reset_index(drop=True)  # acquisitions.csv holds ~1,500 all-empty rows


def crunchbase_as_of(companies: pd.DataFrame, rounds: pd.DataFrame, acquisitions: pd.DataFrame,
                     as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per company funded before ``as_of`` and not acquired before it: the features
    known at ``as_of`` and the label ``acquired_2y`` (acquired in [as_of, as_of + LABEL_YEARS)).

    From companies.csv only the static description is used (category, state, metro, founding
    date, the latter only when before ``as_of``); every other feature is computed from the
    rounds dated before ``as_of`` and the acquisitions the company made (as acquirer) before it."""
    end = as_of + pd.DateOffset(years=LABEL_YEARS)
    before = rounds[rounds["funded_at"] < as_of]
    acquired = acquisitions.groupby("company_permalink")["acquired_at"]
    first_acquired = acquired.min()
    in_window = acquisitions[(acquisitions["acquired_at"] >= as_of) & (acquisitions["acquired_at"] < end)]
    funded = pd.Index(before["company_permalink"].unique())
    gone = pd.Index(first_acquired.index[first_acquired < as_of])
    population = funded.difference(gone)

    base = companies.set_index("permalink").reindex(population)
    per = before[before["company_permalink"].isin(population)].groupby("company_permalink")
    last = before.sort_values("funded_at", kind="stable").groupby("company_permalink").tail(1).set_index(
        "company_permalink").reindex(population)
    years = 365.25
    founded = base["founded_at"].where(base["founded_at"] < as_of)
    out = pd.DataFrame(index=population)
    out["category"] = base["category_code"]
    out["state"] = base["state_code"]
    out["metro"] = base["region"]
    out["years_since_founded"] = (as_of - founded).dt.days / years
    out["rounds"] = per.size().reindex(population)
    out["raised_usd"] = per["raised_amount_usd"].sum(min_count=1).reindex(population)
    out["years_since_first_round"] = (as_of - per["funded_at"].min().reindex(population)).dt.days / years
    out["years_since_last_round"] = (as_of - last["funded_at"]).dt.days / years
    out["last_round_type"] = last["funding_round_type"]
    out["last_round_usd"] = last["raised_amount_usd"]
    recent = before[before["funded_at"] >= as_of - pd.DateOffset(years=1)]
    out["rounds_last_year"] = recent.groupby("company_permalink").size().reindex(population).fillna(0)
    kind = before["funding_round_type"].where(before["funding_round_type"].isin(ROUND_TYPES), "other")
    counts = pd.crosstab(before["company_permalink"], kind).reindex(index=population, columns=list(ROUND_TYPES))
    for t in ROUND_TYPES:
        out[f"{t.replace('-', '_').replace('+', '_plus')}_rounds"] = counts[t].fillna(0)
    made = acquisitions[acquisitions["acquired_at"] < as_of].groupby("acquirer_permalink").size()
    out["acquisitions_made"] = made.reindex(population).fillna(0)
    out["acquired_2y"] = population.isin(in_window["company_permalink"]).astype(int)

    # No feature may come from after the as-of date.
    assert (out["years_since_last_round"] > 0).all() and (out["years_since_first_round"] > 0).all()
    assert (out["years_since_founded"].dropna() > 0).all()
    assert (out["rounds"] >= 1).all() and (out["rounds"] >= out["rounds_last_year"]).all()
    return out.reset_index(drop=True)


def load_crunchbase(data_dir: Path) -> Dataset:
    companies = _read_crunchbase(data_dir, "companies")
    rounds = _read_crunchbase(data_dir, "rounds")
    acquisitions = _read_crunchbase(data_dir, "acquisitions")
    companies["founded_at"] = pd.to_datetime(companies["founded_at"], errors="coerce")
    rounds["funded_at"] = pd.to_datetime(rounds["funded_at"], errors="coerce")
    acquisitions["acquired_at"] = pd.to_datetime(acquisitions["acquired_at"], errors="coerce")
    rounds = rounds[rounds["funded_at"].notna()]
    acquisitions = acquisitions[acquisitions["acquired_at"].notna() & acquisitions["company_permalink"].notna()]

    dates = sorted({d for pair in CRUNCHBASE_SPLITS for d in pair})
    panels = [crunchbase_as_of(companies, rounds, acquisitions, pd.Timestamp(d)).assign(_as_of=d) for d in dates]
    stacked = pd.concat(panels, ignore_index=True)
    as_of = stacked.pop("_as_of").to_numpy()
    splits = []
    for train_date, test_date in CRUNCHBASE_SPLITS:
        splits.append(Split(
            f"as_of_{test_date[:4]}",
            f"out of time: train on the companies as of {train_date} (label: acquired in the {LABEL_YEARS} years "
            f"after), test on the companies as of {test_date} (acquired in the {LABEL_YEARS} years after)",
            [(np.flatnonzero(as_of == train_date), np.flatnonzero(as_of == test_date))]))
    return Dataset(
        name="crunchbase",
        title=f"Crunchbase 2013 companies: acquired within {LABEL_YEARS} years of the as-of date",
        frame=stacked,
        label="acquired_2y",
        out_of_time=tuple(splits),
        random_cv=False,
    )


LOADERS: dict[str, Callable[[Path], Dataset]] = {
    "x_education": load_x_education,
    "x_education_leaky_input": load_x_education_leaky_input,
    "maven_crm": load_maven,
    "online_shoppers": load_online_shoppers,
    "online_shoppers_no_pagevalues": load_online_shoppers_no_pagevalues,
    "crunchbase": load_crunchbase,
}
#: The files each dataset reads, relative to --data-dir (checked before anything runs).
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "x_education": (f"{X_EDUCATION_DIR}/Leads.csv",),
    "x_education_leaky_input": (f"{X_EDUCATION_DIR}/Leads.csv",),
    "maven_crm": (f"{MAVEN_DIR}/sales_pipeline.csv", f"{MAVEN_DIR}/accounts.csv"),
    "online_shoppers": (f"{SHOPPERS_DIR}/online_shoppers_intention.csv",),
    "online_shoppers_no_pagevalues": (f"{SHOPPERS_DIR}/online_shoppers_intention.csv",),
    "crunchbase": tuple(f"{CRUNCHBASE_DIR}/crunchbase-{w}.csv" for w in ("companies", "rounds", "acquisitions")),
}


# ---------------------------------------------------------------------------- generic splits


def stratified_cv(ds: Dataset) -> Split:
    y = ds.frame[ds.label].to_numpy()
    cv = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    folds = list(cv.split(np.zeros(len(y)), y))
    return Split("cv5", f"stratified {N_FOLDS}-fold CV (shuffled, seed {SEED})", folds)


def grouped_cv(ds: Dataset) -> Split:
    assert ds.groups is not None
    y = ds.frame[ds.label].to_numpy()
    cv = StratifiedGroupKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    folds = list(cv.split(np.zeros(len(y)), y, groups=ds.groups.to_numpy()))
    n_groups = ds.groups.nunique()
    return Split(
        "cv5_by_account", f"stratified {N_FOLDS}-fold CV grouped by account ({n_groups} accounts, seed {SEED})", folds
    )


def time_ordered(ds: Dataset) -> Split:
    """Earliest ~80 % train, latest ~20 % test; rows sharing the cut-off key all go to test."""
    assert ds.order is not None
    key = ds.order.to_numpy()
    cutoff = np.sort(key)[math.floor(len(key) * (1 - TEST_FRACTION))]
    train = np.flatnonzero(key < cutoff)
    test = np.flatnonzero(key >= cutoff)
    return Split("time", f"time-ordered split, {ds.order_note}", [(train, test)])
