"""Timeline schemas."""

from __future__ import annotations

import marshmallow as ma

from service.fields import QueryId, Timestamp


class TimelineEventSchema(ma.Schema):
    """One timeline event."""

    seq = ma.fields.Integer()
    at = Timestamp()
    kind = ma.fields.String()
    actor = ma.fields.String()
    actor_user_id = ma.fields.Integer(allow_none=True)
    data = ma.fields.Dict()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class TimelineQuerySchema(ma.Schema):
    """Which slice of the timeline to return."""

    after_seq = QueryId(minimum=0, load_default=0)
    limit = QueryId(load_default=500, validate=ma.validate.Range(min=1, max=1000))


class TimelineSchema(ma.Schema):
    """An incident's events in order, and where the slice ends."""

    incident = ma.fields.Integer()
    events = ma.fields.List(ma.fields.Nested(TimelineEventSchema))
    next_after_seq = ma.fields.Integer(
        allow_none=True, metadata={"description": "pass as after_seq for the next slice"}
    )


class ChainReportSchema(ma.Schema):
    """Whether an incident's hash chain is intact."""

    incident_id = ma.fields.Integer()
    intact = ma.fields.Boolean()
    events = ma.fields.Integer()
    head_hash = ma.fields.String()
    first_bad_seq = ma.fields.Integer(allow_none=True)
    problem = ma.fields.String(allow_none=True)
