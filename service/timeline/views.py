"""Timeline endpoints: read in order, verify the chain. There is no write endpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.api import Blueprint
from service.auth.roles import READERS
from service.extensions import db
from service.incidents import service as incidents
from service.timeline import service as timeline
from service.timeline.models import TimelineEvent
from service.timeline.schemas import ChainReportSchema, TimelineQuerySchema, TimelineSchema

blp = Blueprint(
    "timeline", __name__, url_prefix="/api/v1/incidents", description="Incident timelines"
)


@blp.route("/<int:number>/timeline", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.arguments(TimelineQuerySchema, location="query")
@blp.response(200, TimelineSchema)
def get_timeline(args: dict[str, Any], number: int) -> Any:
    """An incident's timeline, in order (slices of up to 1,000 events)."""
    session = db.session
    incident = incidents.get(session, number=number)
    rows = list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident.id)
            .where(TimelineEvent.seq > args["after_seq"])
            .order_by(TimelineEvent.seq)
            .limit(args["limit"] + 1)
        )
    )
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return {
        "incident": incident.id,
        "events": rows,
        "next_after_seq": rows[-1].seq if more else None,
    }


@blp.route("/<int:number>/timeline/verify", methods=["GET"])
@blp.roles(*READERS, errors=(404,))
@blp.response(200, ChainReportSchema)
def verify_timeline(number: int) -> Any:
    """Verify an incident's hash chain."""
    incident = incidents.get(db.session, number=number)
    return timeline.verify(db.session, incident_id=incident.id)
