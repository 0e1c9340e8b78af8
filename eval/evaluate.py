#!/usr/bin/env python
"""Out-of-sample ROC-AUC of icpkit's learned scorecard and baseline lead/account scorers on public datasets.

A standalone evaluation script (not part of the icpkit package). It answers one question:
how well do standard, lightly configured learners rank held-out leads, sessions or
accounts, and does a learned icpkit scorecard rank them as well, on the same splits.

Datasets (read from ``--data-dir``, default ``../shared/data`` next to the repository; the
loaders and their splits are in ``eval/datasets.py``, whose docstring describes each):

* ``x_education`` -- X Education leads without the leaky columns and ids; stratified 5-fold
  CV and a time-ordered 80/20 split (rows ordered by ``Lead Number``, assumed chronological).
* ``x_education_leaky_input`` -- the same leads and folds (5-fold CV), but icpkit is given
  the leaky columns and ids as well and must leave them out itself; the baselines are not.
* ``maven_crm`` -- Maven CRM closed opportunities, account firmographics only; 5-fold CV,
  time-ordered by engage date, and 5-fold CV grouped by account (unseen accounts).
* ``online_shoppers`` / ``online_shoppers_no_pagevalues`` -- web sessions of one year, out of
  time by month (train Feb-Sep, test Oct-Dec; and forward chaining: test Oct, Nov, Dec, each
  trained on every earlier month), with and without the near-leaky ``PageValues``.
* ``crunchbase`` -- Crunchbase 2013 companies as of a date, features known at that date,
  label acquired in the next 2 years; train as of 2008-01-01, test as of 2010-01-01, and
  train 2009-01-01, test 2011-01-01.

Models are plain functions ``fit_predict(train, test, label) -> scores`` collected in
``MODELS``. ``train`` holds the features and the label column; ``test`` holds the same
features without the label. Scores only need to rank (higher = more likely positive). A
model may return ``(scores, info)`` with a dict of facts to report (icpkit: whether learn
found a signal, and the columns its profile uses). The models in ``RAW_INPUT_MODELS`` get a
dataset's ``raw_extra`` columns too (X Education's leaky columns); the others never do.

Usage (from the repository root)::

    python eval/evaluate.py                      # all models, all datasets and splits
    python eval/evaluate.py --quick              # out-of-time splits only
    python eval/evaluate.py --datasets online_shoppers,crunchbase --out eval/results.md
    python eval/evaluate.py --models hgb,logreg_onehot --datasets x_education
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from datasets import (  # eval/datasets.py, next to this script
    LOADERS,
    MAVEN_DIR,
    REQUIRED_FILES,
    SEED,
    Dataset,
    Split,
    load_x_education,
    stratified_cv,
    time_ordered,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

MISSING_LEVEL = "(missing)"

FitPredict = Callable[[pd.DataFrame, pd.DataFrame, str], "np.ndarray | tuple[np.ndarray, dict[str, Any]]"]
#: Models given a dataset's ``raw_extra`` columns (they must keep leaky columns out themselves).
RAW_INPUT_MODELS = frozenset({"icpkit_learned"})


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


def _crash(exc: Exception) -> str:
    first = str(exc).strip().split("\n")[0]
    return f"crashed with {type(exc).__name__}" + (f": {first}" if first else "")


def fit_predict_icpkit(train: pd.DataFrame, test: pd.DataFrame, label: str,
                       allow: tuple[str, ...] = ()) -> tuple[np.ndarray, dict[str, Any]]:
    """icpkit's learned scorecard (``icp learn``): learn a points profile on ``train`` (the
    frame is handed to ``learn`` as is, the way ``icp learn`` reads a file), score ``test``
    with the same engine as ``icp score``; the score is the profile's fit score.

    When learn finds no signal, ``icp learn`` writes no profile unless forced; the scores are
    then those of the profile ``--force`` would write, and ``info["signal"]`` says so. When
    learn refuses outright (too few wins, nothing to learn from), or fails, every test row
    scores 0 and ``info["refused"]`` says why."""
    import icpkit
    from icpkit.discover.learn import learn
    from icpkit.errors import IcpError

    try:
        learned = learn(train, label, allow=allow)
        scored = icpkit.score(learned.profile, test.reset_index(drop=True))
    except IcpError as exc:
        return np.zeros(len(test)), {"refused": str(exc).splitlines()[0]}
    except Exception as exc:  # a bug in learn or score: recorded, and the other splits still run
        return np.zeros(len(test)), {"refused": _crash(exc),
                                     "crashed": True}
    headers = learned.profile.columns  # profile field -> input header, where they differ
    used = sorted({headers.get(c.field, c.field) for c in learned.profile.criteria})
    # What learn set aside and why ("left out as leaky ...: 'PageValues' ..."), as {reason: [input columns]}.
    left_out: dict[str, list[str]] = {}
    for note in learned.notes:
        if note.startswith("left out"):
            reason = note.split(":")[0].split(" (")[0].removeprefix("left out").strip(" ,")
            left_out.setdefault(reason, []).extend(c for c in train.columns if f"'{c}'" in note)
    info = {"signal": learned.signal, "cv_auc": learned.cv_auc, "used": used, "left_out": left_out,
            "warnings": list(learned.warnings)}
    return scored["fit_score"].to_numpy(dtype=float), info


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
    infos: list[dict[str, Any]] = field(default_factory=list)  # per fold, from models that report any
    scores: list[np.ndarray] = field(default_factory=list)  # per fold, the test rows' scores


def evaluate(ds: Dataset, split: Split, name: str, fit_predict: FitPredict) -> Result:
    frame = ds.frame
    if name in RAW_INPUT_MODELS and ds.raw_extra is not None:
        frame = pd.concat([ds.frame, ds.raw_extra], axis=1)
    y = frame[ds.label].to_numpy()
    aucs: list[float] = []
    infos: list[dict[str, Any]] = []
    kept: list[np.ndarray] = []
    start = time.perf_counter()
    for train_idx, test_idx in split.folds:
        train = frame.iloc[train_idx].reset_index(drop=True)
        test = frame.iloc[test_idx].drop(columns=ds.label).reset_index(drop=True)
        out = fit_predict(train, test, ds.label, allow=ds.allow) if name == "icpkit_learned" and ds.allow \
            else fit_predict(train, test, ds.label)
        if isinstance(out, tuple):
            out, info = out
            infos.append(info)
        scores = np.asarray(out, dtype=float)
        if scores.shape != (len(test),) or not np.isfinite(scores).all():
            raise ValueError(
                f"model {name!r} returned scores of shape {scores.shape} (finite: "
                f"{np.isfinite(scores).all()}); expected {len(test)} finite values"
            )
        aucs.append(float(roc_auc_score(y[test_idx], scores)))
        kept.append(scores)
    return Result(name, aucs, time.perf_counter() - start, infos, kept)


def _flag(info: dict[str, Any]) -> str:
    """A marker after an AUC whose model did not really produce a scorecard."""
    if "refused" in info:
        return " (crashed)" if info.get("crashed") else " (refused)"
    return "" if info.get("signal", True) else " (no signal)"


def _share(n: int, total: int) -> str:
    return "" if n == total else f" ({n}/{total} folds)"


def _info_notes(ds: Dataset, r: Result) -> list[str]:
    """What a reporting model (icpkit) said on each fold: signal, its own CV AUC, leaky columns used."""
    if not r.infos:
        return []
    one = len(r.infos) == 1
    fold = (lambda i: "") if one else (lambda i: f"fold {i + 1}: ")
    notes = []
    refused = [f"{fold(i)}{info['refused']}" for i, info in enumerate(r.infos) if "refused" in info]
    if refused:
        notes.append(f"{r.model}: no profile ({'; '.join(refused)}); every test row scored 0.")
    learned = [(i, info) for i, info in enumerate(r.infos) if "refused" not in info]
    if learned:
        cv = ", ".join(f"{info['cv_auc']:.3f}" for _, info in learned)
        silent = [i + 1 for i, info in learned if not info["signal"]]
        verdict = ("signal found" + ("" if one else " on every fold")) if not silent else (
            "**no signal**" + ("" if one else f" on fold(s) {', '.join(map(str, silent))}")
            + ": `icp learn` writes no profile without `--force`; the AUC is that of the forced profile")
        used = sorted({c for _, info in learned for c in info["used"]})
        notes.append(f"{r.model}: {verdict}; its own cross-validated AUC on the training rows: {cv}; "
                     f"criteria from {len(used)} column(s).")
        if ds.leaky:
            counts = {c: sum(c in info["used"] for _, info in learned) for c in ds.leaky}
            leaks = [c + _share(n, len(learned)) for c, n in counts.items() if n]
            notes.append(f"{r.model}: leaky columns in the learned profile: {', '.join(leaks) or 'none'}.")
        dropped: dict[tuple[str, str], int] = {}
        for _, info in learned:
            for reason, cols in info["left_out"].items():
                for col in cols:
                    dropped[reason, col] = dropped.get((reason, col), 0) + 1
        if dropped:
            by_reason: dict[str, list[str]] = {}
            for (reason, col), n in dropped.items():
                by_reason.setdefault(reason, []).append(col + _share(n, len(learned)))
            notes.append(f"{r.model} left out: " + "; ".join(f"{reason}: {', '.join(cols)}"
                                                             for reason, cols in by_reason.items()) + ".")
        warned = sorted({w for _, info in learned for w in info["warnings"]})
        if warned:
            more = f" (and {len(warned) - 3} more)" if len(warned) > 3 else ""
            notes.append(f"{r.model} warned: " + " / ".join(warned[:3]) + more)
    return notes


def markdown_table(ds: Dataset, split: Split, results: list[Result]) -> str:
    y = ds.frame[ds.label]
    n_features = ds.frame.shape[1] - 1
    extra = f" (+{ds.raw_extra.shape[1]} given to icpkit only)" if ds.raw_extra is not None else ""
    lines = [f"### {ds.title} — {split.name}", ""]
    if len(split.folds) == 1:
        train_idx, test_idx = split.folds[0]
        lines.append(
            f"{split.description}. {n_features} features{extra}. "
            f"Train {len(train_idx):,} rows ({y.iloc[train_idx].mean():.1%} positive), "
            f"test {len(test_idx):,} rows ({y.iloc[test_idx].mean():.1%} positive)."
        )
        lines += ["", "| model | AUC | seconds |", "|---|---:|---:|"]
        lines += [f"| {r.model} | {r.aucs[0]:.3f}{_flag(r.infos[0]) if r.infos else ''} | {r.seconds:.1f} |"
                  for r in results]
    else:
        lines.append(f"{split.description}. {len(y):,} rows, {y.mean():.1%} positive, {n_features} features{extra}.")
        lines += ["", "| model | AUC mean | sd | per fold | seconds |", "|---|---:|---:|---|---:|"]
        for r in results:
            folds = ", ".join(f"{a:.3f}{_flag(r.infos[i]) if r.infos else ''}" for i, a in enumerate(r.aucs))
            lines.append(
                f"| {r.model} | {np.mean(r.aucs):.3f} | {np.std(r.aucs, ddof=1):.3f} | {folds} | {r.seconds:.1f} |"
            )
    notes = [*ds.notes, *(n for r in results for n in _info_notes(ds, r))]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def parse_names(value: str, known: dict[str, Any], what: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown {what}(s) {unknown}; choose from {', '.join(known)}")
    return names


def parse_models(value: str) -> list[str]:
    return parse_names(value, MODELS, "model")


def parse_datasets(value: str) -> list[str]:
    return parse_names(value, LOADERS, "dataset")


#: Within this much of the best baseline counts as a tie (issue "Quality").
TIE = 0.01


def target_summary(rows: list[tuple[Dataset, Split, list[Result]]]) -> str:
    """Per split: icpkit's AUC (the mean over folds) against the best baseline on the same folds."""
    from icpkit.discover.stats import delong_paired

    lines = ["### icpkit against the best baseline, per split", "",
             f"Mean AUC over the split's folds; \"tie\" within {TIE} of the best baseline. On a split with one "
             "test set, the paired DeLong test of the difference (icpkit's `compare`): its p-value.", "",
             "| dataset | split | best baseline | icpkit_learned | difference | paired test | verdict |",
             "|---|---|---|---:|---:|---:|---|"]
    for ds, split, results in rows:
        icp = next((r for r in results if r.model == "icpkit_learned"), None)
        others = [r for r in results if r.model != "icpkit_learned"]
        if icp is None or not others:
            continue
        best = max(others, key=lambda r: np.mean(r.aucs))
        diff = float(np.mean(icp.aucs) - np.mean(best.aucs))
        verdict = "above" if diff > TIE else "tie" if diff >= -TIE else "**below**"
        if any(set(i.get("used", ())) & set(ds.leaky) for i in icp.infos):
            verdict = "not comparable: **uses leaky columns**"
        flags = "".join(sorted({_flag(i) for i in icp.infos}))
        test = ""
        if len(split.folds) == 1:
            labels = ds.frame[ds.label].to_numpy()[split.folds[0][1]]
            test = f"p = {delong_paired(best.scores[0], icp.scores[0], labels).p_value:.3f}"
        lines.append(f"| {ds.name} | {split.name} | {best.model} {np.mean(best.aucs):.3f} | "
                     f"{np.mean(icp.aucs):.3f}{flags} | {diff:+.3f} | {test} | {verdict} |")
    return "\n".join(lines) + "\n"


#: The datasets whose all-rows verdict signal_checks reports (the new ones are split-only).
SIGNAL_CHECKED = ("x_education", "maven_crm")


def signal_checks(data_dir: Path, names: list[str]) -> str:
    """Does icpkit say "no signal" where there is none? ``learn`` on all rows (its own
    cross-validated AUC and verdict) and ``discover`` (its shuffled-label test) per dataset."""
    from icpkit.discover.discover import discover
    from icpkit.discover.learn import learn

    rows = ["| dataset | learn: cross-validated AUC (95% interval) | learn: signal | discover: best IV vs "
            "shuffled 95th pct | discover: signal |", "|---|---|---|---|---|"]
    for name in names:
        ds = LOADERS[name](data_dir)
        try:
            learned = learn(ds.frame, ds.label)
            if ds.name == "maven_crm":
                maven = data_dir / MAVEN_DIR
                found = discover(maven / "accounts.csv", deals=maven / "sales_pipeline.csv", key="account",
                                 best="win_rate")
            else:
                found = discover(ds.frame.assign(_id=range(len(ds.frame))), outcomes=None,
                                 best=ds.label, key="_id")
        except Exception as exc:  # recorded, not fatal: the tables above are already measured
            rows.append(f"| {ds.title} | {_crash(exc)} | | | |")
            continue
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


def check_data_dir(data_dir: Path, names: list[str]) -> None:
    missing = sorted({f for n in names for f in REQUIRED_FILES[n] if not (data_dir / f).is_file()})
    if not data_dir.is_dir() or missing:
        what = "folder does not exist" if not data_dir.is_dir() else f"missing {', '.join(missing)}"
        folders = sorted({f.split("/")[0] for n in names for f in REQUIRED_FILES[n]})
        sys.exit(
            f"evaluate.py: data folder {data_dir} not usable ({what}).\n"
            f"Point --data-dir at the folder holding {', '.join(f + '/' for f in folders)} (or choose --datasets)."
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
    parser.add_argument(
        "--datasets",
        type=parse_datasets,
        default=list(LOADERS),
        help=f"comma-separated subset of: {', '.join(LOADERS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="run only the out-of-time splits")
    parser.add_argument("--out", type=Path, help="also write the Markdown tables to this file")
    args = parser.parse_args(argv)

    check_data_dir(args.data_dir, args.datasets)
    sections = [
        "# Out-of-sample ROC-AUC of icpkit's learned scorecard and lead/account scoring baselines",
        "",
        f"Models: {', '.join(args.models)}. Datasets: {', '.join(args.datasets)}. Seed {SEED}. "
        f"Splits: {'out-of-time only (--quick)' if args.quick else 'random CV and out-of-time'}.",
        "",
    ]
    print("\n".join(sections), flush=True)
    measured: list[tuple[Dataset, Split, list[Result]]] = []
    for name in args.datasets:
        ds = LOADERS[name](args.data_dir)
        for split in ds.splits(args.quick):
            results = [evaluate(ds, split, model, MODELS[model]) for model in args.models]
            measured.append((ds, split, results))
            table = markdown_table(ds, split, results)
            print(table, flush=True)
            sections.append(table)
    extras: list[tuple[str, Callable[[], str]]] = []
    if "icpkit_learned" in args.models:
        checked = [n for n in SIGNAL_CHECKED if n in args.datasets]
        extras += [("target summary", lambda: target_summary(measured))] if len(args.models) > 1 else []
        extras += [("signal checks", lambda: signal_checks(args.data_dir, checked))] if checked else []
        if "x_education" in args.datasets:
            extras.append(("fit, intent and priority", lambda: fit_intent_priority(args.data_dir)))
    for title, make in extras:
        try:
            table = make()
        except Exception as exc:  # recorded, not fatal
            table = f"### {title}\n\n{_crash(exc)}\n"
        print(table, flush=True)
        sections.append(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(sections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
