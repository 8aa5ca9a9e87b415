"""Escalation policies, per-incident escalation state, and pages (one SMS or call each)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.auth.models import User
from service.db import Base, UTCDateTime, utcnow


class EscalationPolicy(Base):
    """Ordered levels of targets with a delay each, repeated; plus who is notified in parallel.

    `levels`: [{"targets": [{"rotation": KEY} | {"role": ROLE} | {"user_id": ID}],
    "delay_seconds": N, "channel": "sms" | "voice" | "sms+voice"}, ...];
    `notify`: targets paged once at open, in parallel (legal), same target shapes.
    """

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    notify: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    #: everyone paged gets one short SMS when the incident resolves
    notify_resolved: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EscalationStatus(StrEnum):
    """Whether an incident's escalation is still running."""

    ACTIVE = "active"
    STOPPED = "stopped"  # acknowledged or resolved
    EXHAUSTED = "exhausted"  # every level and repeat paged, nobody answered


class Escalation(Base):
    """An incident's escalation: the level reached and when the next one is due.

    The database is the truth: RQ schedules a job at `next_at`, and the reconciler's sweep runs
    any escalation whose `next_at` has passed, so a lost Redis key never drops one. `epoch`
    counts restarts (reopen) so scheduled job ids stay unique.
    """

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    policy_key: Mapped[str] = mapped_column(String(40))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot at open
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    round: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.ACTIVE.value)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PageStatus(StrEnum):
    """A page's life: pending -> sending -> queued/sent -> delivered, or failed/undelivered."""

    PENDING = "pending"
    SENDING = "sending"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    EXPIRED = "expired"  # not delivered within its validity period
    SKIPPED = "skipped"  # opted out, unverified phone
    CANCELLED = "cancelled"  # the incident was acknowledged before it went out
    DROPPED = "dropped"  # by send time its incident was resolved or its approval decided


#: statuses after which nothing more happens to a page
FINAL = frozenset(
    {
        PageStatus.DELIVERED,
        PageStatus.UNDELIVERED,
        PageStatus.FAILED,
        PageStatus.EXPIRED,
        PageStatus.SKIPPED,
        PageStatus.CANCELLED,
        PageStatus.DROPPED,
    }
)
#: provider statuses in the order they can happen (a late callback never moves a page back)
PROVIDER_ORDER = {
    PageStatus.QUEUED: 1,
    PageStatus.SENT: 2,
    PageStatus.DELIVERED: 3,
    PageStatus.UNDELIVERED: 3,
    PageStatus.FAILED: 3,
}


class Page(Base):
    """One message (SMS or call) to one person about one incident (or a verification code)."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # page, notify, reminder, verify
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms, voice
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    level: Mapped[int | None] = mapped_column(Integer)
    round: Mapped[int | None] = mapped_column(Integer)
    epoch: Mapped[int | None] = mapped_column(Integer)
    reply_code: Mapped[int | None] = mapped_column(Integer)
    #: the statement approval a request or reminder is about (dropped once it is decided)
    approval_id: Mapped[int | None] = mapped_column(Integer)
    #: the playbook steps a notice or reminder is about (dropped unsent once none is active)
    step_run_ids: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    status: Mapped[str] = mapped_column(String(16), default=PageStatus.PENDING.value, index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: pages sent together (one bundled SMS) share a key; it is the provider idempotency key
    send_key: Mapped[str | None] = mapped_column(String(80), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class PageLink(Base):
    """A link in an SMS: one person, one incident (and approval), 12 hours; only its hash kept.

    Its trust equals an SMS reply from that phone. It dies at `expires_at`, when the incident
    closes, or when revoked.
    """

    __tablename__ = "page_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    approval_id: Mapped[int | None] = mapped_column(Integer)
    page_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User] = relationship(lazy="joined")


class WebhookReceipt(Base):
    """The answer given to one provider webhook (by MessageSid / CallSid), so that a replay gets
    the same answer and changes nothing; written in the same transaction as the webhook's
    effects."""

    __tablename__ = "webhook_receipts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # sms:SM..., voice:CA...:1
    status: Mapped[int] = mapped_column(Integer)
    mimetype: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
