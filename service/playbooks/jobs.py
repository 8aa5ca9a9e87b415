"""RQ entry points of playbook deadlines. Each takes ids, reloads state, and is idempotent."""

from __future__ import annotations

import time
from datetime import datetime

from service.db import utcnow
from service.extensions import db
from service.playbooks import deadlines


def _not_before(due: str) -> None:
    """RQ schedules to the whole second: a timer up to a second early waits for its time."""
    wait = (datetime.fromisoformat(due) - utcnow()).total_seconds()
    if 0 < wait <= 1.5:
        time.sleep(wait)


def remind_owner(step_run_id: int, due: str) -> bool:
    """A step's due time passed: remind its owners (once per due time)."""
    _not_before(due)
    with db.transaction() as session:
        return deadlines.remind_owner(session, step_run_id=step_run_id, due=due, now=utcnow())


def tell_wolf(step_run_id: int, due: str) -> bool:
    """A step is still overdue after the grace: tell the incident's Wolf (once per due time)."""
    with db.transaction() as session:
        return deadlines.tell_wolf(session, step_run_id=step_run_id, due=due, now=utcnow())


def notify_ready(run_id: int, step_run_ids: list[int]) -> int:
    """Tell the owners of steps ready since the incident opened (those still ready)."""
    with db.transaction() as session:
        return deadlines.notify_later(
            session, run_id=run_id, step_run_ids=list(step_run_ids), now=utcnow()
        )
