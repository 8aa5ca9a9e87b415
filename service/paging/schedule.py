"""What paging schedules: typed job requests, routed to ``service.paging.jobs`` by the registry."""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs import JobRequest


@dataclass(frozen=True)
class Deliver(JobRequest):
    """Send a person's pending SMS pages (throttled and bundled)."""

    user_id: int


@dataclass(frozen=True)
class PlaceCall(JobRequest):
    """Place the voice call of a page."""

    page_id: int


@dataclass(frozen=True)
class Escalate(JobRequest):
    """An escalation timer: page the next level if this step is still current."""

    incident_id: int
    epoch: int
    round_: int
    level: int
