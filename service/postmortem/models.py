"""Evidence kept with an incident: its mention buckets and top mentions, copied from Redis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class IncidentBucket(Base):
    """One mention bucket around an incident, as Redis held it when it was copied."""

    __tablename__ = "incident_buckets"
    __table_args__ = (UniqueConstraint("incident_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)
    positive: Mapped[int] = mapped_column(Integer, default=0)
    sentiment_sum: Mapped[float] = mapped_column(Float, default=0.0)
    reach: Mapped[int] = mapped_column(Integer, default=0)
    negative_reach: Mapped[int] = mapped_column(Integer, default=0)
    copied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvidenceSnapshot(Base):
    """The most damaging mentions of a window, copied when an incident opens or resolves."""

    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(20))  # "opened" or "resolved"
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    mentions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
