"""The waterfall: for each field of each account, the providers asked in the order the
configuration gives, and the first valid value wins.

A provider is asked at most once per account (its answer serves every field it gives),
and only when a field still needs it: a free local table that fills ``employees`` means
the paid API behind it is never asked for that account. A value of the wrong kind (an
employee count of ``"lots"``) is recorded with its reason and the next provider is tried.

Money: a lookup that costs something is *reserved* against the budget before it is made
and charged when its answer arrives (stored with the answer in the cache, see
:mod:`.cache`), so the budget is never exceeded, even with lookups running at once; a
lookup the budget cannot cover is skipped with the reason ``budget``. A dry run asks no
paid or remote provider: it counts the lookups a run would make (at most: each is
assumed to find nothing) and what they would cost.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .cache import Cache, Cached
from .config import EnrichConfig, Kind
from .providers import Answer, Provider


@dataclass
class Filled:
    """One account's enrichment: values by field, where each came from, what went wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    fetched_at: dict[str, datetime | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class Tally:
    """What a run did, per provider: lookups made, answered from the cache, skipped."""

    asked: Counter[str] = field(default_factory=Counter)
    cached: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    would_ask: Counter[str] = field(default_factory=Counter)
    filled: Counter[tuple[str, str]] = field(default_factory=Counter)  # (field, source)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, counter: str, key: Any) -> None:
        with self.lock:
            getattr(self, counter)[key] += 1


class Budget:
    """Money reserved and spent by one run, never more than ``limit`` (None: no limit)."""

    def __init__(self, limit: float | None) -> None:
        self.limit, self.spent, self.reserved = limit, 0.0, 0.0
        self._lock = threading.Lock()

    def reserve(self, cost: float) -> bool:
        if cost <= 0:
            return True
        with self._lock:
            if self.limit is not None and self.spent + self.reserved + cost > self.limit + 1e-9:
                return False
            self.reserved += cost
            return True

    def settle(self, reserved: float, charged: float) -> None:
        with self._lock:
            self.reserved -= reserved if reserved > 0 else 0.0
            self.spent += charged


def valid(value: Any, kind: Kind) -> tuple[Any, str | None]:
    """``value`` as a value of ``kind``, or (None, why not). None and blanks are missing
    values, not errors: (None, None)."""
    if value is None or isinstance(value, str) and not value.strip() or value == []:
        return None, None
    if kind == "text":
        return (value.strip(), None) if isinstance(value, str) else (None, f"not text ({_short(value)})")
    if kind == "bool":
        return (value, None) if isinstance(value, bool) else (None, f"not true/false ({_short(value)})")
    if kind == "list":
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.split(",")) if v]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()] or None, None
        return None, f"not a list of text ({_short(value)})"
    number = _number(value)
    if number is None:
        return None, f"not a number ({_short(value)})"
    if kind == "integer":
        if number != int(number):
            return None, f"not a whole number ({_short(value)})"
        return int(number), None
    return number, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        try:
            n = float(value.replace(",", "").strip())
        except ValueError:
            return None
        return n if math.isfinite(n) and n >= 0 else None
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class Waterfall:
    """Runs the configuration's waterfalls for accounts (see the module docstring)."""

    config: EnrichConfig
    providers: Mapping[str, Provider]
    cache: Cache | None
    run_id: str
    budget: Budget
    tally: Tally
    dry_run: bool = False
    cached: dict[str, dict[str, Cached]] = field(default_factory=dict)  # provider -> domain -> answer

    def preload(self, domains: Sequence[str]) -> None:
        """Read the cached answers of every cached provider for ``domains`` at once."""
        for name, p in self.providers.items():
            if p.cached and self.cache is not None:
                self.cached[name] = self.cache.fresh(name, p.identity, domains)

    def fill(self, domain: str, needed: Sequence[str]) -> Filled:
        """Values for the ``needed`` fields of the account ``domain``."""
        out = Filled()
        answers: dict[str, Answer | None] = {}
        for f in needed:
            kind = self.config.kind(f)
            for name in self.config.order(f):
                if name not in answers:
                    answers[name] = self._ask(name, domain, out)
                answer = answers[name]
                if answer is None or answer.status != "found" or answer.payload is None:
                    continue
                value, why = valid(self.providers[name].values(answer.payload).get(f), kind)
                if why is not None:
                    out.problems.append(f"{name}: {f} {why}")
                    continue
                if value is not None:
                    out.values[f], out.sources[f], out.fetched_at[f] = value, name, answer.fetched_at
                    self.tally.add("filled", (f, name))
                    break
        return out

    def _ask(self, name: str, domain: str, out: Filled) -> Answer | None:
        p = self.providers[name]
        hit = self.cached.get(name, {}).get(domain)
        if hit is not None:
            self.tally.add("cached", name)
            return Answer(hit.status, hit.payload, hit.reason, 0.0, hit.fetched_at)
        if self.dry_run and p.cached:
            self.tally.add("would_ask", name)
            return None
        if not self.budget.reserve(p.cost):
            out.problems.append(f"{name}: budget")
            self.tally.add("errors", (name, "budget"))
            return None
        try:
            answer = p.lookup(domain)
        except BaseException:
            self.budget.settle(p.cost, 0.0)
            raise
        charged = answer.cost if answer.paid else 0.0
        if p.cached and answer.paid and self.cache is not None:
            self.cache.store(name, p.identity, domain, Cached(answer.status, answer.payload, answer.reason,
                                                              charged, answer.fetched_at), self.run_id)
        self.budget.settle(p.cost, charged)
        self.tally.add("asked", name)
        if answer.status == "found":
            self.tally.add("found", name)
        elif answer.status == "error":
            out.problems.append(f"{name}: {answer.reason}")
            self.tally.add("errors", (name, answer.reason or "error"))
        return answer


def run_all(waterfall: Waterfall, jobs: Sequence[tuple[str, Sequence[str]]], *, concurrency: int,
            progress: Callable[[int], None] | None = None) -> dict[str, Filled]:
    """``waterfall.fill`` for every (domain, needed fields), ``concurrency`` at a time; an
    interruption stops the lookups not yet begun (what was paid for is already cached)."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    results: dict[str, Filled] = {}
    todo = iter(jobs)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="icp-enrich") as pool:
        running = {}
        try:
            while True:
                while len(running) < concurrency * 2:
                    job = next(todo, None)
                    if job is None:
                        break
                    running[pool.submit(waterfall.fill, job[0], job[1])] = job[0]
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    results[running.pop(fut)] = fut.result()
                    if progress is not None:
                        progress(len(results))
        except BaseException:
            for fut in running:
                fut.cancel()
            raise
    return results
