"""What the server keeps: API keys, profile versions and their publications, accounts with
their latest scores and tier history, events, and the responses of idempotent requests.

The tables are described here as data and created by migrations (:data:`MIGRATIONS`);
the backend stores them (:mod:`icpkit.backends.rows`): the workspace's DuckDB file, or
PostgreSQL. JSON values are stored as text. Times are naive UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..backends.rows import Rows, Table, Where

KEYS = Table("icp_keys", {"key_id": "text", "key_hash": "text", "scope": "text", "name": "text",
                          "created_at": "time", "revoked_at": "time"}, ("key_id",), not_null=("key_hash", "scope"))
PROFILES = Table("icp_profiles", {"version": "int", "name": "text", "hash": "text", "source": "text",
                                  "created_at": "time", "created_by": "text"}, ("version",))
PUBLICATIONS = Table("icp_publications", {"seq": "int", "version": "int", "action": "text", "at": "time",
                                          "by_key": "text"}, ("seq",))
ACCOUNTS = Table("icp_accounts", {"domain": "text", "record": "text", "fit_score": "float", "tier": "text",
                                  "route": "text", "result": "text", "profile_version": "int",
                                  "scored_at": "time", "changed_at": "time"}, ("domain",),
                 indexes=(("tier",), ("changed_at",)))
TIER_CHANGES = Table("icp_tier_changes", {"domain": "text", "seq": "int", "from_tier": "text", "to_tier": "text",
                                          "fit_score": "float", "profile_version": "int", "at": "time"},
                     ("domain", "seq"))
EVENTS = Table("icp_events", {"event_id": "text", "domain": "text", "email": "text", "type": "text",
                              "occurred_at": "time", "properties": "text", "received_at": "time"}, ("event_id",),
               indexes=(("domain",),))
IDEMPOTENCY = Table("icp_idempotency", {"key_id": "text", "idem_key": "text", "request": "text", "status": "int",
                                        "body": "text", "at": "time"}, ("key_id", "idem_key"))

#: Each migration runs once per database, in order; never edit one that has shipped, add one.
MIGRATIONS: list[list[Any]] = [[KEYS, PROFILES, PUBLICATIONS, ACCOUNTS, TIER_CHANGES, EVENTS, IDEMPOTENCY]]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class Store:
    """The server's tables on one backend's :class:`~icpkit.backends.rows.Rows`."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        rows.migrate(MIGRATIONS)

    def transaction(self) -> Any:
        return self.rows.transaction()

    # -- keys -----------------------------------------------------------------------------

    def add_key(self, key_id: str, key_hash: str, scope: str, name: str) -> None:
        self.rows.insert(KEYS.name, [{"key_id": key_id, "key_hash": key_hash, "scope": scope, "name": name,
                                      "created_at": now()}])

    def keys(self) -> list[dict[str, Any]]:
        return self.rows.select(KEYS.name, order=[("created_at", False)])

    def revoke_key(self, key_id: str) -> bool:
        return self.rows.update(KEYS.name, [("key_id", "=", key_id), ("revoked_at", "null", True)],
                                {"revoked_at": now()}) > 0

    # -- profiles -------------------------------------------------------------------------

    def add_profile(self, name: str, hash_: str, source: str, by: str) -> int:
        with self.transaction():
            last = self.rows.select(PROFILES.name, columns=["version"], order=[("version", True)], limit=1)
            version = (last[0]["version"] if last else 0) + 1
            self.rows.insert(PROFILES.name, [{"version": version, "name": name, "hash": hash_, "source": source,
                                              "created_at": now(), "created_by": by}])
        return version

    def profile(self, version: int) -> dict[str, Any] | None:
        found = self.rows.select(PROFILES.name, [("version", "=", version)])
        return found[0] if found else None

    def profiles(self) -> list[dict[str, Any]]:
        return self.rows.select(PROFILES.name, columns=["version", "name", "hash", "created_at", "created_by"],
                                order=[("version", False)])

    def publish(self, version: int, action: str, by: str) -> None:
        with self.transaction():
            last = self.rows.select(PUBLICATIONS.name, columns=["seq"], order=[("seq", True)], limit=1)
            self.rows.insert(PUBLICATIONS.name, [{"seq": (last[0]["seq"] if last else 0) + 1, "version": version,
                                                  "action": action, "at": now(), "by_key": by}])

    def publications(self) -> list[dict[str, Any]]:
        return self.rows.select(PUBLICATIONS.name, order=[("seq", False)])

    def active_version(self) -> int | None:
        last = self.rows.select(PUBLICATIONS.name, columns=["version"], order=[("seq", True)], limit=1)
        return last[0]["version"] if last else None

    # -- accounts -------------------------------------------------------------------------

    def save_scores(self, scored: Sequence[tuple[Mapping[str, Any], dict[str, Any]]], version: int,
                    when: datetime) -> list[dict[str, Any]]:
        """Store each (record, result) as its account's latest, and a tier change where the
        tier moved (a new account "moves" from None); the tier changes made."""
        if not scored:
            return []
        domains = [r["domain"] for _, r in scored]
        with self.transaction():
            before = {a["domain"]: a for a in self.rows.select(
                ACCOUNTS.name, [("domain", "in", domains)], columns=["domain", "tier", "changed_at"])}
            seqs = {d: n for d, n in self._last_seq(domains).items()}
            rows, changes = [], []
            for record, result in scored:
                domain = result["domain"]
                old = before.get(domain)
                moved = old is None or old["tier"] != result.get("tier")
                rows.append({"domain": domain, "record": dumps(record), "fit_score": result.get("fit_score"),
                             "tier": result.get("tier"), "route": result.get("route"), "result": dumps(result),
                             "profile_version": version, "scored_at": when,
                             "changed_at": when if moved else old["changed_at"]})
                if moved:
                    seqs[domain] = seqs.get(domain, 0) + 1
                    changes.append({"domain": domain, "seq": seqs[domain], "from_tier": old["tier"] if old else None,
                                    "to_tier": result.get("tier"), "fit_score": result.get("fit_score"),
                                    "profile_version": version, "at": when})
                before[domain] = {"tier": result.get("tier"), "changed_at": rows[-1]["changed_at"]}
            self.rows.insert(ACCOUNTS.name, rows, on_conflict="replace")
            self.rows.insert(TIER_CHANGES.name, changes)
        return changes

    def _last_seq(self, domains: Sequence[str]) -> dict[str, int]:
        if not domains:
            return {}
        found = self.rows.select(TIER_CHANGES.name, [("domain", "in", list(set(domains)))], columns=["domain", "seq"])
        out: dict[str, int] = {}
        for r in found:
            out[r["domain"]] = max(out.get(r["domain"], 0), r["seq"])
        return out

    def account(self, domain: str) -> dict[str, Any] | None:
        found = self.rows.select(ACCOUNTS.name, [("domain", "=", domain)])
        return found[0] if found else None

    def accounts(self, where: Where, *, after: str | None, limit: int) -> list[dict[str, Any]]:
        cond = [*where, *([("domain", ">", after)] if after is not None else [])]
        return self.rows.select(ACCOUNTS.name, cond, order=[("domain", False)], limit=limit)

    def account_records(self, domains: Iterable[str] | None = None) -> list[dict[str, Any]]:
        where = [("domain", "in", list(domains))] if domains is not None else []
        return self.rows.select(ACCOUNTS.name, where, columns=["domain", "record"], order=[("domain", False)])

    def tier_changes(self, domain: str) -> list[dict[str, Any]]:
        return self.rows.select(TIER_CHANGES.name, [("domain", "=", domain)], order=[("seq", False)])

    # -- events ---------------------------------------------------------------------------

    def add_events(self, events: Sequence[dict[str, Any]]) -> int:
        """Store the events whose id is new (the first copy of an id wins); how many were new."""
        if not events:
            return 0
        ids = list({e["event_id"] for e in events})
        with self.transaction():
            known = {r["event_id"] for r in self.rows.select(EVENTS.name, [("event_id", "in", ids)],
                                                               columns=["event_id"])}
            fresh, seen = [], set(known)
            for e in events:
                if e["event_id"] not in seen:
                    seen.add(e["event_id"])
                    fresh.append(e)
            self.rows.insert(EVENTS.name, fresh)
        return len(fresh)

    def events(self, domains: Sequence[str], *, limit: int | None = None) -> list[dict[str, Any]]:
        return self.rows.select(EVENTS.name, [("domain", "in", list(domains))],
                                order=[("occurred_at", True), ("event_id", False)], limit=limit)

    # -- idempotent requests --------------------------------------------------------------

    def replay(self, key_id: str, idem_key: str) -> dict[str, Any] | None:
        found = self.rows.select(IDEMPOTENCY.name, [("key_id", "=", key_id), ("idem_key", "=", idem_key)])
        return found[0] if found else None

    def remember(self, key_id: str, idem_key: str, request: str, status: int, body: str) -> None:
        self.rows.insert(IDEMPOTENCY.name, [{"key_id": key_id, "idem_key": idem_key, "request": request,
                                             "status": status, "body": body, "at": now()}], on_conflict="ignore")
