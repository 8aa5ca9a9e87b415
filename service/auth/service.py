"""Users and tokens: create, issue, revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from service.auth.models import ApiToken, User
from service.auth.roles import Role
from service.db import utcnow

TOKEN_PREFIX = "fb_"
#: what a phone number given to the API looks like (digits, an optional +, spaces, (), . and -);
#: whether it is a valid number only libphonenumber says
PHONE_SHAPE = r"^\+?[0-9 ().-]{7,25}$"


class InvalidPhone(ValueError):
    """A phone number that cannot be parsed into E.164."""


def normalize_phone(raw: str, *, region: str = "US") -> str:
    """Parse a phone number and return it in E.164; raise InvalidPhone if it is not valid."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def hash_token(token: str) -> str:
    """SHA-256 of a token (tokens are 256-bit random, so a fast hash is the right one)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    name: str,
    roles: set[Role],
    email: str | None = None,
    phone: str | None = None,
) -> User:
    """Add a user with roles; the caller commits."""
    user = User(name=name.strip(), email=email.lower() if email else None, phone=phone)
    user.set_roles(roles)
    session.add(user)
    session.flush()
    return user


def issue_token(
    session: Session, *, user: User, name: str, expires_in: timedelta | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a user; returns the row and the secret, which is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(secret),
        expires_at=utcnow() + expires_in if expires_in else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, *, token: ApiToken) -> ApiToken:
    """Mark a token revoked (idempotent)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def user_count(session: Session) -> int:
    """How many users exist."""
    return session.scalar(select(func.count(User.id))) or 0


def find_token(session: Session, *, secret: str, now: datetime) -> ApiToken | None:
    """The live token for a secret, or None if unknown, revoked, expired or its user inactive."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    # the user and their roles in the same round trip: every request needs both
    query = (
        select(ApiToken)
        .options(joinedload(ApiToken.user).joinedload(User.roles))
        .where(ApiToken.token_hash == hash_token(secret))
    )
    token = session.scalars(query).unique().first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return token
