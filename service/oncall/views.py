"""Rotation, override, schedule and on-call endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import g
from sqlalchemy import false, select

from service.api import Blueprint, page_of
from service.auth.models import User
from service.auth.roles import LEADS, READERS, Role
from service.errors import Conflict
from service.extensions import db
from service.oncall import schemas
from service.oncall import service as oncall
from service.oncall.models import Override, Rotation
from service.paging import service as paging

blp = Blueprint(
    "oncall", __name__, url_prefix="/api/v1", description="On-call rotations and overrides"
)


@blp.route("/rotations", methods=["POST"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.RotationCreateSchema)
@blp.response(201, schemas.RotationSchema)
def create_rotation(args: dict[str, Any]) -> Any:
    """Create a rotation (members take turns from the hand-off time)."""
    with db.transaction() as session:
        return oncall.create(session, **args)


@blp.route("/rotations", methods=["GET"])
@blp.roles(*READERS)
@blp.response(200, schemas.RotationSchema(many=True))
@blp.paginate()
def list_rotations(pagination_parameters: Any) -> Any:
    """List rotations."""
    return page_of(db.session, select(Rotation).order_by(Rotation.key), pagination_parameters)


@blp.route("/rotations/<key>", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.RotationSchema)
def get_rotation(key: str) -> Any:
    """Get a rotation."""
    return oncall.get(db.session, key=key)


@blp.route("/rotations/<key>", methods=["PATCH"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.RotationUpdateSchema)
@blp.response(200, schemas.RotationSchema)
def update_rotation(args: dict[str, Any], key: str) -> Any:
    """Change a rotation's name, hand-off time, shift length or members."""
    with db.transaction() as session:
        rotation = oncall.get(session, key=key, for_update=True)
        return oncall.update(session, rotation=rotation, **args)


@blp.route("/rotations/<key>", methods=["DELETE"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.response(204)
def delete_rotation(key: str) -> None:
    """Delete a rotation with its overrides; refused (409, naming them) while an escalation
    policy pages it."""
    with db.transaction() as session:
        rotation = oncall.get(session, key=key, for_update=True)
        used_by = paging.policies_using_rotation(session, key=rotation.key)
        if used_by:
            raise Conflict(
                f"rotation {key!r} is paged by the escalation policies {', '.join(used_by)}: "
                "take it out of them first",
                policies=used_by,
            )
        oncall.delete(session, rotation=rotation)


@blp.route("/rotations/<key>/overrides", methods=["POST"])
@blp.roles(*LEADS, errors=(404, 409))
@blp.arguments(schemas.OverrideCreateSchema)
@blp.response(201, schemas.OverrideSchema)
def create_override(args: dict[str, Any], key: str) -> Any:
    """Put someone on call instead of the rotation for a time box (at most 31 days)."""
    with db.transaction() as session:
        rotation = oncall.get(session, key=key, for_update=True)
        return oncall.add_override(session, rotation=rotation, created_by=g.current_user, **args)


@blp.route("/rotations/<key>/overrides", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.arguments(schemas.WindowQuerySchema, location="query")
@blp.response(200, schemas.OverrideSchema(many=True))
@blp.paginate()
def list_overrides(args: dict[str, Any], key: str, pagination_parameters: Any) -> Any:
    """List a rotation's overrides overlapping a window (default: not yet over)."""
    rotation = oncall.get(db.session, key=key)
    query = select(Override).where(
        Override.rotation_id == rotation.id, Override.ends_at > args["start"]
    )
    end = args["end"]
    if end is not None:  # an `until` not after `from` is an empty window
        query = query.where(Override.starts_at < end if end > args["start"] else false())
    query = query.order_by(Override.starts_at, Override.id)
    return page_of(db.session, query, pagination_parameters)


@blp.route("/rotations/<key>/overrides/<int:override_id>", methods=["DELETE"])
@blp.roles(*LEADS, errors=(404,))
@blp.response(204)
def delete_override(key: str, override_id: int) -> None:
    """Remove an override."""
    with db.transaction() as session:
        rotation = oncall.get(session, key=key, for_update=True)
        override = oncall.get_override(session, rotation=rotation, override_id=override_id)
        oncall.delete_override(session, override=override)


@blp.route("/rotations/<key>/schedule", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.arguments(schemas.ScheduleQuerySchema, location="query")
@blp.response(200, schemas.ScheduleSchema)
def get_schedule(args: dict[str, Any], key: str) -> Any:
    """Who is on call over a window (default: the next 14 days; at most 90).

    A longer window is cut at 90 days or 5,000 shifts, whichever comes first; `from` and `until`
    in the answer say the window shown."""
    rotation = oncall.get(db.session, key=key)
    start, end = args["start"], args["end"]
    shift = timedelta(seconds=rotation.shift_seconds)
    end = min(end, start + shift * schemas.MAX_SCHEDULE_SHIFTS)  # bounded work, said in `until`
    shifts = oncall.schedule(db.session, rotation=rotation, start=start, end=end)
    return {"rotation": rotation.key, "start": start, "end": end, "shifts": shifts}


def _person(user: User, *, with_phone: bool) -> dict[str, Any]:
    person = {"id": user.id, "name": user.name, "active": user.active}
    if with_phone:
        person["phone"] = user.phone
    return person


def _entry(rotation: Rotation, at: datetime, *, with_phone: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"rotation": rotation.key, "name": rotation.name}
    entry.update(purpose=rotation.purpose, who=None, since=None, until=None, via=None)
    stretch = oncall.current_shift(db.session, rotation=rotation, at=at)
    if stretch is not None:
        entry.update(
            who=_person(stretch.user, with_phone=with_phone),
            since=stretch.starts_at,
            until=stretch.ends_at,
            via="override" if stretch.override else "rotation",
        )
    return entry


@blp.route("/oncall", methods=["GET"])
@blp.roles(*READERS)
@blp.arguments(schemas.OnCallQuerySchema, location="query")
@blp.response(200, schemas.OnCallSchema)
def who_is_on_call(args: dict[str, Any]) -> Any:
    """Who is on call at a time (default now) in every rotation."""
    with_phone = bool(g.current_user.role_set & set(LEADS))
    rotations = db.session.scalars(select(Rotation).order_by(Rotation.key))
    at = args["at"]
    return {"at": at, "rotations": [_entry(r, at, with_phone=with_phone) for r in rotations]}
