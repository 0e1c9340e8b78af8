"""Lead-to-account matching end to end: ``icpkit.match_run.run_match`` on 1M leads against
100k accounts, both CSV files, against the I/O-and-join floor of the same job.

    .venv/bin/python bench/bench_match.py [--leads 1000000] [--accounts 100000] [--repeat 3]

**The data** (synthetic, written once per run to a temporary folder): accounts with made-up
but realistic company names (``Northwind Logistics GmbH``...), a unique domain each
(``.com``, ``.co.uk``, ``.de``, ``.io``...) and a country; 1 in 200 accounts has a
subsidiary with its own name and the same domain. The leads (first name, last name, title,
e-mail, company, website, country):

* 68% a work address at an account's domain (a fifth at a subdomain: ``ann@uk.acme.com``;
  some upper case), the company written half the time;
* 4% a free-mail address and the account's website (``https://www.acme.com/about``);
* 16% a free-mail or no address and the company's name: as the account has it, without its
  legal form, in other case, with ``&``/``and`` swapped, or with a typo (one in six);
* 12% companies that are no account: work addresses at their own domains, or free-mail
  addresses, with their (made-up) names, some one letter away from an account's.

Companies recur: leads are drawn from accounts with a skewed (Zipf-like) frequency, as
inbound leads cluster on the companies that are in market.

**icpkit** runs ``run_match(leads.csv, accounts.csv, out.csv)``: read both files through the
DuckDB backend, index the accounts (domains normalised, name keys), match every lead by
e-mail domain, website, exact and fuzzy name, and write every lead with its four match
columns as CSV, atomically, in the leads' order.

**The floor** is the leanest competent program for the part of the job every solution must
do: polars reads both CSV files (all columns, multi-threaded), lower-cases each e-mail's
text after its ``@`` (no registrable-domain roll-up, no free-mail list, no website, no
names), hash-joins it to the accounts' domains and writes the leads with the matched domain
as CSV. It matches only work addresses at an account's exact domain; everything else
icpkit does on top of it is what the ratio measures.

Each side runs ``--repeat`` times in turn in this process; the median is reported, with the
60 s target for icpkit, and where icpkit's last run spent its time (its progress phases:
reading each file, indexing the accounts, the domain steps, the name steps, writing).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import icpkit_source, median, peak_mb  # noqa: E402

TARGET_S = 60.0

PREFIXES = ("north", "south", "blue", "red", "green", "silver", "golden", "iron", "bright", "clear", "swift", "prime",
            "summit", "harbor", "river", "lake", "stone", "oak", "pine", "cedar", "maple", "eagle", "falcon", "lion",
            "atlas", "apex", "vertex", "nova", "stellar", "lunar", "solar", "polar", "urban", "metro", "global",
            "pacific", "atlantic", "alpine", "coastal", "capital", "united", "first", "royal", "noble", "true", "bold",
            "quantum", "vector", "matrix", "fusion", "pioneer", "frontier", "horizon", "beacon", "anchor", "compass",
            "crescent", "delta", "echo", "granite", "hudson", "keystone", "liberty", "meridian", "orchid", "phoenix")
CORES = ("wind", "field", "bridge", "gate", "point", "view", "wave", "works", "path", "line", "craft", "forge", "core",
         "peak", "ridge", "rock", "brook", "dale", "haven", "port", "stream", "light", "spark", "mark", "tree", "land",
         "shore", "crest", "vale", "wood", "star", "sky", "hill", "bay", "well", "side", "stone", "way", "mont",
         "berg", "by", "ton", "field", "ford", "wick", "more", "gard", "sen", "ware", "tech", "soft", "net", "lab")
SECTORS = ("Logistics", "Software", "Analytics", "Capital", "Health", "Foods", "Energy", "Systems", "Labs", "Media",
           "Robotics", "Pharmaceuticals", "Insurance", "Consulting", "Partners", "Industries", "Networks", "Retail",
           "Biotech", "Security", "Motors", "Materials", "Marine", "Aerospace", "Telecom", "Solutions", "Digital",
           "Construction", "Engineering", "Financial", "")
FORMS = {"US": ("Inc.", "LLC", "Corp.", "Corporation", ""), "GB": ("Ltd", "Limited", "plc", ""),
         "DE": ("GmbH", "AG", ""), "FR": ("SA", "SAS", ""), "NL": ("B.V.", ""), "AU": ("Pty Ltd", ""),
         "SE": ("AB", ""), "IN": ("Pvt. Ltd.", "")}
TLDS = {"US": (".com", ".io", ".co"), "GB": (".co.uk", ".com"), "DE": (".de", ".com"), "FR": (".fr", ".com"),
        "NL": (".nl", ".com"), "AU": (".com.au",), "SE": (".se", ".com"), "IN": (".in", ".co.in", ".com")}
COUNTRY_WEIGHTS = {"US": 45, "GB": 15, "DE": 10, "FR": 8, "NL": 5, "AU": 6, "SE": 3, "IN": 8}
FREE = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com",
        "gmx.de", "web.de", "yahoo.co.uk", "orange.fr", "hotmail.fr", "mail.ru", "qq.com")
FIRST = ("ann", "bob", "carla", "dev", "emma", "farid", "grace", "hiro", "ines", "jon", "kate", "liam", "maria", "nina",
         "omar", "priya", "quinn", "rosa", "sam", "tariq", "uma", "victor", "wei", "xena", "yusuf", "zoe")
LAST = ("smith", "garcia", "mueller", "rossi", "tanaka", "kowalski", "nguyen", "okafor", "silva", "johansson",
        "dubois", "patel", "murphy", "cohen", "ivanova", "kim", "lopez", "schmidt", "brown", "haddad")
TITLES = ("VP Sales", "Head of Marketing", "CTO", "Engineer", "Analyst", "Founder", "RevOps Manager", "Director IT")


DESCRIPTORS = ("", "", "", "American", "European", "Advanced", "Applied", "Integrated", "Precision", "Premier",
               "National", "Allied", "General", "Modern", "Smart")


def _company(rng: random.Random, country: str, used: set[str]) -> tuple[str, str]:
    """A made-up company: (name, domain), both unique (``used`` holds the names' stems and
    the domains given so far)."""
    while True:
        base = rng.choice(PREFIXES).capitalize() + rng.choice(CORES)
        stem = " ".join(w for w in (base, rng.choice(DESCRIPTORS), rng.choice(SECTORS)) if w)
        if stem.lower() in used:
            continue
        used.add(stem.lower())
        slug = (base + (stem.split()[-1] if rng.random() < 0.5 and " " in stem else "")).lower()
        for extra in ("", *map(str, range(2, 100))):
            domain = slug + extra + rng.choice(TLDS[country])
            if domain not in used:
                used.add(domain)
                return f"{stem} {rng.choice(FORMS[country])}".strip(), domain


def _typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name))
    if not name[i].isalpha():
        return name
    op = rng.random()
    return name[:i] + name[i + 1:] if op < 0.4 else name[:i] + name[i] + name[i:] if op < 0.7 else \
        name[:i] + rng.choice("aeiourstn") + name[i + 1:]


def _variant(rng: random.Random, name: str) -> str:
    r = rng.random()
    if r < 0.35:
        return name
    if r < 0.55:
        return " ".join(w for w in name.split() if w.rstrip(".") not in {"Inc", "LLC", "Ltd", "GmbH", "AG", "SA"})
    if r < 0.7:
        return name.upper() if rng.random() < 0.5 else name.lower()
    if r < 0.83:
        return name.replace(" and ", " & ") if " and " in name else name.replace(" ", ", ", 1)
    return _typo(rng, name)


def generate(folder: Path, n_leads: int, n_accounts: int, seed: int = 11) -> tuple[Path, Path]:
    """accounts.csv and leads.csv (see the module docstring)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = random.Random(seed)
    used: set[str] = set()
    countries = list(COUNTRY_WEIGHTS)
    weights = list(COUNTRY_WEIGHTS.values())
    acc_country = rng.choices(countries, weights, k=n_accounts)
    accounts = [(*_company(rng, c, used), c) for c in acc_country]
    subs = [(f"{accounts[i][0].split()[0]} Services {c}", accounts[i][1], c)
            for i in rng.sample(range(n_accounts), n_accounts // 200) for c in [rng.choice(countries)]]
    all_accounts = accounts + subs
    acc_path, lead_path = folder / "accounts.csv", folder / "leads.csv"
    pacsv.write_csv(pa.table({"domain": [a[1] for a in all_accounts], "name": [a[0] for a in all_accounts],
                              "country": [a[2] for a in all_accounts],
                              "industry": [rng.choice(SECTORS) or "Other" for _ in all_accounts]}), acc_path)
    others = [(*_company(rng, c, used), c) for c in rng.choices(countries, weights, k=max(1000, n_accounts // 5))]
    nprng = np.random.default_rng(seed)
    picks = (nprng.zipf(1.3, size=n_leads) - 1) % n_accounts
    order = nprng.permutation(n_accounts)  # which accounts are popular
    cols: dict[str, list[Any]] = {k: [] for k in ("first_name", "last_name", "title", "email", "company", "website",
                                                  "country")}
    for j in range(n_leads):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", first))
        r = rng.random()
        if r < 0.88:
            name, domain, country = accounts[order[picks[j]]]
        else:
            name, domain, country = rng.choice(others)
            if rng.random() < 0.3:
                name = _typo(rng, accounts[order[picks[j]]][0])
        email, company, website = "", "", ""
        if r < 0.68 or 0.88 <= r < 0.94:
            sub = rng.choice(("uk.", "mail.", "corp.", "eu.")) if rng.random() < 0.2 else ""
            email = f"{local}@{sub}{domain}"
            email = email.upper() if rng.random() < 0.05 else email
            company = name if rng.random() < 0.5 else ""
        elif r < 0.72:
            email, website = f"{local}@{rng.choice(FREE)}", rng.choice((f"https://www.{domain}/about", domain))
        else:
            email = f"{local}@{rng.choice(FREE)}" if rng.random() < 0.9 else ""
            company = _variant(rng, name)
        for k, v in (("first_name", first.title()), ("last_name", last.title()), ("title", rng.choice(TITLES)),
                     ("email", email), ("company", company), ("website", website),
                     ("country", country if rng.random() < 0.6 else "")):
            cols[k].append(v)
    pacsv.write_csv(pa.table(cols), lead_path)
    return lead_path, acc_path


def run_icpkit(leads: Path, accounts: Path, out: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """``run_match``'s summary, and the seconds spent in each of its phases (from its progress
    callbacks: a phase lasts from its first report to the next phase's)."""
    from icpkit.match_run import run_match

    marks: list[tuple[str, float]] = []

    def progress(phase: str, _pct: float | None) -> None:
        if not marks or marks[-1][0] != phase:
            marks.append((phase, time.perf_counter()))

    start = time.perf_counter()
    summary = run_match(leads, accounts, out, progress=progress).to_dict()
    end = time.perf_counter()
    phases: dict[str, float] = {"(before the first phase)": marks[0][1] - start if marks else end - start}
    for (phase, t), (_, t_next) in zip(marks, [*marks[1:], ("", end)]):
        phases[phase] = phases.get(phase, 0.0) + t_next - t
    return summary, phases


def run_floor(leads: Path, accounts: Path, out: Path) -> int:
    """Read both CSV files, the e-mail's text after its @ lower-cased, hash-joined to the
    accounts' domains, every lead written with the matched domain as CSV; the rows matched."""
    import polars as pl

    acc = pl.read_csv(accounts, infer_schema=False).select(pl.col("domain").str.to_lowercase().alias("_d"))
    acc = acc.unique(subset="_d").with_columns(matched_domain=pl.col("_d"))
    lead = pl.read_csv(leads, infer_schema=False)
    lead = lead.with_columns(_d=pl.col("email").str.split("@").list.last().str.to_lowercase())
    joined = lead.join(acc, on="_d", how="left", maintain_order="left").drop("_d")
    joined.write_csv(out)
    return joined.select(pl.col("matched_domain").is_not_null().sum()).item()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    print(f"icpkit {icpkit_source()}")
    with tempfile.TemporaryDirectory(prefix="icp-bench-match-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        leads, accounts = generate(folder, args.leads, args.accounts)
        print(f"generated {args.leads:,} leads and {args.accounts:,} accounts (+ subsidiaries) in "
              f"{time.perf_counter() - start:.0f} s: leads.csv {leads.stat().st_size / 1e6:.0f} MB, accounts.csv "
              f"{accounts.stat().st_size / 1e6:.1f} MB")
        ours: list[float] = []
        floor: list[float] = []
        summary: dict[str, Any] = {}
        phases: dict[str, float] = {}
        floor_matched = 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            summary, phases = run_icpkit(leads, accounts, folder / "out-icpkit.csv")
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            floor_matched = run_floor(leads, accounts, folder / "out-floor.csv")
            floor.append(time.perf_counter() - t)
        a, b = median(ours), median(floor)
        print(f"icpkit run_match: {a:.1f} s median of {args.repeat} ({', '.join(f'{x:.1f}' for x in ours)}); "
              f"target {TARGET_S:.0f} s: {'met' if a < TARGET_S else 'MISSED'}")
        print("  phases of the last run: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
        print(f"  matched {summary['matched']:,} of {summary['leads']:,}: " +
              ", ".join(f"{k} {v:,}" for k, v in summary["methods"].items()) +
              f"; unmatched {summary['unmatched']:,}; free-mail {summary['free_mail']:,}")
        print(f"floor (polars read + e-mail domain hash join + write): {b:.1f} s median "
              f"({', '.join(f'{x:.1f}' for x in floor)}); matched {floor_matched:,} by exact e-mail domain")
        print(f"icpkit / floor: {a / b:.2f}x")
        print(f"peak memory of this process: {peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
