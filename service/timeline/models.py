"""Timeline events: append-only, one monotonic sequence per incident, hash-chained."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.db import Base, UTCDateTime


class EventKind(StrEnum):
    """What happened; every flow names one of these."""

    DECLARED = "incident.declared"
    OPENED = "incident.opened"
    SIGNAL = "signal.detected"
    SIGNAL_UPDATED = "signal.updated"
    ACKNOWLEDGED = "incident.acknowledged"
    RESOLVED = "incident.resolved"
    CLOSED = "incident.closed"
    REOPENED = "incident.reopened"
    SEVERITY_CHANGED = "incident.severity_changed"
    DETAILS_CHANGED = "incident.details_changed"
    ROLE_ASSIGNED = "incident.role_assigned"
    NOTE = "note.added"
    PAGE_QUEUED = "page.queued"
    PAGE_SENT = "page.sent"
    PAGE_STATUS = "page.status"
    PAGE_FAILED = "page.failed"
    PAGE_SKIPPED = "page.skipped"
    PAGE_DROPPED = "page.dropped"
    ESCALATED = "escalation.level"
    ESCALATION_STOPPED = "escalation.stopped"
    ESCALATION_EXHAUSTED = "escalation.exhausted"
    ESCALATION_FALLBACK = "escalation.fallback"
    SMS_REPLY = "sms.reply"
    PLAYBOOK_ATTACHED = "playbook.attached"
    STEP_CHANGED = "step.changed"
    STEP_REMINDER = "step.reminder"
    STATEMENT_DRAFTED = "statement.drafted"
    STATEMENT_SUBMITTED = "statement.submitted"
    STATEMENT_APPROVED = "statement.approved"
    STATEMENT_REJECTED = "statement.rejected"
    STATEMENT_PUBLISHED = "statement.published"
    STATEMENT_REMINDER = "statement.reminder"
    STATEMENT_ESCALATED = "statement.escalated"


class TimelineEvent(Base):
    """One event on one incident's timeline. Rows are never updated or deleted."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(160))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: object, _instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, TimelineEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("timeline events are append-only")
