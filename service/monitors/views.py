"""Monitor endpoints (admins manage; people read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.api import Blueprint, page_of
from service.auth.roles import READERS, Role
from service.extensions import db
from service.monitors import schemas
from service.monitors import service as monitors
from service.monitors.models import Monitor
from service.paging import service as paging

blp = Blueprint("monitors", __name__, url_prefix="/api/v1/monitors", description="Monitors")


@blp.route("", methods=["POST"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.arguments(schemas.MonitorCreateSchema)
@blp.response(201, schemas.MonitorSchema)
def create_monitor(args: dict[str, Any]) -> Any:
    """Create a monitor (a brand or topic to watch).

    A named escalation policy must exist (404 naming it otherwise)."""
    with db.transaction() as session:
        paging.check_policy_key(session, args.get("escalation_policy"))
        return monitors.create(session, **args)


@blp.route("", methods=["GET"])
@blp.roles(*READERS)
@blp.response(200, schemas.MonitorSchema(many=True))
@blp.paginate()
def list_monitors(pagination_parameters: Any) -> Any:
    """List monitors."""
    return page_of(db.session, select(Monitor).order_by(Monitor.key), pagination_parameters)


@blp.route("/<key>", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, schemas.MonitorSchema)
def get_monitor(key: str) -> Any:
    """Get a monitor."""
    return monitors.get(db.session, key=key)


@blp.route("/<key>", methods=["PATCH"])
@blp.roles(Role.ADMIN, errors=(404,))
@blp.arguments(schemas.MonitorUpdateSchema)
@blp.response(200, schemas.MonitorSchema)
def update_monitor(args: dict[str, Any], key: str) -> Any:
    """Change a monitor's settings.

    `detector` is a JSON merge patch (RFC 7396) of the monitor's detector overrides: the
    settings sent change, a setting set to null goes back to its default, the others are kept.
    The budget given both here and in `detector` must be one value (422 naming it)."""
    with db.transaction() as session:
        paging.check_policy_key(session, args.get("escalation_policy"))
        monitor = monitors.get(session, key=key)
        return monitors.update(session, monitor=monitor, check=schemas.check_detector, **args)


@blp.route("/<key>", methods=["DELETE"])
@blp.roles(Role.ADMIN, errors=(404, 409))
@blp.response(204)
def delete_monitor(key: str) -> None:
    """Delete a monitor that never had an incident."""
    with db.transaction() as session:
        monitors.delete(session, monitor=monitors.get(session, key=key))
