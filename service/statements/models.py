"""Public statements, their immutable versions, approval requests, decisions and publications."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from service.auth.models import User
from service.db import Base, UTCDateTime, utcnow

#: longest statement text accepted (characters)
MAX_TEXT = 10_000
#: longest decision comment accepted (characters), by the API and legal's phone page alike
MAX_COMMENT = 5_000


class Purpose(StrEnum):
    """What a statement is for."""

    HOLDING = "holding"
    CUSTOMER_REPLY = "customer_reply"
    PRESS = "press"


class ApprovalStatus(StrEnum):
    """Where a submitted version stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Decision(StrEnum):
    """One approver's answer."""

    APPROVE = "approve"
    REJECT = "reject"


def content_hash(text: str) -> str:
    """The SHA-256 of a statement's text (UTF-8), hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Statement(Base):
    """A statement for one incident: its purpose, target channel and versions."""

    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[StatementVersion]] = relationship(
        back_populates="statement", lazy="selectin", order_by="StatementVersion.number"
    )
    publications: Mapped[list[Publication]] = relationship(
        lazy="selectin", order_by="Publication.id", viewonly=True
    )

    def version(self, number: int) -> StatementVersion | None:
        """The version with this number, if any."""
        return next((v for v in self.versions if v.number == number), None)


class StatementVersion(Base):
    """One immutable text of a statement; editing makes a new version."""

    __tablename__ = "statement_versions"
    __table_args__ = (UniqueConstraint("statement_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    statement: Mapped[Statement] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship(lazy="joined")
    approval: Mapped[Approval | None] = relationship(
        back_populates="version", lazy="selectin", uselist=False
    )


class Approval(Base):
    """A version submitted for approval, with the rule (roles, deadline, checklist) snapshotted."""

    __tablename__ = "statement_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("statement_versions.id"), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    required_roles: Mapped[list[str]] = mapped_column(JSON)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default=ApprovalStatus.PENDING)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[StatementVersion] = relationship(back_populates="approval")
    decisions: Mapped[list[ApprovalDecision]] = relationship(
        back_populates="approval", lazy="selectin", order_by="ApprovalDecision.id"
    )

    @property
    def missing_roles(self) -> list[str]:
        """Required roles that have not approved yet."""
        done = {d.role for d in self.decisions if d.decision == Decision.APPROVE}
        return [r for r in self.required_roles if r not in done]


class ApprovalDecision(Base):
    """One role's approval or rejection of one exact text (bound by its hash)."""

    __tablename__ = "statement_decisions"
    __table_args__ = (
        UniqueConstraint("approval_id", "role", name="uq_statement_decisions_approval_id_role"),
        UniqueConstraint(
            "approval_id", "user_id", name="uq_statement_decisions_approval_id_user_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("statement_approvals.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    checklist: Mapped[list[str]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    approval: Mapped[Approval] = relationship(back_populates="decisions")
    user: Mapped[User] = relationship(lazy="joined")


class Publication(Base):
    """A record that an approved version went out: who, when, where."""

    __tablename__ = "statement_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("statement_versions.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(500))
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    published_by: Mapped[User] = relationship(lazy="joined")
    version: Mapped[StatementVersion] = relationship(lazy="joined", viewonly=True)


_FROZEN = ("text", "sha256", "author_id", "statement_id", "number", "created_at")


@event.listens_for(Session, "before_flush")
def _refuse_version_changes(session: Session, _ctx: object, _instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, StatementVersion):
            if obj in session.deleted:
                raise PermissionError("statement versions are immutable")
            state = obj.__dict__.get("_sa_instance_state")
            if state is not None and any(
                state.attrs[name].history.has_changes() for name in _FROZEN
            ):
                raise PermissionError("statement versions are immutable")
        if isinstance(obj, ApprovalDecision | Publication) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise PermissionError("statement decisions and publications are append-only")
