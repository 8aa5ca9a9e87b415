"""Request and response schemas of users and tokens."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service.auth.roles import Role
from service.auth.service import InvalidPhone, normalize_phone


class PhoneField(ma.fields.String):
    """A phone number, validated and normalised to E.164."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_phone(raw)
        except InvalidPhone as exc:
            raise ma.ValidationError(str(exc)) from None


ROLE_FIELD = ma.fields.Enum(Role, by_value=True)


class UserCreateSchema(ma.Schema):
    """A new user."""

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    email = ma.fields.Email(load_default=None, validate=validate.Length(max=254))
    phone = PhoneField(load_default=None, metadata={"description": "E.164 or national format"})
    roles = ma.fields.List(ROLE_FIELD, required=True, validate=validate.Length(min=1, max=6))


class UserUpdateSchema(ma.Schema):
    """Changes to a user."""

    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    phone = PhoneField(allow_none=True)
    roles = ma.fields.List(ROLE_FIELD, validate=validate.Length(min=1, max=6))
    active = ma.fields.Boolean()


class UserSchema(ma.Schema):
    """A user as the API shows it."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    roles = ma.fields.Method("_roles")
    created_at = ma.fields.AwareDateTime()

    def _roles(self, user) -> list[str]:  # noqa: ANN001
        return sorted(r.value for r in user.role_set)


class TokenCreateSchema(ma.Schema):
    """A new API token."""

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    expires_in_days = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=3650))


class TokenSchema(ma.Schema):
    """An API token's metadata (never its secret)."""

    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "first characters, to recognise it"})
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    """A token just issued: the secret is shown this once."""

    token = ma.fields.String(metadata={"description": "the secret; store it now"})
