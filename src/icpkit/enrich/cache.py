"""The enrichment cache, kept in the workspace: every answer a provider gave (found or not)
with when it was fetched and what it cost, and a ledger of what each run spent.

An answer and its charge are stored in one transaction the moment they arrive, so an
interrupted run loses nothing it paid for: run again and those answers come from the
cache. Answers older than the time to live are fetched again. The key of an answer holds
the provider's *identity* (its URL, method and body: what the answer depends on), so
changing a provider's endpoint does not serve the old endpoint's answers; changing only
its field mapping keeps them (the raw answer is stored and mapped when read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..backends.rows import Rows, Table

NAMESPACE = "enrich"

_ANSWERS = Table("enrich_answers", {"provider": "text", "identity": "text", "domain": "text", "status": "text",
                                    "payload": "text", "reason": "text", "cost": "float", "fetched_at": "time",
                                    "run_id": "text"},
                 key=("provider", "identity", "domain"))
_SPEND = Table("enrich_spend", {"run_id": "text", "provider": "text", "domain": "text", "cost": "float",
                                "at": "time"},
               key=("run_id", "provider", "domain"), indexes=(("run_id",),))
MIGRATIONS = [[_ANSWERS, _SPEND]]


@dataclass(frozen=True)
class Cached:
    """A stored answer: ``found`` or ``not_found`` (a paid answer that is kept), or
    ``error`` for a paid answer that could not be read (e.g. malformed JSON)."""

    status: str
    payload: dict[str, Any] | None
    reason: str | None
    cost: float
    fetched_at: datetime


class Cache:
    """Answers by (provider, identity, domain) on ``rows`` (the workspace's database)."""

    def __init__(self, rows: Rows, *, ttl_days: float) -> None:
        self.rows = rows
        self.ttl = timedelta(days=ttl_days)
        rows.migrate(NAMESPACE, MIGRATIONS)

    def fresh(self, provider: str, identity: str, domains: Iterable[str], *,
              now: datetime | None = None) -> dict[str, Cached]:
        """The answers of ``provider`` for ``domains`` fetched within the time to live."""
        wanted = sorted(set(domains))
        if not wanted:
            return {}
        since = (now or _now()) - self.ttl
        found = self.rows.select(_ANSWERS.name, [("provider", "=", provider), ("identity", "=", identity),
                                                 ("domain", "in", wanted), ("fetched_at", ">=", since)])
        return {r["domain"]: Cached(r["status"], json.loads(r["payload"]) if r["payload"] else None, r["reason"],
                                    float(r["cost"] or 0.0), r["fetched_at"]) for r in found}

    def store(self, provider: str, identity: str, domain: str, answer: Cached, run_id: str) -> None:
        """Keep ``answer`` and charge its cost to ``run_id``, together."""
        with self.rows.transaction():
            self.rows.insert(_ANSWERS.name, [{
                "provider": provider, "identity": identity, "domain": domain, "status": answer.status,
                "payload": json.dumps(answer.payload, ensure_ascii=False) if answer.payload is not None else None,
                "reason": answer.reason, "cost": answer.cost, "fetched_at": answer.fetched_at, "run_id": run_id,
            }], on_conflict="replace")
            if answer.cost:
                self.rows.insert(_SPEND.name, [{"run_id": run_id, "provider": provider, "domain": domain,
                                                "cost": answer.cost, "at": answer.fetched_at}], on_conflict="replace")

    def spent(self, run_id: str) -> float:
        return sum(float(r["cost"]) for r in self.rows.select(_SPEND.name, [("run_id", "=", run_id)],
                                                              columns=["cost"]))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
