"""What happens to messages when an incident resolves or an approval is decided: unsent ones
are dropped (and recorded), and everyone paged gets one short resolution SMS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.incidents.models import Incident
from service.paging import messages
from service.paging.models import Escalation, Page, PageStatus
from service.paging.service import ENGINE, new_page
from service.timeline import events
from service.timeline import service as timeline


def drop_pending(
    session: Session,
    *,
    reason: str,
    incident_id: int | None = None,
    approval_id: int | None = None,
    keep_kinds: tuple[str, ...] = ("resolved",),
) -> list[Page]:
    """Drop the unsent messages of an incident (it resolved) or of an approval (decided), and
    record each on the timeline; returns them."""
    query = select(Page).where(Page.status == PageStatus.PENDING.value)
    if incident_id is not None:
        query = query.where(Page.incident_id == incident_id)
    if approval_id is not None:
        query = query.where(Page.approval_id == approval_id)
    dropped = [p for p in session.scalars(query.order_by(Page.id)) if p.kind not in keep_kinds]
    for page in dropped:
        mark_dropped(session, page, reason=reason)
    return dropped


def drop_about_steps(
    session: Session, *, incident_id: int, active: set[int], reason: str
) -> list[Page]:
    """Drop the incident's unsent notices and reminders about playbook steps none of which is
    in ``active`` (still to do), and record each on the timeline; returns them."""
    pending = session.scalars(
        select(Page)
        .where(
            Page.incident_id == incident_id,
            Page.status == PageStatus.PENDING.value,
            Page.step_run_ids.is_not(None),
        )
        .order_by(Page.id)
    )
    dropped = [p for p in pending if p.step_run_ids and not set(p.step_run_ids) & active]
    for page in dropped:
        mark_dropped(session, page, reason=reason)
    return dropped


def mark_dropped(session: Session, page: Page, *, reason: str) -> None:
    """One message will not be sent: say so on its incident's timeline."""
    page.status, page.error = PageStatus.DROPPED.value, reason[:300]
    if page.incident_id is not None:
        timeline.append(
            session,
            incident_id=page.incident_id,
            actor=ENGINE,
            event=events.PageDropped(
                page_id=page.id, to=page.user.name, page_kind=page.kind, reason=reason
            ),
        )


def tell_resolved(
    session: Session, *, incident: Incident, by: str | None = None, now: datetime
) -> list[Page]:
    """One short SMS to everyone who was sent a page or notice about the incident (per policy),
    saying who resolved it."""
    esc = session.scalar(select(Escalation).where(Escalation.incident_id == incident.id))
    if esc is not None and not esc.policy.get("notify_resolved", True):
        return []
    reached = (PageStatus.QUEUED, PageStatus.SENT, PageStatus.DELIVERED, PageStatus.SENDING)
    user_ids = session.scalars(
        select(Page.user_id)
        .where(
            Page.incident_id == incident.id,
            Page.kind.in_(("page", "notify")),
            Page.channel == "sms",
            Page.status.in_([s.value for s in reached]),
        )
        .distinct()
    ).all()
    told = []
    for user_id in sorted(set(user_ids)):
        user = session.get(User, user_id)
        if user is None or not user.pageable:
            continue
        body = messages.resolved_text(incident=incident, by=by)
        told.append(
            new_page(session, incident=incident, user=user, kind="resolved", body=body, now=now)
        )
    return told
