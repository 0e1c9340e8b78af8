"""The drift and review reports opened in a real, offline Chromium, checked as a user sees them.

A labelled, dated history (3,000 accounts over 8 quarters, an emerging segment planted in the
last: Retail accounts that win most of the time, and an industry named like a script tag that
always wins) is reviewed and its drift measured; both reports are written and opened with
Playwright in headless Chromium with every request but the page itself aborted. Each section's
heading is visible, each chart an SVG with a size and marks, the planted segment is in the
segments table, the hostile value is text, and nothing was fetched or logged as an error.

Needs the ``playwright`` package and Chromium at /usr/bin/chromium (never a downloaded one):
without them the tests are skipped, or fail when ``ICP_REQUIRE_ENGINES=1`` (CI sets it).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import icpkit
from icpkit.report.drift import write_drift_report
from icpkit.report.evidence import write_report
from icpkit.report.review import review_report, write_review_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
HOSTILE = "<script>alert(1)</script>"
SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-rubric.yaml"
PNG = b"\x89PNG\r\n\x1a\n"

DRIFT_HEADINGS = ["Headline", "What to do", "Score distribution", "Criteria stability", "Win rate by tier per period",
                  "Emerging segments", "Fading segments"]
DRIFT_CHARTS = ["Fit score band: baseline against current", "Stability index of each criterion",
                "Win rate by tier per period"]
REVIEW_HEADINGS = ["Summary", "Backtest", "MadKudu validation bar", "Win rate by tier", "Cumulative gains", "Drift",
                   *DRIFT_HEADINGS, "Emerging and fading segments", "TAM by segment", "By industry group",
                   "Changelog", "A against B on this history", "Records that changed tier"]
REVIEW_CHARTS = ["Win rate by tier with 95% intervals", "Cumulative gains: share of wins against share of records",
                 *DRIFT_CHARTS, "Companies per tier"]


def browser_missing() -> str | None:
    """Why the reports cannot be opened in Chromium here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; Chromium comes from the system)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def browser_or_skip() -> None:
    reason = browser_missing()
    if reason is not None:
        if os.environ.get("ICP_REQUIRE_ENGINES") == "1":
            pytest.fail(f"a browser is required here (ICP_REQUIRE_ENGINES=1): {reason}")
        pytest.skip(reason)


# ---------------------------------------------------------------- data


def write_history(path: Path, n: int = 3000, seed: int = 7) -> None:
    """Accounts over 8 quarters (2024-Q1 to 2025-Q4) whose win probability rises with the seed
    rubric's criteria; in the last quarter every sixth account is Retail and wins 85% of the
    time, and every twelfth (from the second) has the industry HOSTILE and wins 90%."""
    rng = np.random.default_rng(seed)
    industries = ["computer software", "internet", "information technology and services",
                  "marketing and advertising", "manufacturing", "financial services", "education"]
    techs = ["Salesforce", "HubSpot", "Slack", "Zoom", "Stripe"]
    countries = ["US", "CA", "GB", "IE", "AU", "DE", "FR", "IN"]
    rows = []
    for i in range(n):
        quarter = i * 8 // n
        day = dt.date(2024, 1, 1) + dt.timedelta(days=int(quarter * 91.3 + rng.integers(0, 90)))
        industry = industries[rng.integers(0, len(industries))]
        employees = int(rng.lognormal(5, 1.2))
        tech = ";".join(sorted(rng.choice(techs, rng.integers(0, 4), replace=False).tolist()))
        country = countries[rng.integers(0, len(countries))]
        funding = "" if rng.random() < 0.3 else int(rng.integers(0, 900))
        fit = (0.25 * (industry in industries[:2]) + 0.2 * (50 <= employees <= 500) + 0.2 * ("Salesforce" in tech)
               + 0.15 * (country in ("US", "CA")) + 0.2 * (funding != "" and funding <= 365))
        p = 0.03 + 0.5 * fit
        if quarter == 7 and i % 6 == 0:
            industry, p = "Retail", 0.85
        elif quarter == 7 and i % 12 == 1:
            industry, p = HOSTILE, 0.9
        rows.append({"domain": f"a{i}-co.com", "industry": industry, "employees": employees, "technologies": tech,
                     "country": country, "days_since_funding": funding,
                     "won": "won" if rng.random() < p else "lost", "closed_at": day.isoformat()})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@dataclass
class Reports:
    folder: Path
    drift: Path
    review: Path
    review_data: dict[str, Any]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    browser_or_skip()
    folder = tmp_path_factory.mktemp("reports")
    history = folder / "history.csv"
    write_history(history)
    previous = folder / "previous.yaml"  # the seed rubric with other points for IT services
    previous.write_text(SEED.read_text(encoding="utf-8").replace("points: 12", "points: 20"), encoding="utf-8")
    review = icpkit.review(SEED, history, label="won", date="closed_at", previous=previous)
    drift = icpkit.drift(SEED, "2024", "2025-Q4", data=history, label="won", date="closed_at", every="quarter")
    return Reports(folder, write_drift_report(drift, folder / "drift.html"),
                   write_review_report(review, folder / "review.html"), review.to_dict())


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@dataclass
class Opened:
    page: Any
    url: str
    requests: list[str] = field(default_factory=list)  # every request the page made
    blocked: list[str] = field(default_factory=list)  # the ones aborted: anything but the page
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    dialogs: list[str] = field(default_factory=list)  # alert() and the like

    def check_offline(self) -> None:
        assert self.blocked == [], f"the page tried to fetch {self.blocked}"
        assert set(self.requests) <= {self.url}, f"requests other than the page: {self.requests}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    pages = []

    def opener(path: Path) -> Opened:
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        pages.append(page)
        opened = Opened(page, path.resolve().as_uri())

        def route(r: Any) -> None:
            if r.request.url == opened.url:
                r.continue_()
            else:
                opened.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.goto(opened.url, wait_until="load")
        return opened

    yield opener
    for p in pages:
        p.close()


def check_sections(page: Any, headings: list[str]) -> None:
    from playwright.sync_api import expect

    for name in headings:
        expect(page.get_by_role("heading", name=name, exact=True).first).to_be_visible()


def check_charts(page: Any, titles: list[str]) -> None:
    from playwright.sync_api import expect

    for title in titles:
        expect(page.locator(f'svg.chart[aria-label="{title}"]')).to_have_count(1)
    charts = page.locator("svg.chart")
    assert charts.count() >= len(titles)
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        label = chart.get_attribute("aria-label")
        assert box is not None and box["width"] > 0 and box["height"] > 0, f"chart {label!r} has no size"
        assert chart.locator("rect.bar, polyline.line, circle.dot").count() > 0, f"chart {label!r} draws nothing"


def segments_table(page: Any) -> Any:
    return page.locator("table", has=page.get_by_role("columnheader", name="Their tiers' rate")).first


def check_screenshot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000


def check_hostile_is_text(page: Any) -> None:
    from playwright.sync_api import expect

    assert page.locator("script").count() == 0
    expect(page.get_by_text(HOSTILE, exact=True).first).to_be_visible()


def check_page(page: Any, headings: Any, charts: Any) -> None:
    """Every section and chart drawn, and the segments table holding the planted segment and
    the hostile value."""
    from playwright.sync_api import expect

    check_sections(page, headings)
    check_charts(page, charts)
    table = segments_table(page)
    expect(table.get_by_role("cell", name="Retail", exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name=HOSTILE, exact=True)).to_be_visible()


# ---------------------------------------------------------------- tests


def test_drift_page(reports: Reports, open_page: Any) -> None:
    opened = open_page(reports.drift)
    page = opened.page
    check_page(page, DRIFT_HEADINGS, DRIFT_CHARTS)
    check_hostile_is_text(page)
    check_screenshot(page, reports.folder / "drift.png")
    opened.check_offline()


def test_review_page(reports: Reports, open_page: Any) -> None:
    opened = open_page(reports.review)
    page = opened.page
    check_page(page, REVIEW_HEADINGS, REVIEW_CHARTS)
    from playwright.sync_api import expect

    # the changelog names the change and the comparison its verdict, AUCs and moves
    expect(page.get_by_role("cell", name="criteria[industry].levels[1].points", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="20 → 12", exact=True)).to_be_visible()
    auc = page.locator("tr", has=page.get_by_role("cell", name="AUC", exact=True)).last
    assert auc.locator("td").count() == 5 and "–" in auc.locator("td").nth(2).inner_text()
    expect(page.get_by_text("records change tier from A to B")).to_be_visible()
    check_hostile_is_text(page)
    check_screenshot(page, reports.folder / "review.png")
    opened.check_offline()


def test_hostile_text_everywhere_is_escaped(reports: Reports, open_page: Any) -> None:
    """Every string of the review (names, tiers, criteria, segments, changelog) set to a
    script tag: the page shows it as text, runs nothing, and has no script element."""
    r = reports.review_data
    d = r["drift"]
    hostile = {
        **r, "profile": HOSTILE, "history": HOSTILE, "previous": HOSTILE, "latest_period": HOSTILE,
        "changelog": [{"path": HOSTILE, "before": HOSTILE, "after": [HOSTILE], "text": HOSTILE}],
        "drift": {**d, "baseline": HOSTILE, "actions": [HOSTILE], "notes": [HOSTILE],
                  "attribute_bins": {HOSTILE: next(iter(d["attribute_bins"].values()))},
                  "tiers_by_period": [{**p, "period": HOSTILE} for p in d["tiers_by_period"]],
                  "fading": [{**s, "attribute": HOSTILE} for s in d["emerging"]]},
        "tam": {**r["tam"], "warnings": [HOSTILE], "tiers": {HOSTILE: 1, **r["tam"]["tiers"]}},
    }
    path = write_report(review_report(hostile), reports.folder / "hostile.html")
    opened = open_page(path)
    page = opened.page
    check_hostile_is_text(page)
    assert page.get_by_text(HOSTILE, exact=True).count() >= 8
    assert HOSTILE in page.title()
    svg_text = page.locator("svg.chart text", has_text=HOSTILE[:8])
    assert svg_text.count() > 0  # chart labels carry it too, as text
    assert page.evaluate("document.querySelectorAll('svg script, foreignObject').length") == 0
    opened.check_offline()
