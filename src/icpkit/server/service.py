"""The server's work as library calls that return data: scoring and storing accounts,
taking events, listing accounts, and the life of a profile (draft, validate, preview,
publish, roll back, diff). The HTTP layer (:mod:`.app`) only parses and renders; web
pages can call the same functions.

Scoring goes through the one-record :class:`~icpkit.scoring.record.Scorer`, so a stored
score is exactly what ``icp score`` gives for that record; ABM tiers rank it among the
stored accounts.
"""

from __future__ import annotations

import bisect
import json
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..enrich.match import AccountIndex
from ..errors import AuthError, ConflictError, DataError, MissingColumnError, NotFoundError, ProfileError, RequestError
from ..intent.record import event_rows, read_person
from ..io import record as rv
from ..io.crm import canonical_mapping, resolve_column
from ..profile.diff import profile_diff
from ..profile.load import parse_profile
from ..profile.model import Profile
from ..scoring.record import Scorer
from . import alerts, keys
from .outbound import check_url
from .settings import Settings
from .store import Store, dumps, now

#: Bins of the score histogram in a preview: [0, 10), [10, 20) ... [90, 100].
HISTOGRAM_BINS = 10
#: Accounts listed by name in a preview's tier changes.
PREVIEW_LISTED = 100
#: How often the keys are read again from the store (a key revoked elsewhere stops working).
KEYS_TTL_S = 5.0
#: Accounts marked by new events rescored per transaction (:meth:`Service.rescore_pending`):
#: few, so that the requests storing events, which share the store's connection, wait
#: little for one.
PENDING_BATCH = 200
#: How often the server looks for marks when nothing wakes it (after a restart, or marks
#: made by another server on the same PostgreSQL).
PENDING_POLL_S = 1.0
#: How long the published version read from the store is trusted.
ACTIVE_TTL_S = 1.0
#: Accounts scored per batch when a publication rescores every account.
RESCORE_BATCH = 2000
#: The stored accounts' matching index is rebuilt when this process stored an account new to
#: it (or renamed, or moved), or after this many seconds (another server may have stored some).
MATCH_INDEX_TTL_S = 30.0


def jsonable(value: Any) -> Any:
    """A scoring result's value as JSON: times in ISO 8601, NaN as null."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass
class Page:
    """One page of accounts and the cursor of the next (None on the last page)."""

    accounts: list[dict[str, Any]]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "next_cursor": self.next_cursor}


@dataclass
class Preview:
    """What publishing a version would do to the stored accounts."""

    version: int
    accounts: int
    tiers: dict[str, int]
    histogram: list[int]
    changed: int
    changes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "accounts": self.accounts, "tiers": self.tiers,
                "histogram": {"bins": [f"{i * 10}-{i * 10 + 10}" for i in range(HISTOGRAM_BINS)],
                              "counts": self.histogram},
                "tier_changes": self.changed, "changes": self.changes}


@dataclass(frozen=True)
class _AbmSplit:
    """ABM tiers over the stored accounts: the tier split and its best ``ranked`` accounts
    ({domain: "A" or "B"}, ties broken by domain); the tier's other accounts are "C"."""

    tier: str
    ranked: dict[str, str]

    def of(self, domain: str, tier: str | None) -> str | None:
        return self.ranked.get(domain, "C") if tier == self.tier else None


@dataclass(frozen=True)
class _Top:
    """The ``n`` best stored accounts of an ABM ``tier``, best first, as ``(-fit_score,
    domain)`` (the stored order: ties by domain), and whether they are all of that tier's."""

    tier: str
    n: int
    best: tuple[tuple[float, str], ...]
    whole: bool

    def after(self, saved: Iterable[tuple[str, str | None, float | None]]) -> _Top | None:
        """The top once ``saved`` (domain, tier, fit score) were stored; None when that
        cannot be told without reading the store (an account of the top fell, and the one
        after the top is not known)."""
        best, whole = list(self.best), self.whole
        for domain, tier, score in saved:
            entry = None if tier != self.tier or score is None else (-score, domain)
            old = next((e for e in best if e[1] == domain), None)
            if old is not None:
                if old == entry:
                    continue
                if not whole:
                    return None
                best.remove(old)
            if entry is not None:
                bisect.insort(best, entry)
                if len(best) > self.n:
                    best.pop()
                    whole = False
        return _Top(self.tier, self.n, tuple(best), whole)


@dataclass
class _Stored:
    """One request's scores waiting to be stored."""

    records: list[Mapping[str, Any]]
    results: list[dict[str, Any]]
    version: int
    when: datetime


class _Batcher:
    """Group commit: requests hand their scores to one thread, which stores all that are
    waiting in one transaction and then answers each. Under load a transaction carries many
    requests, so the store's fixed cost per transaction is shared; alone, a request waits
    for its own transaction only."""

    MAX = 512  # requests per transaction

    def __init__(self, store: Callable[[list[_Stored]], None]) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[tuple[_Stored, Future[list[dict[str, Any]]]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, item: _Stored) -> Future[list[dict[str, Any]]]:
        future: Future[list[dict[str, Any]]] = Future()
        self._queue.put((item, future))
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="icp-store", daemon=True)
                    self._thread.start()
        return future

    def close(self) -> None:
        """Store what is waiting, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)  # type: ignore[arg-type]
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            waiting = [first]
            stop = False
            while len(waiting) < self.MAX:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                waiting.append(nxt)
            try:
                self._store([item for item, _ in waiting])
            except BaseException as exc:  # noqa: BLE001 - every waiting request gets the error
                for _, future in waiting:
                    future.set_exception(exc)
            else:
                for item, future in waiting:
                    future.set_result(item.results)
            if stop:
                return


class Service:
    """The server's state: its store, settings and the active profile's scorer."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        #: Told when alerts were queued (the deliverer's wake-up), if any.
        self.on_alerts: Any = None
        #: Told when accounts were marked for rescoring (the rescoring thread's wake-up), if any.
        self.on_pending: Any = None
        self._lock = threading.RLock()
        self._scorer: Scorer | None = None
        self._scorer_version: int | None = None
        self._active: int | None = None
        self._active_read = -ACTIVE_TTL_S
        self._batcher = _Batcher(self._store_batch)
        self._index: tuple[AccountIndex, float] | None = None  # the stored accounts' matching index, when built
        self._indexed: dict[str, tuple[Any, str | None]] = {}  # domain -> (name, country) as indexed
        self._match_columns: dict[tuple[str, ...], tuple[str | None, str | None]] = {}  # headers -> name, country
        #: The ABM tier's best stored accounts, kept up to date by this process's stores
        #: when it is the store's only writer (no query per stored batch)
        self._top: _Top | None = None
        self._keys: dict[str, dict[str, Any]] = {}
        self._keys_read = 0.0

    def close(self) -> None:
        """Finish the stores still waiting (the store itself is closed by its owner)."""
        self._batcher.close()

    # -- keys -----------------------------------------------------------------------------

    def create_key(self, scope: str, name: str = "") -> tuple[str, str]:
        """A new key of ``scope``: (the key, shown once; its id)."""
        key, key_id, digest = keys.new_key()
        self.store.add_key(key_id, digest, keys.check_scope(scope), name)
        self._keys_read = 0.0
        return key, key_id

    def list_keys(self) -> list[dict[str, Any]]:
        return [{k: jsonable(v) for k, v in row.items() if k != "key_hash"} for row in self.store.keys()]

    def revoke_key(self, key_id: str) -> None:
        if not self.store.revoke_key(key_id):
            raise NotFoundError(f"no active key '{key_id}'", hint="`icp keys list` shows the keys")
        self._keys_read = 0.0

    def authenticate(self, authorization: str | None) -> keys.Principal:
        key, key_id = keys.key_id_of(authorization)
        found = self._key(key_id)
        if found is None or found["revoked_at"] is not None or not keys.matches(key, found["key_hash"]):
            raise AuthError("not a valid API key", hint="check the key, or make one with `icp keys create`")
        return keys.Principal(key_id, found["scope"])

    def _key(self, key_id: str) -> dict[str, Any] | None:
        fresh = time.monotonic() - self._keys_read < KEYS_TTL_S
        if not fresh or key_id not in self._keys:
            if fresh and time.monotonic() - self._keys_read < 0.5:  # an unknown id: read again at most twice a second
                return self._keys.get(key_id)
            self._keys = {row["key_id"]: row for row in self.store.keys()}
            self._keys_read = time.monotonic()
        return self._keys.get(key_id)

    # -- profiles -------------------------------------------------------------------------

    def parse(self, text: str, source: str = "profile") -> Profile:
        if len(text.encode("utf-8", "surrogatepass")) > self.settings.max_profile_bytes:
            raise ProfileError(f"the profile is larger than {self.settings.max_profile_bytes} bytes", where=source,
                               hint="ICP_MAX_PROFILE_BYTES sets the limit")
        return parse_profile(text, source=source)

    def create_profile(self, text: str, by: str) -> dict[str, Any]:
        """Store a draft version (checked first: an invalid profile is not stored)."""
        profile = self.parse(text)
        version = self.store.add_profile(profile.name, profile.version_hash, text, by)
        return self.profile_info(version)

    def profile_info(self, version: int) -> dict[str, Any]:
        row = self._profile_row(version)
        active = self.store.active_version()
        published = [p for p in self.store.publications() if p["version"] == version]
        return {"version": version, "name": row["name"], "hash": row["hash"], "created_at": jsonable(row["created_at"]),
                "created_by": row["created_by"], "active": version == active,
                "status": "active" if version == active else "published" if published else "draft",
                "publications": [jsonable({k: p[k] for k in ("seq", "action", "at", "by_key")}) for p in published]}

    def profiles(self) -> dict[str, Any]:
        active = self.store.active_version()
        return {"active": active, "profiles": [self.profile_info(p["version"]) for p in self.store.profiles()],
                "publications": [jsonable(p) for p in self.store.publications()]}

    def profile_source(self, version: int) -> str:
        return str(self._profile_row(version)["source"])

    def _profile_row(self, version: int) -> dict[str, Any]:
        row = self.store.profile(version)
        if row is None:
            raise NotFoundError(f"no profile version {version}", hint="GET /v1/profiles lists them")
        return row

    def load_version(self, version: int) -> Profile:
        return parse_profile(self.profile_source(version), source=f"profile version {version}")

    def diff(self, a: int, b: int) -> dict[str, Any]:
        changes = profile_diff(self.load_version(a), self.load_version(b))
        return {"from": a, "to": b, "changes": [c.to_dict() for c in changes]}

    def preview(self, version: int) -> Preview:
        """Score every stored account with ``version``, storing nothing."""
        scorer = Scorer(self.load_version(version))
        tiers: dict[str, int] = {t.name: 0 for t in scorer.profile.tiers}
        histogram = [0] * HISTOGRAM_BINS
        changes: list[dict[str, Any]] = []
        changed = total = 0
        current = {a["domain"]: a for a in self.store.accounts([], after=None, limit=None,
                                                               columns=["domain", "tier", "fit_score"])}
        for batch in self._batches():
            for result in self._score_with(scorer, batch):
                total += 1
                tier = result.get("tier")
                tiers[tier] = tiers.get(tier, 0) + 1
                score = result.get("fit_score")
                if score is not None and not math.isnan(score):
                    histogram[min(HISTOGRAM_BINS - 1, max(0, int(score // 10)))] += 1
                old = current.get(result["domain"])
                if old is not None and old["tier"] != tier:
                    changed += 1
                    if len(changes) < PREVIEW_LISTED:
                        changes.append({"domain": result["domain"], "from_tier": old["tier"], "to_tier": tier,
                                        "from_score": old["fit_score"], "to_score": score})
        return Preview(version, total, tiers, histogram, changed, changes)

    def publish(self, version: int, by: str, *, action: str = "publish") -> dict[str, Any]:
        """Make ``version`` the active profile and rescore every stored account with it,
        all in one transaction (a failure leaves the previous version and scores)."""
        profile = self.load_version(version)
        scorer = Scorer(profile)
        with self._lock, self._rescoring(), self.store.transaction():
            if self.store.active_version() == version:
                raise ConflictError(f"profile version {version} is already the active one")
            self.store.publish(version, action, by)
            changed = self._rescore(scorer, version)
            self._scorer, self._scorer_version = scorer, version
            self._active, self._active_read = version, time.monotonic()
            from .watch import keep_baseline  # (watch reads the service)

            keep_baseline(self, version)
        return {"version": version, "action": action, "rescored": changed[0], "tier_changes": changed[1]}

    def rollback(self, version: int, by: str) -> dict[str, Any]:
        if not any(p["version"] == version for p in self.store.publications()):
            raise ConflictError(f"profile version {version} was never published: publish it instead",
                                hint="POST /v1/profiles/{version}/publish")
        return self.publish(version, by, action="rollback")

    def active_version(self) -> int | None:
        """The published version, read from the store at most every :data:`ACTIVE_TTL_S`
        (another server on the same PostgreSQL may publish); a publication here is seen at once."""
        if time.monotonic() - self._active_read >= ACTIVE_TTL_S:
            self._active = self.store.active_version()
            self._active_read = time.monotonic()
        return self._active

    def active(self) -> Scorer:
        version = self.active_version()
        if version is None:
            raise ConflictError("no profile is published yet",
                                hint="POST /v1/profiles with a profile, then publish it (or `icp serve --profile`)")
        scorer = self._scorer
        if scorer is not None and self._scorer_version == version:
            return scorer  # the usual case, without waiting for a store in progress
        with self._lock:
            if self._scorer is None or self._scorer_version != version:
                self._scorer, self._scorer_version = Scorer(self.load_version(version)), version
            return self._scorer

    # -- scoring --------------------------------------------------------------------------

    def score(self, records: Sequence[Mapping[str, Any]], *, store: bool = True) -> list[dict[str, Any]]:
        """Score ``records`` with the active profile; with ``store``, keep each as its
        account's latest score (accounts are keyed by domain)."""
        return self.score_later(records, store=store).result()

    def score_later(self, records: Sequence[Mapping[str, Any]], *, store: bool = True) -> Future[list[dict[str, Any]]]:
        """:meth:`score` whose answer comes when the scores are stored: stores of concurrent
        requests are committed together (one transaction for all that wait, see :class:`_Batcher`)."""
        self._check_count(records, "accounts")
        for i, record in enumerate(records, 1):
            if not isinstance(record, Mapping):
                raise DataError(f"an account is a JSON object, not {type(record).__name__}", where=f"accounts[{i}]")
        scorer = self.active()
        version = self._scorer_version
        when = now()
        results = [jsonable(r) for r in self._score_with(scorer, records, when)]
        if not store:
            done: Future[list[dict[str, Any]]] = Future()
            done.set_result(results)
            return done
        for i, result in enumerate(results, 1):
            if result.get("domain") is None:
                raise DataError("an account to store needs a domain", where=f"accounts[{i}]",
                                hint="send the account's domain (or ?store=false to score only)")
        return self._batcher.submit(_Stored(list(records), results, version or 0, when))

    def _store_batch(self, batch: list[_Stored]) -> None:
        """Store the scores of many requests in one transaction, then give each its ABM tiers."""
        with self._lock:
            scorer = self.active()
            version = self._scorer_version or 0
            for item in batch:
                if item.version != version:  # scored before a publication: score again with the new version
                    item.results = [jsonable(r) for r in self._score_with(scorer, item.records, item.when)]
            pairs = [(r, res) for item in batch for r, res in zip(item.records, item.results, strict=True)]
            self._save(scorer, pairs, version, batch[-1].when)
            if self._top is not None:
                self._top = self._top.after((r["domain"], r.get("tier"), r.get("fit_score")) for _, r in pairs)
            abm = scorer.profile.abm
            split = self._abm(scorer) if abm is not None and any(r.get("tier") == abm.tier for _, r in pairs) else None
        if split is not None:
            for item in batch:
                for r in item.results:
                    r["abm_tier"] = split.of(r["domain"], r.get("tier"))

    def _score_with(self, scorer: Scorer, records: Sequence[Mapping[str, Any]],
                    when: datetime | None = None) -> list[dict[str, Any]]:
        """Scores of ``records`` as of ``when`` (default now), with their stored events."""
        events = None
        if scorer.profile.intent is not None or scorer.profile.triggers:
            domains = [d for d in (_domain_of(scorer, r) for r in records) if d]
            events = self.store.events(domains, scored=True) if domains else []
        results = scorer.score_many(records, events=events, scored_at=when or now(), events_stored=True)
        for r in results:
            r.pop("abm_tier", None)
        return results

    def _save(self, scorer: Scorer, scored: list[tuple[Mapping[str, Any], dict[str, Any]]], version: int,
              when: datetime) -> int:
        """Store scores and queue the alerts they raise, in one transaction; the tier changes."""
        with self.store.transaction():
            changes, before = self.store.save_scores(scored, version, when)
            raised = alerts.detect(scorer.profile, before, [r for _, r in scored])
            queued = alerts.deliveries(self.store, raised)
            self.store.enqueue(queued)
        with self._lock:  # an account new to the matching index, or renamed or moved: build it again
            if self._index is not None and any(self._indexed.get(r["domain"]) != self._match_fields(record)
                                               for record, r in scored):
                self._index = None
        if queued and self.on_alerts is not None:
            self.on_alerts()
        return len(changes)

    def _abm(self, scorer: Scorer | None = None) -> _AbmSplit | None:
        """The ABM split of the stored accounts by ``scorer``'s profile (default: the active
        one; None when there is none, or no ABM tiers)."""
        if scorer is None:
            if self.active_version() is None:
                return None
            scorer = self.active()
        abm = scorer.profile.abm
        if abm is None or not scorer.profile.criteria:
            return None
        n = abm.a + abm.b
        with self._lock:  # (stores hold it: the top read is the one stored)
            top = self._top
            if top is None or (top.tier, top.n) != (abm.tier, n):
                found = self.store.ranked(abm.tier, n)
                top = _Top(abm.tier, n, tuple((-score, domain) for domain, score in found), len(found) < n)
                if self.store.rows.single_writer:
                    self._top = top
        return _AbmSplit(abm.tier, {d: "A" if i < abm.a else "B" for i, (_, d) in enumerate(top.best)})

    def _batches(self) -> Any:
        after: str | None = None
        while True:
            page = self.store.accounts([], after=after, limit=RESCORE_BATCH)
            if not page:
                return
            yield [json.loads(a["record"]) for a in page]
            after = page[-1]["domain"]

    @contextmanager
    def _rescoring(self) -> Iterator[None]:
        """Around a rescoring (under the lock): the ABM top is read again after it, whether
        it is stored or rolled back."""
        try:
            yield
        finally:
            self._top = None

    def _rescore(self, scorer: Scorer, version: int) -> tuple[int, int]:
        """Rescore every stored account; (accounts rescored, tier changes)."""
        when = now()
        done = moved = 0
        for batch in self._batches():
            results = [jsonable(r) for r in self._score_with(scorer, batch, when)]
            moved += self._save(scorer, list(zip(batch, results)), version, when)
            done += len(batch)
        return done, moved

    # -- events ---------------------------------------------------------------------------

    def add_events(self, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Store new events (idempotent by ``event_id``) and mark the stored accounts they
        touch for rescoring, in one transaction; :meth:`rescore_pending` rescores them (the
        server's rescoring thread, soon after; a mark survives a restart). The answer counts
        the events received, added and already stored, and the accounts marked."""
        self._check_count(events, "events")
        rows = event_rows(events)
        received = now()
        stored = [{**r, "occurred_at": rv.from_micros(r["occurred_at"]),
                   "properties": None if r["properties"] is None else dumps(r["properties"]),
                   "received_at": received} for r in rows]
        touched = sorted({r["domain"] for r in stored if r["domain"]})
        scorer = self.active() if self.active_version() is not None else None
        reads_events = scorer is not None and (scorer.profile.intent is not None or bool(scorer.profile.triggers))
        with self.store.transaction():
            added = self.store.add_events(stored)
            marked = self.store.mark_pending(touched) if added and reads_events and touched else 0
        if marked and self.on_pending is not None:
            self.on_pending()
        return {"received": len(rows), "added": added, "duplicates": len(rows) - added, "rescoring": marked}

    def rescore_pending(self, limit: int = PENDING_BATCH) -> int:
        """Rescore (up to ``limit``) accounts marked by new events and clear their marks;
        how many were rescored. The server runs it on a thread of its own, so that a stream
        of event batches is stored at the speed of the store and an account is rescored
        once for all the events that arrived meanwhile. The store is free for those
        batches while the accounts are scored: a mark touched meanwhile stays for the next
        round. Marks are stored with the events, so after a restart it finishes what was
        marked."""
        with self._lock, self._rescoring():
            with self.store.transaction():
                domains = self.store.take_pending(limit)
                version = self.store.active_version()
                records = [json.loads(a["record"]) for a in self.store.account_records(domains)] \
                    if domains and version is not None else []
            pairs = []
            if records:
                scorer, when = self.active(), now()
                pairs = list(zip(records, (jsonable(r) for r in self._score_with(scorer, records, when))))
            with self.store.transaction():
                if pairs:
                    self._save(scorer, pairs, version, when)
                self.store.clear_pending(domains)
        return len(pairs)

    # -- accounts -------------------------------------------------------------------------

    def accounts(self, *, tier: str | None = None, abm_tier: str | None = None, route: str | None = None,
                 min_score: float | None = None, max_score: float | None = None,
                 changed_since: datetime | None = None, cursor: str | None = None, limit: int = 100) -> Page:
        """A page of the stored accounts, by domain, matching every filter given."""
        if not 1 <= limit <= self.settings.page_size_max:
            raise RequestError(f"limit must be between 1 and {self.settings.page_size_max}", where="limit")
        where: list[tuple[str, str, Any]] = []
        for col, op, value in (("tier", "=", tier), ("route", "=", route), ("fit_score", ">=", min_score),
                               ("fit_score", "<=", max_score), ("changed_at", ">=", changed_since)):
            if value is not None:
                where.append((col, op, value))
        split = self._abm()
        if abm_tier is not None:
            if abm_tier not in ("A", "B", "C"):
                raise RequestError("abm_tier is A, B or C", where="abm_tier")
            if split is None:
                where.append(("domain", "in", []))
            else:
                where.append(("tier", "=", split.tier))
                picked = [d for d, t in split.ranked.items() if t == abm_tier]
                where.append(("domain", "not in", list(split.ranked)) if abm_tier == "C" else ("domain", "in", picked))
        rows = self.store.accounts(where, after=cursor, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        page = [_account_summary(r) for r in rows]
        for a in page:
            a["abm_tier"] = split.of(a["domain"], a["tier"]) if split else None
        return Page(page, rows[-1]["domain"] if more else None)

    def account(self, domain: str) -> dict[str, Any]:
        key = rv.account_domain(domain) or domain
        pending = self.store.is_pending(key)  # (read first: a rescoring stored after it is in the row read next)
        row = self.store.account(key)
        if row is None:
            raise NotFoundError(f"no account '{key}'", where="domain")
        events = self.store.events([key], limit=self.settings.account_events_max)
        split = self._abm()
        return {**_account_summary(row), "abm_tier": split.of(key, row["tier"]) if split else None,
                "rescore_pending": pending,
                "record": json.loads(row["record"]),
                "recent_events": [jsonable({k: e[k] for k in ("event_id", "type", "email", "occurred_at")})
                                  for e in events],
                "tier_history": [jsonable({"from_tier": c["from_tier"], "to_tier": c["to_tier"],
                                           "fit_score": c["fit_score"], "published_version": c["profile_version"],
                                           "at": c["at"]}) for c in self.store.tier_changes(key)]}

    # -- leads ----------------------------------------------------------------------------

    def leads(self, leads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Each inbound person matched to a stored account by the matcher of ``icp match``
        (the e-mail's domain, else the company's website, else its name, exact then fuzzy
        with the country; a free-mail address only by name), with the account's fit, intent
        and route and the personas the person is. An unmatched lead with company fields is
        scored on them (nothing is stored)."""
        self._check_count(leads, "leads")
        scorer = self.active()
        out = []
        for i, lead in enumerate(leads, 1):
            if not isinstance(lead, Mapping):
                raise DataError(f"a lead is a JSON object, not {type(lead).__name__}", where=f"leads[{i}]")
            person = read_person(lead)
            match = self._match(lead)
            domain = match.domain
            found: dict[str, Any] = {"email": person["email"], "domain": domain, "match_method": match.method,
                                     "match_confidence": round(match.confidence, 4),
                                     "personas": scorer.personas_of(lead)}
            if domain is not None:
                account = self.account(domain)
                result = account["result"] | {"abm_tier": account["abm_tier"]}
                found["scored_from"] = "account"
            else:
                result = self._score_lead(scorer, lead, person)
                found["scored_from"] = "lead" if result is not None else None
            for k in ("fit_score", "tier", "abm_tier", "route", "reasons", "intent_score", "priority",
                      "buying_group"):
                if result is not None and k in result:
                    found[k] = result[k]
            if result is None:
                found["route"] = None
                found["unscored"] = "no stored account matches the lead, and its fields do not score on their own"
            out.append(found)
        return out

    def _match(self, lead: Mapping[str, Any]) -> Any:
        """The stored account of ``lead`` by the one matcher (:mod:`icpkit.enrich.match`)."""
        return self._accounts_index().match(lead)

    def _accounts_index(self) -> AccountIndex:
        """The stored accounts indexed for matching: built on first use, again once this
        process stored an account new to it or with another name or country (rescoring
        changes neither), and :data:`MATCH_INDEX_TTL_S` later."""
        with self._lock:
            if self._index is not None and time.monotonic() - self._index[1] < MATCH_INDEX_TTL_S:
                return self._index[0]
            indexed = {row["domain"]: self._match_fields(json.loads(row["record"]))
                       for row in self.store.account_records()}
            index = AccountIndex(list(indexed), [n for n, _ in indexed.values()], [c for _, c in indexed.values()])
            self._index, self._indexed = (index, time.monotonic()), indexed
            return index

    def _match_fields(self, record: Mapping[str, Any]) -> tuple[Any, str | None]:
        """The name and the country (ISO code) of a stored account's record, as matching reads them."""
        headers = tuple(k for k in record if isinstance(k, str))
        columns = self._match_columns.get(headers)
        if columns is None:
            mapping = canonical_mapping(list(headers)).columns
            columns = self._match_columns[headers] = (resolve_column("name", list(headers), mapping),
                                                      resolve_column("country", list(headers), mapping))
        name_col, country_col = columns
        country = record.get(country_col) if country_col else None
        return (record.get(name_col) if name_col else None,
                rv.normalize_country(str(country)) if country is not None else None)

    def _score_lead(self, scorer: Scorer, lead: Mapping[str, Any], person: Mapping[str, Any]) -> dict[str, Any] | None:
        record = {k: v for k, v in lead.items() if k not in ("email", "title", "seniority", "department")}
        if person.get("domain") and not any(k.lower() == "domain" for k in record):
            record["domain"] = person["domain"]
        try:
            result = jsonable(self._score_with(scorer, [record])[0])
        except MissingColumnError:
            return None
        return result

    # -- webhooks -------------------------------------------------------------------------

    def create_webhook(self, url: str, kinds: Sequence[str], by: str) -> dict[str, Any]:
        """A webhook for alerts of ``kinds``; its signing secret is in the answer, once."""
        import secrets
        import uuid

        kinds = alerts.check_kinds(kinds)
        check_url(url, allow_private=self.settings.webhook_allow_private)
        webhook_id, secret = uuid.uuid4().hex[:16], secrets.token_urlsafe(32)
        self.store.add_webhook(webhook_id, url, secret, kinds, by)
        return {"webhook_id": webhook_id, "url": url, "kinds": list(kinds), "secret": secret}

    def webhooks(self) -> list[dict[str, Any]]:
        return [jsonable({k: w[k] for k in ("webhook_id", "url", "kinds", "created_at", "created_by")})
                for w in self.store.webhooks()]

    def delete_webhook(self, webhook_id: str) -> None:
        if not self.store.delete_webhook(webhook_id):
            raise NotFoundError(f"no webhook '{webhook_id}'")

    def deliveries(self, webhook_id: str) -> list[dict[str, Any]]:
        if not any(w["webhook_id"] == webhook_id for w in self.store.webhooks(live_only=False)):
            raise NotFoundError(f"no webhook '{webhook_id}'")
        return [jsonable({k: d[k] for k in ("event_id", "kind", "created_at", "attempts", "next_at", "delivered_at",
                                             "failed_at", "last_error")}) for d in self.store.deliveries(webhook_id)]

    def _check_count(self, items: Sequence[Any], what: str) -> None:
        if not isinstance(items, Sequence) or isinstance(items, str | bytes):
            raise DataError(f"'{what}' must be a list", where=what)
        if len(items) > self.settings.max_records:
            raise DataError(f"{len(items)} {what} in one request; at most {self.settings.max_records}", where=what,
                            hint="send smaller batches (ICP_MAX_RECORDS sets the limit)")



def _account_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"domain": row["domain"], "fit_score": row["fit_score"], "tier": row["tier"], "route": row["route"],
            "published_version": row["profile_version"], "scored_at": jsonable(row["scored_at"]),
            "changed_at": jsonable(row["changed_at"]), "result": json.loads(row["result"])}


def _domain_of(scorer: Scorer, record: Mapping[str, Any]) -> str | None:
    header = scorer.columns(record.keys()).get("domain")
    return rv.account_domain(rv.as_text(record[header])) if header and record.get(header) is not None else None

