"""Typed timeline events: one declared payload class per EventKind.

Writers construct an event (validated on construction) and `timeline.append` stores its
`to_data()`, the same JSON object, key for key and in the same order, as the hand-built dicts
it replaced. Readers `decode` a stored kind and payload back into its class; an unknown kind,
or a missing, unknown or ill-typed field, is refused with EventDataError.

Incident and detection events are declared here; paging, playbook and statement events in
`events_paging`, `events_playbooks` and `events_statements`. Import them all from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from service.timeline.events_paging import (
    Escalated,
    EscalationExhausted,
    EscalationFellBack,
    EscalationStopped,
    PageDropped,
    PageFailed,
    PageQueued,
    PageSent,
    PageSkipped,
    PageStatusChanged,
    SmsReplied,
)
from service.timeline.events_playbooks import (
    PlaybookAttached,
    PlaybookRef,
    StepChanged,
    StepReminded,
)
from service.timeline.events_statements import (
    Recipient,
    StatementApproved,
    StatementDecided,
    StatementDrafted,
    StatementEscalated,
    StatementPublished,
    StatementRejected,
    StatementReminded,
    StatementSubmitted,
)
from service.timeline.models import EventKind
from service.timeline.payload import (
    EventData,
    EventDataError,
    Record,
    UserRef,
    optional,
    stored_as,
)

__all__ = [
    "EVENT_TYPES",
    "TRANSITIONS",
    "Change",
    "DetailsChanged",
    "Escalated",
    "EscalationExhausted",
    "EscalationFellBack",
    "EscalationStopped",
    "EventData",
    "EventDataError",
    "IncidentAcknowledged",
    "IncidentClosed",
    "IncidentDeclared",
    "IncidentOpened",
    "IncidentReopened",
    "IncidentResolved",
    "NoteAdded",
    "PageDropped",
    "PageFailed",
    "PageQueued",
    "PageSent",
    "PageSkipped",
    "PageStatusChanged",
    "PlaybookAttached",
    "PlaybookRef",
    "Recipient",
    "RoleAssigned",
    "SeverityChanged",
    "SignalDetected",
    "SignalUpdated",
    "SmsReplied",
    "StatementApproved",
    "StatementDecided",
    "StatementDrafted",
    "StatementEscalated",
    "StatementPublished",
    "StatementRejected",
    "StatementReminded",
    "StatementSubmitted",
    "StepChanged",
    "StepReminded",
    "Transitioned",
    "UserRef",
    "decode",
]

# --- parts of payloads --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Change(Record):
    """One changed value."""

    from_: str = stored_as("from")
    to: str


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
    #: share of the window's mentions whose sentiment could be read (left out before 2026-12)
    coverage: float | None = optional()
    #: the unread mentions' languages, as shares of all the window's mentions
    unread_languages: dict[str, Any] | None = optional()
    sentiment_unknown: bool | None = optional()  # opened on volume alone: too little was read


@dataclass(frozen=True, kw_only=True)
class SignalDetected(_Signal):
    """The detector saw a firestorm (recorded before the incident it opens)."""

    kind: ClassVar[EventKind] = EventKind.SIGNAL


@dataclass(frozen=True, kw_only=True)
class SignalUpdated(_Signal):
    """The spike of an open incident grew (or got worse)."""

    kind: ClassVar[EventKind] = EventKind.SIGNAL_UPDATED


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
    return {kind: found[kind] for kind in EventKind if kind in found}  # in declaration order


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
