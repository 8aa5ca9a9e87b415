"""The reconciler: the database is the truth, and this sweep repairs whatever Redis lost."""

from __future__ import annotations

from datetime import datetime

from service.detection import service as detection
from service.paging import reconcile as paging
from service.playbooks import deadlines as playbooks
from service.statements import deadlines as statements


def sweep(*, now: datetime) -> dict[str, int]:
    """Run every domain's sweep: escalations and pages, playbook deadlines, statement approvals,
    and an evaluation of every monitor with recent mentions."""
    done: dict[str, int] = {}
    for domain in (paging, playbooks, statements, detection):
        for key, value in domain.sweep(now=now).items():
            done[key] = done.get(key, 0) + value
    return done
