#!/usr/bin/env python
"""Out-of-sample ROC-AUC of baseline lead/account scorers on two public datasets.

A standalone evaluation script (not part of the icpkit package). It answers one question:
how well do standard, lightly configured learners rank held-out leads/opportunities, so
that a learned icpkit scorecard can be compared against them on the same splits.

Datasets (read from ``--data-dir``; see each folder's SOURCE.md):

* ``x_education`` -- ``x_education_leads/Leads.csv``, label ``Converted``. The sales-assigned
  and post-contact columns (``LEAKY_X_EDUCATION``) and the identifiers are removed; the
  form placeholder ``"Select"`` is read as missing (as SOURCE.md advises).
* ``maven_crm`` -- ``maven_crm_sales_opportunities``: closed opportunities (``deal_stage``
  Won/Lost; Engaging/Prospecting dropped) joined many-to-one to ``accounts.csv``; label
  ``won`` (1 = Won). Features are the account firmographics only (``MAVEN_FEATURES``).

Splits:

* ``cv5`` -- stratified 5-fold CV, shuffled with a fixed seed; mean and per-fold AUC.
* ``time`` -- train on the earliest 80 %, test on the latest 20 %. X Education has no date
  column: rows are ordered by ``Lead Number`` ascending, *assumed* chronological (the
  CSV export lists leads by descending Lead Number, newest-first like a CRM export, and
  process changes such as the ``Asymmetrique`` fields being filled and ``Lead Import``
  appearing occur in contiguous Lead Number ranges). Maven is ordered by ``engage_date``;
  the cut is made on a date, so that deals engaged on the same day are never split
  across train and test (train is therefore slightly under 80 %).
* ``cv5_by_account`` (Maven only) -- stratified 5-fold CV grouped by account. Every
  opportunity of an account shares the same features, so plain CV and the time split put
  the same accounts in train and test; this split shows the score on unseen accounts.

Models are plain functions ``fit_predict(train, test, label) -> scores`` collected in
``MODELS``. ``train`` holds the features and the label column; ``test`` holds the same
features without the label. Scores only need to rank (higher = more likely positive).

Usage (from the repository root)::

    python eval/evaluate.py                      # all models, all splits
    python eval/evaluate.py --quick              # time-ordered split only
    python eval/evaluate.py --models hgb,logreg_onehot --out eval/results.md
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

SEED = 0
N_FOLDS = 5
TEST_FRACTION = 0.2
MISSING_LEVEL = "(missing)"

X_EDUCATION_DIR = "x_education_leads"
MAVEN_DIR = "maven_crm_sales_opportunities"

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

FitPredict = Callable[[pd.DataFrame, pd.DataFrame, str], np.ndarray]
Fold = tuple[np.ndarray, np.ndarray]


# ---------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    frame: pd.DataFrame  # features + label, one row per lead/opportunity
    label: str
    order: pd.Series  # chronological key for the time split (aligned with frame)
    order_note: str
    groups: pd.Series | None = None  # account of each row, for grouped CV


def load_x_education(data_dir: Path) -> Dataset:
    raw = pd.read_csv(data_dir / X_EDUCATION_DIR / "Leads.csv")
    raw = raw.sort_values("Lead Number", kind="stable").reset_index(drop=True)
    frame = raw.drop(columns=[*LEAKY_X_EDUCATION, *IDS_X_EDUCATION])
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    frame[categorical] = frame[categorical].replace("Select", np.nan)
    return Dataset(
        name="x_education",
        title="X Education leads (leaky columns and ids removed)",
        frame=frame,
        label="Converted",
        order=raw["Lead Number"],
        order_note="ordered by Lead Number ascending (assumed chronological; no date column)",
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


LOADERS: dict[str, Callable[[Path], Dataset]] = {"x_education": load_x_education, "maven_crm": load_maven}
REQUIRED_FILES = (
    f"{X_EDUCATION_DIR}/Leads.csv",
    f"{MAVEN_DIR}/sales_pipeline.csv",
    f"{MAVEN_DIR}/accounts.csv",
)


# ---------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class Split:
    name: str
    description: str
    folds: list[Fold]


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
    key = ds.order.to_numpy()
    cutoff = np.sort(key)[math.floor(len(key) * (1 - TEST_FRACTION))]
    train = np.flatnonzero(key < cutoff)
    test = np.flatnonzero(key >= cutoff)
    return Split("time", f"time-ordered split, {ds.order_note}", [(train, test)])


# ---------------------------------------------------------------------------- models


def feature_columns(frame: pd.DataFrame, label: str) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns; anything non-numeric (strings, Yes/No) is categorical."""
    features = [c for c in frame.columns if c != label]
    numeric = [
        c for c in features if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    categorical = [c for c in features if c not in numeric]
    return numeric, categorical


def with_missing_level(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Categoricals as plain-object strings, missing values as their own level."""
    out = frame.copy()
    for col in categorical:
        out[col] = out[col].astype(object).where(out[col].notna(), MISSING_LEVEL).astype(str).astype(object)
    return out


def fit_predict_hgb(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """HistGradientBoosting with native categorical splits (ordinal codes, missing as a level).

    Defaults, except a smaller learning rate with more rounds and early stopping on a
    10 % stratified validation slice of the training data (standard practice, no search).
    Unseen test categories become NaN, which the trees send down the learned missing branch.
    """
    numeric, categorical = feature_columns(train, label)
    encode = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=250),
                categorical,
            ),
            ("num", "passthrough", numeric),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = Pipeline(
        [
            ("encode", encode),
            (
                "hgb",
                HistGradientBoostingClassifier(
                    learning_rate=0.05,
                    max_iter=500,
                    early_stopping=True,
                    validation_fraction=0.1,
                    n_iter_no_change=20,
                    categorical_features=categorical,
                    random_state=SEED,
                ),
            ),
        ]
    )
    model.fit(with_missing_level(train.drop(columns=label), categorical), train[label])
    return model.predict_proba(with_missing_level(test, categorical))[:, 1]


def fit_predict_logreg_onehot(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """Plain L2 logistic regression (C=1) on one-hot categoricals and standardised numerics.

    Numerics: median imputation plus a missing-indicator column, then standardisation.
    Categoricals: one-hot, missing as its own level, unseen test levels ignored (all zeros).
    """
    numeric, categorical = feature_columns(train, label)
    prepare = ColumnTransformer(
        [
            (
                "num",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", StandardScaler())]
                ),
                numeric,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    model = Pipeline([("prepare", prepare), ("lr", LogisticRegression(C=1.0, max_iter=5000))])
    model.fit(with_missing_level(train.drop(columns=label), categorical), train[label])
    return model.predict_proba(with_missing_level(test, categorical))[:, 1]


def fit_predict_optbinning(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """optbinning Scorecard: optimal monotone WoE bins per feature + logistic regression.

    Numerics are binned with ``monotonic_trend="auto_asc_desc"`` (monotone, direction chosen
    by the data); categoricals are grouped by event rate (optbinning's default). Missing
    values get their own bin and are scored with that bin's empirical WoE
    (``metric_missing="empirical"``; the library default of 0 would throw that signal away).
    Unseen test categories get WoE 0. No variable selection, no score scaling.
    """
    from optbinning import BinningProcess, Scorecard  # lazy: heavy import, only needed here

    numeric, categorical = feature_columns(train, label)
    features = numeric + categorical

    def as_input(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[features].copy()
        for col in categorical:  # plain objects with NaN: optbinning's missing bin
            out[col] = out[col].astype(object).where(out[col].notna(), np.nan)
        return out

    binning = BinningProcess(
        variable_names=features,
        categorical_variables=categorical,
        binning_fit_params={col: {"monotonic_trend": "auto_asc_desc"} for col in numeric},
    )
    scorecard = Scorecard(binning_process=binning, estimator=LogisticRegression(C=1.0, max_iter=5000))
    scorecard.fit(as_input(train), train[label].to_numpy(), metric_missing="empirical", metric_special="empirical")
    return scorecard.predict_proba(as_input(test))[:, 1]


def fit_predict_icpkit(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """icpkit's learned scorecard (``icp learn``): learn a points profile on ``train``, score
    ``test`` with the same engine as ``icp score``; the score is the profile's fit score."""
    import icpkit
    from icpkit.discover.learn import learn

    learned = learn(train, label)
    scored = icpkit.score(learned.profile, test.reset_index(drop=True))
    return scored["fit_score"].to_numpy(dtype=float)


MODELS: dict[str, FitPredict] = {
    "hgb": fit_predict_hgb,
    "logreg_onehot": fit_predict_logreg_onehot,
    "optbinning_scorecard": fit_predict_optbinning,
    "icpkit_learned": fit_predict_icpkit,
}


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Result:
    model: str
    aucs: list[float]
    seconds: float


def evaluate(ds: Dataset, split: Split, name: str, fit_predict: FitPredict) -> Result:
    y = ds.frame[ds.label].to_numpy()
    aucs: list[float] = []
    start = time.perf_counter()
    for train_idx, test_idx in split.folds:
        train = ds.frame.iloc[train_idx].reset_index(drop=True)
        test = ds.frame.iloc[test_idx].drop(columns=ds.label).reset_index(drop=True)
        scores = np.asarray(fit_predict(train, test, ds.label), dtype=float)
        if scores.shape != (len(test),) or not np.isfinite(scores).all():
            raise ValueError(
                f"model {name!r} returned scores of shape {scores.shape} (finite: "
                f"{np.isfinite(scores).all()}); expected {len(test)} finite values"
            )
        aucs.append(float(roc_auc_score(y[test_idx], scores)))
    return Result(name, aucs, time.perf_counter() - start)


def markdown_table(ds: Dataset, split: Split, results: list[Result]) -> str:
    y = ds.frame[ds.label]
    n_features = ds.frame.shape[1] - 1
    lines = [f"### {ds.title} — {split.name}", ""]
    lines.append(f"{split.description}. {len(y):,} rows, {y.mean():.1%} positive, {n_features} features.")
    if len(split.folds) == 1:
        train_idx, test_idx = split.folds[0]
        lines.append(
            f"Train {len(train_idx):,} rows ({y.iloc[train_idx].mean():.1%} positive), "
            f"test {len(test_idx):,} rows ({y.iloc[test_idx].mean():.1%} positive)."
        )
        lines += ["", "| model | AUC | seconds |", "|---|---:|---:|"]
        lines += [f"| {r.model} | {r.aucs[0]:.3f} | {r.seconds:.1f} |" for r in results]
    else:
        lines += ["", "| model | AUC mean | sd | per fold | seconds |", "|---|---:|---:|---|---:|"]
        for r in results:
            folds = ", ".join(f"{a:.3f}" for a in r.aucs)
            lines.append(
                f"| {r.model} | {np.mean(r.aucs):.3f} | {np.std(r.aucs, ddof=1):.3f} | {folds} | {r.seconds:.1f} |"
            )
    return "\n".join(lines) + "\n"


def parse_models(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    return names


def signal_checks(data_dir: Path) -> str:
    """Does icpkit say "no signal" where there is none? ``learn`` on all rows (its own
    cross-validated AUC and verdict) and ``discover`` (its shuffled-label test) per dataset."""
    from icpkit.discover.discover import discover
    from icpkit.discover.learn import learn

    rows = ["| dataset | learn: cross-validated AUC (95% interval) | learn: signal | discover: best IV vs "
            "shuffled 95th pct | discover: signal |", "|---|---|---|---|---|"]
    for loader in LOADERS.values():
        ds = loader(data_dir)
        learned = learn(ds.frame, ds.label)
        if ds.name == "maven_crm":
            maven = data_dir / MAVEN_DIR
            found = discover(maven / "accounts.csv", deals=maven / "sales_pipeline.csv", key="account",
                             best="win_rate")
        else:
            found = discover(ds.frame.assign(_id=range(len(ds.frame))), outcomes=None,
                             best=ds.label, key="_id")
        t = found.signal_test
        rows.append(f"| {ds.title} | {learned.cv_auc:.3f} ({learned.cv_auc_low:.3f}-{learned.cv_auc_high:.3f}) | "
                    f"{'yes' if learned.signal else 'no'} | {t['observed_iv']:.3f} vs {t['shuffled_iv_95']:.3f} | "
                    f"{'yes' if found.signal else 'no'} |")
    return "### Signal or not (icpkit's own verdict, all rows)\n\n" + "\n".join(rows) + "\n"


#: X Education's behavioural columns: what a lead did (intent); the others describe who it is (fit).
BEHAVIOUR = ["TotalVisits", "Total Time Spent on Website", "Page Views Per Visit", "Lead Origin", "Lead Source"]


def fit_intent_priority(data_dir: Path) -> str:
    """Issue "Intent and priority": on X Education, a fit scorecard learned on the descriptive
    columns, an intent scorecard learned on the behavioural ones, and their priority (the
    default 50/50 blend), each measured out of sample."""
    import icpkit
    from icpkit.discover.learn import learn

    ds = load_x_education(data_dir)
    fit_cols = [c for c in ds.frame.columns if c not in BEHAVIOUR and c != ds.label]
    rows = ["| split | fit alone | intent alone | priority (50/50) |", "|---|---:|---:|---:|"]
    for split in (stratified_cv(ds), time_ordered(ds)):
        aucs: dict[str, list[float]] = {"fit": [], "intent": [], "priority": []}
        for train_idx, test_idx in split.folds:
            train, test = ds.frame.iloc[train_idx], ds.frame.iloc[test_idx].reset_index(drop=True)
            y = test[ds.label].to_numpy()
            scores = {}
            for name, cols in (("fit", fit_cols), ("intent", BEHAVIOUR)):
                learned = learn(train[[*cols, ds.label]], ds.label)
                scores[name] = icpkit.score(learned.profile, test[cols])["fit_score"].to_numpy(dtype=float)
            scores["priority"] = 0.5 * scores["fit"] + 0.5 * scores["intent"]
            for name, value in scores.items():
                aucs[name].append(roc_auc_score(y, value))
        rows.append(f"| {split.name} | " + " | ".join(f"{np.mean(aucs[k]):.3f}" for k in ("fit", "intent", "priority"))
                    + " |")
    return ("### Fit, intent and priority (X Education, out of sample)\n\nFit: a scorecard learned on the "
            "descriptive columns; intent: one learned on the behavioural ones (" + ", ".join(BEHAVIOUR) + "); "
            "priority: their 50/50 blend.\n\n" + "\n".join(rows) + "\n")


def check_data_dir(data_dir: Path) -> None:
    missing = [f for f in REQUIRED_FILES if not (data_dir / f).is_file()]
    if not data_dir.is_dir() or missing:
        what = "folder does not exist" if not data_dir.is_dir() else f"missing {', '.join(missing)}"
        sys.exit(
            f"evaluate.py: data folder {data_dir} not usable ({what}).\n"
            f"Point --data-dir at the folder holding {X_EDUCATION_DIR}/ and {MAVEN_DIR}/."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder with the shared datasets (default: ../shared/data next to the repository)",
    )
    parser.add_argument(
        "--models",
        type=parse_models,
        default=list(MODELS),
        help=f"comma-separated subset of: {', '.join(MODELS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="run only the time-ordered split")
    parser.add_argument("--out", type=Path, help="also write the Markdown tables to this file")
    args = parser.parse_args(argv)

    check_data_dir(args.data_dir)
    sections = [
        "# Out-of-sample ROC-AUC of lead/account scoring baselines",
        "",
        f"Models: {', '.join(args.models)}. Seed {SEED}. "
        f"Splits: {'time-ordered only (--quick)' if args.quick else 'stratified 5-fold CV and time-ordered 80/20'}.",
        "",
    ]
    print("\n".join(sections), flush=True)
    for loader in LOADERS.values():
        ds = loader(args.data_dir)
        splits = [time_ordered(ds)]
        if not args.quick:
            splits = [stratified_cv(ds), *splits] + ([grouped_cv(ds)] if ds.groups is not None else [])
        for split in splits:
            results = [evaluate(ds, split, name, MODELS[name]) for name in args.models]
            table = markdown_table(ds, split, results)
            print(table, flush=True)
            sections.append(table)
    if "icpkit_learned" in args.models:
        for table in (signal_checks(args.data_dir), fit_intent_priority(args.data_dir)):
            print(table, flush=True)
            sections.append(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(sections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
