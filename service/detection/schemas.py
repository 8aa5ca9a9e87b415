"""Schemas of the mentions API (items are checked by a fast validator that mirrors these)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.api import JSON_VALUE_REF, openapi_rules
from service.detection.ingest import MAX_BATCH, MAX_REACH, MAX_TEXT
from service.fields import NOT_BLANK, TEXT, Link, Number, Timestamp, Whole


@openapi_rules(propertyNames={"pattern": TEXT}, additionalProperties=JSON_VALUE_REF)
class MentionSchema(ma.Schema):
    """One brand mention from a listening tool (documentation and reference validator); other
    fields a tool or an export carries (its own ids, language, metrics) are ignored."""

    class Meta:
        unknown = ma.EXCLUDE

    source = ma.fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,31}$"),
        metadata={"example": "twitter"},
    )
    source_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))
    text = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_TEXT), validate.Regexp(NOT_BLANK)],
    )
    author = ma.fields.String(load_default=None, validate=validate.Length(max=100))
    author_reach = Whole(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_REACH),
        metadata={"description": "the author's followers"},
    )
    url = Link(load_default=None, schemes={"http", "https"}, validate=validate.Length(max=2048))
    created_at = Timestamp(
        required=True,
        metadata={
            "description": "when it was posted; one older than the detector's horizon (8 days) "
            "or more than 5 minutes ahead is refused (listed in `errors`)"
        },
    )
    sentiment = Number(
        load_default=None,
        validate=validate.Range(min=-1, max=1),
        metadata={"description": "-1..1 if the source scored it; else Firebreak scores it"},
    )


class MentionBatchSchema(ma.Schema):
    """A batch of up to 1,000 mentions."""

    mentions = ma.fields.List(
        ma.fields.Nested(MentionSchema),
        required=True,
        validate=validate.Length(max=MAX_BATCH),
        metadata={"description": f"up to {MAX_BATCH} mentions (a longer batch is a 413)"},
    )


class EnvelopeSchema(ma.Schema):
    """The batch envelope as parsed (items validated one by one afterwards)."""

    mentions = ma.fields.List(
        ma.fields.Raw(),
        required=True,
        metadata={"description": f"up to {MAX_BATCH} mentions"},
    )


class ItemErrorSchema(ma.Schema):
    """Why one item was rejected."""

    index = ma.fields.Integer()
    field = ma.fields.String()
    reason = ma.fields.String()


class IngestResultSchema(ma.Schema):
    """The outcome per item, in the batch's order."""

    accepted = ma.fields.Integer()
    duplicates = ma.fields.Integer()
    rejected = ma.fields.Integer()
    statuses = ma.fields.List(
        ma.fields.String(), metadata={"description": "accepted, duplicate or rejected, per item"}
    )
    errors = ma.fields.List(ma.fields.Nested(ItemErrorSchema))
