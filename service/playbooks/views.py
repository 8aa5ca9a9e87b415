"""Playbook run endpoints: thin wrappers over service.playbooks.runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g

from service.api import Blueprint
from service.auth.roles import LEADS, NOTE_TAKERS, READERS, Role
from service.db import utcnow
from service.extensions import db
from service.incidents import service as incidents
from service.playbooks import attach, content, runs, schemas
from service.playbooks.models import ACTIVE, FINISHED, PlaybookRun, StepRun

blp = Blueprint("playbooks", __name__, url_prefix="/api/v1/incidents", description="Playbook runs")

#: who may act on steps at all (the service then checks owner role / Wolf / admin)
ACTORS = (Role.ADMIN, Role.WOLF, Role.LEGAL, Role.COMMS, Role.RESPONDER)


def describe(run: PlaybookRun, *, now: datetime) -> dict[str, Any]:
    """A run with its steps' definitions and states, for the API."""
    defs = content.definitions(run)
    return {
        "run_id": run.id,
        "incident": run.incident_id,
        "playbook_id": run.playbook_id,
        "version": run.version,
        "title": run.title,
        "description": run.content.get("description", ""),
        "sha256": run.source_sha256,
        "page": run.content.get("page", []),
        "reason": run.reason,
        "attached_at": run.attached_at,
        "attached_by_id": run.attached_by_id,
        "complete": all(s.state in FINISHED for s in run.steps),
        "steps": [_step(s, defs[s.step_id], now) for s in run.steps],
    }


def _step(step: StepRun, definition: dict[str, Any], now: datetime) -> dict[str, Any]:
    after, anchor = content.due_of(definition)
    raw = definition["due"]
    return {
        "position": step.position,
        "id": step.step_id,
        "title": definition.get("title", ""),
        "instructions": definition.get("instructions", ""),
        "owner": step.owner,
        "optional": step.optional,
        "needs_approved_statement": bool(definition.get("needs_approved_statement")),
        "notify": bool(definition.get("notify")),
        "depends_on": list(definition.get("depends_on", [])),
        "due": {"after": raw["after"] if isinstance(raw, dict) else raw, "from": anchor},
        "state": step.state,
        "overdue": bool(step.due_at and step.state in ACTIVE and now > step.due_at),
        "ready_at": step.ready_at,
        "due_at": step.due_at,
        "started_at": step.started_at,
        "finished_at": step.finished_at,
        "updated_at": step.updated_at,
        "reason": step.reason,
        "acted_by_id": step.acted_by_id,
        "reminded_due_at": step.reminded_due_at,
        "notes": list(step.notes),
    }


@blp.route("/<int:number>/playbook", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.RunSchema)
def get_playbook(number: int) -> Any:
    """The incident's playbook run: steps, states, due times, owners and instructions."""
    incident = incidents.get(db.session, number=number)
    return describe(runs.run_of(db.session, incident), now=utcnow())


@blp.route("/<int:number>/playbook", methods=["POST"])
@blp.roles(*LEADS, errors=(404, 409))
@blp.arguments(schemas.AttachSchema)
@blp.response(201, schemas.RunSchema)
def attach_playbook(args: dict[str, Any], number: int) -> Any:
    """Attach a playbook (by id, or by triggers); `replace: true` swaps the attached one.

    An admin or the incident's Wolf only; the incident must be open.
    """
    with db.transaction() as session:
        incident = incidents.get(session, number=number, lock=True)
        now = utcnow()
        run = attach.attach_on_demand(
            session, incident=incident, user=g.current_user, now=now, **args
        )
        return describe(run, now=now)


def _step_view(action: str, summary: str, body: type = schemas.StepActionSchema) -> None:
    def view(args: dict[str, Any], number: int, step: str) -> Any:
        with db.transaction() as session:
            incident = incidents.get(session, number=number, lock=True)
            now = utcnow()
            done = runs.act(
                session,
                incident=incident,
                ref=step,
                action=action,
                user=g.current_user,
                now=now,
                reason=args["reason"],
            )
            return _step(done, content.definitions(done.run)[done.step_id], now)

    view.__name__ = f"step_{action}"
    view.__doc__ = summary
    view = blp.response(200, schemas.StepSchema)(view)
    view = blp.arguments(body)(view)
    view = blp.roles(*ACTORS, errors=(404, 409))(view)
    blp.route(
        f"/<int:number>/playbook/steps/<string:step>/{action}",
        methods=["POST"],
        endpoint=f"step_{action}",
    )(view)


_step_view("start", "Start a ready (or blocked) step. `step` is its id or 1-based position.")
_step_view("done", "Mark a ready, in-progress or blocked step done.")
_step_view(
    "skip",
    "Skip a step with a reason (non-optional steps: admin or the Wolf only).",
    schemas.StepReasonSchema,
)
_step_view(
    "block", "Mark a ready or in-progress step blocked, with a reason.", schemas.StepReasonSchema
)
_step_view("reopen", "Reopen a done or skipped step (its dependents must not have started).")


@blp.route("/<int:number>/playbook/steps/<string:step>/notes", methods=["POST"])
@blp.roles(*NOTE_TAKERS, errors=(404,))
@blp.arguments(schemas.StepNoteCreateSchema)
@blp.response(201, schemas.StepNoteSchema)
def add_step_note(args: dict[str, Any], number: int, step: str) -> Any:
    """Add a note to a step (also written to the timeline)."""
    with db.transaction() as session:
        incident = incidents.get(session, number=number, lock=True)
        return runs.add_note(
            session,
            incident=incident,
            ref=step,
            user=g.current_user,
            text=args["text"],
            now=utcnow(),
        )
