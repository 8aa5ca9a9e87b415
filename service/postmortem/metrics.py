"""Post-mortem metrics of one incident: pure functions over events, signals and step runs.

Choices, written down so a reviewer can check them:

- **onset** is when the firestorm started: the earliest signal's ``details["episode_start"]``
  (the first bucket of the unbroken run above the calm band that led to the fired bucket,
  recorded by ``service.detection.service.episode_start`` when an incident opens), else that
  signal's ``details["bucket_start"]`` (the bucket the detector fired on, recorded by
  ``service.detection.service.explain``; signals from before episode starts were recorded),
  else the signal's ``window_start``. Declared incidents without a signal have no onset, so
  no time to detect.
- **detected** is the first ``signal.detected`` event (else the earliest signal's detected_at).
- **time to page / acknowledge / first approved statement** count from ``incident.opened_at``
  to the first ``page.sent``, ``incident.acknowledged`` and the first ``statement.approved``
  whose data says the approval completed (``status == "approved"``): one approver of two is not
  an approved statement.
- **time to resolve** counts to the last ``incident.resolved``, unless the incident was
  reopened after it (then it is not resolved: None).
- A playbook step is **on time** when it finished at or before its due time, **late** when it
  finished after it or is still unfinished past it (as of ``now``); steps without a due time
  are not counted. Separately, every step not done or skipped (as of ``now``) is **unfinished**,
  due time or not: a resolved incident with steps left undone says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.detection.models import Signal
from service.incidents import service as incidents
from service.playbooks.models import PlaybookRun, StepRun
from service.timeline import service as timeline
from service.timeline.events import EVENT_TYPES
from service.timeline.models import EventKind
from service.timeline.payload import keys_of

#: metric keys in the order reports show them
DURATIONS = (
    "time_to_detect",
    "time_to_page",
    "time_to_acknowledge",
    "time_to_first_approved_statement",
    "time_to_resolve",
)


class EventLike(Protocol):
    """What metrics need of a timeline event."""

    at: datetime
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StepTiming:
    """What metrics need of a playbook step run."""

    step_id: str
    due_at: datetime | None
    finished_at: datetime | None


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from start to end (float), None when either is missing."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def parse_time(value: Any) -> datetime | None:
    """A datetime from an ISO 8601 string as the timeline stores it (Z suffix), or None."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def onset_of(details: Mapping[str, Any] | None, window_start: datetime | None) -> datetime | None:
    """The onset a signal records: episode start, else its bucket start, else window start."""
    details = details or {}
    for key in ("episode_start", "bucket_start"):
        found = parse_time(details.get(key))
        if found is not None:
            return found
    return window_start


def first_at(events: Iterable[EventLike], kind: EventKind, **match: Any) -> datetime | None:
    """When the first event of a kind (whose data has the given values) happened; the keys
    matched must be fields the kind's payload class declares."""
    undeclared = set(match) - keys_of(EVENT_TYPES[kind])
    if undeclared:
        raise ValueError(f"{kind.value} events have no {', '.join(sorted(undeclared))}")
    for ev in events:
        if ev.kind == kind.value and all(ev.data.get(k) == v for k, v in match.items()):
            return ev.at
    return None


def resolved_at(events: Sequence[EventLike]) -> datetime | None:
    """The last resolution, unless a reopen came after it."""
    last = None
    for ev in events:
        if ev.kind == EventKind.RESOLVED.value:
            last = ev.at
        elif ev.kind == EventKind.REOPENED.value:
            last = None
    return last


def step_punctuality(steps: Iterable[StepTiming], *, now: datetime) -> dict[str, Any]:
    """Steps on time vs late (unfinished past due counts late); steps without due are skipped."""
    on_time: list[str] = []
    late: list[str] = []
    unfinished: list[str] = []
    pending = 0
    for step in steps:
        if step.finished_at is None:
            unfinished.append(step.step_id)
        if step.due_at is None:
            continue
        if step.finished_at is not None:
            (on_time if step.finished_at <= step.due_at else late).append(step.step_id)
        elif now > step.due_at:
            late.append(step.step_id)
        else:
            pending += 1
    return {
        "on_time": len(on_time),
        "late": len(late),
        "pending": pending,
        "late_steps": late,
        "unfinished": len(unfinished),
        "unfinished_steps": unfinished,
    }


def compute(
    *,
    opened_at: datetime,
    events: Sequence[EventLike],
    onset: datetime | None,
    detected_at: datetime | None,
    steps: Iterable[StepTiming],
    now: datetime,
) -> dict[str, Any]:
    """Every metric from plain values (seconds as float, None when it did not happen)."""
    signal_at = first_at(events, EventKind.SIGNAL) or detected_at
    return {
        "onset_at": onset,
        "detected_at": signal_at,
        "opened_at": opened_at,
        "time_to_detect": seconds_between(onset, signal_at),
        "time_to_page": seconds_between(opened_at, first_at(events, EventKind.PAGE_SENT)),
        "time_to_acknowledge": seconds_between(opened_at, first_at(events, EventKind.ACKNOWLEDGED)),
        "time_to_first_approved_statement": seconds_between(
            opened_at, first_at(events, EventKind.STATEMENT_APPROVED, status="approved")
        ),
        "time_to_resolve": seconds_between(opened_at, resolved_at(events)),
        "steps": step_punctuality(steps, now=now),
    }


def incident_metrics(session: Session, *, incident_id: int) -> dict[str, Any]:
    """The headline metrics of one incident, read from the database."""

    incident = incidents.get(session, number=incident_id)
    first_signal = session.scalar(
        select(Signal).where(Signal.incident_id == incident_id).order_by(Signal.id).limit(1)
    )
    onset = detected = None
    if first_signal is not None:
        onset = onset_of(first_signal.details, first_signal.window_start)
        detected = first_signal.detected_at
    step_rows = session.scalars(
        select(StepRun)
        .join(PlaybookRun, PlaybookRun.id == StepRun.run_id)
        .where(StepRun.incident_id == incident_id, PlaybookRun.replaced_at.is_(None))
        .order_by(StepRun.position)
    )
    steps = [StepTiming(s.step_id, s.due_at, s.finished_at) for s in step_rows]
    return compute(
        opened_at=incident.opened_at,
        events=timeline.events(session, incident_id=incident_id),
        onset=onset,
        detected_at=detected,
        steps=steps,
        now=utcnow(),
    )
