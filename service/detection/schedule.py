"""What detection schedules: typed job requests, routed to ``service.detection.jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs import JobRequest


@dataclass(frozen=True)
class Detect(JobRequest):
    """Evaluate a monitor now: new mentions arrived (the urgent queue)."""

    monitor_id: int


@dataclass(frozen=True)
class Recheck(JobRequest):
    """Evaluate a monitor again: its minute closed, or the sweep found it due (routine queue,
    so a thousand of them never delay an evaluation of new mentions). With ``closed_at`` (epoch
    seconds) it is skipped if the monitor was evaluated since then: that evaluation has
    already judged the closed minute."""

    monitor_id: int
    closed_at: float | None = None
