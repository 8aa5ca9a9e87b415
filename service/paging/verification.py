"""Phone verification: a 6-digit code by SMS, confirmed through the API, before any page."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from service import config
from service.auth.models import User
from service.errors import Conflict, Invalid
from service.extensions import redis
from service.jobs import after_commit
from service.paging.models import Page, PageStatus
from service.paging.schedule import Deliver

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _key(user: User) -> str:
    return f"fb:verify:{user.id}"


def _digest(code: str, phone: str) -> str:
    secret = (config.current().secret_key or "firebreak").encode()
    return hmac.new(secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def start(session: Session, *, user: User, now: datetime) -> datetime:
    """Send a fresh code to the user's phone; returns when it expires."""
    if not user.phone:
        raise Conflict("the user has no phone number to verify", field="phone")
    if user.phone_verified_at is not None:
        raise Conflict("the phone number is already verified")
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = int(CODE_TTL.total_seconds())
    redis.client.hset(_key(user), mapping={"digest": _digest(code, user.phone), "attempts": 0})
    redis.client.expire(_key(user), ttl)
    page = Page(
        user_id=user.id,
        kind="verify",
        channel="sms",
        to_number=user.phone,
        body=f"Firebreak verification code: {code}. It expires in 10 minutes.",
        status=PageStatus.PENDING.value,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(page)
    session.flush()
    after_commit(session, Deliver(user.id))
    return now + CODE_TTL


def confirm(session: Session, *, user: User, code: str, now: datetime) -> None:
    """Mark the phone verified if the code matches (5 tries per code)."""
    key = _key(user)
    stored = redis.client.hgetall(key)
    if not stored or not user.phone:
        raise Conflict("no code is pending (or it expired); request a new one")
    attempts = redis.client.hincrby(key, "attempts", 1)
    if attempts > MAX_ATTEMPTS:
        redis.client.delete(key)
        raise Conflict("too many wrong codes; request a new one")
    if not hmac.compare_digest(_text(stored[b"digest"]), _digest(code, user.phone)):
        raise Invalid("the code does not match", field="code")
    redis.client.delete(key)
    user.phone_verified_at = now
