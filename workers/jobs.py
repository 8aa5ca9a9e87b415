"""RQ jobs. Each takes ids, reloads state from the database, and is idempotent."""

from __future__ import annotations

from datetime import datetime

from service.db import utcnow
from service.detection.service import evaluate
from service.extensions import db
from service.paging import delivery  # noqa: F401


def detect(monitor_id: int, at: str | None = None) -> int | None:
    """Evaluate a monitor; open or update its incident if a firestorm is under way."""
    now = datetime.fromisoformat(at) if at else utcnow()
    with db.transaction() as session:
        incident = evaluate(session, monitor_id=monitor_id, now=now)
        return incident.id if incident else None


def deliver(user_id: int) -> str:
    """Send a person's pending SMS pages (once; throttled and bundled)."""
    from service.paging.delivery import deliver as run

    return run(user_id=user_id, now=utcnow())


def call_page(page_id: int) -> str:
    """Place the voice call of a page."""
    from service.paging.delivery import call

    return call(page_id=page_id, now=utcnow())


def escalate(incident_id: int, epoch: int, round_: int, level: int) -> bool:
    """An escalation timer fired: page the next level if that step is still current."""
    from service.paging.service import advance

    with db.transaction() as session:
        return advance(
            session,
            incident_id=incident_id,
            now=utcnow(),
            expect=(epoch, round_, level),
            reason="nobody acknowledged in time",
        )


def reconcile() -> dict:
    """The periodic sweep (also run by `firebreak reconcile`)."""
    from service.reconcile import sweep

    return sweep(now=utcnow())
