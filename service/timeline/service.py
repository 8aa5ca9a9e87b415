"""The one timeline writer every flow calls, and the chain verifier."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from service.db import utcnow
from service.timeline.events import EVENT_TYPES, EventData
from service.timeline.models import TimelineEvent

GENESIS = "0" * 64
_TYPED = frozenset(EVENT_TYPES.values())
#: the parent rows the timeline hangs from (named like its foreign key, not imported: the
#: timeline sits below the incidents domain)
_INCIDENTS = table("incidents", column("id"))


@dataclass(frozen=True)
class Actor:
    """Who did something: a user, a contact by SMS, or the system."""

    label: str
    user_id: int | None = None

    @classmethod
    def system(cls, component: str) -> Actor:
        """The service itself (detector, escalation engine, ...)."""
        return cls(label=f"system:{component}")

    @classmethod
    def of(cls, user: Any, via: str | None = None) -> Actor:
        """A user, optionally naming the channel (sms, voice)."""
        suffix = f" via {via}" if via else ""
        return cls(label=f"{user.name} (#{user.id}){suffix}", user_id=user.id)


def format_time(at: datetime) -> str:
    """UTC ISO 8601 with microseconds, always the same width."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    incident_id: int,
    seq: int,
    at: datetime,
    kind: str,
    actor: str,
    actor_user_id: int | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical JSON of an event and its predecessor's hash."""
    canonical = json.dumps(
        {
            "incident": incident_id,
            "seq": seq,
            "at": format_time(at),
            "kind": kind,
            "actor": actor,
            "actor_user_id": actor_user_id,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_incidents(session: Session, incident_ids: Iterable[int | None]) -> None:
    """Lock incidents' rows (in id order, so two writers cannot deadlock) before touching
    anything else in the transaction: the timeline of a locked incident has one writer."""
    ids = sorted({i for i in incident_ids if i is not None})
    if not ids or session.get_bind().dialect.name == "sqlite":
        return  # SQLite: every transaction began with BEGIN IMMEDIATE (service/db.py), so the
        # database's one write lock is already held and the last seq read next is current
    session.execute(
        select(_INCIDENTS.c.id)
        .where(_INCIDENTS.c.id.in_(ids))
        .order_by(_INCIDENTS.c.id)
        .with_for_update()
    )


def append(
    session: Session,
    *,
    incident_id: int,
    actor: Actor,
    event: EventData,
) -> TimelineEvent:
    """Append a typed event (taking the incident's row lock if the caller has not); the caller
    commits."""
    if type(event) not in _TYPED:
        raise TypeError(
            f"timeline events are typed (service.timeline.events), not {type(event).__name__}"
        )
    lock_incidents(session, [incident_id])
    last = session.execute(
        select(TimelineEvent.seq, TimelineEvent.hash, TimelineEvent.at)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(TimelineEvent.seq.desc())
        .limit(1)
    ).first()
    seq = last.seq + 1 if last else 1
    prev_hash = last.hash if last else GENESIS
    at = utcnow()
    if last and at < last.at:  # the clock stepped back: keep the timeline monotonic
        at = last.at
    payload = json.loads(json.dumps(event.to_data(), default=str))
    row = TimelineEvent(
        incident_id=incident_id,
        seq=seq,
        at=at,
        kind=event.kind.value,
        actor=actor.label,
        actor_user_id=actor.user_id,
        data=payload,
        prev_hash=prev_hash,
    )
    row.hash = event_hash(
        incident_id=incident_id,
        seq=seq,
        at=at,
        kind=row.kind,
        actor=row.actor,
        actor_user_id=row.actor_user_id,
        data=payload,
        prev_hash=prev_hash,
    )
    session.add(row)
    session.flush()
    return row


def events(session: Session, *, incident_id: int) -> list[TimelineEvent]:
    """An incident's events in order."""
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident_id)
            .order_by(TimelineEvent.seq)
        )
    )


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking an incident's hash chain."""

    incident_id: int
    intact: bool
    events: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(session: Session, *, incident_id: int) -> ChainReport:
    """Recompute every hash and link; report the first event that does not match."""
    prev = GENESIS
    rows = events(session, incident_id=incident_id)
    for expected_seq, row in enumerate(rows, start=1):
        problem = None
        if row.seq != expected_seq:
            problem = f"sequence gap: expected {expected_seq}, found {row.seq}"
        elif row.prev_hash != prev:
            problem = "link broken: prev_hash does not match the previous event's hash"
        elif row.hash != event_hash(
            incident_id=row.incident_id,
            seq=row.seq,
            at=row.at,
            kind=row.kind,
            actor=row.actor,
            actor_user_id=row.actor_user_id,
            data=row.data,
            prev_hash=row.prev_hash,
        ):
            problem = "content altered: hash does not match the event"
        if problem:
            return ChainReport(incident_id, False, len(rows), prev, row.seq, problem)
        prev = row.hash
    return ChainReport(incident_id, True, len(rows), prev)
