"""What playbooks schedule: typed job requests, routed to ``service.playbooks.jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs import JobRequest


@dataclass(frozen=True)
class RemindOwner(JobRequest):
    """A step's due time passed: remind its owners (once per due time)."""

    step_run_id: int
    due: str


@dataclass(frozen=True)
class TellWolf(JobRequest):
    """A step is still overdue after the grace: tell the incident's Wolf."""

    step_run_id: int
    due: str


@dataclass(frozen=True)
class NotifyReady(JobRequest):
    """Tell the owners of steps ready since the incident opened (those still ready)."""

    run_id: int
    step_run_ids: tuple[int, ...]
