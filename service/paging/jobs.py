"""RQ entry points of paging. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

from service.db import utcnow
from service.extensions import db
from service.paging import delivery
from service.paging import service as paging


def deliver(user_id: int) -> str:
    """Send a person's pending SMS pages (once; throttled and bundled)."""
    return delivery.deliver(user_id=user_id, now=utcnow())


def call_page(page_id: int) -> str:
    """Place the voice call of a page."""
    return delivery.call(page_id=page_id, now=utcnow())


def escalate(incident_id: int, epoch: int, round_: int, level: int) -> bool:
    """An escalation timer fired: page the next level if that step is still current."""
    with db.transaction() as session:
        return paging.advance(
            session,
            incident_id=incident_id,
            now=utcnow(),
            expect=(epoch, round_, level),
            reason="nobody acknowledged in time",
        )
