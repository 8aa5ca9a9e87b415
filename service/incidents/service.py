"""Incident use cases: declare, transition, annotate, assign; each writes the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.bus import publish
from service.db import utcnow
from service.errors import InvalidTransition, NotFound
from service.incidents.hooks import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentEvent,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from service.incidents.models import Assignment, Incident, IncidentRole, Severity, Status
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.models import EventKind, TimelineEvent
from service.timeline.service import Actor


@dataclass(frozen=True)
class Transition:
    """A lifecycle action: the statuses it starts from and the one it leads to."""

    name: str
    sources: frozenset[Status]
    target: Status
    kind: EventKind
    event: type[IncidentEvent]


TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "acknowledge",
            frozenset({Status.TRIGGERED}),
            Status.ACKNOWLEDGED,
            EventKind.ACKNOWLEDGED,
            IncidentAcknowledged,
        ),
        Transition(
            "resolve",
            frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED}),
            Status.RESOLVED,
            EventKind.RESOLVED,
            IncidentResolved,
        ),
        Transition(
            "close", frozenset({Status.RESOLVED}), Status.CLOSED, EventKind.CLOSED, IncidentClosed
        ),
        Transition(
            "reopen",
            frozenset({Status.RESOLVED}),
            Status.TRIGGERED,
            EventKind.REOPENED,
            IncidentReopened,
        ),
    )
}


def declare(
    session: Session,
    *,
    title: str,
    severity: Severity,
    actor: Actor,
    description: str = "",
    source: str = "manual",
    wolf: User | None = None,
    monitor_id: int | None = None,
    first_event: events.EventData | None = None,
    announce_now: bool = True,
) -> Incident:
    """Open an incident and write its first timeline events; the caller commits."""
    incident = Incident(
        title=title.strip(),
        description=description,
        severity=severity.value,
        status=Status.TRIGGERED.value,
        source=source,
        monitor_id=monitor_id,
        opened_at=utcnow(),
        created_by_id=actor.user_id,
    )
    session.add(incident)
    session.flush()
    if first_event is not None:  # e.g. the detector's signal, which came before the incident
        timeline.append(session, incident_id=incident.id, actor=actor, event=first_event)
    opening = events.IncidentDeclared if source == "manual" else events.IncidentOpened
    timeline.append(
        session,
        incident_id=incident.id,
        actor=actor,
        event=opening(title=incident.title, severity=incident.severity, source=source),
    )
    if wolf is not None:
        assign(session, incident=incident, role=IncidentRole.WOLF, user=wolf, actor=actor)
    if announce_now:
        announce(session, incident=incident)
    return incident


def announce(session: Session, *, incident: Incident) -> None:
    """Tell the other domains an incident opened (paging, playbooks), inside the transaction."""
    publish(IncidentOpened(session, incident))


def get(session: Session, *, number: int, lock: bool = False) -> Incident:
    """An incident by its short number, optionally row-locked; NotFound otherwise."""
    query = select(Incident).where(Incident.id == number)
    if lock:
        query = query.with_for_update(of=Incident).execution_options(populate_existing=True)
    incident = session.scalar(query)
    if incident is None:
        raise NotFound(f"incident #{number} does not exist")
    return incident


def transition(
    session: Session, *, incident: Incident, action: str, actor: Actor, note: str | None = None
) -> Incident:
    """Apply a lifecycle action (acknowledge, resolve, close, reopen) or raise InvalidTransition."""
    rule = TRANSITIONS[action]
    current = Status(incident.status)
    if current not in rule.sources:
        detail = f"cannot {action} incident #{incident.id}: it is {current.value}"
        if action == "acknowledge" and incident.acknowledged_by is not None:
            detail += f" (acknowledged by {incident.acknowledged_by.name})"
        raise InvalidTransition(detail, status_now=current.value)
    now = utcnow()
    incident.status = rule.target.value
    if rule.target is Status.ACKNOWLEDGED:
        incident.acknowledged_at, incident.acknowledged_by_id = now, actor.user_id
    elif rule.target is Status.RESOLVED:
        incident.resolved_at = now
    elif rule.target is Status.CLOSED:
        incident.closed_at = now
    elif action == "reopen":
        incident.acknowledged_at = incident.acknowledged_by_id = None
        incident.resolved_at = None
    event = events.TRANSITIONS[rule.kind](
        from_=current.value, to=rule.target.value, note=note or None
    )
    timeline.append(session, incident_id=incident.id, actor=actor, event=event)
    session.flush()
    person = session.get(User, actor.user_id) if actor.user_id is not None else None
    publish(rule.event(session, incident, by=person.name if person is not None else None))
    return incident


def change_details(
    session: Session,
    *,
    incident: Incident,
    actor: Actor,
    severity: Severity | None = None,
    title: str | None = None,
    description: str | None = None,
    reason: str | None = None,
) -> Incident:
    """Change severity, title or description; one event per kind of change, none if no change."""
    if Status(incident.status) is Status.CLOSED:
        raise InvalidTransition(f"incident #{incident.id} is closed; reopen is not possible")
    if severity is not None and severity.value != incident.severity:
        event = events.SeverityChanged(
            from_=incident.severity, to=severity.value, reason=reason or None
        )
        incident.severity = severity.value
        timeline.append(session, incident_id=incident.id, actor=actor, event=event)
    changed: dict[str, events.Change] = {}
    if title is not None and title.strip() != incident.title:
        changed["title"] = events.Change(from_=incident.title, to=title.strip())
        incident.title = title.strip()
    if description is not None and description != incident.description:
        changed["description"] = events.Change(from_=incident.description, to=description)
        incident.description = description
    if changed:
        timeline.append(
            session, incident_id=incident.id, actor=actor, event=events.DetailsChanged(**changed)
        )
    session.flush()
    return incident


def add_note(session: Session, *, incident: Incident, actor: Actor, text: str) -> TimelineEvent:
    """Add a note to the timeline."""
    return timeline.append(
        session, incident_id=incident.id, actor=actor, event=events.NoteAdded(text=text)
    )


def assign(
    session: Session, *, incident: Incident, role: IncidentRole, user: User, actor: Actor
) -> Assignment:
    """Make a user hold an incident role (replacing whoever held it); assigning the holder
    again changes nothing and records nothing."""
    current = next((a for a in incident.assignments if a.role == role.value), None)
    previous = current.user if current else None
    if current is not None and previous is not None and previous.id == user.id:
        return current
    if current is None:
        current = Assignment(incident=incident, role=role.value, user=user)
        session.add(current)
    else:
        current.user, current.user_id, current.assigned_at = user, user.id, utcnow()
    replaces = None if previous is None else events.UserRef(user_id=previous.id, user=previous.name)
    event = events.RoleAssigned(role=role.value, user_id=user.id, user=user.name, replaces=replaces)
    timeline.append(session, incident_id=incident.id, actor=actor, event=event)
    session.flush()
    return current


def search(
    *,
    monitor_id: int | None = None,
    status: list[Status] | None = None,
    severity: list[Severity] | None = None,
    opened_after: datetime | None = None,
    opened_before: datetime | None = None,
) -> Select[Any]:
    """A query for incidents matching the filters, newest first."""
    query = select(Incident).order_by(Incident.id.desc())
    if monitor_id is not None:
        query = query.where(Incident.monitor_id == monitor_id)
    if status:
        query = query.where(Incident.status.in_([s.value for s in status]))
    if severity:
        query = query.where(Incident.severity.in_([s.value for s in severity]))
    if opened_after:
        query = query.where(Incident.opened_at >= opened_after)
    if opened_before:
        query = query.where(Incident.opened_at < opened_before)
    return query
