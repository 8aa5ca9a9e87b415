"""Playbook run request and response schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.fields import NOT_BLANK, Flag, Timestamp
from service.incidents.schemas import NOTE
from service.playbooks.models import StepState

REASON = validate.Length(min=1, max=2_000)


class AttachSchema(ma.Schema):
    """Attach a playbook: a named one, or the one the triggers choose."""

    playbook_id = ma.fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "omit to choose by triggers (or the default)"},
    )
    replace = Flag(
        load_default=False, metadata={"description": "needed to replace an attached playbook"}
    )
    reason = ma.fields.String(load_default=None, validate=validate.Length(max=150))


class StepActionSchema(ma.Schema):
    """An optional reason."""

    reason = ma.fields.String(load_default=None, allow_none=True, validate=REASON)


class StepReasonSchema(ma.Schema):
    """The reason, required to skip or block a step (more than white space)."""

    reason = ma.fields.String(required=True, validate=[REASON, validate.Regexp(NOT_BLANK)])


class StepNoteCreateSchema(ma.Schema):
    """A note on a step."""

    text = ma.fields.String(required=True, validate=NOTE)


class StepNoteSchema(ma.Schema):
    """A note left on a step."""

    id = ma.fields.Integer()
    author = ma.fields.String()
    author_id = ma.fields.Integer(allow_none=True)
    text = ma.fields.String(attribute="body")
    created_at = Timestamp()


class DueSchema(ma.Schema):
    """A due as written in the playbook."""

    after = ma.fields.String(metadata={"example": "15m"})
    anchor = ma.fields.String(
        attribute="from", data_key="from", metadata={"description": "opened or ready"}
    )


class StepSchema(ma.Schema):
    """One step of a run: its definition (as attached) and its state."""

    position = ma.fields.Integer(metadata={"description": "1-based, as in `DONE 42 3`"})
    id = ma.fields.String()
    title = ma.fields.String()
    instructions = ma.fields.String(metadata={"description": "Markdown"})
    owner = ma.fields.String()
    optional = ma.fields.Boolean()
    needs_approved_statement = ma.fields.Boolean()
    notify = ma.fields.Boolean()
    depends_on = ma.fields.List(ma.fields.String())
    due = ma.fields.Nested(DueSchema)
    state = ma.fields.String(
        metadata={"enum": [s.value for s in StepState]},
    )
    overdue = ma.fields.Boolean()
    ready_at = Timestamp(allow_none=True)
    due_at = Timestamp(allow_none=True)
    started_at = Timestamp(allow_none=True)
    finished_at = Timestamp(allow_none=True)
    updated_at = Timestamp()
    reason = ma.fields.String(allow_none=True)
    acted_by_id = ma.fields.Integer(allow_none=True)
    reminded_at_due = Timestamp(allow_none=True, attribute="reminded_due_at")
    notes = ma.fields.List(ma.fields.Nested(StepNoteSchema))


class RunSchema(ma.Schema):
    """The playbook attached to an incident, frozen at attach time, with its steps."""

    run_id = ma.fields.Integer()
    incident = ma.fields.Integer()
    playbook_id = ma.fields.String()
    version = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    sha256 = ma.fields.String(metadata={"description": "sha256 of the playbook file attached"})
    page = ma.fields.List(ma.fields.String())
    reason = ma.fields.String()
    attached_at = Timestamp()
    attached_by_id = ma.fields.Integer(allow_none=True)
    complete = ma.fields.Boolean()
    steps = ma.fields.List(ma.fields.Nested(StepSchema))
