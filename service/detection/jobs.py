"""RQ entry points of detection. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

from service.db import utcnow
from service.detection.service import evaluate
from service.extensions import db


def detect(monitor_id: int) -> int | None:
    """Evaluate a monitor; open or update its incident if a firestorm is under way."""
    with db.transaction() as session:
        incident = evaluate(session, monitor_id=monitor_id, now=utcnow())
        return incident.id if incident else None
