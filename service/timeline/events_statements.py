"""Typed timeline events of statements: drafted, submitted, decided, published, chased."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from service.timeline.models import EventKind
from service.timeline.payload import EventData, Record


@dataclass(frozen=True, kw_only=True)
class Recipient(Record):
    """A person a statement approval request was sent to (or skipped)."""

    user: str
    user_id: int


@dataclass(frozen=True, kw_only=True)
class StatementDrafted(EventData):
    """A statement version was written."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_DRAFTED
    statement_id: int
    purpose: str
    channel: str
    version: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class StatementSubmitted(EventData):
    """A version was submitted for approval; approvers were texted."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_SUBMITTED
    statement_id: int
    version: int
    sha256: str
    required: tuple[str, ...]
    due_at: str
    notified: tuple[Recipient, ...]
    skipped: tuple[Recipient, ...]


@dataclass(frozen=True, kw_only=True)
class StatementDecided(EventData):
    """One role approved or rejected a version (the two subclasses)."""

    statement_id: int
    version: int
    sha256: str
    role: str
    comment: str
    checklist: tuple[str, ...]
    status: str  # the approval's status after this decision
    waiting_for: tuple[str, ...]

    @property
    def completes_approval(self) -> bool:
        """Whether this decision completed the approval (one approver of two does not)."""
        return self.status == "approved"


@dataclass(frozen=True, kw_only=True)
class StatementApproved(StatementDecided):
    """A role approved a version."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_APPROVED


@dataclass(frozen=True, kw_only=True)
class StatementRejected(StatementDecided):
    """A role rejected a version."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_REJECTED


@dataclass(frozen=True, kw_only=True)
class StatementPublished(EventData):
    """An approved version went out."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_PUBLISHED
    statement_id: int
    version: int
    sha256: str
    channel: str
    url: str | None


@dataclass(frozen=True, kw_only=True)
class _StatementChase(EventData):
    statement_id: int
    version: int
    waiting_for: tuple[str, ...]
    notified: tuple[Recipient, ...]
    skipped: tuple[Recipient, ...]


@dataclass(frozen=True, kw_only=True)
class StatementReminded(_StatementChase):
    """Approvers were reminded of a pending approval."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_REMINDER


@dataclass(frozen=True, kw_only=True)
class StatementEscalated(_StatementChase):
    """A pending approval went past its reminder: escalated to more people."""

    kind: ClassVar[EventKind] = EventKind.STATEMENT_ESCALATED
