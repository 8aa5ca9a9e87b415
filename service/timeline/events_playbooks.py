"""Typed timeline events of playbooks: attached runs, step changes, step reminders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from service.timeline.models import EventKind
from service.timeline.payload import EventData, Record, UserRef, optional, stored_as


@dataclass(frozen=True, kw_only=True)
class PlaybookRef(Record):
    """The playbook run a new one replaces."""

    run_id: int
    playbook_id: str
    version: int


@dataclass(frozen=True, kw_only=True)
class PlaybookAttached(EventData):
    """A playbook was frozen onto the incident (replacing the current run, if any)."""

    kind: ClassVar[EventKind] = EventKind.PLAYBOOK_ATTACHED
    run_id: int
    playbook_id: str
    version: int
    title: str
    sha256: str
    reason: str
    steps: int
    replaces: PlaybookRef | None = optional()


@dataclass(frozen=True, kw_only=True)
class StepChanged(EventData):
    """A playbook step changed state (by an action, a statement approval or the engine)."""

    kind: ClassVar[EventKind] = EventKind.STEP_CHANGED
    run_id: int
    step: str
    position: int
    from_: str = stored_as("from")
    to: str
    action: str | None = optional()
    statement_id: int | None = optional()
    reason: str | None = optional()


@dataclass(frozen=True, kw_only=True)
class StepReminded(EventData):
    """A step's owners were reminded, or the Wolf told, that it is overdue."""

    kind: ClassVar[EventKind] = EventKind.STEP_REMINDER
    run_id: int
    step: str
    position: int
    to: str  # "owner" or "wolf"
    due_at: str
    users: tuple[UserRef, ...]
