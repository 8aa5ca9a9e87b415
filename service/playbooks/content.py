"""The frozen content of a playbook run: its step definitions and their due times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from service.incidents.models import Incident
from service.playbooks.model import parse_duration
from service.playbooks.models import PlaybookRun


def definitions(run: PlaybookRun) -> dict[str, dict[str, Any]]:
    """The run's step definitions (as attached), by step id."""
    return {step["id"]: step for step in run.content.get("steps", [])}


def due_of(definition: dict[str, Any]) -> tuple[timedelta, str]:
    """A step's due as (duration, anchor): anchor "opened" or "ready"."""
    raw = definition["due"]
    if isinstance(raw, dict):
        return parse_duration(raw["after"]), raw.get("from", "opened")
    return parse_duration(raw), "opened"


def due_at(
    definition: dict[str, Any], *, incident: Incident, ready_at: datetime | None
) -> datetime | None:
    """When a step is due: after its duration from the incident's opening or its readiness."""
    after, anchor = due_of(definition)
    if anchor == "opened":
        return incident.opened_at + after
    return ready_at + after if ready_at is not None else None
