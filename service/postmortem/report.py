"""The aggregate report across incidents opened in a period: counts, MTTA, MTTR."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.incidents.models import Incident
from service.monitors.models import Monitor
from service.postmortem.metrics import seconds_between
from service.timeline.models import EventKind, TimelineEvent
from service.timeline.service import format_time


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None (None when there are none)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, MTTA and MTTR of rows with status, time_to_acknowledge and time_to_resolve."""
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {
        "count": len(rows),
        "by_status": statuses,
        "mtta_seconds": mean(r["time_to_acknowledge"] for r in rows),
        "mttr_seconds": mean(r["time_to_resolve"] for r in rows),
    }


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary overall, by monitor and by severity (pure: rows in, report out)."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {"by_monitor": {}, "by_severity": {}}
    for row in rows:
        groups["by_monitor"].setdefault(row["monitor"] or "(declared)", []).append(row)
        groups["by_severity"].setdefault(row["severity"], []).append(row)
    return {
        **summarise(rows),
        **{name: {k: summarise(v) for k, v in sorted(g.items())} for name, g in groups.items()},
    }


#: the longest period one report covers
MAX_PERIOD = timedelta(days=366)

_EV = TimelineEvent
_ACK, _RES, _REO = (
    k.value for k in (EventKind.ACKNOWLEDGED, EventKind.RESOLVED, EventKind.REOPENED)
)


def period(
    opened_from: datetime | None, opened_to: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """The report's bounded period: [from, to) at most MAX_PERIOD long; a missing end is filled
    from the other (or from now: the last MAX_PERIOD). A longer period is cut at MAX_PERIOD
    after `from`, and a `to` not after `from` is an empty period: the report says which it
    covers."""
    if opened_from is None and opened_to is None:
        opened_to = now + timedelta(seconds=1)
    if opened_from is None:
        assert opened_to is not None
        opened_from = opened_to - MAX_PERIOD
    if opened_to is None:
        opened_to = opened_from + MAX_PERIOD
    return opened_from, min(max(opened_to, opened_from), opened_from + MAX_PERIOD)


def _milestones(opened_from: datetime, opened_to: datetime) -> Any:
    """Per incident of the period: first acknowledgement, last resolution and last reopening
    (one grouped pass over the timeline)."""
    in_period = select(Incident.id).where(
        Incident.opened_at >= opened_from, Incident.opened_at < opened_to
    )
    return (
        select(
            _EV.incident_id.label("incident_id"),
            func.min(case((_EV.kind == _ACK, _EV.at))).label("acked_at"),
            func.max(case((_EV.kind == _RES, _EV.at))).label("resolved_at"),
            func.max(case((_EV.kind == _RES, _EV.seq))).label("resolved_seq"),
            func.max(case((_EV.kind == _REO, _EV.seq))).label("reopened_seq"),
        )
        .where(_EV.incident_id.in_(in_period), _EV.kind.in_([_ACK, _RES, _REO]))
        .group_by(_EV.incident_id)
        .subquery()
    )


def incident_report(
    session: Session,
    *,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    now: datetime,
) -> dict[str, Any]:
    """The aggregate of incidents opened in [opened_from, opened_to) (bounded: see `period`),
    read in one query whatever the number of incidents. The answer says the period it covers
    and, when that is not the one asked for, which `to` was asked for and whether the period
    was cut at MAX_PERIOD (`truncated`)."""
    start, end = period(opened_from, opened_to, now=now)
    m = _milestones(start, end)
    query = (
        select(
            Incident.id,
            Incident.status,
            Incident.severity,
            Incident.opened_at,
            Monitor.key,
            m.c.acked_at,
            m.c.resolved_at,
            m.c.resolved_seq,
            m.c.reopened_seq,
        )
        .outerjoin(Monitor, Monitor.id == Incident.monitor_id)
        .outerjoin(m, m.c.incident_id == Incident.id)
        .where(Incident.opened_at >= start, Incident.opened_at < end)
        .order_by(Incident.id)
    )
    rows = []
    for r in session.execute(query):
        reopened_after = r.reopened_seq is not None and (
            r.resolved_seq is None or r.reopened_seq > r.resolved_seq
        )
        resolved = None if reopened_after else _aware(r.resolved_at)
        rows.append(
            {
                "number": r.id,
                "status": r.status,
                "severity": r.severity,
                "monitor": r.key,
                "time_to_acknowledge": seconds_between(_aware(r.opened_at), _aware(r.acked_at)),
                "time_to_resolve": seconds_between(_aware(r.opened_at), resolved),
            }
        )
    return {
        "from": format_time(start),
        "to": format_time(end),
        "truncated": opened_to is not None and opened_to > end,
        "requested_to": None if opened_to is None else format_time(opened_to),
        **aggregate(rows),
        "incidents": rows,
    }


def _aware(value: datetime | None) -> datetime | None:
    """A time read through a raw column expression (SQLite gives it back naive) as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
