"""Alerts: what changed in a rescoring that a subscriber wants to hear about, and the
delivery of each to its webhooks from the outbox.

Kinds:

- ``tier_upgrade``: a stored account moved to a higher tier;
- ``new_high_fit``: an account seen for the first time landed in the highest tier;
- ``buying_group_spike``: an account's buying group lit up (it was not before);
- ``drift`` and ``emerging_segment``: raised by the drift watch (:mod:`.watch`).

An alert is written to the outbox (one row per webhook that wants its kind) in the same
transaction as the scores that caused it, so none is lost or sent for a change that was
rolled back. A :class:`Deliverer` (on a worker thread) posts each due row as JSON, signed, and marks it
delivered on a 2xx answer; otherwise it retries with exponential backoff, up to
``ICP_WEBHOOK_MAX_ATTEMPTS``. Rows pending at a restart are delivered after it. The event
id travels in the ``X-Icp-Event-Id`` header: a receiver that saw it already can ignore a
repeat (a crash between a receiver's answer and the outbox's update is the one way to get
one).

The signature header ``X-Icp-Signature: t=<unix seconds>,v1=<hex>`` holds HMAC-SHA256, keyed
with the webhook's secret, of ``"<t>." + body``::

    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from ..errors import DataError
from ..profile.model import Profile
from .settings import Settings
from .store import Store, dumps, now

KINDS = ("tier_upgrade", "new_high_fit", "buying_group_spike", "drift", "emerging_segment")
#: Due deliveries taken per pass of the deliverer.
BATCH = 50
#: The longest wait between two attempts.
MAX_BACKOFF_S = 3600.0


def detect(profile: Profile, before: Mapping[str, Mapping[str, Any]],
           results: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(kind, payload) of each alert raised by ``results`` against the accounts as they
    were (``before``: {domain: {"tier", "result"}}, new accounts absent)."""
    rank = {t.name: i for i, t in enumerate(profile.tiers)}  # 0 = the highest tier
    top = profile.tiers[0].name if profile.criteria else None
    out: list[tuple[str, dict[str, Any]]] = []
    for r in results:
        old = before.get(r["domain"])
        tier = r.get("tier")
        account = {k: r.get(k) for k in ("domain", "name", "fit_score", "tier", "route", "reasons", "intent_score",
                                         "buying_group", "profile_version") if k in r}
        if old is None and top is not None and tier == top:
            out.append(("new_high_fit", {"account": account}))
        elif old is not None and tier in rank and old.get("tier") in rank and rank[tier] < rank[old["tier"]]:
            out.append(("tier_upgrade", {"account": account, "previous_tier": old["tier"]}))
        if r.get("buying_group") and not (old and old.get("result", {}).get("buying_group")):
            out.append(("buying_group_spike", {"account": account,
                                               "people": r.get("buying_group_people")}))
    return out


def deliveries(store: Store, alerts: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The outbox rows of ``alerts``: one per webhook subscribed to the alert's kind."""
    hooks = store.webhooks() if alerts else []
    rows = []
    for kind, payload in alerts:
        event_id = uuid.uuid4().hex
        body = {"event_id": event_id, "kind": kind, "created_at": now().isoformat() + "Z", **payload}
        for hook in hooks:
            if kind in hook["kinds"]:
                rows.append({"event_id": event_id, "webhook_id": hook["webhook_id"], "kind": kind,
                             "payload": dumps(body)})
    return rows


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def check_kinds(kinds: Sequence[str]) -> list[str]:
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise DataError(f"unknown alert kind '{unknown[0]}'" if unknown else "name at least one alert kind",
                        where="kinds", hint=f"choose from {', '.join(KINDS)}")
    return list(dict.fromkeys(kinds))


#: The most of a receiver's answer that is read (only its status counts).
RECEIVER_BYTES = 65_536


class Deliverer:
    """Delivers the outbox's due rows (see the module docstring), one batch a call of
    :meth:`run_once` (a :class:`~.workers.Worker`'s work)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._client: Any = None
        self._closing = False

    def close(self) -> None:
        """Stop between two deliveries (then close the connections, once the worker stopped)."""
        self._closing = True

    def release(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run_once(self) -> bool:
        """Deliver the due rows once; whether a full batch was due (more may be)."""
        if self._client is None:
            from ..enrich.fetch import Fetcher, FetchSettings

            timeout = self.settings.webhook_timeout_s
            self._client = Fetcher(FetchSettings(
                timeout_s=timeout, deadline_s=timeout, max_redirects=0, per_host_interval_s=0, respect_robots=False,
                allow_private=self.settings.webhook_allow_private, max_bytes=RECEIVER_BYTES, truncate=True,
                user_agent="icpkit-webhooks"))
        client = self._client
        due = self.store.due(BATCH)
        hooks = {h["webhook_id"]: h for h in self.store.webhooks(live_only=False)}
        for row in due:
            if self._closing:
                break
            hook = hooks.get(row["webhook_id"])
            if hook is None or hook["deleted_at"] is not None:
                self.store.delivered(row["event_id"], row["webhook_id"], ok=False, error="the webhook was deleted")
                continue
            error = self._post(client, hook, row)
            if error is None:
                self.store.delivered(row["event_id"], row["webhook_id"], ok=True)
                continue
            attempts = row["attempts"] + 1
            retry = None
            if attempts < self.settings.webhook_max_attempts:
                wait = min(MAX_BACKOFF_S, self.settings.webhook_backoff_s * 2 ** (attempts - 1))
                retry = now() + timedelta(seconds=wait)
            self.store.delivered(row["event_id"], row["webhook_id"], ok=False, error=error, retry_at=retry)
        return len(due) == BATCH

    def _post(self, client: Any, hook: Mapping[str, Any], row: Mapping[str, Any]) -> str | None:
        """None when the receiver took it (2xx), else why not."""
        from ..enrich.fetch import FetchError

        body = row["payload"].encode()
        headers = {"Content-Type": "application/json", "X-Icp-Event-Id": row["event_id"], "X-Icp-Event-Kind": row["kind"],
                   "X-Icp-Signature": sign(hook["secret"], body, int(time.time()))}
        try:
            answer = client.request("POST", hook["url"], content=body, headers=headers)
        except FetchError as exc:
            return f"{exc.reason}: {exc.message}"[:500]
        if 200 <= answer.status < 300:
            return None
        return f"HTTP {answer.status}"
