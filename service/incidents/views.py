"""Incident endpoints: thin wrappers over the incident service."""

from __future__ import annotations

from typing import Any

from flask import g

from service.api import Blueprint, page_of
from service.auth.models import User
from service.auth.roles import LEADS, NOTE_TAKERS, READERS, RESPONDERS
from service.errors import NotFound
from service.extensions import db
from service.incidents import schemas
from service.incidents import service as incidents
from service.incidents.models import IncidentRole
from service.monitors import service as monitors
from service.timeline.schemas import TimelineEventSchema
from service.timeline.service import Actor

blp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents", description="Incidents")


def _actor() -> Actor:
    return Actor.of(g.current_user)


def _user(user_id: int, field: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"user {user_id} does not exist or is inactive", field=field)
    return user


@blp.route("", methods=["POST"])
@blp.roles(*RESPONDERS, errors=(404,))
@blp.arguments(schemas.IncidentCreateSchema)
@blp.response(201, schemas.IncidentSchema)
def declare(args: dict[str, Any]) -> Any:
    """Declare an incident."""
    with db.transaction() as session:
        wolf = _user(args["wolf_id"], "wolf_id") if args["wolf_id"] is not None else None
        return incidents.declare(
            session,
            title=args["title"],
            severity=args["severity"],
            description=args["description"],
            actor=_actor(),
            wolf=wolf,
        )


@blp.route("", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.arguments(schemas.IncidentQuerySchema, location="query")
@blp.response(200, schemas.IncidentSchema(many=True))
@blp.paginate()
def list_incidents(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List incidents, newest first, with filters."""
    if "monitor" in args:
        args["monitor_id"] = monitors.get(db.session, key=args.pop("monitor")).id
    return page_of(db.session, incidents.search(**args), pagination_parameters)


@blp.route("/<int:number>", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.IncidentSchema)
def get_incident(number: int) -> Any:
    """Get an incident by its short number."""
    return incidents.get(db.session, number=number)


@blp.route("/<int:number>", methods=["PATCH"])
@blp.roles(*RESPONDERS, errors=(404, 409))
@blp.arguments(schemas.IncidentUpdateSchema)
@blp.response(200, schemas.IncidentSchema)
def update_incident(args: dict[str, Any], number: int) -> Any:
    """Change an incident's severity, title or description."""
    with db.transaction() as session:
        incident = incidents.get(session, number=number, lock=True)
        return incidents.change_details(session, incident=incident, actor=_actor(), **args)


def _transition_view(action: str, roles: tuple, summary: str) -> None:
    def view(args: dict[str, Any], number: int) -> Any:
        with db.transaction() as session:
            incident = incidents.get(session, number=number, lock=True)
            return incidents.transition(
                session, incident=incident, action=action, actor=_actor(), note=args["note"]
            )

    view.__name__ = action
    view.__doc__ = summary
    view = blp.response(200, schemas.IncidentSchema)(view)
    view = blp.arguments(schemas.TransitionSchema)(view)
    view = blp.roles(*roles, errors=(404, 409))(view)
    blp.route(f"/<int:number>/{action}", methods=["POST"], endpoint=action)(view)


_transition_view("acknowledge", RESPONDERS, "Acknowledge an incident (triggered only).")
_transition_view("resolve", RESPONDERS, "Resolve an incident (triggered or acknowledged).")
_transition_view("close", LEADS, "Close a resolved incident after its post-mortem.")
_transition_view("reopen", RESPONDERS, "Reopen a resolved incident.")


@blp.route("/<int:number>/notes", methods=["POST"])
@blp.roles(*NOTE_TAKERS, errors=(404,))
@blp.arguments(schemas.NoteSchema)
@blp.response(201, TimelineEventSchema)
def add_note(args: dict[str, Any], number: int) -> Any:
    """Add a note to an incident's timeline."""
    with db.transaction() as session:
        incident = incidents.get(session, number=number, lock=True)
        return incidents.add_note(session, incident=incident, actor=_actor(), text=args["text"])


@blp.route("/<int:number>/roles/<any(wolf,legal,comms):role>", methods=["PUT"])
@blp.roles(*LEADS, errors=(404, 409))
@blp.arguments(schemas.AssignSchema)
@blp.response(200, schemas.AssignmentSchema)
def assign_role(args: dict[str, Any], number: int, role: str) -> Any:
    """Assign who holds an incident role (the Wolf, legal, comms)."""
    with db.transaction() as session:
        incident = incidents.get(session, number=number, lock=True)
        user = _user(args["user_id"], "user_id")
        return incidents.assign(
            session, incident=incident, role=IncidentRole(role), user=user, actor=_actor()
        )
