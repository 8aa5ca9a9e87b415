"""Incidents and the people assigned to roles in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.auth.models import User
from service.db import Base, UTCDateTime, utcnow
from service.monitors.models import Monitor


class Status(StrEnum):
    """Incident status: triggered -> acknowledged -> resolved -> closed (reopen from resolved)."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Severity(StrEnum):
    """sev1 is the worst: brand-threatening; sev4 is minor."""

    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def rank(self) -> int:
        """1 for sev1 (worst) .. 4 for sev4."""
        return int(self.value[-1])


class IncidentRole(StrEnum):
    """Roles people hold within one incident."""

    WOLF = "wolf"
    LEGAL = "legal"
    COMMS = "comms"


OPEN_STATUSES = (Status.TRIGGERED, Status.ACKNOWLEDGED)
#: longest note accepted (characters), by the API and the phone pages alike
MAX_NOTE = 5_000


class Incident(Base):
    """One firestorm (or a declared incident); `id` is its short number (#42)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=Status.TRIGGERED.value)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("monitors.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="incident", lazy="selectin", order_by="Assignment.role"
    )
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    monitor: Mapped[Monitor | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # one firestorm is one incident: at most one open incident per monitor
        Index(
            "uq_incidents_one_open_per_monitor",
            "monitor_id",
            unique=True,
            postgresql_where=text("status IN ('triggered', 'acknowledged')"),
            sqlite_where=text("status IN ('triggered', 'acknowledged')"),
        ),
    )

    @property
    def number(self) -> int:
        """The short number people use (#42)."""
        return self.id

    def assignee(self, role: IncidentRole) -> User | None:
        """Who holds a role in this incident, if anyone."""
        for a in self.assignments:
            if a.role == role.value:
                return a.user
        return None


class Assignment(Base):
    """A person holding a role (the Wolf, legal, comms) in one incident."""

    __tablename__ = "incident_assignments"
    __table_args__ = (UniqueConstraint("incident_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship(lazy="joined")
