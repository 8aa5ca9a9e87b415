"""Statement request and response schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.fields import NOT_BLANK, Link, QueryId, Timestamp
from service.statements.models import MAX_COMMENT, MAX_TEXT, Decision, Purpose

TEXT = [
    validate.Length(min=1, max=MAX_TEXT),
    validate.Regexp(NOT_BLANK, error="the statement text is empty"),
]
CHANNEL = validate.Length(min=1, max=40)
COMMENT = validate.Length(max=MAX_COMMENT)
HASH = validate.Regexp(r"^[0-9a-f]{64}$", error="a sha256 hex digest (64 lowercase hex digits)")


class StatementCreateSchema(ma.Schema):
    """Draft a statement: its purpose, target channel and first text."""

    purpose = ma.fields.Enum(Purpose, by_value=True, required=True)
    channel = ma.fields.String(required=True, validate=CHANNEL, metadata={"example": "twitter"})
    text = ma.fields.String(required=True, validate=TEXT)


class VersionCreateSchema(ma.Schema):
    """An edit: the whole new text (versions are immutable)."""

    text = ma.fields.String(required=True, validate=TEXT)


class DecisionArgsSchema(ma.Schema):
    """Approve or reject the exact text you reviewed."""

    hash = ma.fields.String(
        required=True, validate=HASH, metadata={"description": "sha256 of the reviewed text"}
    )
    comment = ma.fields.String(load_default="", validate=COMMENT)
    checklist = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=80)),
        load_default=list,
        metadata={"description": "ids of the ticked checklist items (all are needed to approve)"},
    )


class RejectArgsSchema(DecisionArgsSchema):
    """A rejection needs a comment saying why."""

    comment = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_COMMENT))


class PublishArgsSchema(ma.Schema):
    """Where the approved text went out."""

    hash = ma.fields.String(
        required=True, validate=HASH, metadata={"description": "sha256 of the published text"}
    )
    channel = ma.fields.String(load_default=None, validate=CHANNEL)
    url = Link(load_default=None, validate=validate.Length(max=500))


class DiffQuerySchema(ma.Schema):
    """Which two versions to compare."""

    from_ = QueryId(required=True, data_key="from")
    to = QueryId(required=True)


class DecisionSchema(ma.Schema):
    """One role's decision."""

    role = ma.fields.String()
    decision = ma.fields.String(metadata={"enum": [d.value for d in Decision]})
    user_id = ma.fields.Integer()
    user = ma.fields.Function(lambda d: d.user.name)
    hash = ma.fields.String(attribute="sha256")
    comment = ma.fields.String()
    checklist = ma.fields.List(ma.fields.String())
    decided_at = Timestamp()


class ChecklistItemSchema(ma.Schema):
    """An item the approver ticks."""

    id = ma.fields.String()
    text = ma.fields.String()


class ApprovalSchema(ma.Schema):
    """A submission for approval and its decisions."""

    status = ma.fields.String(metadata={"enum": ["pending", "approved", "rejected"]})
    hash = ma.fields.String(attribute="sha256")
    required_roles = ma.fields.List(ma.fields.String())
    missing_roles = ma.fields.List(ma.fields.String())
    checklist = ma.fields.List(ma.fields.Nested(ChecklistItemSchema))
    submitted_by_id = ma.fields.Integer(allow_none=True)
    submitted_at = Timestamp()
    due_at = Timestamp(allow_none=True)
    decided_at = Timestamp(allow_none=True)
    reminded_at = Timestamp(allow_none=True)
    escalated_at = Timestamp(allow_none=True)
    decisions = ma.fields.List(ma.fields.Nested(DecisionSchema))


class VersionSchema(ma.Schema):
    """One immutable text."""

    number = ma.fields.Integer()
    text = ma.fields.String()
    hash = ma.fields.String(attribute="sha256")
    author_id = ma.fields.Integer(allow_none=True)
    author = ma.fields.Function(lambda v: v.author.name if v.author else None)
    created_at = Timestamp()
    approval = ma.fields.Nested(ApprovalSchema, allow_none=True)


class PublicationSchema(ma.Schema):
    """A record of publication."""

    id = ma.fields.Integer()
    version = ma.fields.Function(lambda p: p.version.number)
    hash = ma.fields.String(attribute="sha256")
    channel = ma.fields.String()
    url = ma.fields.String(allow_none=True)
    published_by_id = ma.fields.Integer()
    published_by = ma.fields.Function(lambda p: p.published_by.name)
    published_at = Timestamp()


class StatementSchema(ma.Schema):
    """A statement with all its versions and publications."""

    id = ma.fields.Integer()
    incident = ma.fields.Integer(attribute="incident_id")
    purpose = ma.fields.String(metadata={"enum": [p.value for p in Purpose]})
    channel = ma.fields.String()
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = Timestamp()
    versions = ma.fields.List(ma.fields.Nested(VersionSchema))
    publications = ma.fields.List(ma.fields.Nested(PublicationSchema))


class DiffSchema(ma.Schema):
    """A unified diff between two versions."""

    from_ = ma.fields.Integer(data_key="from")
    to = ma.fields.Integer()
    diff = ma.fields.String()
