"""What the pages show, built from the post-mortem export so pages and exports never disagree."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import render_template
from sqlalchemy.orm import Session

from service.db import utcnow
from service.incidents.models import Incident
from service.postmortem import chart, retention
from service.postmortem.export import export_json, export_markdown
from service.postmortem.formats import LABELS, duration
from service.postmortem.formats import human_time as utc_text
from service.postmortem.markdown import ended, punctuality, resolution_note, summary
from service.postmortem.metrics import DURATIONS, parse_time
from service.postmortem.sentences import describe

#: offered in the time-zone picker; any IANA name works in ?tz=
COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
EXPORTS = {
    "json": "application/json",
    "md": "text/markdown",
    "html": "text/html",
    "svg": "image/svg+xml",
}


@cache
def _zone_names() -> frozenset[str]:
    """The IANA zone names (read from disk once: it walks the tz database)."""
    return frozenset(available_timezones())


@dataclass(frozen=True)
class Zone:
    """The reader's time zone; `chosen` is False when none was picked (UTC plus the browser's)."""

    name: str
    tz: tzinfo
    chosen: bool


def zone(raw: str) -> Zone:
    """A zone from an IANA name; UTC (not chosen) when empty or unknown."""
    raw = raw.strip()[:64]
    if raw and raw in _zone_names():
        try:
            return Zone(raw, ZoneInfo(raw), True)
        except ZoneInfoNotFoundError:
            pass
    return Zone("UTC", UTC, False)


def local_text(at: datetime | None, z: Zone) -> str:
    """The same instant in the reader's zone (empty when none was chosen)."""
    if at is None or not z.chosen:
        return ""
    return at.astimezone(z.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def list_row(incident: Incident, z: Zone) -> dict[str, Any]:
    """One row of the incidents list."""

    def since_open(at: datetime | None) -> str:
        return duration((at - incident.opened_at).total_seconds()) if at else "—"

    return {
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "monitor": incident.monitor.key if incident.monitor else "",
        "opened_iso": incident.opened_at.isoformat(),
        "opened_utc": utc_text(incident.opened_at),
        "opened_local": local_text(incident.opened_at, z),
        "to_ack": since_open(incident.acknowledged_at),
        "to_resolve": since_open(incident.resolved_at),
    }


def _points(session: Session, number: int) -> list[chart.Point]:
    return [
        chart.Point(start=b.start, seconds=b.seconds, count=b.count, negative=b.negative)
        for b in retention.series(session, incident_id=number)
    ]


def _when(iso: str | None, z: Zone) -> dict[str, str]:
    at = parse_time(iso)
    return {"iso": iso or "", "utc": utc_text(at), "local": local_text(at, z)}


def _metrics(doc: dict[str, Any]) -> list[dict[str, str]]:
    m = doc["metrics"]
    return [
        {"key": k, "label": LABELS[k], "value": duration(m[k]), "seconds": str(m[k] or "")}
        for k in DURATIONS
    ]


def _timeline(doc: dict[str, Any], z: Zone) -> list[dict[str, Any]]:
    return [
        {
            "seq": e["seq"],
            "kind": e["kind"],
            "actor": e["actor"],
            "what": describe(e["kind"], e["data"]),
            "data": json.dumps(e["data"], indent=2, ensure_ascii=False, sort_keys=True),
            "hash": e["hash"],
            **_when(e["at"], z),
        }
        for e in doc["timeline"]
    ]


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:

    runs = [r for r in doc["playbooks"] if r["replaced_at"] is None]
    if not runs:
        return []
    late = doc["metrics"]["steps"].get("late_steps") or []
    titles = runs[0].get("step_titles") or {}
    return [
        {
            **s,
            "title": titles.get(s["step_id"]) or s["step_id"],
            "verdict": punctuality(s, late, ended=ended(doc)),
        }
        for s in runs[0]["steps"]
    ]


def _pages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    why = {"page": "page (must answer)", "notify": "notice (FYI)"}
    rows = sorted(doc["pages"], key=lambda p: p["sent_at"] or p["created_at"])
    return [{**p, "why": why.get(p["kind"], p["kind"])} for p in rows]


def context(session: Session, *, number: int, zone: Zone) -> dict[str, Any]:
    """Everything the incident page shows."""

    now = utcnow()
    doc = export_json(session, incident_id=number)
    markers = chart.markers_from(doc)
    svg = chart.incident_chart(doc, _points(session, number), now=now, markers=markers)
    strip = chart.response_strip(markers)
    inc = doc["incident"]
    acks = [e for e in doc["timeline"] if e["kind"] == "incident.acknowledged"]
    resolutions = [e for e in doc["timeline"] if e["kind"] == "incident.resolved"]
    return {
        "acknowledged_by": acks[0]["actor"] if acks else "",
        "resolved_by": resolutions[-1]["actor"] if resolutions else "",
        "resolution_note": resolution_note(resolutions[-1]) if resolutions else "",
        "doc": doc,
        "inc": inc,
        "summary": summary(doc),
        "metrics": _metrics(doc),
        "steps_summary": doc["metrics"]["steps"],
        "chart": svg,
        "strip": strip,
        "timeline": _timeline(doc, zone),
        "evidence": doc["evidence"],
        "steps": _steps(doc),
        "playbook": next((r for r in doc["playbooks"] if r["replaced_at"] is None), None),
        "statements": doc["statements"],
        "pages": _pages(doc),
        "chain": doc["chain"],
        "times": {k: _when(inc[k], zone) for k in ("opened_at", "acknowledged_at", "resolved_at")},
        "onset": _when(doc["metrics"]["onset_at"], zone),
        "zone": zone,
        "zones": COMMON_ZONES,
        "generated": utc_text(now),
    }


def incident_html(session: Session, *, number: int, zone: Zone, standalone: bool) -> str:
    """The incident page (standalone: a self-contained file without links back)."""
    return render_template(
        "web/incident.html", standalone=standalone, **context(session, number=number, zone=zone)
    )


def export(session: Session, *, number: int, fmt: str, zone: Zone) -> tuple[str, str]:
    """An export as (body, mimetype): json, md, html or svg."""

    if fmt == "json":
        body = json.dumps(export_json(session, incident_id=number), ensure_ascii=False)
    elif fmt == "md":
        body = export_markdown(session, incident_id=number)
    elif fmt == "svg":
        body = chart_svg(session, number=number)
    else:
        body = incident_html(session, number=number, zone=zone, standalone=True)
    return body, EXPORTS[fmt]


def chart_svg(session: Session, *, number: int) -> str:
    """The incident's chart as an SVG document."""
    doc = export_json(session, incident_id=number)
    svg = chart.incident_chart(doc, _points(session, number), now=utcnow())
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
