"""The server's drift watch: are the stored accounts' scores still like those the active
profile gave right after it was published?

Publishing a profile keeps a **baseline**: the snapshot of every stored account's score
(:mod:`icpkit.monitor.snapshot`); while it holds fewer than 100 accounts (a new server), a
check keeps a new one instead of comparing. A **check** (every ``ICP_DRIFT_EVERY_S`` seconds, or
``POST /v1/drift/check``) takes the snapshot again and measures the population stability
index of the score against the baseline (:func:`icpkit.monitor.drift.stability`). When its
reading crosses a band (stable, watch, shifted) from the previous check's, a ``drift`` alert
goes to the webhooks through the outbox. When the stored records carry an outcome
(``ICP_DRIFT_LABEL``, e.g. ``won``: 1/0, won/lost...), the check also looks for emerging
segments among the accounts below the top tier that have one (:mod:`icpkit.monitor.segments`),
and each segment not seen by the previous check is an ``emerging_segment`` alert.
"""

from __future__ import annotations

import json
from typing import Any

from ..monitor.drift import MIN_ROWS, Figure, stability
from ..monitor.segments import find, support
from ..monitor.snapshot import Snapshot, from_rows
from . import alerts
from .service import Service, jsonable
from .store import dumps


def snapshot(service: Service) -> Snapshot:
    """The snapshot of the stored accounts' latest scores."""
    profile = service.active().profile
    rows = (json.loads(a["result"]) for a in service.store.accounts([], after=None, limit=None, columns=["result"]))
    return from_rows(profile, rows)


def keep_baseline(service: Service, version: int) -> None:
    """Record the baseline of a version just published (inside its transaction)."""
    snap = snapshot(service)
    service.store.add_check({"kind": "baseline", "published_version": version, "rows": snap.rows,
                             "snapshot": dumps(snap.to_dict()), "level": None, "psi": None, "emerging": "[]"})


def check(service: Service) -> dict[str, Any]:
    """One drift check (see the module docstring): its figures, and the alerts it queued."""
    version = service.store.active_version()
    if version is None:
        return {"checked": False, "note": "no profile is published yet"}
    base = service.store.checks(kind="baseline", version=version, limit=1)
    current = snapshot(service)
    if not base or base[0]["rows"] < MIN_ROWS:  # none yet, or too small to compare with: keep one now
        keep_baseline(service, version)
        figure = Figure(None, None, [], f"a baseline of version {version} was kept ({current.rows:,} accounts); "
                                        "the next check compares with it")
    else:
        figure = stability(Snapshot.from_dict(json.loads(base[0]["snapshot"])).score_bands(), current.score_bands())
    previous = next(iter(service.store.checks(kind="check", version=version, limit=1)), None)
    emerging = _emerging(service)
    raised: list[tuple[str, dict[str, Any]]] = []
    before = previous["level"] if previous else "stable"
    if figure.level is not None and figure.level != before:
        raised.append(("drift", {"psi": figure.psi, "level": figure.level, "previous_level": before,
                                 "published_version": version, "bins": figure.bins}))
    seen = {(s["attribute"], s["value"]) for s in json.loads(previous["emerging"])} if previous else set()
    raised += [("emerging_segment", {"segment": s, "published_version": version}) for s in emerging
               if (s["attribute"], s["value"]) not in seen]
    with service.store.transaction():
        seq = service.store.add_check({"kind": "check", "published_version": version, "rows": current.rows,
                                       "psi": figure.psi, "level": figure.level or before,
                                       "snapshot": dumps(current.to_dict()), "emerging": dumps(emerging)})
        service.store.enqueue(alerts.deliveries(service.store, raised))
    if raised and service.on_alerts is not None:
        service.on_alerts()
    return {"checked": True, "seq": seq, "published_version": version, "rows": current.rows, "psi": figure.psi,
            "level": figure.level, "previous_level": before, "note": figure.note, "emerging": emerging,
            "alerts": [k for k, _ in raised]}


def _emerging(service: Service) -> list[dict[str, Any]]:
    label = service.settings.drift_label
    if not label:
        return []
    import numpy as np
    import pyarrow as pa

    from ..discover.features import read_labelled
    from ..errors import IcpError

    scorer = service.active()
    top = scorer.profile.tiers[0].name if scorer.profile.criteria else None
    stored = service.store.accounts([], after=None, limit=None, columns=["record", "tier"])
    pairs = [(json.loads(a["record"]), a["tier"]) for a in stored]
    pairs = [(r, t) for r, t in pairs if r.get(label) not in (None, "")]
    if top is None or len(pairs) < 2 * support(len(pairs)):
        return []
    records = [{k: v if v is None or isinstance(v, (str, int, float, bool)) else json.dumps(v) for k, v in r.items()}
               for r, _ in pairs]
    try:
        data = read_labelled(pa.Table.from_pylist(records), label, exclude=[k for k in records[0] if
                                                                             k.lower() in ("domain", "website")])
    except (IcpError, pa.ArrowException):
        return []
    tiers = np.asarray([t for _, t in pairs], dtype=object)
    found, _ = find(data, tiers, top, "emerging", min_support=support(len(pairs)))
    return [jsonable(s.to_dict()) for s in found]
