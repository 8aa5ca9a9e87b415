"""RQ entry points of statement approvals: each takes an id, reloads, and is idempotent."""

from __future__ import annotations

from service.db import utcnow
from service.extensions import db
from service.statements import approval


def remind(approval_id: int) -> bool:
    """An approval's deadline passed: remind its approvers if it is still undecided."""
    with db.transaction() as session:
        return approval.remind(session, approval_id=approval_id, now=utcnow())


def escalate(approval_id: int) -> bool:
    """Still undecided after the reminder: tell the incident's Wolf (or the admins)."""
    with db.transaction() as session:
        return approval.escalate(session, approval_id=approval_id, now=utcnow())
