"""Rotation, override, schedule and on-call request and response schemas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from marshmallow import validate

from service.api import openapi_rules
from service.db import utcnow
from service.fields import Distinct, Id, Timestamp, Whole
from service.oncall.models import Purpose
from service.oncall.service import MAX_OVERRIDE, MIN_SHIFT_SECONDS

KEY = validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$", error="2-40 lowercase letters, digits, '-'")
#: The longest schedule one request may ask for.
MAX_SCHEDULE = timedelta(days=90)
#: The most shifts one schedule request may span (a one-minute rotation over 90 days is not).
MAX_SCHEDULE_SHIFTS = 5000
SHIFT = validate.Range(min=MIN_SHIFT_SECONDS, max=366 * 86400)
#: the longest override, in seconds
MAX_OVERRIDE_SECONDS = int(MAX_OVERRIDE.total_seconds())


def member_ids(**kwargs: Any) -> ma.fields.List:
    """The ordered member ids: at most 100, each once."""
    return ma.fields.List(
        Id(),
        validate=[validate.Length(max=100), Distinct()],
        metadata={
            "description": "user ids in rotation order (member 0 takes the first shift); each "
            "an active user with a role the purpose needs (else 404 or 409 naming the item)",
        },
        **kwargs,
    )


class RotationCreateSchema(ma.Schema):
    """A new rotation."""

    key = ma.fields.String(required=True, validate=KEY)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    purpose = ma.fields.Enum(
        Purpose, by_value=True, required=True, metadata={"description": "which group it staffs"}
    )
    handoff_at = Timestamp(
        required=True, metadata={"description": "when member 0's first shift starts"}
    )
    shift_seconds = Whole(required=True, validate=SHIFT, metadata={"example": 604800})
    member_ids = member_ids(load_default=list)


class RotationUpdateSchema(ma.Schema):
    """Changes to a rotation (its purpose is fixed; make a new rotation instead)."""

    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    handoff_at = Timestamp()
    shift_seconds = Whole(validate=SHIFT)
    member_ids = member_ids()


class MemberSchema(ma.Schema):
    """A person on a rotation."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    active = ma.fields.Boolean()


class OnCallPersonSchema(MemberSchema):
    """The person on call (the phone is shown only to admins and Wolves)."""

    phone = ma.fields.String(allow_none=True)


class RotationSchema(ma.Schema):
    """A rotation."""

    key = ma.fields.String()
    name = ma.fields.String()
    purpose = ma.fields.String(metadata={"enum": [p.value for p in Purpose]})
    handoff_at = Timestamp()
    shift_seconds = ma.fields.Integer()
    member_ids = ma.fields.List(ma.fields.Integer())
    members = ma.fields.List(ma.fields.Nested(MemberSchema))
    created_at = Timestamp()
    updated_at = Timestamp()


@openapi_rules(oneOf=[{"required": ["ends_at"]}, {"required": ["duration_seconds"]}])
class OverrideCreateSchema(ma.Schema):
    """A new override: someone on call instead of the rotation for a time box, given by its end
    or by its length (exactly one of the two); one already over is a 409."""

    user_id = Id(
        required=True,
        metadata={"description": "an active user with a role the purpose needs (else 404/409)"},
    )
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(
        metadata={"description": "when it ends: after starts_at and at most 31 days later"}
    )
    duration_seconds = Whole(
        validate=validate.Range(min=MIN_SHIFT_SECONDS, max=MAX_OVERRIDE_SECONDS),
        metadata={"description": "how long it lasts: a minute to 31 days", "example": 86400},
    )
    reason = ma.fields.String(load_default="", validate=validate.Length(max=500))

    @ma.validates_schema
    def _one_end(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("ends_at" in data) == ("duration_seconds" in data):
            raise ma.ValidationError(
                "give exactly one of ends_at and duration_seconds", field_name="ends_at"
            )

    @ma.post_load
    def _ends(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "duration_seconds" in data:
            data["ends_at"] = data["starts_at"] + timedelta(seconds=data.pop("duration_seconds"))
        return data


class OverrideSchema(ma.Schema):
    """An override."""

    id = ma.fields.Integer()
    rotation = ma.fields.Function(lambda o: o.rotation.key)
    user = ma.fields.Nested(MemberSchema)
    starts_at = Timestamp()
    ends_at = Timestamp()
    reason = ma.fields.String()
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = Timestamp()


class WindowQuerySchema(ma.Schema):
    """A time window: `from` (default now) to `until` (an `until` not after `from` is an empty
    window)."""

    start = Timestamp(data_key="from", load_default=utcnow)
    end = Timestamp(data_key="until", load_default=None)


class ScheduleQuerySchema(WindowQuerySchema):
    """The schedule's window: `from` (default now) to `until` (default +14 days; cut at 90 days
    and 5,000 shifts, and an `until` not after `from` is empty: the answer's `from` and
    `until` say the window shown)."""

    @ma.post_load
    def _default_end(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        start = data["start"]
        end = data.get("end") or start + timedelta(days=14)
        data["end"] = min(max(end, start), start + MAX_SCHEDULE)
        return data


class ShiftSchema(ma.Schema):
    """A stretch of time one person is on call."""

    user = ma.fields.Nested(MemberSchema)
    starts_at = Timestamp()
    ends_at = Timestamp()
    override = ma.fields.Boolean(metadata={"description": "true if by an override"})


class ScheduleSchema(ma.Schema):
    """Who is on call in a rotation over a window."""

    rotation = ma.fields.String()
    start = Timestamp(data_key="from")
    end = Timestamp(data_key="until")
    shifts = ma.fields.List(ma.fields.Nested(ShiftSchema))


class OnCallQuerySchema(ma.Schema):
    """The time to ask about (default now), ISO 8601 with an offset."""

    at = Timestamp(load_default=utcnow)


class OnCallEntrySchema(ma.Schema):
    """Who is on call in one rotation."""

    rotation = ma.fields.String(metadata={"description": "the rotation's key"})
    name = ma.fields.String()
    purpose = ma.fields.String(metadata={"enum": [p.value for p in Purpose]})
    who = ma.fields.Nested(
        OnCallPersonSchema, allow_none=True, metadata={"description": "null if nobody is on call"}
    )
    since = Timestamp(
        allow_none=True, metadata={"description": "null: since before the rotation's hand-off"}
    )
    until = Timestamp(allow_none=True)
    via = ma.fields.String(allow_none=True, metadata={"enum": ["override", "rotation"]})


class OnCallSchema(ma.Schema):
    """Who is on call at a time, in every rotation."""

    at = Timestamp()
    rotations = ma.fields.List(ma.fields.Nested(OnCallEntrySchema))
