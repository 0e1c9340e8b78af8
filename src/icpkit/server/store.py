"""What the server keeps: API keys, profile versions and their publications, accounts with
their latest scores and tier history, events, and the responses of idempotent requests.

The tables are described here as data and created by migrations (:data:`MIGRATIONS`);
the backend stores them (:mod:`icpkit.backends.rows`): the workspace's DuckDB file, or
PostgreSQL. JSON values are stored as text. Times are naive UTC.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..backends.rows import AddColumn, AddIndex, Rows, Table, Where

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

WEBHOOKS = Table("icp_webhooks", {"webhook_id": "text", "url": "text", "secret": "text", "kinds": "text",
                                  "created_at": "time", "created_by": "text", "deleted_at": "time"}, ("webhook_id",))
OUTBOX = Table("icp_outbox", {"event_id": "text", "webhook_id": "text", "kind": "text", "payload": "text",
                              "created_at": "time", "attempts": "int", "next_at": "time", "delivered_at": "time",
                              "failed_at": "time", "last_error": "text"}, ("event_id", "webhook_id"),
               indexes=(("next_at",),))

CHECKS = Table("icp_drift_checks", {"seq": "int", "at": "time", "kind": "text", "published_version": "int",
                                    "rows": "int", "psi": "float", "level": "text", "snapshot": "text",
                                    "emerging": "text"}, ("seq",))

PENDING = Table("icp_pending", {"domain": "text", "since": "time"}, ("domain",), indexes=(("since",),))

#: Each migration runs once per database, in order; never edit one that has shipped, add one.
MIGRATIONS: list[list[Any]] = [
    [KEYS, PROFILES, PUBLICATIONS, ACCOUNTS, TIER_CHANGES, EVENTS, IDEMPOTENCY],
    [WEBHOOKS, OUTBOX, AddColumn(ACCOUNTS.name, "name_key", "text"), AddIndex(ACCOUNTS.name, ("name_key",))],
    [CHECKS],
    # the number of an account's tier changes kept with it (no count of its history per write);
    # the ABM split read by index
    [AddColumn(ACCOUNTS.name, "changes", "int"), AddIndex(ACCOUNTS.name, ("tier", "fit_score", "domain"))],
    [PENDING, AddIndex(EVENTS.name, ("domain", "occurred_at"))],
    # a mark set again while its account is being rescored (see Store.take_pending)
    [AddColumn(PENDING.name, "touched", "bool")],
]


#: How long the live webhooks read from the store are trusted (another server may add one).
HOOKS_TTL_S = 2.0


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class Store:
    """The server's tables on one backend's :class:`~icpkit.backends.rows.Rows`."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self._hooks: list[dict[str, Any]] | None = None
        self._hooks_read = 0.0
        self._domains: set[str] | None = None  # the stored accounts' domains, when this process is the only writer
        rows.migrate("server", MIGRATIONS)

    def transaction(self) -> Any:
        return self.rows.transaction()

    def _next(self, table: Table, column: str) -> int:
        """The number after the largest of ``column`` (1 for an empty table); call it within
        the transaction that inserts it."""
        last = self.rows.select(table.name, columns=[column], order=[(column, True)], limit=1)
        return (last[0][column] if last else 0) + 1

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
            version = self._next(PROFILES, "version")
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
            self.rows.insert(PUBLICATIONS.name, [{"seq": self._next(PUBLICATIONS, "seq"), "version": version,
                                                  "action": action, "at": now(), "by_key": by}])

    def publications(self) -> list[dict[str, Any]]:
        return self.rows.select(PUBLICATIONS.name, order=[("seq", False)])

    def active_version(self) -> int | None:
        last = self.rows.select(PUBLICATIONS.name, columns=["version"], order=[("seq", True)], limit=1)
        return last[0]["version"] if last else None

    # -- accounts -------------------------------------------------------------------------

    def save_scores(self, scored: Sequence[tuple[Mapping[str, Any], dict[str, Any]]], version: int,
                    when: datetime) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """Store each (record, result) as its account's latest, and a tier change where the
        tier moved (a new account "moves" from None). Returns the tier changes made and the
        accounts as they were before ({domain: row}, without the new ones)."""
        if not scored:
            return [], {}
        domains = [r["domain"] for _, r in scored]
        with self.transaction():
            if self.rows.single_writer:  # no other writer: only the accounts this process stored can be there
                if self._domains is None:
                    self._domains = {a["domain"] for a in self.rows.select(ACCOUNTS.name, columns=["domain"])}
                domains = [d for d in domains if d in self._domains]
            before = {a["domain"]: a for a in self.rows.select(
                ACCOUNTS.name, [("domain", "in", domains)], columns=["domain", "tier", "changed_at", "result",
                                                                     "changes"])} if domains else {}
            counted = [d for d, a in before.items() if a["changes"] is None]  # stored before the column was
            seqs = {d: a["changes"] or 0 for d, a in before.items()} | self._last_seq(counted)
            current = dict(before)
            rows: dict[str, dict[str, Any]] = {}  # an account twice in a batch: its last row
            changes = []
            for record, result in scored:
                domain = result["domain"]
                old = current.get(domain)
                moved = old is None or old["tier"] != result.get("tier")
                if moved:
                    seqs[domain] = seqs.get(domain, 0) + 1
                    changes.append({"domain": domain, "seq": seqs[domain], "from_tier": old["tier"] if old else None,
                                    "to_tier": result.get("tier"), "fit_score": result.get("fit_score"),
                                    "profile_version": version, "at": when})
                rows[domain] = {"domain": domain, "record": dumps(record), "fit_score": result.get("fit_score"),
                             "tier": result.get("tier"), "route": result.get("route"), "result": dumps(result),
                             "profile_version": version, "scored_at": when,
                             "changed_at": when if moved else old["changed_at"],  # type: ignore[index]
                             "changes": seqs.get(domain, 0)}
                current[domain] = {"tier": result.get("tier"), "changed_at": rows[domain]["changed_at"]}
            upserted = list(rows.values())
            if self.rows.single_writer:  # the accounts read above are all there are: new ones are
                # inserted, not upserted (3x faster on DuckDB)
                self.rows.insert(ACCOUNTS.name, [r for d, r in rows.items() if d not in before])
                upserted = [r for d, r in rows.items() if d in before]
            self.rows.insert(ACCOUNTS.name, upserted, on_conflict="replace")
            self.rows.insert(TIER_CHANGES.name, changes)
            if self._domains is not None:  # (a rollback leaves extra domains: they cost a read, nothing more)
                self._domains.update(rows)
        return changes, {d: {**a, "result": json.loads(a["result"])} for d, a in before.items()}

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

    def accounts(self, where: Where, *, after: str | None, limit: int | None,
                 columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Accounts matching ``where`` with a domain after ``after``, by domain."""
        cond = [*where, *([("domain", ">", after)] if after is not None else [])]
        return self.rows.select(ACCOUNTS.name, cond, columns=columns, order=[("domain", False)], limit=limit)

    def account_records(self, domains: Iterable[str] | None = None) -> list[dict[str, Any]]:
        where = [("domain", "in", list(domains))] if domains is not None else []
        return self.rows.select(ACCOUNTS.name, where, columns=["domain", "record"], order=[("domain", False)])

    def ranked(self, tier: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best-scored accounts of ``tier`` (ties by domain), with their fit scores."""
        found = self.rows.select(ACCOUNTS.name, [("tier", "=", tier)], columns=["domain", "fit_score"],
                                 order=[("fit_score", True), ("domain", False)], limit=n)
        return [(r["domain"], r["fit_score"]) for r in found]

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

    def mark_pending(self, domains: Sequence[str]) -> int:
        """Mark the stored accounts among ``domains`` for rescoring; how many there were. A
        mark already there keeps its place in the queue and is *touched*: taken for
        rescoring before these events were stored, it stays until they are scored too."""
        known = [a["domain"] for a in self.rows.select(ACCOUNTS.name, [("domain", "in", list(domains))],
                                                       columns=["domain"])]
        self.rows.insert(PENDING.name, [{"domain": d, "since": now(), "touched": True} for d in known],
                         on_conflict="replace", keep=["since"])
        return len(known)

    def take_pending(self, limit: int) -> list[str]:
        """The accounts marked longest ago (up to ``limit``), their marks untouched from now
        on: the events they have are the ones to score. :meth:`clear_pending` then clears
        the marks that stayed untouched."""
        with self.transaction():
            taken = [r["domain"] for r in self.rows.select(PENDING.name, columns=["domain"],
                                                           order=[("since", False)], limit=limit)]
            if taken:
                self.rows.update(PENDING.name, [("domain", "in", taken)], {"touched": False})
        return taken

    def pending_count(self) -> int:
        """Accounts marked for rescoring and not rescored yet (the rescoring's backlog)."""
        return self.rows.count(PENDING.name)[None]

    def is_pending(self, domain: str) -> bool:
        return bool(self.rows.select(PENDING.name, [("domain", "=", domain)], columns=["domain"]))

    def clear_pending(self, domains: Sequence[str]) -> None:
        """Clear the marks of ``domains`` untouched since :meth:`take_pending` took them."""
        if domains:
            self.rows.delete(PENDING.name, [("domain", "in", list(domains)), ("touched", "=", False)])

    def events(self, domains: Sequence[str], *, limit: int | None = None, scored: bool = False) -> list[Any]:
        """The events of ``domains``, the latest first: dicts of every column or, ``scored``,
        as scoring reads them (``Scorer.score_many(..., events_stored=True)``):
        (domain, email, type, occurred_at) tuples."""
        return self.rows.select(EVENTS.name, [("domain", "in", list(domains))],
                                columns=["domain", "email", "type", "occurred_at"] if scored else None,
                                order=[("occurred_at", True), ("event_id", False)], limit=limit, tuples=scored)

    # -- webhooks and their outbox ----------------------------------------------------------

    def add_webhook(self, webhook_id: str, url: str, secret: str, kinds: Sequence[str], by: str) -> None:
        self._hooks = None
        self.rows.insert(WEBHOOKS.name, [{"webhook_id": webhook_id, "url": url, "secret": secret,
                                          "kinds": ",".join(kinds), "created_at": now(), "created_by": by}])

    def webhooks(self, *, live_only: bool = True) -> list[dict[str, Any]]:
        """The webhooks (the live ones: read again at most every :data:`HOOKS_TTL_S`, and at
        once after a change here)."""
        if live_only and self._hooks is not None and time.monotonic() - self._hooks_read < HOOKS_TTL_S:
            return self._hooks
        where = [("deleted_at", "null", True)] if live_only else []
        found = [{**w, "kinds": w["kinds"].split(",")} for w in
                 self.rows.select(WEBHOOKS.name, where, order=[("created_at", False), ("webhook_id", False)])]
        if live_only:
            self._hooks, self._hooks_read = found, time.monotonic()
        return found

    def delete_webhook(self, webhook_id: str) -> bool:
        self._hooks = None
        return self.rows.update(WEBHOOKS.name, [("webhook_id", "=", webhook_id), ("deleted_at", "null", True)],
                                {"deleted_at": now()}) > 0

    def enqueue(self, deliveries: Sequence[dict[str, Any]]) -> None:
        """Deliveries (event_id, webhook_id, kind, payload) due now; one per event and webhook."""
        when = now()
        self.rows.insert(OUTBOX.name, [{**d, "created_at": when, "attempts": 0, "next_at": when}
                                       for d in deliveries], on_conflict="ignore")

    def due(self, limit: int) -> list[dict[str, Any]]:
        return self.rows.select(OUTBOX.name, [("delivered_at", "null", True), ("failed_at", "null", True),
                                              ("next_at", "<=", now())], order=[("next_at", False)], limit=limit)

    def deliveries(self, webhook_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return self.rows.select(OUTBOX.name, [("webhook_id", "=", webhook_id)],
                                order=[("created_at", True), ("event_id", False)], limit=limit)

    def delivered(self, event_id: str, webhook_id: str, *, ok: bool, error: str | None = None,
                  retry_at: datetime | None = None) -> None:
        key = [("event_id", "=", event_id), ("webhook_id", "=", webhook_id)]
        with self.transaction():
            row = self.rows.select(OUTBOX.name, key, columns=["attempts"])[0]
            values: dict[str, Any] = {"attempts": row["attempts"] + 1, "last_error": error}
            if ok:
                values["delivered_at"] = now()
            elif retry_at is None:
                values["failed_at"] = now()
            else:
                values["next_at"] = retry_at
            self.rows.update(OUTBOX.name, key, values)

    # -- drift checks -----------------------------------------------------------------------

    def add_check(self, row: dict[str, Any]) -> int:
        with self.transaction():
            seq = self._next(CHECKS, "seq")
            self.rows.insert(CHECKS.name, [{**row, "seq": seq, "at": now()}])
        return seq

    def checks(self, *, kind: str | None = None, version: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The latest drift checks (or baselines), newest first."""
        where = [(c, "=", v) for c, v in (("kind", kind), ("published_version", version)) if v is not None]
        return self.rows.select(CHECKS.name, where, order=[("seq", True)], limit=limit)

    # -- idempotent requests --------------------------------------------------------------

    def replay(self, key_id: str, idem_key: str) -> dict[str, Any] | None:
        found = self.rows.select(IDEMPOTENCY.name, [("key_id", "=", key_id), ("idem_key", "=", idem_key)])
        return found[0] if found else None

    def remember(self, key_id: str, idem_key: str, request: str, status: int, body: str) -> None:
        self.rows.insert(IDEMPOTENCY.name, [{"key_id": key_id, "idem_key": idem_key, "request": request,
                                             "status": status, "body": body, "at": now()}], on_conflict="ignore")
