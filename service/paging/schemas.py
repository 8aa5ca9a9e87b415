"""Schemas of escalation policies, pages and phone verification."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.auth.roles import Role
from service.fields import Timestamp

CHANNELS = ("sms", "voice", "sms+voice")
PURPOSES = ("wolf", "legal", "other")


def validate_target(value: dict) -> None:
    """A target is exactly one of rotation, purpose, role, user_id."""
    kinds = {"rotation", "purpose", "role", "user_id"}
    if len(value) != 1 or not set(value) <= kinds:
        raise ma.ValidationError("a target is exactly one of: rotation, purpose, role, user_id")
    ((kind, v),) = value.items()
    if kind == "role" and v not in {r.value for r in Role}:
        raise ma.ValidationError(f"unknown role {v!r}")
    if kind == "purpose" and v not in PURPOSES:
        raise ma.ValidationError(f"purpose must be one of {', '.join(PURPOSES)}")
    if kind == "user_id" and (isinstance(v, bool) or not isinstance(v, int)):
        raise ma.ValidationError("user_id must be an integer")
    if kind == "rotation" and (not isinstance(v, str) or not 1 <= len(v) <= 40):
        raise ma.ValidationError("rotation must be a rotation key")


TARGET = ma.fields.Dict(validate=validate_target, metadata={"example": {"rotation": "wolves"}})


class LevelSchema(ma.Schema):
    """One escalation level."""

    targets = ma.fields.List(TARGET, required=True, validate=validate.Length(min=1, max=10))
    delay_seconds = ma.fields.Integer(required=True, validate=validate.Range(min=10, max=86400))
    channel = ma.fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))


class PolicyCreateSchema(ma.Schema):
    """A new escalation policy."""

    key = ma.fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$"))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    levels = ma.fields.List(
        ma.fields.Nested(LevelSchema), required=True, validate=validate.Length(min=1, max=10)
    )
    notify = ma.fields.List(TARGET, load_default=list, validate=validate.Length(max=10))
    repeat = ma.fields.Integer(load_default=1, validate=validate.Range(min=0, max=5))
    notify_resolved = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "everyone paged gets one short SMS when the incident resolves"},
    )
    is_default = ma.fields.Boolean(load_default=False)


class PolicySchema(PolicyCreateSchema):
    """An escalation policy."""

    created_at = Timestamp()


class PageSchema(ma.Schema):
    """One page (an SMS or call to one person)."""

    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    user = ma.fields.Function(lambda p: p.user.name)
    kind = ma.fields.String()
    channel = ma.fields.String()
    level = ma.fields.Function(
        lambda p: None if p.level is None else p.level + 1,
        metadata={"type": ["integer", "null"], "description": "escalation level, 1-based"},
    )
    round = ma.fields.Function(
        lambda p: None if p.round is None else p.round + 1,
        metadata={"type": ["integer", "null"], "description": "escalation round, 1-based"},
    )
    reply_code = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    provider_id = ma.fields.String(allow_none=True)
    error_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    body = ma.fields.String()
    created_at = Timestamp()
    sent_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    expires_at = Timestamp()


class VerifyPhoneSchema(ma.Schema):
    """The code received by SMS."""

    code = ma.fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))


class VerificationSchema(ma.Schema):
    """Where a phone verification stands."""

    phone = ma.fields.String()
    verified = ma.fields.Boolean()
    verified_at = Timestamp(allow_none=True)
    code_expires_at = Timestamp(allow_none=True)


class RevokedLinksSchema(ma.Schema):
    """How many live links were revoked."""

    revoked = ma.fields.Integer()
