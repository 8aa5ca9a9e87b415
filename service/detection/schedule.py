"""What detection schedules: typed job requests, routed to ``service.detection.jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs import JobRequest


@dataclass(frozen=True)
class Drain(JobRequest):
    """Evaluate the monitors waiting for an evaluation (``service.detection.due``), in batches:
    queued when mentions arrive (one job however many monitors wait), and scheduled for each
    minute's close (``at_close``: it runs only if no other drain is queued or running, since
    that one claims the closed minutes too)."""

    at_close: bool = False
