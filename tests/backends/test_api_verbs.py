"""Every evidence verb of the CLI is a Python call returning a typed result with
``to_dict()``: ``icpkit.learn``, ``icpkit.discover``, ``icpkit.backtest``, ``icpkit.compare``,
``icpkit.tam``; the figures are the CLI's (its JSON is ``to_dict()``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import icpkit
from icpkit.demo.generate import generate_demo
from icpkit.discover.backtest import Backtest, Comparison
from icpkit.discover.discover import Discovery
from icpkit.discover.learn import Learned
from icpkit.discover.tam import Tam
from tests.cli.test_backtest import labelled  # noqa: F401  (the labelled demo history, a fixture)

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "src" / "icpkit" / "demo" / "profile.yaml"
SEED = ROOT / "examples" / "seed-rubric.yaml"


def plain(result: object) -> dict:
    data = result.to_dict()  # type: ignore[attr-defined]
    return json.loads(json.dumps(data, default=float))  # plain JSON data, nothing an encoder chokes on


def test_learn_backtest_compare(labelled: Path, tmp_path: Path) -> None:  # noqa: F811
    learned = icpkit.learn(labelled, "won", date="closed_at", exclude=["Record ID", "Lifecycle Stage"])
    assert isinstance(learned, Learned) and learned.time_auc is not None and learned.folds
    data = plain(learned)
    assert data["profile"]["criteria"] and data["folds"][0]["auc"] == learned.folds[0].auc
    bt = icpkit.backtest(learned.profile, labelled, "won")
    assert isinstance(bt, Backtest) and bt.auc_low < bt.auc < bt.auc_high
    assert bt.shift is not None and bt.shift["level"] == "stable"  # the population it was learned on
    cmp = icpkit.compare(SEED, learned.profile, labelled, "won")
    assert isinstance(cmp, Comparison) and 0 <= cmp.p_value <= 1 and cmp.verdict
    assert plain(cmp)["b"]["auc"] == bt.auc
    (tmp_path / "learned.yaml").write_text(learned.to_yaml())
    cli = subprocess.run([sys.executable, "-m", "icpkit.cli", "compare", str(SEED), str(tmp_path / "learned.yaml"),
                          "--data", str(labelled), "--label", "won", "--json", "-"], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["p_value"] == pytest.approx(cmp.p_value, abs=1e-12)


def test_discover_and_tam(tmp_path: Path) -> None:
    demo = generate_demo(tmp_path / "demo", n_accounts=1500, seed=7)
    found = icpkit.discover(demo.accounts, deals=demo.deals)
    assert isinstance(found, Discovery) and found.signal and found.profile is not None
    assert plain(found)["attributes"]
    tam = icpkit.tam(PROFILE, demo.accounts)
    assert isinstance(tam, Tam) and plain(tam)["total"] == tam.total == sum(tam.tiers.values())
    assert tam.total + tam.rejected == 1500
