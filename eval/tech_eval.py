#!/usr/bin/env python
"""Technographics on hand-labelled pages: precision and recall of ``icpkit.enrich.technographics``
with the real Wappalyzer-format fingerprints.

**Pages.** ``eval/pages/*.html`` are B2B home pages written by hand for this evaluation (not
copied from any site), each built with the markup its technologies really leave (generator
tags, script and stylesheet URLs, inline snippets), plus four plain pages that use none.
``eval/pages/labels.json`` gives, per page, the response headers and cookies to send with it
and the **hand labels**: the technologies a person reading the page would say it uses, written
with the pages before the detector ran on them (its ``about`` says what is labelled).

**Run.** The pages are served by a ``ThreadingHTTPServer`` on 127.0.0.1 (each with its headers
and ``Set-Cookie`` for its cookies; no ``Server`` header unless labels.json gives one), fetched
over HTTP with icpkit's fetcher (``icpkit.enrich.fetch.Fetcher``, private addresses allowed;
plain httpx when that module is absent), read into a ``Page`` and passed to ``detect``.

**Scoring**, over (page, technology) pairs, micro-averaged:

* *recall* = labelled pairs detected / labelled pairs. Only labelled technologies count;
* *strict precision* = detections that are labelled / all detections (any confidence);
* *lenient precision* excuses one kind of unlabelled detection and no other: a technology
  that was not matched on the page itself but only *implied* (``implies``) by a detection that
  is itself correct, e.g. PHP and MySQL implied by a labelled WordPress. The labels leave such
  technologies out by rule (they are not visible on the page), so the lenient figure shows
  what the strict one costs for them. An implied detection of a wrong parent stays wrong.

Per technology: true and false positives and misses. Every unlabelled detection is then listed
with its evidence and a verdict from :data:`REVIEW` (written after reading the detector's
output): whether the label or the detector is wrong.

Usage (from the repository root)::

    python eval/tech_eval.py
    python eval/tech_eval.py --fingerprints /path/to/webappanalyzer --verbose
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from icpkit.enrich.fingerprints import KEYED_FIELDS, LIST_FIELDS, Fingerprints, load_fingerprints
from icpkit.enrich.technographics import Detection, Page, scan

PAGES = Path(__file__).resolve().parent / "pages"
DEFAULT_FINGERPRINTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "webappanalyzer_technologies"

#: The verdict on each unlabelled detection, by technology (all pages) or "page: technology",
#: written after reading the detector's output. "label" = the page does use it and the label
#: missed it (labels were kept as written all the same); "detector" = the detection is wrong;
#: "right, generic" = a technology implied by a labelled one, left out of the labels by rule.
REVIEW: dict[str, str] = {
    "Akamai Bot Manager": "label: the bm_sz cookie the page was given is Akamai Bot Manager's",
    "Cloudflare Bot Management": "label: __cf_bm, which these pages were given, is the bot-management cookie",
    "Google Cloud CDN": "label: the page was given 'via: 1.1 google', the mark of Google's load balancer",
    "Google Cloud": "label: implied by Google Cloud CDN (see there)",
    "Cart Functionality": "label: the store has a cart link (/checkout/cart/); a generic capability not labelled",
    "Priority Hints": "label: the page does use fetchPriority; the labels left it out",
    "Amazon Web Services": "right, generic: CloudFront is an AWS service",
    "Java": "right, generic: Adobe Experience Manager runs on Java",
    "Go": "right, generic: Caddy is written in Go (it says nothing of the site's own code)",
    "MySQL": "right, generic: implied by WordPress or Magento, not visible on the page",
    "Node.js": "right, generic: Express and Ghost run on Node.js",
    "03-cobalt-manufacturing.html: PHP": "right, generic: Drupal runs on PHP",
    "React": "right, generic: Wix renders with React, not visible in the markup",
    "TypeScript": "right, generic: Angular is written in TypeScript",
    "Windows Server": "right, generic: IIS runs on Windows",
    "Nginx": "right: OpenResty is nginx",
    "Cloudflare": "detector (the fingerprints' implies): cdnjs is served by Cloudflare, the site is not behind it",
    "Google Tag Manager": "detector, debatable: gtag.js (Google Analytics 4) is served from googletagmanager.com, "
                          "but the page has no GTM container",
    "Linkedin Ads": "detector, debatable: the px.ads.linkedin.com pixel is the Insight Tag's, labelled as such",
    "Litespeed Cache": "detector (fingerprint set): a second entry for LiteSpeed Cache, labelled and detected",
    "25-yardstick-analytics.html: PHP": "detector: the '.php' is VWO's loader URL (j.php) in an inline snippet",
    "Squarespace Commerce": "detector: inferred from 'Server: Squarespace' alone; the page sells nothing",
    "WebsiteBuilder": "detector: a generic pattern on the generator 'Wix.com Website Builder' names another product",
    "PWA": "detector, debatable: a web app manifest and no service worker; not labelled a PWA",
}


def _serve(labels: dict) -> tuple[ThreadingHTTPServer, str]:
    """Serve eval/pages on 127.0.0.1 (a free port) with each page's headers and cookies."""

    class Handler(BaseHTTPRequestHandler):
        def send_response(self, code: int, message: str | None = None) -> None:  # no Server header
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def do_GET(self) -> None:  # the name http.server calls
            name = self.path.lstrip("/").split("?", 1)[0]
            entry = labels.get(name)
            if entry is None:
                self.send_error(404)
                return
            body = (PAGES / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for key, value in entry["headers"]:
                self.send_header(key, value)
            for key, value in entry["cookies"].items():
                self.send_header("Set-Cookie", f"{key}={value}; Path=/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _fetch_all(base: str, names: list[str]) -> dict[str, Page]:
    """Each page over HTTP, with icpkit's fetcher when it exists, else a plain httpx GET."""
    try:
        from icpkit.enrich.fetch import Fetcher, FetchSettings
    except ImportError:
        import httpx

        with httpx.Client(timeout=10) as client:
            out = {}
            for name in names:
                r = client.get(f"{base}/{name}")
                r.raise_for_status()
                out[name] = Page(str(r.url), tuple(r.headers.multi_items()), dict(r.cookies), r.text)
            return out
    settings = FetchSettings(allow_private=True, per_host_interval_s=0, respect_robots=False)
    with Fetcher(settings) as fetcher:
        return {name: Page.from_fetched(fetcher.get(f"{base}/{name}").raise_for_status()) for name in names}


def _lenient(detections: dict[str, Detection], labels: set[str]) -> set[str]:
    """The detections correct under the lenient rule: labelled, or implied by a correct one."""
    ok = {name for name in detections if name in labels}
    changed = True
    while changed:
        changed = False
        for name, d in detections.items():
            parent = d.evidence.removeprefix("implied by ") if d.evidence.startswith("implied by ") else None
            if name not in ok and parent in ok:
                ok.add(name)
                changed = True
    return ok


def _static(fingerprints: Fingerprints, name: str) -> bool:
    """Whether the technology has any pattern that can match a page without running it."""
    tech = fingerprints.technologies.get(name)
    return tech is not None and (any(getattr(tech, f) for f in LIST_FIELDS + KEYED_FIELDS) or bool(tech.dom))


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fingerprints", type=Path, default=DEFAULT_FINGERPRINTS,
                        help="the webappanalyzer/Wappalyzer folder (technologies/ + categories.json)")
    parser.add_argument("--verbose", action="store_true", help="print every page's detections")
    args = parser.parse_args(argv)
    if not args.fingerprints.exists():
        print(f"no fingerprints at {args.fingerprints} (give --fingerprints)", file=sys.stderr)
        return 1

    started = time.perf_counter()
    fingerprints = load_fingerprints(args.fingerprints)
    load_s = time.perf_counter() - started
    labels = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))["pages"]
    server, base = _serve(labels)
    try:
        pages = _fetch_all(base, sorted(labels))
    finally:
        server.shutdown()

    tp = fp = fn = lenient_ok = 0
    per_tech: dict[str, Counter[str]] = {}
    unlabelled: list[tuple[str, Detection, bool]] = []
    scan_s, incomplete = 0.0, []
    for name, page in pages.items():
        result = scan(fingerprints, page)
        scan_s += result.seconds
        if not result.complete:
            incomplete.append(name)
        found = {d.name: d for d in result.detections}
        wanted = set(labels[name]["labels"])
        lenient = _lenient(found, wanted)
        for tech in wanted | set(found):
            counts = per_tech.setdefault(tech, Counter())
            if tech in wanted and tech in found:
                tp += 1
                counts["tp"] += 1
            elif tech in found:
                fp += 1
                counts["fp"] += 1
                unlabelled.append((name, found[tech], tech in lenient))
            else:
                fn += 1
                counts["fn"] += 1
        lenient_ok += len(lenient)
        if args.verbose:
            print(f"\n{name}")
            for d in result.detections:
                mark = "ok " if d.name in wanted else ("imp" if d.name in lenient else "-- ")
                print(f"  {mark} {d.name} {d.version or ''} ({d.confidence}) {d.evidence}")
            for tech in sorted(wanted - set(found)):
                print(f"  MISS {tech}")

    detections = tp + fp
    print(f"Technographics on {len(pages)} hand-labelled pages ({sum(1 for e in labels.values() if e['labels'])} "
          f"with technologies, {sum(1 for e in labels.values() if not e['labels'])} plain), "
          f"{len(fingerprints)} technologies from {args.fingerprints.name}")
    print(f"load {load_s:.2f} s; scanning {scan_s:.2f} s for all pages ({scan_s / max(len(pages), 1) * 1000:.0f} ms "
          f"a page, the first one compiling what it needs){'; INCOMPLETE: ' + ', '.join(incomplete) if incomplete else ''}")
    print(f"\n(page, technology) pairs: {tp + fn} labelled, {detections} detected, {tp} both")
    print(f"recall             {_ratio(tp, tp + fn)}")
    print(f"precision strict   {_ratio(tp, detections)}")
    print(f"precision lenient  {_ratio(lenient_ok, detections)}  (implied by a correct detection counts as correct)")

    print("\nper technology (labelled ones):   tp  fp  fn  precision recall")
    for tech in sorted(per_tech, key=str.casefold):
        c = per_tech[tech]
        if c["tp"] + c["fn"]:
            print(f"  {tech:32s} {c['tp']:3d} {c['fp']:3d} {c['fn']:3d}  {_ratio(c['tp'], c['tp'] + c['fp'])}     "
                  f"{_ratio(c['tp'], c['tp'] + c['fn'])}")
    print("\nmissed (labelled, not detected):")
    for tech in sorted(per_tech, key=str.casefold):
        if per_tech[tech]["fn"]:
            why = ("its patterns did not match this markup" if _static(fingerprints, tech)
                   else "no pattern usable without running the page (js only, or unsupported dom)")
            print(f"  {tech}: {per_tech[tech]['fn']} ({why})")

    print("\ndetected but not labelled (lenient = implied by a correct detection):")
    for page_name, d, ok in sorted(unlabelled, key=lambda x: (x[1].name.casefold(), x[0])):
        verdict = REVIEW.get(f"{page_name}: {d.name}") or REVIEW.get(d.name) or "not reviewed"
        print(f"  {d.name} on {page_name} ({d.confidence}; {'lenient ok' if ok else 'wrong'}) "
              f"evidence: {d.evidence}\n      verdict: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
