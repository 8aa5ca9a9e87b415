"""The aggregate report across incidents opened in a period: counts, MTTA, MTTR."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.incidents.models import Incident
from service.postmortem.metrics import incident_metrics
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


def incident_report(
    session: Session, *, opened_from: datetime | None = None, opened_to: datetime | None = None
) -> dict[str, Any]:
    """The aggregate of incidents opened in [opened_from, opened_to)."""
    query = select(Incident).order_by(Incident.id)
    if opened_from is not None:
        query = query.where(Incident.opened_at >= opened_from)
    if opened_to is not None:
        query = query.where(Incident.opened_at < opened_to)
    rows = []
    for incident in session.scalars(query):
        m = incident_metrics(session, incident_id=incident.id)
        rows.append(
            {
                "number": incident.number,
                "status": incident.status,
                "severity": incident.severity,
                "monitor": incident.monitor.key if incident.monitor else None,
                "time_to_acknowledge": m["time_to_acknowledge"],
                "time_to_resolve": m["time_to_resolve"],
            }
        )
    return {
        "from": format_time(opened_from) if opened_from else None,
        "to": format_time(opened_to) if opened_to else None,
        **aggregate(rows),
        "incidents": rows,
    }
