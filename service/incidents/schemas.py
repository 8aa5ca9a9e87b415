"""Incident request and response schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.api import openapi_rules
from service.fields import Id, Timestamp
from service.incidents.models import IncidentRole, Severity, Status

TITLE = validate.Length(min=1, max=200)
DESCRIPTION = validate.Length(max=10_000)
#: the longest note (the API's, and what an SMS NOTE keeps)
NOTE_MAX = 5_000
NOTE = validate.Length(min=1, max=NOTE_MAX)


class IncidentCreateSchema(ma.Schema):
    """Declare an incident by hand."""

    title = ma.fields.String(required=True, validate=TITLE)
    severity = ma.fields.Enum(Severity, by_value=True, required=True)
    description = ma.fields.String(load_default="", validate=DESCRIPTION)
    wolf_id = Id(load_default=None, metadata={"description": "user to lead as the Wolf"})


@openapi_rules(anyOf=[{"required": [name]} for name in ("severity", "title", "description")])
class IncidentUpdateSchema(ma.Schema):
    """Change severity, title or description (at least one; a reason alone changes nothing)."""

    severity = ma.fields.Enum(Severity, by_value=True)
    title = ma.fields.String(validate=TITLE)
    description = ma.fields.String(validate=DESCRIPTION)
    reason = ma.fields.String(validate=NOTE)

    @ma.validates_schema
    def _something(self, data: dict, **_kw: object) -> None:
        if not {"severity", "title", "description"} & set(data):
            raise ma.ValidationError("give at least one of severity, title, description")


class TransitionSchema(ma.Schema):
    """An optional note with a lifecycle action."""

    note = ma.fields.String(load_default=None, validate=NOTE)


class NoteSchema(ma.Schema):
    """A note for the timeline."""

    text = ma.fields.String(required=True, validate=NOTE)


class AssignSchema(ma.Schema):
    """Who takes the role."""

    user_id = Id(required=True)


class IncidentQuerySchema(ma.Schema):
    """List filters (repeat status/severity for several values)."""

    monitor = ma.fields.String(metadata={"description": "monitor key"})
    status = ma.fields.List(ma.fields.Enum(Status, by_value=True))
    severity = ma.fields.List(ma.fields.Enum(Severity, by_value=True))
    opened_after = Timestamp()
    opened_before = Timestamp()


class AssignmentSchema(ma.Schema):
    """A person holding a role in an incident."""

    role = ma.fields.String(metadata={"enum": [r.value for r in IncidentRole]})
    user_id = ma.fields.Integer()
    user = ma.fields.Function(lambda a: a.user.name)
    assigned_at = Timestamp()


class IncidentSchema(ma.Schema):
    """An incident."""

    number = ma.fields.Integer(metadata={"description": "short number, #42"})
    title = ma.fields.String()
    description = ma.fields.String()
    severity = ma.fields.String()
    status = ma.fields.String()
    source = ma.fields.String(metadata={"description": "manual or detector"})
    monitor = ma.fields.Function(lambda i: i.monitor.key if i.monitor else None)
    opened_at = Timestamp()
    acknowledged_at = Timestamp(allow_none=True)
    acknowledged_by_id = ma.fields.Integer(allow_none=True)
    resolved_at = Timestamp(allow_none=True)
    closed_at = Timestamp(allow_none=True)
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    version = ma.fields.Integer()
