"""Webhook receipts: provider webhooks are answered once per MessageSid / CallSid."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.paging.models import WebhookReceipt

#: how long an answer is kept for replays (Twilio retries within minutes; replays are older)
KEEP = timedelta(days=7)


def recall(session: Session, *, key: str) -> WebhookReceipt | None:
    """The answer already given to this webhook, if any."""
    return session.get(WebhookReceipt, key)


def remember(
    session: Session, *, key: str, status: int, mimetype: str, body: str, now: datetime
) -> None:
    """Record the answer (flushed now: a concurrent duplicate fails here, before committing)."""
    session.add(
        WebhookReceipt(key=key, status=status, mimetype=mimetype, body=body, created_at=now)
    )
    session.flush()


def prune(session: Session, *, now: datetime) -> int:
    """Forget answers older than KEEP; how many were dropped."""
    result = session.execute(delete(WebhookReceipt).where(WebhookReceipt.created_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
