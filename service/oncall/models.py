"""A rotation (ordered members taking shifts from a hand-off time) and its overrides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.auth.models import User
from service.db import Base, UTCDateTime, utcnow


class Purpose(StrEnum):
    """Which group a rotation staffs."""

    WOLF = "wolf"
    LEGAL = "legal"
    OTHER = "other"


class Rotation(Base):
    """Members take turns of `shift_seconds`, member 0 first from `handoff_at`."""

    __tablename__ = "rotations"
    __table_args__ = (
        CheckConstraint("shift_seconds >= 60", name="shift_at_least_a_minute"),
        CheckConstraint("purpose IN ('wolf', 'legal', 'other')", name="purpose_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(10), index=True)
    handoff_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[RotationMember]] = relationship(
        order_by="RotationMember.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    @property
    def members(self) -> list[User]:
        """The members in rotation order."""
        return [m.user for m in self.memberships]

    @property
    def member_ids(self) -> list[int]:
        """The members' user ids in rotation order."""
        return [m.user_id for m in self.memberships]


class RotationMember(Base):
    """One member of a rotation at a position (0 takes the first shift)."""

    __tablename__ = "rotation_members"
    __table_args__ = (
        UniqueConstraint("rotation_id", "position", name="uq_rotation_members_position"),
        UniqueConstraint("rotation_id", "user_id", name="uq_rotation_members_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    user: Mapped[User] = relationship(lazy="selectin")


class Override(Base):
    """A time box [starts_at, ends_at) during which `user` is on call instead of the rotation."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        Index("ix_oncall_overrides_rotation_window", "rotation_id", "ends_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rotation: Mapped[Rotation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
