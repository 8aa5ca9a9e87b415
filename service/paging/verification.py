"""Phone verification: a 6-digit code by SMS, confirmed through the API, before any page.

The code is never stored: it is an HMAC (with the secret key) of its page, derived when the SMS
is sent and again when it is checked. The page keeps its text with the code masked, so a
database reader (a backup, a replica, support) cannot read a live code, and a retried or
re-sent SMS carries the same code. Redis holds only which page is the pending code.
"""

from __future__ import annotations

import hashlib
import hmac
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
#: what stands for the code in the stored body; replaced by the code only in the SMS sent
CODE_MASK = "******"
TEMPLATE = "Firebreak verification code: {code}. It expires in 10 minutes."
MASKED = TEMPLATE.format(code=CODE_MASK)
#: a code whose page ended so is not on the phone: the user asks for a new one
_NOT_SENT = frozenset(
    {
        PageStatus.FAILED.value,
        PageStatus.EXPIRED.value,
        PageStatus.SKIPPED.value,
        PageStatus.CANCELLED.value,
        PageStatus.DROPPED.value,
    }
)


def _key(user: User) -> str:
    return f"fb:verify:page:{user.id}"


def _tries_key(user: User) -> str:
    return f"fb:verify:tries:{user.id}"


def _secret() -> bytes:
    secret = config.current().secret_key
    if not secret:
        raise Conflict(
            "phone verification needs FIREBREAK_SECRET_KEY, which is not set", field="phone"
        )
    return secret.encode()


def code_for(page: Page) -> str:
    """The code of a verification page: an HMAC of the page (id, person, number, creation)."""
    created = int(page.created_at.timestamp())
    message = f"phone-code:{page.id}:{page.user_id}:{page.to_number}:{created}"
    digest = hmac.new(_secret(), message.encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**6:06d}"


def fill(page: Page) -> str:
    """The text to send for a verification page: its stored body with the code in place."""
    return page.body.replace(CODE_MASK, code_for(page), 1)


def start(session: Session, *, user: User, now: datetime) -> datetime:
    """Send a fresh code to the user's phone; returns when it expires."""
    if not user.phone:
        raise Conflict("the user has no phone number to verify", field="phone")
    if user.phone_verified_at is not None:
        raise Conflict("the phone number is already verified")
    _secret()  # refuse now, not when the worker sends
    session.execute(  # an older code not sent yet is superseded by this one
        update(Page)
        .where(
            Page.user_id == user.id,
            Page.kind == "verify",
            Page.status == PageStatus.PENDING.value,
        )
        .values(status=PageStatus.CANCELLED.value, error="superseded by a newer code")
    )
    page = Page(
        user_id=user.id,
        kind="verify",
        channel="sms",
        to_number=user.phone,
        body=MASKED,
        status=PageStatus.PENDING.value,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(page)
    session.flush()
    redis.client.set(_key(user), str(page.id), ex=int(CODE_TTL.total_seconds()))
    after_commit(session, Deliver(user.id))
    return now + CODE_TTL


def _pending(session: Session, user: User, now: datetime) -> Page:
    """The page of the user's pending code, or a 409 saying to request a new one."""
    raw = redis.client.get(_key(user))
    page_id = raw.decode() if isinstance(raw, bytes) else raw
    page = session.get(Page, int(page_id)) if page_id and page_id.isdigit() else None
    if (
        page is None
        or page.user_id != user.id
        or page.kind != "verify"
        or page.to_number != user.phone
        or page.expires_at <= now
    ):
        raise Conflict("no code is pending (or it expired); request a new one")
    if page.status in _NOT_SENT:
        raise Conflict(f"the code could not be sent ({page.status}); request a new one")
    return page


def confirm(session: Session, *, user: User, code: str, now: datetime) -> None:
    """Mark the phone verified if the code matches (MAX_ATTEMPTS tries per user per hour, not
    per code: asking for a new code does not reset them)."""
    if not user.phone:
        raise Conflict("no code is pending (or it expired); request a new one")
    page = _pending(session, user, now)
    tries = _tries_key(user)
    attempts = int(redis.client.incr(tries))
    if attempts == 1:
        redis.client.expire(tries, int(TRIES_WINDOW.total_seconds()))
    if attempts > MAX_ATTEMPTS:
        redis.client.delete(_key(user))
        wait = int(redis.client.ttl(tries))
        raise RateLimited("too many wrong codes; try again later", retry_after=wait, field="code")
    if not hmac.compare_digest(code_for(page).encode(), code.encode()):
        raise Conflict("the code does not match the one sent", field="code")
    redis.client.delete(_key(user), tries)
    user.phone_verified_at = now
