"""RQ entry points of detection. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

from service.db import utcnow
from service.detection.service import EVALUATED_KEY, evaluate
from service.extensions import db, redis


def detect(monitor_id: int) -> int | None:
    """Evaluate a monitor; open or update its incident if a firestorm is under way."""
    with db.transaction() as session:
        incident = evaluate(session, monitor_id=monitor_id, now=utcnow())
        return incident.id if incident else None


def recheck(monitor_id: int, closed_at: float | None = None) -> int | None:
    """Evaluate a monitor again, unless it was evaluated after ``closed_at`` (its minute's
    close is then judged already: a busy monitor needs no extra evaluation per minute)."""
    if closed_at is not None:
        last = redis.client.zscore(EVALUATED_KEY, str(monitor_id))
        if last is not None and float(last) >= closed_at:
            return None
    return detect(monitor_id)
