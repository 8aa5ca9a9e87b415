"""Browser sessions: sign in with an API token, a hashed cookie secret, CSRF, expiry."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import service as auth
from service.auth.roles import READERS
from service.web.models import WebSession

#: a session ends this long after sign-in, whatever happens
ABSOLUTE_LIFETIME = timedelta(hours=12)
#: and after this long without a request
IDLE_TIMEOUT = timedelta(hours=2)
#: last_seen_at is written at most this often (a page view must not always write)
TOUCH_EVERY = timedelta(minutes=1)


class SignInRefused(ValueError):
    """The token can't open a browser session; the message says why."""


@dataclass(frozen=True)
class Opened:
    """A new session and the two secrets only the browser gets to keep."""

    session: WebSession
    cookie: str
    csrf: str


def sign_in(session: Session, *, token_secret: str, now: datetime) -> Opened:
    """Open a browser session for the user behind a live API token (people only)."""
    token = auth.find_token(session, secret=token_secret.strip(), now=now)
    if token is None:
        raise SignInRefused("that token is invalid, expired or revoked")
    if not token.user.role_set & set(READERS):
        raise SignInRefused("this account is a service account and cannot use the pages")
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = WebSession(
        secret_hash=auth.hash_token(cookie),
        csrf_hash=auth.hash_token(csrf),
        user=token.user,
        token=token,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
    )
    session.add(row)
    session.flush()
    return Opened(row, cookie, csrf)


def current(session: Session, *, cookie: str | None, now: datetime) -> WebSession | None:
    """The live session for a cookie, or None (unknown, ended, idle, or its token revoked)."""
    if not cookie or len(cookie) > 128:
        return None
    row = session.scalar(
        select(WebSession).where(WebSession.secret_hash == auth.hash_token(cookie))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > IDLE_TIMEOUT:
        return None
    token, user = row.token, row.user
    if token.revoked_at is not None or not user.active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def csrf_ok(row: WebSession, *, csrf: str | None) -> bool:
    """Whether a form's CSRF token is the one issued with the session."""
    if not csrf or len(csrf) > 128:
        return False
    return hmac.compare_digest(row.csrf_hash, auth.hash_token(csrf))


def sign_out(row: WebSession, *, now: datetime) -> None:
    """End a session (idempotent)."""
    if row.revoked_at is None:
        row.revoked_at = now
