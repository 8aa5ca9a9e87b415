"""Typed timeline events of paging: pages, their delivery, escalation, SMS replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from service.timeline.models import EventKind
from service.timeline.payload import EventData, optional, stored_as


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
class PageDropped(EventData):
    """A message was not sent: by send time its incident resolved or its approval was decided."""

    kind: ClassVar[EventKind] = EventKind.PAGE_DROPPED
    page_id: int
    to: str
    page_kind: str = stored_as("kind")
    reason: str


@dataclass(frozen=True, kw_only=True)
class Escalated(EventData):
    """An escalation level was paged (level and round 1-based)."""

    kind: ClassVar[EventKind] = EventKind.ESCALATED
    level: int
    round: int
    paged: tuple[str, ...]
    next_level_at: str
    policy: str | None = optional()  # the escalation policy's key, on the first level


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
class EscalationFellBack(EventData):
    """The policy's every level and round went by without paging anyone (nobody on shift,
    everyone inactive or unreachable), so the built-in chain is paged, once."""

    kind: ClassVar[EventKind] = EventKind.ESCALATION_FALLBACK
    policy: str  # the policy that paged nobody
    fallback: str  # the chain paged instead (the built-in one)
    rounds: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class SmsReplied(EventData):
    """A known contact replied by SMS."""

    kind: ClassVar[EventKind] = EventKind.SMS_REPLY
    body: str
    command: str
