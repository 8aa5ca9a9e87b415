"""Evidence retention: an incident's mention buckets and top mentions, copied from Redis.

Redis keeps a monitor's minute buckets for about eight days (then they expire). So the chart
and the evidence of a post-mortem outlive them, the buckets around an incident and its most
damaging mentions are copied into the database when the incident opens and again when it
resolves (the reactions in ``service.registry``).

Choices, written down so a reviewer can check them:

- The **window** runs from ``BEFORE_OPEN`` before the incident opened (or before its first
  signal's window, if that is earlier) to ``now`` (the open or resolve time), capped to the
  ``MAX_SPAN`` ending at ``now``; it never starts before the monitor's first recorded bucket
  (before it there is no data, not zero). Within it every bucket is stored, zero-count ones
  included, so the chart shows true zeros.
- **Upsert**: a bucket already copied is updated only when Redis holds a larger count. Counts
  in Redis only grow, so a larger count is newer; a smaller one means Redis lost the bucket
  (expired or flushed), and the copy is kept.
- Each copy also takes an **evidence snapshot**: the ``EVIDENCE_LIMIT`` most damaging mentions
  from ``EVIDENCE_BEFORE`` before the first signal (or the opening) to now, as
  ``BucketStore.evidence`` ranks them (the hours before hold routine complaints, not evidence).
- A Redis failure is logged as a warning and copies nothing (returns 0): opening or resolving
  the incident matters more than its evidence.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.detection import service as detection
from service.detection.models import Signal
from service.incidents.models import Incident
from service.postmortem.models import EvidenceSnapshot, IncidentBucket

log = logging.getLogger(__name__)

#: how far before the incident opened the copied window starts (the build-up of the spike)
BEFORE_OPEN = timedelta(hours=3)
#: the most one copy stores: this much, ending at the time of the copy (1,440 minute buckets)
MAX_SPAN = timedelta(hours=24)
#: how many of the window's most damaging mentions an evidence snapshot keeps
EVIDENCE_LIMIT = 25
#: evidence is the firestorm's, not the routine complaints of the hours before it: its window
#: starts this long before the first signal's window (or the opening)
EVIDENCE_BEFORE = timedelta(minutes=15)
REASONS = ("opened", "resolved")

_COUNTERS = ("count", "negative", "positive", "sentiment_sum", "reach", "negative_reach")


def window(*, anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The (start, end) a copy covers: from before the incident (anchor) to now, <= MAX_SPAN."""
    return max(anchor - BEFORE_OPEN, now - MAX_SPAN), now


def _signal_start(session: Session, incident_id: int) -> datetime | None:
    return session.scalar(
        select(Signal.window_start)
        .where(Signal.incident_id == incident_id)
        .order_by(Signal.id)
        .limit(1)
    )


def retain(session: Session, *, incident: Incident, reason: str, now: datetime) -> int:
    """Copy an incident's buckets and top mentions from Redis; the number of buckets written."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}")
    if incident.monitor_id is None:
        return 0
    signal_start = _signal_start(session, incident.id)
    anchor = min(incident.opened_at, signal_start) if signal_start else incident.opened_at
    start, end = window(anchor=anchor, now=now)
    bucket_store = detection.store()
    size = bucket_store.bucket_seconds
    first, last = bucket_store.bucket_of(start), bucket_store.bucket_of(end)
    try:
        data_start = bucket_store.first_bucket(incident.monitor_id)
        # before the monitor's first bucket there is no data (not zeros): nothing to copy
        starts = range(0) if data_start is None else range(max(first, data_start), last + 1, size)
        buckets = bucket_store.fetch(incident.monitor_id, starts)  # one round trip
        evidence_from = bucket_store.bucket_of(anchor - EVIDENCE_BEFORE)
        recent = [s for s in starts if s >= evidence_from]
        mentions = bucket_store.evidence(incident.monitor_id, recent, limit=EVIDENCE_LIMIT)
    except redis.RedisError as exc:
        log.warning(
            "could not copy the evidence of incident #%s (%s) from Redis: %s",
            incident.id,
            reason,
            type(exc).__name__,
        )
        return 0
    written = _upsert(session, incident_id=incident.id, seconds=size, buckets=buckets, now=now)
    session.add(
        EvidenceSnapshot(
            incident_id=incident.id,
            reason=reason,
            window_start=datetime.fromtimestamp(recent[0], UTC) if recent else start,
            window_end=end,
            mentions=mentions,
            taken_at=now,
        )
    )
    session.flush()
    return written


def _upsert(
    session: Session, *, incident_id: int, seconds: int, buckets: list[Any], now: datetime
) -> int:
    """Insert the buckets not copied yet, update those Redis now counts higher; how many."""
    if not buckets:
        return 0
    existing = {
        row.start: row
        for row in session.scalars(
            select(IncidentBucket).where(
                IncidentBucket.incident_id == incident_id,
                IncidentBucket.start >= buckets[0].start,
                IncidentBucket.start <= buckets[-1].start,
            )
        )
    }
    fresh: list[dict[str, Any]] = []
    updated = 0
    for b in buckets:
        values = {name: getattr(b, name) for name in _COUNTERS}
        row = existing.get(b.start)
        if row is None:
            fresh.append(
                {
                    "incident_id": incident_id,
                    "start": b.start,
                    "seconds": seconds,
                    "copied_at": now,
                    **values,
                }
            )
        elif b.count > row.count:  # smaller: Redis lost the bucket; keep the copy
            for name, value in values.items():
                setattr(row, name, value)
            row.copied_at = now
            updated += 1
    if fresh:
        session.execute(insert(IncidentBucket), fresh)
    return len(fresh) + updated


def series(session: Session, *, incident_id: int) -> list[IncidentBucket]:
    """The copied buckets of an incident, oldest first."""
    return list(
        session.scalars(
            select(IncidentBucket)
            .where(IncidentBucket.incident_id == incident_id)
            .order_by(IncidentBucket.start)
        )
    )


def evidence(session: Session, *, incident_id: int) -> list[dict[str, Any]]:
    """The latest non-empty snapshot's mentions, else the first signal's evidence."""
    for snapshot in session.scalars(
        select(EvidenceSnapshot)
        .where(EvidenceSnapshot.incident_id == incident_id)
        .order_by(EvidenceSnapshot.taken_at.desc(), EvidenceSnapshot.id.desc())
    ):
        if snapshot.mentions:
            return list(snapshot.mentions)
    first = session.scalar(
        select(Signal.evidence)
        .where(Signal.incident_id == incident_id)
        .order_by(Signal.id)
        .limit(1)
    )
    return list(first or [])
