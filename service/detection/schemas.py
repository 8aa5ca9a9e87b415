"""Schemas of the mentions API (items are checked by a fast validator that mirrors these)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.detection.ingest import MAX_BATCH, MAX_REACH, MAX_TEXT
from service.fields import Timestamp


class StrictFloat(ma.fields.Float):
    """A JSON number (strings such as "0.5" are refused)."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class MentionSchema(ma.Schema):
    """One brand mention from a listening tool (documentation and reference validator)."""

    source = ma.fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,31}$"),
        metadata={"example": "twitter"},
    )
    source_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=128))
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    author = ma.fields.String(load_default=None, validate=validate.Length(max=100))
    author_reach = ma.fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_REACH),
        strict=True,
        metadata={"description": "the author's followers"},
    )
    url = ma.fields.Url(load_default=None, validate=validate.Length(max=2048))
    created_at = Timestamp(required=True)
    sentiment = StrictFloat(
        load_default=None,
        validate=validate.Range(min=-1, max=1),
        metadata={"description": "-1..1 if the source scored it; else Firebreak scores it"},
    )


class MentionBatchSchema(ma.Schema):
    """A batch of up to 1,000 mentions."""

    mentions = ma.fields.List(ma.fields.Nested(MentionSchema), required=True)


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
