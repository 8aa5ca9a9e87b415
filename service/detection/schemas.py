"""Schemas of the mentions API (items are checked by a fast validator that mirrors these)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.api import openapi_rules
from service.detection.ingest import MAX_BATCH, MAX_REACH, MAX_TEXT
from service.detection.sentiment import READ_CHARS
from service.fields import SOME_TEXT, Link, Number, Repaired, Timestamp, Whole

#: how the free-text fields treat text the database cannot store
REPAIRS = "NUL characters are removed and lone surrogates replaced by U+FFFD (listed in `warnings`)"


@openapi_rules(additionalProperties=True)
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
    source_id = Repaired(
        required=True, validate=validate.Length(min=1, max=128), metadata={"description": REPAIRS}
    )
    text = Repaired(
        required=True,
        validate=[validate.Length(min=1, max=MAX_TEXT), validate.Regexp(SOME_TEXT)],
        metadata={
            "description": f"not blank; {REPAIRS}; sentiment is read from the first "
            f"{READ_CHARS} characters"
        },
    )
    author = Repaired(
        load_default=None, validate=validate.Length(max=100), metadata={"description": REPAIRS}
    )
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


@openapi_rules(additionalProperties=True)
class MentionBatchSchema(ma.Schema):
    """A batch of up to 1,000 mentions; other members of the envelope are ignored."""

    class Meta:
        unknown = ma.EXCLUDE

    mentions = ma.fields.List(
        ma.fields.Nested(MentionSchema),
        required=True,
        validate=validate.Length(max=MAX_BATCH),
        metadata={"description": f"up to {MAX_BATCH} mentions (a longer batch is a 413)"},
    )


class EnvelopeSchema(ma.Schema):
    """The batch envelope as parsed (items validated one by one afterwards; other members
    ignored)."""

    class Meta:
        unknown = ma.EXCLUDE

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


class ItemWarningSchema(ma.Schema):
    """Text of an item repaired (the item was kept)."""

    index = ma.fields.Integer()
    field = ma.fields.String()
    action = ma.fields.String(
        metadata={"example": "removed 1 NUL character(s); replaced 1 lone surrogate(s) with U+FFFD"}
    )


class IngestResultSchema(ma.Schema):
    """The outcome per item, in the batch's order."""

    accepted = ma.fields.Integer()
    duplicates = ma.fields.Integer()
    rejected = ma.fields.Integer()
    statuses = ma.fields.List(
        ma.fields.String(), metadata={"description": "accepted, duplicate or rejected, per item"}
    )
    errors = ma.fields.List(ma.fields.Nested(ItemErrorSchema))
    warnings = ma.fields.List(
        ma.fields.Nested(ItemWarningSchema),
        metadata={"description": "items kept whose text was repaired, and how"},
    )
