"""Phone verification: a 6-digit code by SMS, confirmed through the API, before any page."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from service import config
from service.auth.models import User
from service.errors import Conflict, RateLimited
from service.extensions import redis
from service.jobs import after_commit
from service.paging.models import Page, PageStatus
from service.paging.schedule import Deliver

CODE_TTL = timedelta(minutes=10)
#: wrong codes allowed per user per TRIES_WINDOW, however many codes were sent
MAX_ATTEMPTS = 5
TRIES_WINDOW = timedelta(hours=1)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _key(user: User) -> str:
    return f"fb:verify:{user.id}"


def _tries_key(user: User) -> str:
    return f"fb:verify:tries:{user.id}"


def _secret() -> bytes:
    secret = config.current().secret_key
    if not secret:
        raise Conflict(
            "phone verification needs FIREBREAK_SECRET_KEY, which is not set", field="phone"
        )
    return secret.encode()


def _digest(code: str, phone: str) -> str:
    return hmac.new(_secret(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def start(session: Session, *, user: User, now: datetime) -> datetime:
    """Send a fresh code to the user's phone; returns when it expires."""
    if not user.phone:
        raise Conflict("the user has no phone number to verify", field="phone")
    if user.phone_verified_at is not None:
        raise Conflict("the phone number is already verified")
    scrub(session, user_id=user.id)  # older codes are superseded by this one
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = int(CODE_TTL.total_seconds())
    redis.client.hset(_key(user), mapping={"digest": _digest(code, user.phone)})
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
    """Mark the phone verified if the code matches (MAX_ATTEMPTS tries per user per hour, not
    per code: asking for a new code does not reset them)."""
    key = _key(user)
    stored = redis.client.hgetall(key)
    if not stored or not user.phone:
        raise Conflict("no code is pending (or it expired); request a new one")
    tries = _tries_key(user)
    attempts = int(redis.client.incr(tries))
    if attempts == 1:
        redis.client.expire(tries, int(TRIES_WINDOW.total_seconds()))
    if attempts > MAX_ATTEMPTS:
        redis.client.delete(key)
        wait = int(redis.client.ttl(tries))
        raise RateLimited("too many wrong codes; try again later", retry_after=wait, field="code")
    if not hmac.compare_digest(_text(stored[b"digest"]), _digest(code, user.phone)):
        raise Conflict("the code does not match the one sent", field="code")
    redis.client.delete(key, tries)
    user.phone_verified_at = now
    scrub(session, user_id=user.id)


#: what a verification page's body becomes once its code is used, superseded or expired
MASKED = "Firebreak verification code: ******. It expires in 10 minutes."
_UNSENT = (PageStatus.PENDING.value, PageStatus.SENDING.value)


def scrub(session: Session, *, user_id: int | None = None, before: datetime | None = None) -> int:
    """Mask the code in sent verification pages (of a user, or created before a time): the
    only copy left is its HMAC in Redis. Unsent pages keep theirs until they are sent."""
    query = update(Page).where(Page.kind == "verify", Page.body != MASKED)
    if user_id is not None:
        query = query.where(Page.user_id == user_id, Page.status.not_in(_UNSENT))
    if before is not None:
        query = query.where(Page.created_at < before)
    result = session.execute(query.values(body=MASKED))
    return int(getattr(result, "rowcount", 0) or 0)
