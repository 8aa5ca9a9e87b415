"""Links in SMS: per person, per incident, short-lived tokens that open the phone page.

A link is `{PUBLIC_URL}/r/<token>`: 128 random bits (`secrets.token_urlsafe(16)`, 22
characters), stored only as its SHA-256. It works for one person and one incident (and, for
legal, one statement approval) until the earliest of: its time to live (12 h by default),
the incident closing, or a revocation. Its trust equals an SMS reply from that phone.

Messages are composed with `PLACEHOLDER` where the token goes (same length, so segment
counting is right); the token is minted when the message is sent, so no token ever rests in
the database in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import config
from service.paging.models import PageLink

TOKEN_BYTES = 16  # 128 bits
TOKEN_CHARS = 22  # len(secrets.token_urlsafe(16))
PLACEHOLDER = "%LINK" + "_" * (TOKEN_CHARS - 6) + "%"
PATH = "/r/"


def url(token: str) -> str:
    """The public address of a link token (or of the placeholder)."""
    return f"{config.current().public_url}{PATH}{token}"


def placeholder_url() -> str:
    """What a composed message carries until it is sent."""
    return url(PLACEHOLDER)


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    *,
    user_id: int,
    incident_id: int,
    now: datetime,
    approval_id: int | None = None,
    page_id: int | None = None,
) -> str:
    """Mint a link for one person and one incident; returns the token (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        PageLink(
            token_hash=digest(token),
            user_id=user_id,
            incident_id=incident_id,
            approval_id=approval_id,
            page_id=page_id,
            created_at=now,
            expires_at=now + timedelta(seconds=config.current().link_ttl_seconds),
        )
    )
    session.flush()
    return token


def fill(
    session: Session,
    body: str,
    *,
    user_id: int,
    incident_id: int | None,
    now: datetime,
    approval_id: int | None = None,
    page_id: int | None = None,
) -> str:
    """Replace the placeholder of a composed message with a fresh token for its recipient."""
    if PLACEHOLDER not in body or incident_id is None:
        return body
    token = issue(
        session,
        user_id=user_id,
        incident_id=incident_id,
        now=now,
        approval_id=approval_id,
        page_id=page_id,
    )
    return body.replace(PLACEHOLDER, token)


def find(session: Session, token: str, *, now: datetime) -> PageLink | None:
    """The live link for a token: known, not expired, not revoked; else None."""
    if not token or len(token) > 64:
        return None
    link = session.scalar(select(PageLink).where(PageLink.token_hash == digest(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    if not hmac.compare_digest(link.token_hash, digest(token)):
        return None
    return link


def revoke(session: Session, *, link_id: int, now: datetime, reason: str) -> bool:
    """Revoke one link; False if it was already dead."""
    done = session.execute(
        update(PageLink)
        .where(PageLink.id == link_id, PageLink.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason[:80])
    ).rowcount  # type: ignore[attr-defined]
    return bool(done)


def revoke_for_incident(session: Session, *, incident_id: int, now: datetime, reason: str) -> int:
    """Every live link of an incident dies (the incident closed)."""
    return int(
        session.execute(
            update(PageLink)
            .where(PageLink.incident_id == incident_id, PageLink.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason[:80])
        ).rowcount  # type: ignore[attr-defined]
    )


def revoke_for_user(session: Session, *, user_id: int, now: datetime, reason: str) -> int:
    """Every live link of a person dies (a lost phone)."""
    return int(
        session.execute(
            update(PageLink)
            .where(PageLink.user_id == user_id, PageLink.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason[:80])
        ).rowcount  # type: ignore[attr-defined]
    )


def csrf_token(link: PageLink) -> str:
    """The form token of a link's pages: an HMAC of the link, with the app's secret key."""
    key = (config.current().secret_key or "firebreak-links").encode()
    return hmac.new(key, f"csrf:{link.id}:{link.token_hash}".encode(), "sha256").hexdigest()


def csrf_ok(link: PageLink, given: str | None) -> bool:
    """Whether a form carried the link's form token."""
    return bool(given) and hmac.compare_digest(csrf_token(link), given or "")
