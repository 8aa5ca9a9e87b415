"""What a page's status does: the statuses a provider reports (the Twilio status callback, or
the console backend at once, through the same `record`), and a page's failure (the fallback
rule)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.extensions import db
from service.incidents.models import Incident
from service.paging import service as paging
from service.paging.models import FINAL, PROVIDER_ORDER, Page, PageStatus
from service.timeline import events
from service.timeline import service as timeline

PROVIDER = timeline.Actor.system("sms")
#: the MessageStatus values Twilio documents for status callbacks (any other is refused)
MESSAGE_STATUSES = frozenset(
    {
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "receiving",
        "received",
        "accepted",
        "scheduled",
        "read",
        "partially_delivered",
        "canceled",
    }
)
#: the CallStatus values Twilio documents for a call's status callbacks
CALL_STATUSES = frozenset(
    {
        "queued",
        "initiated",
        "ringing",
        "in-progress",
        "completed",
        "busy",
        "no-answer",
        "canceled",
        "failed",
    }
)


def finish(
    session: Session,
    page: Page,
    status: PageStatus,
    *,
    error: str | None = None,
    code: int | None = None,
) -> None:
    """A page failed, expired or went undelivered: record it; an SMS falls back to a call to
    the same person (the next level keeps its timer); a failed call escalates at once."""
    page.status, page.error, page.error_code = status.value, (error or "")[:300] or None, code
    if page.incident_id is None:
        return
    timeline.append(
        session,
        incident_id=page.incident_id,
        actor=PROVIDER,
        event=events.PageFailed(
            page_id=page.id,
            to=page.user.name,
            status=status.value,
            error=page.error,
            error_code=code,
            channel=page.channel,
        ),
    )
    if page.kind != "page" or page.incident_id is None:
        return
    incident = session.get(Incident, page.incident_id)
    if incident is None or incident.status != "triggered":
        return
    if page.channel == "sms":
        # the fallback rule: call the same person first; the next level keeps its timer
        paging.new_page(
            session,
            incident=incident,
            user=page.user,
            kind="page",
            channel="voice",
            body=page.body,
            now=utcnow(),
        )
        return
    # the call failed too: page the next level at once
    paging.advance(
        session,
        incident_id=incident.id,
        now=utcnow(),
        expect=None,
        reason=f"page {page.id} {status.value} (voice)",
    )


def apply_status(session: Session, *, provider_id: str, status: str, error_code: Any) -> int:
    """A provider status callback: move the pages forward (never back); 0 if none matched."""
    new: PageStatus | None
    try:
        new = PageStatus(status)
    except ValueError:
        new = {
            "accepted": PageStatus.QUEUED,
            "sending": PageStatus.SENT,
            "completed": PageStatus.DELIVERED,
            "in-progress": PageStatus.DELIVERED,
            "busy": PageStatus.UNDELIVERED,
            "no-answer": PageStatus.UNDELIVERED,
            "canceled": PageStatus.FAILED,
        }.get(status)
    timeline.lock_incidents(
        session, session.scalars(select(Page.incident_id).where(Page.provider_id == provider_id))
    )
    pages = list(
        session.scalars(
            select(Page).where(Page.provider_id == provider_id).with_for_update(of=Page)
        )
    )
    if new is None or new not in PROVIDER_ORDER:
        return len(pages)
    for page in pages:
        current = PageStatus(page.status)
        if current in FINAL or PROVIDER_ORDER.get(current, 0) >= PROVIDER_ORDER[new]:
            continue
        if page.incident_id is not None:
            timeline.append(
                session,
                incident_id=page.incident_id,
                actor=PROVIDER,
                event=events.PageStatusChanged(
                    page_id=page.id, from_=current.value, to=new.value, error_code=error_code
                ),
            )
        if new in (PageStatus.FAILED, PageStatus.UNDELIVERED):
            code = int(error_code) if str(error_code or "").isdigit() else None
            finish(session, page, new, error=f"provider reported {new.value}", code=code)
        else:
            page.status = new.value
            if new is PageStatus.DELIVERED:
                page.delivered_at = utcnow()
    return len(pages)


def record(*, provider_id: str, status: str, error_code: str | None = None) -> int:
    """A provider's status report in a transaction of its own (how many pages it matched): the
    status callback's path, which the console backend takes too, right after it sends."""
    with db.transaction() as session:
        return apply_status(session, provider_id=provider_id, status=status, error_code=error_code)
