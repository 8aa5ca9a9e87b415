"""Typed timeline events: one declared payload class per EventKind.

Writers construct an event (validated on construction) and `timeline.append` stores its
`to_data()`, the same JSON object, key for key and in the same order, as the hand-built dicts
it replaced. Readers `decode` a stored kind and payload back into the class; an unknown kind,
a missing, unknown or ill-typed field is refused with EventDataError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from service.timeline.models import EventKind
from service.timeline.payload import EventData, EventDataError, Record, optional, stored_as

__all__ = ["EVENT_TYPES", "EventData", "EventDataError", "decode"]

# --- parts of payloads --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UserRef(Record):
    """A person, as role assignments and step reminders name them."""

    user_id: int
    user: str


@dataclass(frozen=True, kw_only=True)
class Recipient(Record):
    """A person a statement approval request was sent to (or skipped)."""

    user: str
    user_id: int


@dataclass(frozen=True, kw_only=True)
class Change(Record):
    """One changed value."""

    from_: str = stored_as("from")
    to: str


@dataclass(frozen=True, kw_only=True)
class PlaybookRef(Record):
    """The playbook run a new one replaces."""

    run_id: int
    playbook_id: str
    version: int


# --- incidents ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Opening(EventData):
    title: str
    severity: str
    source: str


@dataclass(frozen=True, kw_only=True)
class IncidentDeclared(_Opening):
    """Someone declared an incident by hand."""

    kind: ClassVar[EventKind] = EventKind.DECLARED


@dataclass(frozen=True, kw_only=True)
class IncidentOpened(_Opening):
    """The detector (or another non-manual source) opened an incident."""

    kind: ClassVar[EventKind] = EventKind.OPENED


@dataclass(frozen=True, kw_only=True)
class Transitioned(EventData):
    """A lifecycle transition (the four subclasses), with the reason given, if any."""

    from_: str = stored_as("from")
    to: str
    note: str | None = optional()


@dataclass(frozen=True, kw_only=True)
class IncidentAcknowledged(Transitioned):
    """Someone acknowledged the incident."""

    kind: ClassVar[EventKind] = EventKind.ACKNOWLEDGED


@dataclass(frozen=True, kw_only=True)
class IncidentResolved(Transitioned):
    """The incident was resolved."""

    kind: ClassVar[EventKind] = EventKind.RESOLVED


@dataclass(frozen=True, kw_only=True)
class IncidentClosed(Transitioned):
    """The incident was closed."""

    kind: ClassVar[EventKind] = EventKind.CLOSED


@dataclass(frozen=True, kw_only=True)
class IncidentReopened(Transitioned):
    """A resolved incident was reopened."""

    kind: ClassVar[EventKind] = EventKind.REOPENED


@dataclass(frozen=True, kw_only=True)
class SeverityChanged(EventData):
    """The severity changed."""

    kind: ClassVar[EventKind] = EventKind.SEVERITY_CHANGED
    from_: str = stored_as("from")
    to: str
    reason: str | None = optional()


@dataclass(frozen=True, kw_only=True)
class DetailsChanged(EventData):
    """The title and/or the description changed."""

    kind: ClassVar[EventKind] = EventKind.DETAILS_CHANGED
    title: Change | None = optional()
    description: Change | None = optional()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.title is None and self.description is None:
            raise EventDataError(f"{self._label()}: nothing changed")


@dataclass(frozen=True, kw_only=True)
class RoleAssigned(EventData):
    """Someone now holds an incident role (replacing whoever held it)."""

    kind: ClassVar[EventKind] = EventKind.ROLE_ASSIGNED
    role: str
    user_id: int
    user: str
    replaces: UserRef | None = optional()


@dataclass(frozen=True, kw_only=True)
class NoteAdded(EventData):
    """A note on the incident, or on one playbook step (then step, position and run_id)."""

    kind: ClassVar[EventKind] = EventKind.NOTE
    text: str
    step: str | None = optional()
    position: int | None = optional()
    run_id: int | None = optional()


# --- detection ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Signal(EventData):
    signal_id: int
    window: tuple[str, ...]  # start and end, UTC ISO 8601
    observed: float
    expected: float
    ratio: float | None
    z: float
    negative_share: float
    negative_baseline: float
    reach: int
    severity: str
    evidence: tuple[dict[str, Any], ...]


@dataclass(frozen=True, kw_only=True)
class SignalDetected(_Signal):
    """The detector saw a firestorm (recorded before the incident it opens)."""

    kind: ClassVar[EventKind] = EventKind.SIGNAL


@dataclass(frozen=True, kw_only=True)
class SignalUpdated(_Signal):
    """The spike of an open incident grew (or got worse)."""

    kind: ClassVar[EventKind] = EventKind.SIGNAL_UPDATED


# --- paging -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PageQueued(EventData):
    """A page or notice was recorded, to be sent after commit (level and round 1-based)."""

    kind: ClassVar[EventKind] = EventKind.PAGE_QUEUED
    page_id: int
    to: str
    user_id: int
    page_kind: str = stored_as("kind")  # "page" or "notify"
    channel: str
    level: int | None
    round: int | None


def _not_bundled(event: PageSent) -> bool:
    return event.bundled_with is None


@dataclass(frozen=True, kw_only=True)
class PageSent(EventData):
    """The provider accepted a page: an SMS (segments, bundled_with) or a call (channel)."""

    kind: ClassVar[EventKind] = EventKind.PAGE_SENT
    page_id: int
    to: str
    channel: str | None = optional()  # "voice" for calls; SMS events leave it out
    provider_id: str
    segments: int | None = optional(omit=_not_bundled)  # SMS only, and then stored even if None
    bundled_with: tuple[int, ...] | None = optional()  # SMS only


@dataclass(frozen=True, kw_only=True)
class PageStatusChanged(EventData):
    """The provider reported a page's progress."""

    kind: ClassVar[EventKind] = EventKind.PAGE_STATUS
    page_id: int
    from_: str = stored_as("from")
    to: str
    error_code: str | int | None


@dataclass(frozen=True, kw_only=True)
class PageFailed(EventData):
    """A page failed, expired or went undelivered."""

    kind: ClassVar[EventKind] = EventKind.PAGE_FAILED
    page_id: int
    to: str
    status: str
    error: str | None
    error_code: int | None
    channel: str


@dataclass(frozen=True, kw_only=True)
class PageSkipped(EventData):
    """Someone an escalation level names could not be paged."""

    kind: ClassVar[EventKind] = EventKind.PAGE_SKIPPED
    user: str
    user_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class Escalated(EventData):
    """An escalation level was paged (level and round 1-based)."""

    kind: ClassVar[EventKind] = EventKind.ESCALATED
    level: int
    round: int
    paged: tuple[str, ...]
    next_level_at: str


@dataclass(frozen=True, kw_only=True)
class EscalationStopped(EventData):
    """Escalation stopped (acknowledged, resolved); its unsent pages were cancelled."""

    kind: ClassVar[EventKind] = EventKind.ESCALATION_STOPPED
    reason: str
    level: int
    cancelled_pages: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class EscalationExhausted(EventData):
    """Every level and round was paged and nobody acknowledged."""

    kind: ClassVar[EventKind] = EventKind.ESCALATION_EXHAUSTED
    rounds: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class SmsReplied(EventData):
    """A known contact replied by SMS."""

    kind: ClassVar[EventKind] = EventKind.SMS_REPLY
    body: str
    command: str


# --- playbooks ----------------------------------------------------------------------------


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


# --- statements ---------------------------------------------------------------------------


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


# --- the registry -------------------------------------------------------------------------


def _registry() -> dict[EventKind, type[EventData]]:
    found: dict[EventKind, type[EventData]] = {}
    pending = list(EventData.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        kind = cls.__dict__.get("kind")
        if kind is None:
            continue
        if kind in found:
            raise TypeError(f"{kind} is declared twice: {found[kind].__name__}, {cls.__name__}")
        found[kind] = cls
    return found


#: the payload class of every kind
EVENT_TYPES: Mapping[EventKind, type[EventData]] = _registry()
#: the payload class of each lifecycle transition's kind
TRANSITIONS: Mapping[EventKind, type[Transitioned]] = {
    cls.kind: cls
    for cls in (IncidentAcknowledged, IncidentResolved, IncidentClosed, IncidentReopened)
}


def decode(kind: str, data: Any) -> EventData:
    """A stored event's payload as its class; EventDataError for an unknown kind or a bad field."""
    try:
        cls = EVENT_TYPES[EventKind(kind)]
    except ValueError:
        raise EventDataError(f"unknown event kind {kind!r}") from None
    except KeyError:  # a kind without a declared class: the registry test forbids it
        raise EventDataError(f"no payload class for event kind {kind!r}") from None
    return cls.from_data(data, label=f"{cls.__name__} ({cls.kind.value})")
