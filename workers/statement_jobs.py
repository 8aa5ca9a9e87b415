"""RQ jobs of statement approvals: each takes an id, reloads, and is idempotent."""

from __future__ import annotations

from service.db import utcnow
from service.extensions import db


def remind(approval_id: int) -> bool:
    """An approval's deadline passed: remind its approvers if it is still undecided."""
    from service.statements.approval import remind as run

    with db.transaction() as session:
        return run(session, approval_id=approval_id, now=utcnow())


def escalate(approval_id: int) -> bool:
    """Still undecided after the reminder: tell the incident's Wolf (or the admins)."""
    from service.statements.approval import escalate as run

    with db.transaction() as session:
        return run(session, approval_id=approval_id, now=utcnow())
