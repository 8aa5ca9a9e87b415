"""The periodic sweep: repairs what Redis lost, from the database (the truth)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from service.extensions import db
from service.jobs import enqueue_now
from service.paging import delivery, receipts, statuses
from service.paging import service as paging
from service.paging.models import Page, PageStatus
from service.paging.schedule import Deliver, PlaceCall

log = logging.getLogger(__name__)

#: a step this late (its RQ timer lost, its worker killed) is run by the sweep
ESCALATION_GRACE = timedelta(seconds=2)
#: a pending page older than this has lost its delivery job
PENDING_GRACE = timedelta(seconds=20)
#: a page claimed this long ago and still "sending" lost its worker mid-send
SENDING_GRACE = timedelta(seconds=60)


def sweep(*, now: datetime) -> dict[str, int]:
    """Run overdue escalations, re-queue lost deliveries, re-send interrupted sends,
    expire pages stuck at the provider, and forget old webhook receipts."""
    done = {"escalations": 0, "requeued": 0, "resent": 0, "expired": 0}
    with db.transaction() as session:
        overdue = [
            (e.incident_id, e.epoch, e.round, e.level)
            for e in paging.due(session, now=now, grace=ESCALATION_GRACE)
        ]
    for incident_id, epoch, round_, level in overdue:
        with db.transaction() as session:
            if paging.advance(
                session,
                incident_id=incident_id,
                now=now,
                expect=(epoch, round_, level),
                reason="overdue (found by the sweep)",
            ):
                done["escalations"] += 1
    with db.transaction() as session:
        lost = session.execute(
            select(Page.id, Page.user_id, Page.channel).where(
                Page.status == PageStatus.PENDING.value, Page.created_at < now - PENDING_GRACE
            )
        ).all()
    for page_id, user_id, channel in lost:
        enqueue_now(PlaceCall(page_id) if channel == "voice" else Deliver(user_id))
        done["requeued"] += 1
    with db.transaction() as session:
        keys = session.scalars(
            select(Page.send_key)
            .where(
                Page.status == PageStatus.SENDING.value,
                Page.sending_at < now - SENDING_GRACE,
                Page.send_key.is_not(None),
            )
            .distinct()
        ).all()
    for key in keys:
        try:
            log.warning("re-sending %s (interrupted); the idempotency key prevents a double", key)
            delivery.send_claimed(key=str(key))
            done["resent"] += 1
        except Exception:  # noqa: BLE001 - left for the next sweep
            log.exception("re-send of %s failed", key)
    with db.transaction() as session:
        stuck = session.scalars(
            select(Page)
            .where(
                Page.status.in_([PageStatus.QUEUED.value, PageStatus.SENT.value]),
                Page.expires_at < now,
            )
            .with_for_update(of=Page, skip_locked=True)
        ).all()
        for page in stuck:
            statuses.finish(
                session, page, PageStatus.EXPIRED, error="not delivered within its validity period"
            )
            done["expired"] += 1
    with db.transaction() as session:
        done["receipts_pruned"] = receipts.prune(session, now=now)
    return done
