"""What statements schedule: typed job requests, routed to ``service.statements.jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs import JobRequest


@dataclass(frozen=True)
class RemindApprovers(JobRequest):
    """An approval's deadline passed: remind its approvers if it is still undecided."""

    approval_id: int


@dataclass(frozen=True)
class EscalateApproval(JobRequest):
    """Still undecided after the reminder: tell the incident's Wolf (or the admins)."""

    approval_id: int
