"""Account deduplication (``icp dedupe``) on a labelled benchmark made of real company names.

Two sources of real companies (under ``--data-dir``, ``../shared/data`` next to the repository):

* ``pdl`` -- People Data Labs' top 21,000 companies (``companies_pdl_top21k``): name (lower
  case), domain (11% missing), country, locality, LinkedIn page; worldwide enterprises.
* ``us`` -- Inc. 5000 2019 (names from the profile URL, website), Fortune 1000 2016 (name,
  HQ city) and Crunchbase October 2013 (name, city): US companies, mostly without a domain.
  A name found in two of these lists is kept once (the lists overlap; the copies would be
  unlabelled duplicates).

For a benchmark of R rows, B = min(pool, 0.6 R) real companies are drawn (the *entities*),
then R - B duplicate records are added to randomly drawn entities (an entity may get
several), each a copy with realistic variants (at least one):

* name: legal suffix added or removed ("Inc.", "LLC", "GmbH"...), case (UPPER, Title,
  lower), punctuation ("Acme, Inc.", "&" / "and", dots dropped), a leading "The", one typo
  (a letter substituted, dropped, doubled or swapped, in names of 6 letters or more);
* domain: missing (30%), or written as a URL (``https://www.``), with a subdomain, a path,
  in capitals or as an e-mail address;
* country: spelled differently ("US", "USA", "United States of America"), or missing;
* city and LinkedIn page: missing or written differently.

The distractors are the sources' own: distinct real companies with similar names (same
first word, a Jaro-Winkler similarity of their normalised names of 0.9 or more), counted
and reported with how many the dedupe merged. 1% of the entities also get a *subsidiary*:
a record sharing the entity's domain and country under another name (the entity's name
plus "Capital", "Logistics", "Foundation"...). **Decision: a subsidiary is a different
company** -- it is its own account in a CRM (its own owner, deals and contacts), even when
its website is the parent's; merging it is counted as a false match (and reported apart).
The exact-domain baseline cannot tell them apart.

Reported for each source, size and seed: pairwise precision, recall and F1 (pairs of rows
put in one cluster), cluster figures (entities with duplicates whose rows form exactly one
predicted cluster; predicted clusters holding one entity only), the distractor and
subsidiary pairs merged, and the time of ``run_dedupe`` (CSV in, merged CSV and clusters
out) -- beside two baselines computed on the same rows: rows with the same registrable
domain are one account (exact domain), and the same with an equal normalised name too.

    .venv/bin/python eval/dedupe_eval.py [--data-dir ../shared/data] [--rows 20000 50000] [--seeds 1 2]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from rapidfuzz.distance import JaroWinkler

from icpkit.dedupe_run import run_dedupe
from icpkit.enrich.names import company_key
from icpkit.io.record import account_domain, normalize_country

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
PDL = "companies_pdl_top21k/companies_sorted_top21000.csv"
INC = "inc5000_2019/companies_data_final.csv"
FORTUNE = "fortune1000/fortune1000.csv"
CRUNCHBASE = "crunchbase_2013/crunchbase-companies.csv"
COLUMNS = ("name", "domain", "country", "city", "linkedin")


@dataclass(frozen=True)
class Company:
    name: str
    domain: str = ""
    country: str = ""
    city: str = ""
    linkedin: str = ""


# ------------------------------------------------------------------------------ sources

def load_pdl(data_dir: Path) -> list[Company]:
    with open(data_dir / PDL, encoding="utf-8", newline="") as f:
        return [Company(r["name"], r["domain"], r["country"], r["locality"].split(",")[0].strip(), r["linkedin url"])
                for r in csv.DictReader(f) if r["name"].strip()]


def load_us(data_dir: Path) -> list[Company]:
    found: list[Company] = []
    with open(data_dir / INC, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            slug = r["page_url"].rstrip("/").rsplit("/", 1)[-1]
            found.append(Company(slug.replace("-", " ").title(), r["website"], "United States"))
    with open(data_dir / FORTUNE, encoding="utf-8", newline="") as f:
        found += [Company(r["company"], "", "United States", r["location"].split(",")[0].strip())
                  for r in csv.DictReader(f)]
    with open(data_dir / CRUNCHBASE, encoding="mac_roman", newline="") as f:
        found += [Company(r["name"], "", "USA", r["city"]) for r in csv.DictReader(f)
                  if r["name"].strip() and not r["name"].startswith("#")]
    seen: set[str] = set()
    kept = []
    for c in found:  # one company per normalised name: the lists overlap
        key = company_key(c.name) or ""
        if key and key not in seen:
            seen.add(key)
            kept.append(c)
    return kept


SOURCES: dict[str, tuple[Callable[[Path], list[Company]], tuple[str, ...]]] = {
    "pdl": (load_pdl, (PDL,)), "us": (load_us, (INC, FORTUNE, CRUNCHBASE))}


# ----------------------------------------------------------------------------- variants

SUFFIXES = ["Inc.", "Inc", "LLC", "Ltd", "Ltd.", "Limited", "Corp.", "Corporation", "Co.", "GmbH", "S.A.", "plc",
            "AG", "B.V.", "Pty Ltd", "L.L.C."]
COUNTRY_SPELLINGS = {"US": ["US", "USA", "United States", "United States of America", "U.S.", "usa"],
                     "GB": ["UK", "United Kingdom", "GB", "Great Britain", "england"],
                     "DE": ["Germany", "DE", "Deutschland"], "FR": ["France", "FR", "france"],
                     "IN": ["India", "IN", "IND"], "CA": ["Canada", "CA", "CAN"]}
SUBSIDIARY_WORDS = ["Capital", "Logistics", "Foundation", "Ventures", "Labs", "Financial Services", "Healthcare"]


def vary_name(name: str, rng: random.Random) -> str:
    """One or two realistic changes to a company name."""
    out = name
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.choice(("suffix", "suffix", "case", "case", "punct", "typo", "the"))
        words = out.split()
        if kind == "suffix":
            if len(words) > 1 and company_key(" ".join(words[:-1])) == company_key(out):  # a legal form: drop it
                out = " ".join(words[:-1]).rstrip(",")
            else:
                out = out.rstrip(".,") + rng.choice((" ", ", ")) + rng.choice(SUFFIXES)
        elif kind == "case":
            out = rng.choice((out.upper(), out.title(), out.lower()))
        elif kind == "punct":
            if "&" in out:
                out = out.replace("&", "and")
            elif " and " in out:
                out = out.replace(" and ", " & ")
            elif "." in out or "," in out:
                out = out.replace(".", "").replace(",", "")
            else:
                out = out.replace(" ", rng.choice(("-", " ", "  ")), 1)
        elif kind == "typo":
            out = typo(out, rng)
        elif kind == "the":
            out = out[4:] if out.lower().startswith("the ") else "The " + out
    return out if out.strip() else name


def typo(text: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 6:
        return text
    i = rng.choice(letters[1:])  # the first letter is rarely mistyped
    kind = rng.choice(("sub", "drop", "double", "swap"))
    if kind == "sub":
        return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1:]
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:] if i > 0 else text


def vary_domain(domain: str, rng: random.Random) -> str:
    if not domain or rng.random() < 0.3:
        return ""
    kind = rng.choice(("same", "www", "url", "sub", "path", "upper", "email"))
    return {"same": domain, "www": "www." + domain, "url": "https://www." + domain + "/",
            "sub": rng.choice(("shop.", "en.", "careers.", "info.")) + domain, "path": domain + "/about-us",
            "upper": domain.upper(), "email": "info@" + domain}[kind]


def vary_country(country: str, rng: random.Random) -> str:
    if not country or rng.random() < 0.2:
        return ""
    code = normalize_country(country) or ""
    return rng.choice(COUNTRY_SPELLINGS.get(code, [country, country.upper(), code]))


def vary_other(value: str, rng: random.Random, missing: float) -> str:
    if not value or rng.random() < missing:
        return ""
    return rng.choice((value, value.upper(), value.title(), "https://www." + value if "linkedin" in value else value))


def duplicate(c: Company, rng: random.Random) -> Company:
    for _ in range(10):
        d = Company(vary_name(c.name, rng) if rng.random() < 0.8 else c.name, vary_domain(c.domain, rng),
                    vary_country(c.country, rng), vary_other(c.city, rng, 0.3), vary_other(c.linkedin, rng, 0.5))
        if d != c:
            return d
    return d


# ----------------------------------------------------------------------------- benchmark

@dataclass
class Benchmark:
    rows: list[Company]
    entity: list[int]  # the true entity of each row
    subsidiaries: set[tuple[int, int]]  # entity pairs (parent, subsidiary)
    distractors: set[tuple[int, int]]  # entity pairs with similar names


def build(pool: list[Company], n_rows: int, seed: int) -> Benchmark:
    rng = random.Random(seed)
    n_base = min(len(pool), int(0.6 * n_rows))
    bases = rng.sample(pool, n_base)
    rows, entity = list(bases), list(range(n_base))
    subsidiaries = set()
    for e in rng.sample(range(n_base), n_base // 100):
        parent = bases[e]
        if parent.domain:
            rows.append(Company(f"{parent.name} {rng.choice(SUBSIDIARY_WORDS)}", parent.domain, parent.country))
            entity.append(n_base + len(subsidiaries))  # an entity of its own
            subsidiaries.add((e, entity[-1]))
    while len(rows) < n_rows:
        e = rng.randrange(n_base)
        rows.append(duplicate(bases[e], rng))
        entity.append(e)
    order = list(range(len(rows)))
    rng.shuffle(order)
    rows, entity = [rows[i] for i in order], [entity[i] for i in order]
    return Benchmark(rows, entity, subsidiaries, similar_names(bases))


def similar_names(bases: list[Company]) -> set[tuple[int, int]]:
    """Pairs of entities whose normalised names share their first word and have a
    Jaro-Winkler similarity of 0.9 or more (distinct companies that look alike)."""
    by_first: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, c in enumerate(bases):
        key = company_key(c.name) or ""
        if key:
            by_first[key.split()[0]].append((i, key))
    pairs = set()
    for group in by_first.values():
        if len(group) > 300:  # a generic first word ("bank", "university"): too many to list
            continue
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                if JaroWinkler.similarity(group[a][1], group[b][1]) >= 0.9:
                    pairs.add((group[a][0], group[b][0]))
    return pairs


def write_csv(bench: Benchmark, path: Path) -> None:
    table = pa.table({c: [getattr(r, c) or None for r in bench.rows] for c in COLUMNS})
    pacsv.write_csv(table, path)


# ------------------------------------------------------------------------------- scoring

def pairs_of(labels: Iterable[int]) -> set[tuple[int, int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(labels):
        groups[g].append(i)
    return {(a, b) for m in groups.values() for k, a in enumerate(m) for b in m[k + 1:]}


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    entities_exact: float  # entities with duplicates whose rows are exactly one predicted cluster
    clusters_pure: float  # predicted clusters (2+ rows) holding one entity only
    distractors_merged: int
    subsidiaries_merged: int
    accounts: int


def score(bench: Benchmark, predicted: list[int]) -> Scores:
    truth, found = pairs_of(bench.entity), pairs_of(predicted)
    hit = len(truth & found)
    p = hit / len(found) if found else 1.0
    r = hit / len(truth) if truth else 1.0
    members: dict[int, set[int]] = defaultdict(set)
    for i, c in enumerate(predicted):
        members[c].add(i)
    true_members: dict[int, set[int]] = defaultdict(set)
    for i, e in enumerate(bench.entity):
        true_members[e].add(i)
    with_dups = [m for m in true_members.values() if len(m) > 1]
    exact = sum(1 for m in with_dups if members[predicted[next(iter(m))]] == m)
    multi = [m for m in members.values() if len(m) > 1]
    pure = sum(1 for m in multi if len({bench.entity[i] for i in m}) == 1)
    cluster_entities: dict[int, set[int]] = defaultdict(set)
    for i, c in enumerate(predicted):
        cluster_entities[c].add(bench.entity[i])
    merged_entity_pairs = {(a, b) for es in cluster_entities.values() if len(es) > 1 for a in es for b in es if a < b}
    distractors = sum(1 for a, b in bench.distractors if (min(a, b), max(a, b)) in merged_entity_pairs)
    subs = sum(1 for a, b in bench.subsidiaries if (min(a, b), max(a, b)) in merged_entity_pairs)
    return Scores(p, r, 2 * p * r / (p + r) if p + r else 0.0, exact / len(with_dups) if with_dups else 1.0,
                  pure / len(multi) if multi else 1.0, distractors, subs, len(members))


def baseline(bench: Benchmark, *, with_name: bool) -> list[int]:
    """Exact-domain dedupe: rows with the same registrable domain are one account (rows
    without a domain stay alone); ``with_name``: rows with the same normalised name too."""
    parent = list(range(len(bench.rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    keys: list[Callable[[Company], str | None]] = [lambda c: account_domain(c.domain) if c.domain else None]
    if with_name:
        keys.append(lambda c: company_key(c.name))
    for key in keys:
        first: dict[str, int] = {}
        for i, c in enumerate(bench.rows):
            k = key(c)
            if k:
                parent[find(i)] = find(first.setdefault(k, i))
    return [find(i) for i in range(len(bench.rows))]


# ---------------------------------------------------------------------------------- main

def run(bench: Benchmark, folder: Path, threshold: float | None, training: str) -> tuple[list[int], float, dict]:
    accounts, merged, clusters = folder / "accounts.csv", folder / "merged.csv", folder / "clusters.csv"
    write_csv(bench, accounts)
    started = time.perf_counter()
    summary = run_dedupe(accounts, merged, clusters_out=clusters, threshold=threshold, training=training)
    seconds = time.perf_counter() - started
    table = pacsv.read_csv(clusters, convert_options=pacsv.ConvertOptions(column_types={"row": pa.int64()}))
    by_row = dict(zip(table.column("row").to_pylist(), table.column("cluster_id").to_pylist()))
    return [by_row[i + 1] for i in range(len(bench.rows))], seconds, summary.to_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=list(SOURCES))
    parser.add_argument("--rows", nargs="+", type=int, default=[20_000, 50_000])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--threshold", type=float, default=None, help="default: the rules' (0.9)")
    parser.add_argument("--training", default="auto", choices=("auto", "estimate", "fixed"))
    parser.add_argument("--show-errors", type=int, default=0, help="print this many wrong pairs of each kind")
    args = parser.parse_args(argv)
    missing = [p for name in args.sources for p in SOURCES[name][1] if not (args.data_dir / p).is_file()]
    if missing:
        sys.exit(f"dedupe_eval.py: {', '.join(missing)} not found under {args.data_dir} (use --data-dir)")
    header = (f"{'source':<6} {'rows':>7} {'seed':>4} {'method':<22} {'precision':>9} {'recall':>7} {'F1':>6} "
              f"{'exact ent.':>10} {'pure cl.':>8} {'distr.':>9} {'subs.':>7} {'seconds':>8}")
    print(header)
    print("-" * len(header))
    for source in args.sources:
        pool = SOURCES[source][0](args.data_dir)
        for n_rows in args.rows:
            for seed in args.seeds:
                bench = build(pool, n_rows, seed)
                with tempfile.TemporaryDirectory() as tmp:
                    predicted, seconds, summary = run(bench, Path(tmp), args.threshold, args.training)
                results = [(f"icp dedupe ({summary['training']})", score(bench, predicted), seconds)]
                for name, with_name in (("exact domain", False), ("exact domain or name", True)):
                    started = time.perf_counter()
                    labels = baseline(bench, with_name=with_name)
                    results.append((name, score(bench, labels), time.perf_counter() - started))
                for name, s, secs in results:
                    print(f"{source:<6} {len(bench.rows):>7,} {seed:>4} {name:<22} {s.precision:>9.4f} {s.recall:>7.4f} "
                          f"{s.f1:>6.4f} {s.entities_exact:>10.4f} {s.clusters_pure:>8.4f} "
                          f"{s.distractors_merged:>4}/{len(bench.distractors):<4} "
                          f"{s.subsidiaries_merged:>3}/{len(bench.subsidiaries):<3} {secs:>8.2f}")
                if args.show_errors:
                    show_errors(bench, predicted, args.show_errors)
    return 0


def show_errors(bench: Benchmark, predicted: list[int], n: int) -> None:
    truth, found = pairs_of(bench.entity), pairs_of(predicted)
    for title, wrong in (("false matches", sorted(found - truth)), ("missed", sorted(truth - found))):
        print(f"  {title}: {len(wrong)}")
        for a, b in random.Random(0).sample(wrong, min(n, len(wrong))):
            print(f"    {bench.rows[a]}\n    {bench.rows[b]}\n")


if __name__ == "__main__":
    sys.exit(main())
