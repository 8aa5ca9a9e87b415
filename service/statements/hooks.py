"""Facts about statements that other domains react to, published inside the transaction.

What reacts, and in which order, is listed in :mod:`service.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class StatementApproved:
    """A statement version became fully approved (before commit)."""

    session: Session
    incident_id: int
    statement_id: int


@dataclass(frozen=True)
class StatementPublished:
    """An approved statement version was published (before commit)."""

    session: Session
    incident_id: int
    statement_id: int
