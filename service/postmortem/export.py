"""Exports of one incident: complete JSON (with the hash chain) and a Markdown post-mortem draft."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.detection.models import Signal
from service.incidents import service as incidents
from service.incidents.models import Incident
from service.paging.models import Page
from service.playbooks.models import PlaybookRun
from service.postmortem import markdown, retention
from service.postmortem.metrics import incident_metrics
from service.statements.models import Statement
from service.timeline import service as timeline


def _t(at: datetime | None) -> str | None:
    return timeline.format_time(at) if at else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return timeline.format_time(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _incident(incident: Incident) -> dict[str, Any]:
    return {
        "number": incident.number,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity,
        "status": incident.status,
        "source": incident.source,
        "monitor": incident.monitor.key if incident.monitor else None,
        "opened_at": _t(incident.opened_at),
        "acknowledged_at": _t(incident.acknowledged_at),
        "resolved_at": _t(incident.resolved_at),
        "closed_at": _t(incident.closed_at),
        "roles": {
            a.role: {"user_id": a.user_id, "name": a.user.name} for a in incident.assignments
        },
    }


def _signals(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Signal).where(Signal.incident_id == incident_id).order_by(Signal.id)
    )
    return [
        {
            "id": s.id,
            "detected_at": _t(s.detected_at),
            "window": [_t(s.window_start), _t(s.window_end)],
            "observed": s.observed,
            "expected": s.expected,
            "significance": s.significance,
            "negative_share": s.negative_share,
            "negative_baseline": s.negative_baseline,
            "reach": s.reach,
            "severity": s.severity,
            "details": s.details,
            "evidence": s.evidence,
        }
        for s in rows
    ]


def _pages(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id))
    return [
        {
            "id": p.id,
            "to": p.user.name,
            "kind": p.kind,
            "channel": p.channel,
            "level": p.level + 1 if p.level is not None else None,  # 1-based, as the API
            "status": p.status,
            "created_at": _t(p.created_at),
            "sent_at": _t(p.sent_at),
            "delivered_at": _t(p.delivered_at),
        }
        for p in rows
    ]


def _playbooks(session: Session, incident_id: int) -> list[dict[str, Any]]:
    runs = session.scalars(
        select(PlaybookRun).where(PlaybookRun.incident_id == incident_id).order_by(PlaybookRun.id)
    )
    return [
        {
            "playbook_id": r.playbook_id,
            "step_titles": {st.get("id"): st.get("title") for st in r.content.get("steps", [])},
            "version": r.version,
            "title": r.title,
            "source_sha256": r.source_sha256,
            "attached_at": _t(r.attached_at),
            "replaced_at": _t(r.replaced_at),
            "steps": [
                {
                    "step_id": s.step_id,
                    "position": s.position,
                    "owner": s.owner,
                    "optional": s.optional,
                    "state": s.state,
                    "ready_at": _t(s.ready_at),
                    "due_at": _t(s.due_at),
                    "started_at": _t(s.started_at),
                    "finished_at": _t(s.finished_at),
                    "reason": s.reason,
                    "on_time": (s.finished_at <= s.due_at) if s.finished_at and s.due_at else None,
                }
                for s in r.steps
            ],
        }
        for r in runs
    ]


def _statements(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Statement).where(Statement.incident_id == incident_id).order_by(Statement.id)
    )
    out = []
    for st in rows:
        versions = []
        for v in st.versions:
            a = v.approval
            versions.append(
                {
                    "number": v.number,
                    "text": v.text,
                    "sha256": v.sha256,
                    "author": v.author.name if v.author else None,
                    "created_at": _t(v.created_at),
                    "approval": None
                    if a is None
                    else {
                        "status": a.status,
                        "required_roles": a.required_roles,
                        "submitted_at": _t(a.submitted_at),
                        "decided_at": _t(a.decided_at),
                        "decisions": [
                            {
                                "role": d.role,
                                "decision": d.decision,
                                "user": d.user.name,
                                "comment": d.comment,
                                "decided_at": _t(d.decided_at),
                            }
                            for d in a.decisions
                        ],
                    },
                }
            )
        out.append(
            {
                "id": st.id,
                "purpose": st.purpose,
                "channel": st.channel,
                "versions": versions,
                "publications": [
                    {
                        "version": p.version.number,
                        "sha256": p.sha256,
                        "channel": p.channel,
                        "url": p.url,
                        "published_by": p.published_by.name,
                        "published_at": _t(p.published_at),
                    }
                    for p in st.publications
                ],
            }
        )
    return out


def export_json(session: Session, *, incident_id: int) -> dict[str, Any]:
    """Everything known of an incident, machine-readable, with the verified hash chain."""
    incident = incidents.get(session, number=incident_id)
    events = timeline.events(session, incident_id=incident_id)
    return {
        "format": "firebreak.postmortem/1",
        "incident": _incident(incident),
        "metrics": _jsonable(incident_metrics(session, incident_id=incident_id)),
        "signals": _signals(session, incident_id),
        "evidence": retention.evidence(session, incident_id=incident_id),
        "timeline": [
            {
                "seq": e.seq,
                "at": _t(e.at),
                "kind": e.kind,
                "actor": e.actor,
                "actor_user_id": e.actor_user_id,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
        "chain": asdict(timeline.verify(session, incident_id=incident_id)),
        "pages": _pages(session, incident_id),
        "playbooks": _playbooks(session, incident_id),
        "statements": _statements(session, incident_id),
    }


def export_markdown(session: Session, *, incident_id: int) -> str:
    """A post-mortem draft in Markdown a reviewer can start from."""
    return markdown.render(export_json(session, incident_id=incident_id))
