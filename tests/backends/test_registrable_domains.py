"""Subdomains roll up to their account by the Public Suffix List, on every engine and in the
one-record path: ``app.acme.com`` and ``acme.com`` are one account, an e-mail at
``mail.acme.co.uk`` belongs to ``acme.co.uk``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import icpkit
from icpkit.errors import DuplicateKeyError
from icpkit.io import record, suffixes, values
from icpkit.scoring.record import Scorer
from tests.engines import engine  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
HEADER = "domain,industry,employees,technologies,country,days_since_funding"

CASES = [
    ("https://app.acme.com/login", "acme.com"),
    ("blog.www.acme.com", "acme.com"),
    ("ftp://files.acme.com/pub", "acme.com"),
    ("jane+crm@sub.acme.co.uk", "acme.co.uk"),
    ("app.eu.acme.com", "acme.com"),
    ("acme.co.uk", "acme.co.uk"),
    ("co.uk", "co.uk"),  # itself a suffix
    ("a.b.c.act.edu.au", "c.act.edu.au"),  # a suffix of three labels
    ("x.y.ck", "x.y.ck"),  # wildcard *.ck
    ("a.www.ck", "www.ck"),  # exception !www.ck
    ("x.city.kawasaki.jp", "city.kawasaki.jp"),
    ("shop.foo.kawasaki.jp", "shop.foo.kawasaki.jp"),
    ("docs.acme.github.io", "acme.github.io"),  # hosting platforms: the private section
    ("x.y.z.compute.amazonaws.com.cn", "amazonaws.com.cn"),  # a rule of five labels: left out
    ("shop.münchen.de", "münchen.de"),
    ("mail.例え.jp", "例え.jp"),
    ("192.168.0.1", "192.168.0.1"),  # an address, not a name
    ("acme..co.uk", "acme..co.uk"),  # invalid: left as read, and reported
    ("acme.com", "acme.com"),
    ("", None),
    (None, None),
]


def _hosts() -> list[str]:
    """Every wildcard and exception, and one explicit rule in five, under a few prefixes."""
    r = suffixes.rules()
    rules = [*sorted(r.multi)[::5], *(f"x.{w}" for w in sorted(r.wildcard)), *r.exceptions]
    return [f"{p}{rule}" for rule in rules for p in ("", "acme.", "app.acme.", "a.b.acme.")]


def _rolled_up(engine: Any, raw: list[str | None]) -> list[str | None]:  # noqa: F811
    t = engine.read(pa.table({"i": range(len(raw)), "x": pa.array(raw, pa.string())}), "icp_hosts")
    t = values.with_registrable(t.select("i", x=values.normalize_domain(t.x)), "x")
    return engine.to_arrow(t.order_by("i").select("x")).column("x").to_pylist()


def test_subdomains_roll_up_on_every_engine(engine: Any) -> None:  # noqa: F811
    raw = [r for r, _ in CASES] + _hosts()
    want = [w for _, w in CASES] + [suffixes.registrable(record.normalize_domain(h) or "") for h in _hosts()]
    got = _rolled_up(engine, raw)
    wrong = [(r, w, g) for r, w, g in zip(raw, want, got) if w != g]
    assert not wrong, wrong[:10]
    # The one-record path agrees.
    assert [record.account_domain(r) for r in raw] == want


def test_a_subdomain_and_its_domain_are_one_account(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(f"{HEADER}\nacme.com,internet,100,,US,\nhttps://app.acme.com/x,internet,120,,US,\n")
    with pytest.raises(DuplicateKeyError) as e:
        icpkit.score(icpkit.load_profile(ROOT / "examples" / "seed-rubric.yaml"), path)
    assert "acme.com" in str(e.value)


def test_the_scorer_keys_a_subdomain_by_its_account() -> None:
    scorer = Scorer(icpkit.load_profile(ROOT / "examples" / "seed-rubric.yaml"))
    row = dict.fromkeys(HEADER.split(","), "")
    assert scorer.score({**row, "domain": "https://www.shop.acme.co.uk/en"})["domain"] == "acme.co.uk"


def test_events_and_contacts_at_a_subdomain_belong_to_the_account(engine: Any) -> None:  # noqa: F811
    from icpkit.intent.events import canonical_contacts, canonical_events, event_columns

    raw = engine.read(pa.table({
        "email": ["jane@mail.acme.co.uk", "joe@gmail.com", None],
        "domain": [None, None, "https://app.beta.io/x"], "type": ["visit"] * 3,
        "occurred_at": ["2026-01-01"] * 3}), "icp_events")
    e = canonical_events(raw, event_columns(["email", "domain", "type", "occurred_at"], "events"))
    assert engine.to_arrow(e.order_by("_row").select("domain")).column("domain").to_pylist() == \
        ["acme.co.uk", None, "beta.io"]
    c = canonical_contacts(raw.drop("_row"), "contacts")
    assert sorted(engine.to_arrow(c.select("domain")).column("domain").to_pylist(), key=str) == \
        [None, "acme.co.uk", "beta.io"]
