"""The sweep: reminders and escalations of undecided approvals that the timers missed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.extensions import db
from service.statements import approval as approvals
from service.statements.models import Approval, ApprovalStatus


def sweep(*, now: datetime) -> dict[str, int]:
    """Send overdue reminders and escalations the database says were not sent (idempotent)."""
    done = {"statement_reminders": 0, "statement_escalations": 0}
    with db.transaction() as session:
        pending = session.execute(
            select(Approval.id, Approval.reminded_at).where(
                Approval.status == ApprovalStatus.PENDING.value,
                Approval.escalated_at.is_(None),
                Approval.due_at <= now + approvals.EARLY,
            )
        ).all()
    for approval_id, reminded_at in pending:
        with db.transaction() as session:
            if reminded_at is None:
                if approvals.remind(session, approval_id=approval_id, now=now):
                    done["statement_reminders"] += 1
            elif approvals.escalate(session, approval_id=approval_id, now=now):
                done["statement_escalations"] += 1
    return done
