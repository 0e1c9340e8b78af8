"""A realistic synthetic CRM with a planted Ideal Customer Profile.

:func:`generate_demo` writes five CSV files (UTF-8, with a header) that look like
what a B2B SaaS company exports from its CRM and product analytics:

- ``accounts.csv``: a HubSpot company export (``Record ID``, ``Company name``,
  ``Company Domain Name``, ``Industry``, ``Number of Employees``, ``Annual Revenue``,
  ``Country/Region``, ``State/Region``, ``Technologies``, ``Year Founded``,
  ``Business Model``, ``Lifecycle Stage``, ``Company owner``) plus the custom column
  ``days_since_funding`` (blank when never funded). About 10 % of the values of a
  column are written the messy way real exports are: domains as
  ``https://www.x.com``, ``X.COM`` or ``x.com/``; countries as names ("USA",
  "U.S.", "United Kingdom") rather than ISO codes; employees as ``1,200`` or
  ranges (``51-200``, ``10001+``); revenue as ``$2.5M``, ``36.9 M`` or
  ``1,200,000``; technologies in random case with stray spaces
  (``Salesforce; hubspot ;Slack``); and a few % blanks in every non-key column.
  Domains are unique after normalisation (lower case, no scheme, ``www.`` or path).
- ``contacts.csv``: ``email, name, title, seniority, department, domain, country``;
  1-8 people per account, some on free-mail addresses (gmail.com, outlook.com...).
- ``deals.csv``: ``deal_id, domain, created_at, closed_at, outcome, amount``;
  ISO dates between 2024-01-01 and 2026-06-30, ``outcome`` in won/lost/open,
  ``closed_at`` blank for open deals, whole-USD amounts. Many accounts have none.
- ``outcomes.csv``: one row per won customer: ``domain, arr`` (USD),
  ``retention_months`` (months retained; shorter than the tenure since the first
  win means churned), ``expansion`` (expansion ARR as a fraction of ARR),
  ``nps`` (0-10 likelihood to recommend), ``time_to_value_days``,
  ``support_tickets``.
- ``events.csv``: ``event_id, domain, email, type, occurred_at`` (ISO UTC with
  ``Z``; ``email`` blank for anonymous visits) of types ``pricing_page_view``,
  ``demo_request``, ``security_doc_view``, ``careers_page_view``,
  ``webinar_attended``, ``email_reply``; about 7 per account, concentrated in
  the 60 days before 2026-06-30 for accounts with open deals and a high fit.

The planted ICP (what discovery must recover):

    industry in {"computer software", "internet"}
    employees between 50 and 500 (inclusive)
    technologies include "Salesforce"
    country US or CA
    funded in the last 365 days (days_since_funding <= 365)

Each deal is won with probability ``sigmoid(-3.2 + 0.78 * k - 1.6 * agency -
1.6 * tiny)`` where ``k`` (0-5) counts the ICP traits an account has, ``agency``
is business model "agency" and ``tiny`` is fewer than 10 employees: about 65 % for
a perfect match, 4 % for none. The anti-ICP (agencies, fewer than 10 employees)
loses deals and churns fast. Customers with more traits have higher ARR, longer
retention, more expansion, higher NPS, faster time to value and fewer tickets.
Marginals are realistic: most accounts match two traits or fewer. Note that
``Lifecycle Stage`` is derived from the deals (it leaks the outcome).

Output is deterministic: the same ``seed`` gives byte-identical files.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icpkit.demo.canonical import (
    BUSINESS_MODELS,
    COUNTRIES,
    INDUSTRIES,
    TOOLS,
    generate_accounts_table,
    write_accounts_parquet,
)

__all__ = [
    "ICP_INDUSTRIES",
    "DemoFiles",
    "generate_accounts_table",
    "generate_demo",
    "write_accounts_parquet",
]

ICP_INDUSTRIES = ("computer software", "internet")
TODAY = date(2026, 6, 30)
START = date(2024, 1, 1)
EVENT_END = datetime(2026, 6, 30, tzinfo=UTC)

ACCOUNT_HEADER = [
    "Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees",
    "Annual Revenue", "Country/Region", "State/Region", "Technologies", "Year Founded",
    "Business Model", "Lifecycle Stage", "Company owner", "days_since_funding",
]
CONTACT_HEADER = ["email", "name", "title", "seniority", "department", "domain", "country"]
DEAL_HEADER = ["deal_id", "domain", "created_at", "closed_at", "outcome", "amount"]
OUTCOME_HEADER = ["domain", "arr", "retention_months", "expansion", "nps",
                  "time_to_value_days", "support_tickets"]
EVENT_HEADER = ["event_id", "domain", "email", "type", "occurred_at"]

MESSY_SHARE = 0.10
BLANK_SHARE = 0.04

_TECH_INDUSTRIES = {"computer software": 40, "internet": 25,
                    "information technology and services": 20,
                    "computer & network security": 8, "e-learning": 7}
_OTHER_INDUSTRIES = [(i, w) for i, w in INDUSTRIES if i not in _TECH_INDUSTRIES]
_COUNTRY_NAMES = {
    "US": ["United States", "USA", "U.S.", "United States of America", "us"],
    "CA": ["Canada", "ca"], "GB": ["United Kingdom", "UK", "England"],
    "DE": ["Germany", "Deutschland"], "FR": ["France"], "NL": ["Netherlands"],
    "IN": ["India"], "AU": ["Australia"], "BR": ["Brazil"], "ES": ["Spain"],
    "SE": ["Sweden"], "IE": ["Ireland"], "SG": ["Singapore"], "IL": ["Israel"],
    "CH": ["Switzerland"], "DK": ["Denmark"], "JP": ["Japan"], "MX": ["Mexico"],
    "PL": ["Poland"], "IT": ["Italy"],
}
_REGIONS = {
    "US": ["California", "New York", "Texas", "Massachusetts", "Washington", "Illinois",
           "Colorado", "Georgia", "Florida", "Utah", "North Carolina", "Oregon"],
    "CA": ["Ontario", "British Columbia", "Quebec", "Alberta"],
    "GB": ["England", "Scotland", "Wales"], "DE": ["Berlin", "Bavaria", "Hamburg"],
    "AU": ["New South Wales", "Victoria"], "IN": ["Karnataka", "Maharashtra"],
}
_TLD = {"GB": ".co.uk", "DE": ".de", "FR": ".fr", "NL": ".nl", "CA": ".ca", "AU": ".com.au"}
_EMPLOYEE_RANGES = [(1, 10), (11, 50), (51, 200), (201, 500), (501, 1000),
                    (1001, 5000), (5001, 10000)]
_OWNERS = ["Maya Patel", "Jordan Reyes", "Priya Shah", "Tom Becker", "Aisha Okafor",
           "Luca Romano", "Hannah Kim", "Sam O'Neill"]
_FIRST = ["James", "Mary", "Wei", "Olivia", "Noah", "Emma", "Liam", "Ava", "Arjun",
          "Sofia", "Mateo", "Chloe", "Ethan", "Fatima", "Lucas", "Mia", "Daniel", "Yuki",
          "Grace", "Omar", "Nina", "Ben", "Zoe", "Carlos", "Leah", "Ivan", "Sara", "Kofi"]
_LAST = ["Smith", "Johnson", "Nguyen", "Garcia", "Müller", "Brown", "Chen", "Williams",
         "Kumar", "Lopez", "Martin", "Rossi", "Kowalski", "Dubois", "Tanaka", "Jones",
         "Cohen", "Andersson", "Silva", "Murphy", "Taylor", "Singh", "Park", "Walsh"]
_FREEMAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"]
_TITLES: list[tuple[str, str, str, float]] = [  # title, seniority, department, weight
    ("CEO", "c_suite", "executive", 3), ("Founder", "owner", "executive", 2),
    ("CTO", "c_suite", "engineering", 2), ("CFO", "c_suite", "finance", 1),
    ("VP Sales", "vp", "sales", 3), ("VP Marketing", "vp", "marketing", 2),
    ("Head of Security", "director", "security", 1.5),
    ("Director of Revenue Operations", "director", "revenue operations", 1.5),
    ("RevOps Manager", "manager", "revenue operations", 2.5),
    ("Sales Operations Analyst", "entry", "revenue operations", 1.5),
    ("Account Executive", "senior", "sales", 4), ("SDR", "entry", "sales", 4),
    ("Marketing Manager", "manager", "marketing", 3),
    ("Growth Marketing Lead", "senior", "marketing", 1.5),
    ("Software Engineer", "senior", "engineering", 3),
    ("IT Manager", "manager", "information technology", 2),
    ("Data Analyst", "entry", "data", 1.5), ("Office Manager", "entry", "operations", 1),
    ("Recruiter", "entry", "human resources", 1),
]
_NAME_STEMS = ["north", "blue", "bright", "quantum", "iron", "silver", "peak", "cedar",
               "harbor", "summit", "nova", "clear", "swift", "atlas", "lumen", "orbit",
               "pine", "river", "stone", "vector", "maple", "copper", "delta", "ember",
               "granite", "helix", "kite", "meadow", "onyx", "polar", "sage", "tidal"]
_NAME_ROOTS = ["wave", "stack", "forge", "leaf", "path", "grid", "loop", "byte", "field",
               "point", "works", "ly", "ware", "hub", "bay", "line", "mark", "scale"]
_NAME_SUFFIX = ["", "", "Labs", "Inc.", "Group", "Systems", "Analytics", "Health",
                "Partners", "Media", "Logistics", "Technologies", "Studio", "Co."]
_EVENT_TYPES = ["pricing_page_view", "demo_request", "security_doc_view",
                "careers_page_view", "webinar_attended", "email_reply"]
_BACKGROUND_MIX = [20, 2, 5, 30, 18, 25]
_HOT_MIX = [35, 10, 15, 4, 10, 26]


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the files written by :func:`generate_demo`."""

    accounts: Path
    contacts: Path
    deals: Path
    outcomes: Path
    events: Path


@dataclass
class _Account:
    domain: str
    name: str
    industry: str
    employees: int
    revenue: int
    country: str
    region: str
    techs: list[str]
    founded: int
    model: str
    funding_days: int | None
    contacts: list[str] = field(default_factory=list)
    won: bool = False
    open_deal: bool = False
    lost: bool = False

    @property
    def fit(self) -> int:
        """Number of planted ICP traits (0-5)."""
        return sum([self.industry in ICP_INDUSTRIES, 50 <= self.employees <= 500,
                    "Salesforce" in self.techs, self.country in ("US", "CA"),
                    self.funding_days is not None and self.funding_days <= 365])

    @property
    def anti(self) -> int:
        """Number of anti-ICP traits (agency, fewer than 10 employees)."""
        return int(self.model == "agency") + int(self.employees < 10)


def _choice(r: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    return r.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _poisson(r: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, r.random()
    while p > limit:
        k, p = k + 1, p * r.random()
    return k


def _domain(r: random.Random, stem: str, country: str, tech: bool, taken: set[str]) -> str:
    tld = _TLD.get(country, ".io" if tech and r.random() < 0.35 else ".com")
    for extra in ["", "hq", "app", "get", "labs", "data", "go", "try"]:
        host = ("get" + stem if extra in ("get", "try", "go") and r.random() < 0.5
                else stem + extra) + tld
        if host not in taken:
            taken.add(host)
            return host
    host = f"{stem}{len(taken)}{tld}"
    taken.add(host)
    return host


def _make_account(r: random.Random, taken: set[str]) -> _Account:
    lookalike = r.random() < 0.06  # prospected ICP lookalikes: every trait present
    tech = lookalike or r.random() < 0.38
    if lookalike:
        industry = r.choice(ICP_INDUSTRIES)
        model = "saas" if r.random() < 0.9 else "marketplace"
        employees = int(math.exp(r.uniform(math.log(50), math.log(500))))
        country = "US" if r.random() < 0.85 else "CA"
    else:
        industry = _choice(r, list(_TECH_INDUSTRIES.items()) if tech else _OTHER_INDUSTRIES)
        if industry == "marketing and advertising" and r.random() < 0.75:
            model = "agency"
        elif tech:
            model = _choice(r, [("saas", 70), ("marketplace", 10), ("services", 10),
                                ("agency", 5), ("ecommerce", 5)])
        else:
            model = _choice(r, [(m, w) for m, w in BUSINESS_MODELS if m != "saas"] + [("saas", 7)])
        median = 12.0 if model == "agency" else 70.0
        employees = max(1, min(200_000, round(math.exp(r.gauss(math.log(median), 1.8)))))
        country = _choice(r, [(c, w * (1.3 if tech and c in ("US", "CA") else 1.0))
                              for c, w in COUNTRIES])
    techs = [t for t, p in TOOLS if r.random() < p * (0.5 if t == "Salesforce" else 1.0)]
    sf_p = 0.1 + 0.25 * tech + 0.2 * (employees >= 50)
    if lookalike or r.random() < sf_p:
        techs = ["Salesforce"] + [t for t in techs if t != "Salesforce"]
    r.shuffle(techs)
    if lookalike:
        funding: int | None = r.randint(5, 365)
    elif r.random() < (0.55 if tech else 0.15):
        funding = max(1, min(4000, round(math.exp(r.gauss(math.log(600), 0.9)))))
    else:
        funding = None
    stem = r.choice(_NAME_STEMS) + r.choice(_NAME_ROOTS)
    suffix = r.choice(_NAME_SUFFIX)
    return _Account(
        domain=_domain(r, stem, country, tech, taken),
        name=(stem.capitalize() + " " + suffix).strip(),
        industry=industry, employees=employees,
        revenue=int(float(f"{employees * math.exp(r.gauss(math.log(140_000), 0.5)):.3g}")),
        country=country, region=r.choice(_REGIONS.get(country, [""])),
        techs=techs, model=model, funding_days=funding,
        founded=max(1850, 2026 - (2 + int(r.expovariate(1 / (9 if tech else 25))))),
    )


# -- messy rendering -----------------------------------------------------------------

def _messy_domain(r: random.Random, d: str) -> str:
    return r.choice([f"https://www.{d}", f"http://{d}/", d.upper(), d.capitalize() + "/",
                     f"www.{d}", f"https://{d}/about"])


def _messy_employees(r: random.Random, n: int) -> str:
    if n > 10000:
        return "10001+"
    if n >= 1000 and r.random() < 0.5:
        return f"{n:,}"
    low, high = next(b for b in _EMPLOYEE_RANGES if b[0] <= n <= b[1])
    return f"{low}-{high}"


def _messy_revenue(r: random.Random, v: int) -> str:
    m = v / 1e6
    return r.choice([f"${m:.1f}M", f"{m:.1f} M", f"{v:,}"]) if m >= 0.1 else f"{v:,}"


def _messy_techs(r: random.Random, techs: list[str]) -> str:
    cased = [r.choice([t, t.lower(), t.upper()]) for t in techs]
    if len(cased) == 1:
        return r.choice([" ", ""]) + cased[0] + " "
    seps = [r.choice(["; ", " ;", " ; ", ";"]) for _ in cased[1:]]
    seps[r.randrange(len(seps))] = r.choice(["; ", " ;", " ; "])
    return cased[0] + "".join(s + t for s, t in zip(seps, cased[1:]))


def _messy_industry(r: random.Random, industry: str) -> str:
    return r.choice([industry.title(), industry.upper(), " " + industry, industry + " "])


def _lifecycle(r: random.Random, a: _Account) -> str:
    if a.won:
        return "Customer"
    if a.open_deal:
        return "Opportunity"
    if a.lost:
        return r.choice(["Other", "Lead", "Sales Qualified Lead"])
    return _choice(r, [("Lead", 50), ("Marketing Qualified Lead", 25), ("Subscriber", 15),
                       ("Sales Qualified Lead", 10)])


def _account_row(r: random.Random, rid: int, a: _Account) -> list[str]:
    def messy() -> bool:
        return r.random() < MESSY_SHARE

    cells = [
        a.name,
        _messy_domain(r, a.domain) if messy() else a.domain,
        _messy_industry(r, a.industry) if messy() else a.industry,
        _messy_employees(r, a.employees) if messy() else str(a.employees),
        _messy_revenue(r, a.revenue) if messy() else str(a.revenue),
        r.choice(_COUNTRY_NAMES[a.country]) if messy() else a.country,
        a.region,
        _messy_techs(r, a.techs) if a.techs and messy() else ";".join(a.techs),
        str(a.founded), a.model, _lifecycle(r, a), r.choice(_OWNERS),
        "" if a.funding_days is None else str(a.funding_days),
    ]
    # blanks in every non-key column (the domain, index 1, is the key)
    cells = [c if i == 1 or r.random() >= BLANK_SHARE else "" for i, c in enumerate(cells)]
    return [str(rid), *cells]


# -- related records -------------------------------------------------------------------

def _contacts(r: random.Random, a: _Account, taken: set[str]) -> list[list[str]]:
    n = min(8, max(1, 1 + _poisson(r, 0.4 + 0.45 * math.log10(a.employees + 1) + 0.3 * a.fit)))
    rows = []
    for _ in range(n):
        first, last = r.choice(_FIRST), r.choice(_LAST)
        local = _choice(r, [(f"{first}.{last}", 5), (f"{first[0]}{last}", 3), (first, 1)])
        local = local.lower().replace("ü", "u").replace("'", "")
        host = a.domain
        if r.random() < 0.07:
            host, local = r.choice(_FREEMAIL), local + str(r.randint(1, 99))
        email, k = f"{local}@{host}", 2
        while email in taken:
            email, k = f"{local}{k}@{host}", k + 1
        taken.add(email)
        a.contacts.append(email)
        title, seniority, department, _ = r.choices(_TITLES, weights=[t[3] for t in _TITLES])[0]
        country = a.country if r.random() < 0.9 else _choice(r, COUNTRIES)
        rows.append([email, f"{first} {last}", title, seniority, department, a.domain,
                     "" if r.random() < 0.03 else country])
    return rows


def _deals(r: random.Random, a: _Account) -> list[list[str]]:
    if r.random() >= min(0.9, 0.45 + 0.08 * a.fit):
        return []
    span = (TODAY - START).days
    p_win = _sigmoid(-3.2 + 0.78 * a.fit - 1.6 * a.anti)
    rows = []
    for _ in range(r.choices([1, 2, 3], weights=[70, 22, 8])[0]):
        created = START + timedelta(days=r.randrange(span - 10))
        cycle = 14 + int(r.gammavariate(2.0, 35 - 4 * a.fit))
        closed = created + timedelta(days=cycle)
        amount = 6000 * (a.employees ** 0.35) * math.exp(r.gauss(0, 0.4)) * (1 + 0.15 * a.fit)
        amount = max(1000, round(amount, -2))
        if closed > TODAY:
            outcome, closed_at = "open", ""
            a.open_deal = True
        else:
            outcome, closed_at = ("won" if r.random() < p_win else "lost"), closed.isoformat()
            a.won, a.lost = a.won or outcome == "won", a.lost or outcome == "lost"
        rows.append([a.domain, created.isoformat(), closed_at, outcome, str(int(amount))])
    return rows


def _outcome(r: random.Random, a: _Account, deals: list[list[str]]) -> list[str]:
    won = [d for d in deals if d[3] == "won"]
    first_win = min(date.fromisoformat(d[2]) for d in won)
    tenure = max(1, (TODAY - first_win).days // 30)
    hazard = _sigmoid(-3.0 - 0.45 * a.fit + 1.8 * a.anti)
    churn = 1 + int(math.log(1 - r.random()) / math.log(1 - hazard))
    retention = min(tenure, churn)
    fit, anti = a.fit, a.anti
    arr = round(sum(int(d[4]) for d in won) * math.exp(r.gauss(0, 0.15)), -2)
    expansion = 0.0 if churn < tenure else max(0.0, r.gauss(0.03 + 0.06 * fit - 0.05 * anti, 0.08))
    nps = max(0, min(10, round(r.gauss(5.0 + 0.8 * fit - 1.5 * anti, 1.5))))
    ttv = round(math.exp(r.gauss(math.log(75 - 10 * fit + 25 * anti), 0.35)))
    tickets = _poisson(r, (1 + math.log10(a.employees + 1)) * (3.2 - 0.45 * fit + 2.0 * anti))
    return [a.domain, str(int(arr)), str(retention), f"{expansion:.2f}", str(nps), str(ttv),
            str(tickets)]


def _events(r: random.Random, a: _Account) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    hot = _poisson(r, 14 + 4 * a.fit) if a.open_deal else 0
    if a.fit >= 4:
        hot += _poisson(r, 4)
    for i in range(_poisson(r, 3.8 + 0.8 * a.fit) + hot):
        if i < hot:  # concentrated in the last 60 days, more people
            age_s = (r.expovariate(1 / 20) % 60) * 86400
            people = a.contacts
            mix = _HOT_MIX
        else:
            age_s = r.uniform(0, 365) * 86400
            people = a.contacts[:2]
            mix = _BACKGROUND_MIX
        ts = EVENT_END - timedelta(seconds=int(age_s) + 1)
        email = "" if r.random() < 0.2 else r.choice(people)
        kind = r.choices(_EVENT_TYPES, weights=mix)[0]
        out.append((ts.strftime("%Y-%m-%dT%H:%M:%SZ"), a.domain, email, kind))
    return out


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)
    return path


def generate_demo(out_dir: Path | str, n_accounts: int = 3000, seed: int = 7) -> DemoFiles:
    """Write a synthetic CRM with a planted ICP to ``out_dir``; see the module docstring."""
    if n_accounts < 1:
        raise ValueError(f"n_accounts must be >= 1, got {n_accounts}")
    r = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    domains: set[str] = set()
    emails: set[str] = set()
    accounts = [_make_account(r, domains) for _ in range(n_accounts)]
    contacts = [row for a in accounts for row in _contacts(r, a, emails)]
    deals_by_account = [_deals(r, a) for a in accounts]
    outcomes = [_outcome(r, a, d) for a, d in zip(accounts, deals_by_account) if a.won]
    deals = sorted((d for ds in deals_by_account for d in ds), key=lambda d: (d[1], d[0]))
    events = sorted(e for a in accounts for e in _events(r, a))
    record_id = 5_800_000_000
    account_rows = []
    for a in accounts:
        record_id += r.randint(1, 5000)
        account_rows.append(_account_row(r, record_id, a))
    return DemoFiles(
        accounts=_write(out / "accounts.csv", ACCOUNT_HEADER, account_rows),
        contacts=_write(out / "contacts.csv", CONTACT_HEADER, contacts),
        deals=_write(out / "deals.csv", DEAL_HEADER,
                     [[f"deal-{i:06d}", *d] for i, d in enumerate(deals, 1)]),
        outcomes=_write(out / "outcomes.csv", OUTCOME_HEADER, outcomes),
        events=_write(out / "events.csv", EVENT_HEADER,
                      [[f"evt-{i:07d}", d, e, k, ts] for i, (ts, d, e, k) in enumerate(events, 1)]),
    )
