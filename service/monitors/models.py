"""A monitor: a brand or topic watched, with its detection settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class Monitor(Base):
    """A brand or topic; `key` is its stable slug in URLs (e.g. `acme`)."""

    __tablename__ = "monitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: overrides of the detector's defaults (DetectorConfig field -> value)
    detector: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: sentiment lexicon adjustments for this brand (word -> valence, -4..4)
    lexicon: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    #: playbook id to use instead of the trigger-based choice
    playbook_id: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: escalation policy key (the default policy when unset)
    escalation_policy: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
