"""RQ entry points of paging. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

import time

from sqlalchemy import select

from service.db import utcnow
from service.extensions import db
from service.paging import delivery
from service.paging import service as paging
from service.paging.models import Escalation

#: an escalation timer this close to its due time waits for it instead of re-arming
WAIT_AT_MOST_SECONDS = 1.5


def _not_before(incident_id: int) -> None:
    """RQ schedules to the whole second: a timer a little early sleeps until its step is due,
    so no level is ever paged before its time (a larger gap re-arms in `advance`)."""
    with db.transaction() as session:
        due = session.scalar(
            select(Escalation.next_at).where(Escalation.incident_id == incident_id)
        )
    wait = (due - utcnow()).total_seconds() if due is not None else 0
    if 0 < wait <= WAIT_AT_MOST_SECONDS:
        time.sleep(wait + 0.001)


def deliver(user_id: int) -> str:
    """Send a person's pending SMS pages (once; throttled and bundled)."""
    return delivery.deliver(user_id=user_id, now=utcnow())


def call_page(page_id: int) -> str:
    """Place the voice call of a page."""
    return delivery.call(page_id=page_id, now=utcnow())


def escalate(incident_id: int, epoch: int, round_: int, level: int) -> bool:
    """An escalation timer fired: page the next level if that step is still current."""
    _not_before(incident_id)
    with db.transaction() as session:
        return paging.advance(
            session,
            incident_id=incident_id,
            now=utcnow(),
            expect=(epoch, round_, level),
            reason="nobody acknowledged in time",
        )
