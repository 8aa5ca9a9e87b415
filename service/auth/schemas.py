"""Request and response schemas of users and tokens."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import validate

from service.auth.roles import Role
from service.auth.service import PHONE_SHAPE, InvalidPhone, normalize_phone
from service.fields import Flag, Timestamp, Whole


class PhoneField(ma.fields.String):
    """A phone number, validated and normalised to E.164.

    Documented as `format: phone`: its shape is a pattern, its validity (a number libphonenumber
    knows) no regex can say; a client or a test generator learns the format by its name."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("format", "phone")
        metadata.setdefault(
            "description",
            "a phone number valid per libphonenumber: E.164 (+14155552671) or a US national "
            "number ((415) 555-2671); stored and shown in E.164",
        )
        metadata.setdefault("example", "+14155552671")
        metadata.setdefault("pattern", PHONE_SHAPE)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(PHONE_SHAPE, raw):
            raise ma.ValidationError("a phone number: digits, an optional +, spaces, (), . or -")
        try:
            return normalize_phone(raw)
        except InvalidPhone as exc:
            raise ma.ValidationError(str(exc)) from None


ROLE_FIELD = ma.fields.Enum(Role, by_value=True)


class UserCreateSchema(ma.Schema):
    """A new user."""

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    email = ma.fields.Email(load_default=None, validate=validate.Length(max=254))
    phone = PhoneField(load_default=None)
    roles = ma.fields.List(ROLE_FIELD, required=True, validate=validate.Length(min=1, max=6))


class UserUpdateSchema(ma.Schema):
    """Changes to a user."""

    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    phone = PhoneField(allow_none=True)
    roles = ma.fields.List(ROLE_FIELD, validate=validate.Length(min=1, max=6))
    active = Flag()


class UserSchema(ma.Schema):
    """A user as the API shows it."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    roles = ma.fields.Method("_roles")
    created_at = Timestamp()

    def _roles(self, user) -> list[str]:  # noqa: ANN001
        return sorted(r.value for r in user.role_set)


class TokenCreateSchema(ma.Schema):
    """A new API token."""

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    expires_in_days = Whole(load_default=None, validate=validate.Range(min=1, max=3650))


class TokenSchema(ma.Schema):
    """An API token's metadata (never its secret)."""

    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "first characters, to recognise it"})
    created_at = Timestamp()
    expires_at = Timestamp(allow_none=True)
    last_used_at = Timestamp(allow_none=True)
    revoked_at = Timestamp(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    """A token just issued: the secret is shown this once."""

    token = ma.fields.String(metadata={"description": "the secret; store it now"})
