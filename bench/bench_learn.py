"""``icp learn`` on N labelled accounts x 20 attributes, against scikit-learn's one-hot
logistic regression on the same Parquet file.

    .venv/bin/python bench/bench_learn.py [--rows 1000000] [--repeat 1] [--holdout 200000] [--profile]

The input (written once to ``bench/out/learn-v1-<N>.parquet`` and reused) has 12 numeric
attributes (skewed: log-normal, gamma, Pareto, counts, mostly with missing values) and 8
text attributes of 3 to 40 levels, and a ``won`` label planted on some of them (steps,
monotone effects, a few good levels; about 15% wins). In the same process it times

* (a) ``icpkit.discover.learn.learn(path, "won")`` end to end: read, type and parse the
  columns, bin, choose the penalty by 5-fold cross-validation, fit, write the points;
* (b) the baseline: ``pandas.read_parquet`` + scikit-learn ``LogisticRegression`` (default
  solver and settings, fitted once) on the numeric columns median-imputed and
  standardised and the text columns one-hot encoded (``OneHotEncoder``).

(b) fits one model and chooses nothing; (a) fits 21 (4 penalties x 5 folds on at most
200,000 rows, then the chosen one on every row). Both are then measured on a held-out
sample from the same generator (``--holdout`` rows, not timed): icpkit by scoring it with the
learned profile (``icpkit.score``), scikit-learn with ``decision_function``. Modules are imported
before the clock starts. Approaches take turns within each repeat; the median is reported with the 1-minute load average, because
other work may share the machine. ``--profile`` runs (a) once more under cProfile and
writes the statistics to ``bench/out/profile-learn-<N>.txt``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, median, rel  # noqa: E402

LABEL = "won"
#: Bump when the generator changes, so that an old input is not reused.
VERSION = "v1"
NUMERIC = ["Number of Employees", "Annual Revenue", "Year Founded", "Web Visits 30d", "Days Since Funding",
           "Email Opens", "Pages Per Visit", "Time On Site", "Tech Count", "Open Roles", "Headcount Growth",
           "Ad Spend"]
TEXT = ["Industry", "Country", "Lead Source", "Plan Interest", "Company Type", "Sales Region", "CRM",
        "Seniority"]
TARGET_SECONDS = 60.0


# -- the input -------------------------------------------------------------------------


def _levels(rng: np.random.Generator, n: int, names: list[str], zipf: float, missing: float = 0.0) -> pa.Array:
    """``n`` values of ``names`` with Zipf-like frequencies (``zipf`` = 0: uniform)."""
    weights = 1.0 / np.arange(1, len(names) + 1) ** zipf
    codes = rng.choice(len(names), n, p=weights / weights.sum()).astype(np.int32)
    mask = rng.random(n) < missing if missing else None
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=mask), pa.array(names)).cast(pa.string())


def _with_missing(rng: np.random.Generator, x: np.ndarray, share: float) -> pa.Array:
    return pa.array(x, mask=rng.random(len(x)) < share if share else None)


def generate(n: int, seed: int) -> pa.Table:
    """``n`` accounts: 12 numeric and 8 text attributes and a planted ``won`` label."""
    rng = np.random.default_rng(seed)
    employees = np.maximum(1, np.round(rng.lognormal(4.0, 1.6, n)))
    revenue = np.round(employees * rng.lognormal(11.5, 0.9, n), -3)
    founded = 2025 - np.round(rng.gamma(2.0, 9.0, n))
    visits = rng.negative_binomial(0.6, 0.08, n).astype(float)  # many zeros, a long tail
    funding = np.round(rng.exponential(700.0, n))
    opens = rng.poisson(rng.gamma(1.5, 2.0, n)).astype(float)
    pages = np.round(rng.lognormal(0.6, 0.6, n), 2)
    time_on_site = np.round(rng.pareto(1.8, n) * 60.0, 1)
    tech = rng.poisson(7.0, n).astype(float)
    roles = rng.negative_binomial(1.0, 0.15, n).astype(float)
    growth = np.round(rng.normal(0.08, 0.25, n), 3)
    ad_spend = np.where(rng.random(n) < 0.6, 0.0, np.round(rng.lognormal(8.0, 1.5, n), -1))

    industries = [f"Industry {i:02d}" for i in range(40)]
    industries[:4] = ["Computer Software", "Internet", "Financial Services", "Retail"]
    countries = ["US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "ES", "IT", "SE", "JP", "SG", "IE", "MX",
                 "PL", "CH", "DK", "NO", "FI", "BE", "AT", "NZ", "ZA", "IL", "AR", "CL", "PT", "KR"]
    sources = ["Organic Search", "Paid Search", "Referral", "Event", "Outbound", "Partner", "Social", "Direct"]
    columns = {
        "Industry": _levels(rng, n, industries, 1.0),
        "Country": _levels(rng, n, countries, 1.1, 0.03),
        "Lead Source": _levels(rng, n, sources, 0.7),
        "Plan Interest": _levels(rng, n, ["Starter", "Growth", "Enterprise"], 0.5, 0.10),
        "Company Type": _levels(rng, n, ["Private", "Public", "Non-profit", "Government", "Education"], 1.5),
        "Sales Region": _levels(rng, n, [f"Territory {i}" for i in range(12)], 0.3),
        "CRM": _levels(rng, n, ["Salesforce", "HubSpot", "Pipedrive", "Zoho", "Dynamics", "Close", "Copper",
                                "Freshsales", "Insightly", "Other"], 1.2, 0.15),
        "Seniority": _levels(rng, n, ["C-level", "VP", "Director", "Manager", "Individual", "Intern"], 0.6, 0.05),
    }
    text = {k: np.asarray(v.to_numpy(zero_copy_only=False), dtype=object) for k, v in columns.items()}

    logit = (-3.3
             + 0.9 * ((employees >= 50) & (employees < 1000))
             + 0.35 * np.log1p(visits)
             + 0.6 * (time_on_site >= 120)
             - 0.0006 * np.minimum(funding, 1500)
             + 0.5 * np.clip(growth, -0.5, 1.0)
             + 0.8 * np.isin(text["Industry"], ["Computer Software", "Internet"])
             + 1.0 * (text["Lead Source"] == "Referral") - 0.4 * (text["Lead Source"] == "Paid Search")
             + 0.5 * np.isin(text["Country"], ["US", "CA", "GB"])
             + 0.7 * (text["Plan Interest"] == "Enterprise")
             + 0.4 * np.isin(text["Seniority"], ["C-level", "VP"]))
    won = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)

    numeric = {
        "Number of Employees": _with_missing(rng, employees, 0.05),
        "Annual Revenue": _with_missing(rng, revenue, 0.25),
        "Year Founded": _with_missing(rng, founded, 0.10),
        "Web Visits 30d": _with_missing(rng, visits, 0.0),
        "Days Since Funding": _with_missing(rng, funding, 0.40),
        "Email Opens": _with_missing(rng, opens, 0.02),
        "Pages Per Visit": _with_missing(rng, pages, 0.15),
        "Time On Site": _with_missing(rng, time_on_site, 0.10),
        "Tech Count": _with_missing(rng, tech, 0.20),
        "Open Roles": _with_missing(rng, roles, 0.30),
        "Headcount Growth": _with_missing(rng, growth, 0.25),
        "Ad Spend": _with_missing(rng, ad_spend, 0.10),
    }
    return pa.table({**numeric, **columns, LABEL: won})


def ensure_input(n: int, seed: int, stem: str = "learn") -> Path:
    """``bench/out/<stem>-v1-<n>.parquet``: generated once, reused while it holds ``n`` rows."""
    path = OUT / f"{stem}-{VERSION}-{n}.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n:
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    pq.write_table(generate(n, seed), tmp)
    tmp.replace(path)
    print(f"Generated {rel(path)} ({n:,} rows) in {time.perf_counter() - started:.1f} s")
    return path


# -- the two approaches ----------------------------------------------------------------


def run_icpkit(path: Path) -> Any:
    from icpkit.discover.learn import learn

    return learn(path, LABEL)


def run_sklearn(path: Path) -> tuple[Any, list[str]]:
    """Read with pandas, impute + standardise the numbers, one-hot the text, fit once."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.read_parquet(path)
    y = df.pop(LABEL).to_numpy()
    features = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("text", OneHotEncoder(handle_unknown="ignore"), TEXT),
    ])
    model = make_pipeline(features, LogisticRegression())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(df, y)
    notes = [str(w.message).splitlines()[0] for w in caught if issubclass(w.category, ConvergenceWarning)]
    return model, notes


def holdout_auc(learned: Any, model: Any, path: Path) -> tuple[float, float]:
    """AUC on held-out rows: icpkit's learned profile scored by icpkit, and scikit-learn's model."""
    import pandas as pd

    import icpkit
    from icpkit.discover.backtest import auc

    y = pq.read_table(path, columns=[LABEL]).column(LABEL).to_numpy()
    fit = icpkit.score(learned.profile, path).column("fit_score").to_numpy()
    df = pd.read_parquet(path).drop(columns=[LABEL])
    return auc(fit, y), auc(model.decision_function(df), y)


def warm_imports() -> None:
    """Import both approaches' modules before anything is timed (imports are not the work)."""
    import pandas  # noqa: F401
    import scipy.sparse  # noqa: F401
    import sklearn.compose  # noqa: F401
    import sklearn.impute  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401

    import icpkit.backends.duckdb  # noqa: F401
    import icpkit.discover.learn  # noqa: F401


def profile_learn(path: Path, n: int) -> Path:
    """(a) once under cProfile; the statistics, by cumulative and by own time, to a text file."""
    prof = cProfile.Profile()
    prof.enable()
    run_icpkit(path)
    prof.disable()
    text = io.StringIO()
    for key in ("cumulative", "tottime"):
        pstats.Stats(prof, stream=text).strip_dirs().sort_stats(key).print_stats(40)
    out = OUT / f"profile-learn-{n}.txt"
    out.write_text(text.getvalue())
    return out


# -- main ------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="labelled accounts (default 1M)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each approach; the median is reported")
    ap.add_argument("--holdout", type=int, default=200_000, help="held-out rows for the AUCs (0: skip)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--profile", action="store_true", help="also run icpkit learn under cProfile")
    args = ap.parse_args()

    n = args.rows
    data = ensure_input(n, args.seed)
    held = ensure_input(args.holdout, args.seed + 1, stem="learn-holdout") if args.holdout else None
    wins = int(np.sum(pq.read_table(data, columns=[LABEL]).column(LABEL).to_numpy()))
    print(f"Input: {rel(data)} ({n:,} rows, {len(NUMERIC)} numeric + {len(TEXT)} text attributes, "
          f"{wins / n:.1%} wins, {data.stat().st_size / 1e6:.0f} MB)")

    warm_imports()
    times: dict[str, list[float]] = {"icpkit": [], "sklearn": []}
    loads = [os.getloadavg()[0]]
    learned = model = None
    notes: list[str] = []
    for rep in range(args.repeat):
        started = time.perf_counter()
        learned = run_icpkit(data)
        times["icpkit"].append(time.perf_counter() - started)
        loads.append(os.getloadavg()[0])
        print(f"  run {rep + 1}/{args.repeat} icpkit learn          {times['icpkit'][-1]:7.2f} s", flush=True)
        started = time.perf_counter()
        model, notes = run_sklearn(data)
        times["sklearn"].append(time.perf_counter() - started)
        loads.append(os.getloadavg()[0])
        print(f"  run {rep + 1}/{args.repeat} scikit-learn one-hot LR {times['sklearn'][-1]:7.2f} s", flush=True)
    assert learned is not None and model is not None

    a, b = median(times["icpkit"]), median(times["sklearn"])
    print(f"\nLearning from {n:,} labelled rows x {len(NUMERIC) + len(TEXT)} attributes, Parquet in; median of "
          f"{args.repeat} (1-minute load average during the runs: {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores)")
    print(f"  icpkit learn (learn(path, label))        {a:7.2f} s  runs {[round(t, 2) for t in times['icpkit']]}")
    print(f"  scikit-learn one-hot LR (read + fit)     {b:7.2f} s  runs {[round(t, 2) for t in times['sklearn']]}")
    print(f"icpkit learn / scikit-learn one-hot LR: {a / b:.1f}x")
    print(f"  icpkit: {len(learned.profile.criteria)} criteria, penalty C={learned.penalty_c:g}, cross-validated AUC "
          f"{learned.cv_auc:.3f} ({learned.cv_auc_low:.3f}-{learned.cv_auc_high:.3f}), signal {learned.signal}")
    for w in learned.warnings:
        print(f"  icpkit warning: {w}")
    width = model[0].transform(pq.read_table(data).slice(0, 1).to_pandas()).shape[1]
    print(f"  scikit-learn: {width} features" + (f"; {notes[0]}" if notes else "; converged"))
    if held is not None:
        ours, theirs = holdout_auc(learned, model, held)
        print(f"Held-out AUC on {args.holdout:,} new rows: icpkit profile {ours:.3f}, scikit-learn {theirs:.3f}")
    verdict = "met" if a < TARGET_SECONDS else "not met"
    print(f"target: icpkit learn of {n:,} rows under {TARGET_SECONDS:.0f} s: {verdict} ({a:.1f} s)")
    if args.profile:
        print(f"cProfile of icpkit learn written to {rel(profile_learn(data, n))}")


if __name__ == "__main__":
    main()
