"""What detection schedules: typed job requests, routed to ``service.detection.jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs import JobRequest


@dataclass(frozen=True)
class Detect(JobRequest):
    """Evaluate a monitor now."""

    monitor_id: int
