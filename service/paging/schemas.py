"""Schemas of escalation policies, pages and phone verification."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from service.api import openapi_rules
from service.auth.roles import Role
from service.fields import Flag, Id, Timestamp, Whole

CHANNELS = ("sms", "voice", "sms+voice")
PURPOSES = ("wolf", "legal", "other")


@openapi_rules(minProperties=1, maxProperties=1)
class TargetSchema(ma.Schema):
    """Who a level pages: exactly one of a rotation, a purpose's rotations, a role or a user.
    A rotation or user named must exist (else 404 naming the field, e.g.
    `levels.0.targets.0.rotation`); a user must be active and a person, not a service account
    (else 409). A role or purpose needs no holder yet; if a level finds nobody to page when
    it is due, the next level is paged at once, and an escalation that paged nobody at all
    falls back to the built-in chain (the Wolf rotations, every wolf, the admins)."""

    rotation = ma.fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={"description": "an existing rotation's key (404 if there is none)"},
    )
    purpose = ma.fields.String(
        validate=validate.OneOf(PURPOSES),
        metadata={"description": "who is on call now in every rotation of this purpose"},
    )
    role = ma.fields.String(
        validate=validate.OneOf([r.value for r in Role]),
        metadata={"description": "every active user holding the role"},
    )
    user_id = Id(
        metadata={"description": "an existing, active user's id (404 unknown, 409 inactive)"}
    )

    @ma.validates_schema
    def _one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if len(data) != 1:
            raise ma.ValidationError("a target is exactly one of: rotation, purpose, role, user_id")


TARGET = ma.fields.Nested(
    TargetSchema,
    metadata={
        "example": {"rotation": "wolves"},
        "description": "a rotation or user named must exist (404 naming the field) and a user "
        "be active, not a service account (409); a role or purpose needs no holder yet",
    },
)


class LevelSchema(ma.Schema):
    """One escalation level."""

    targets = ma.fields.List(TARGET, required=True, validate=validate.Length(min=1, max=10))
    delay_seconds = Whole(required=True, validate=validate.Range(min=10, max=86400))
    channel = ma.fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))


KEY = validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$")


class PolicyReplaceSchema(ma.Schema):
    """An escalation policy's settings (its key is the URL's)."""

    key = ma.fields.String(
        validate=KEY,
        metadata={"description": "optional: the URL names the policy; a different key is a 409"},
    )

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    levels = ma.fields.List(
        ma.fields.Nested(LevelSchema), required=True, validate=validate.Length(min=1, max=10)
    )
    notify = ma.fields.List(TARGET, load_default=list, validate=validate.Length(max=10))
    repeat = Whole(load_default=1, validate=validate.Range(min=0, max=5))
    notify_resolved = Flag(
        load_default=True,
        metadata={"description": "everyone paged gets one short SMS when the incident resolves"},
    )
    is_default = Flag(load_default=False)


class PolicyCreateSchema(PolicyReplaceSchema):
    """A new escalation policy."""

    key = ma.fields.String(required=True, validate=KEY)


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
