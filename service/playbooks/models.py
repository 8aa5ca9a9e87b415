"""Playbook runs: the exact playbook attached to an incident, its step runs and notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow


class StepState(StrEnum):
    """pending -> ready (deps finished) -> in_progress -> done / skipped / blocked."""

    PENDING = "pending"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


FINISHED = (StepState.DONE.value, StepState.SKIPPED.value)
ACTIVE = (StepState.READY.value, StepState.IN_PROGRESS.value, StepState.BLOCKED.value)


class PlaybookRun(Base):
    """One playbook attached to one incident, frozen: later edits of the file change nothing.

    A replaced run keeps its row with `replaced_at` set; at most one run per incident is current.
    """

    __tablename__ = "playbook_runs"
    __table_args__ = (
        Index(
            "uq_playbook_runs_one_current",
            "incident_id",
            unique=True,
            postgresql_where=sql_text("replaced_at IS NULL"),
            sqlite_where=sql_text("replaced_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    playbook_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(300))
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(200), default="")
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list[StepRun]] = relationship(
        back_populates="run", lazy="selectin", order_by="StepRun.position"
    )


class StepRun(Base):
    """The state of one step of a run; `position` is its 1-based place in the playbook."""

    __tablename__ = "playbook_step_runs"
    __table_args__ = (UniqueConstraint("run_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("playbook_runs.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(16))
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=StepState.PENDING.value, index=True)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    acted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the due time the owner was reminded of (None: not yet); the Wolf likewise
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wolf_told_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    run: Mapped[PlaybookRun] = relationship(back_populates="steps")
    notes: Mapped[list[StepNote]] = relationship(
        back_populates="step", lazy="selectin", order_by="StepNote.id"
    )


class StepNote(Base):
    """A note a responder left on a step (also on the timeline)."""

    __tablename__ = "playbook_step_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("playbook_step_runs.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    step: Mapped[StepRun] = relationship(back_populates="notes")
