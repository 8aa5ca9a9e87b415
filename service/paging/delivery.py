"""Delivery: send pending pages once (claimed in the database first), throttled and bundled."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import config
from service.auth.models import User
from service.db import utcnow
from service.extensions import db
from service.incidents.models import Incident
from service.jobs import after_commit
from service.paging import codes, links, messages, resolution, statuses, verification
from service.paging.models import Page, PageStatus
from service.paging.schedule import Deliver
from service.paging.sms import (
    PermanentSendError,
    SendResult,
    SmsSender,
    TransientSendError,
    build_sender,
)
from service.timeline import events
from service.timeline import service as timeline

log = logging.getLogger(__name__)
PROVIDER = statuses.PROVIDER
CLOSED_STATUSES = ("resolved", "closed")
#: what still goes out about a resolved incident: the resolution SMS itself
KEEP_AFTER_RESOLVE = ("resolved",)


def sender() -> SmsSender:
    """The configured SMS/voice backend (cached per app)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("firebreak.sender")
    if cached is None:
        cached = app.extensions["firebreak.sender"] = build_sender(config.current())
    return cached


def status_callback() -> str:
    """Where the provider reports delivery status."""
    return f"{config.current().public_url}/webhooks/twilio/status"


def _claim(session: Session, pages: list[Page], key: str, now: datetime) -> list[Page]:
    """Move pending pages to sending; only pages this call moved are ours (race-safe)."""
    claimed = []
    for page in pages:
        moved = session.execute(
            update(Page)
            .where(Page.id == page.id, Page.status == PageStatus.PENDING.value)
            .values(
                status=PageStatus.SENDING.value,
                sending_at=now,
                send_key=key,
                attempts=Page.attempts + 1,
            )
        ).rowcount  # type: ignore[attr-defined]
        if moved:
            claimed.append(page)
    session.flush()
    for page in claimed:
        session.refresh(page)
    return claimed


def _body(session: Session, pages: list[Page], now: datetime) -> str:
    """The text to send: one message with its link (or verification code) filled, or a bundle
    of pages."""
    if len(pages) == 1:
        page = pages[0]
        if page.kind == "verify":
            return verification.fill(page)
        return links.fill(
            session,
            page.body,
            user_id=page.user_id,
            incident_id=page.incident_id,
            approval_id=page.approval_id,
            page_id=page.id,
            now=now,
        )
    items = []
    for page in pages:
        incident = session.get_one(Incident, page.incident_id)
        token = links.issue(
            session, user_id=page.user_id, incident_id=incident.id, page_id=page.id, now=now
        )
        items.append((incident, page.reply_code or 0, links.url(token)))
    return messages.bundle_text(items=items)


def _live(session: Session, pending: list[Page], now: datetime) -> list[Page]:
    """Expire what waited too long; drop what is about a resolved incident; keep the rest."""
    live = []
    for page in pending:
        incident = session.get(Incident, page.incident_id) if page.incident_id else None
        if page.expires_at <= now:
            statuses.finish(session, page, PageStatus.EXPIRED, error="not sent within its validity")
        elif (
            incident is not None
            and incident.status in CLOSED_STATUSES
            and page.kind not in KEEP_AFTER_RESOLVE
        ):
            resolution.mark_dropped(
                session, page, reason=f"incident #{incident.id} was {incident.status}"
            )
        else:
            live.append(page)
    return live


def _fits(session: Session, pages: list[Page]) -> int:
    """How many pages one bundle holds whole (measured with placeholder links)."""
    link = links.placeholder_url()
    items = [(session.get_one(Incident, p.incident_id), p.reply_code or 0, link) for p in pages]
    return messages.bundle_size(items)


def _choose(
    session: Session, user: User, live: list[Page], now: datetime
) -> tuple[list[Page], str | None]:
    """What goes now: every waiting page at once (never held by the spacing), else the oldest
    notice or reminder once the phone's spacing has passed; the rest is scheduled after it."""
    throttle = timedelta(seconds=config.current().sms_throttle_seconds)
    pages = [p for p in live if p.kind == "page"]
    others = [p for p in live if p.kind != "page"]
    if pages:
        batch = pages[: _fits(session, pages)]
        if len(batch) < len(pages):  # the rest go in the next message, at once
            after_commit(session, Deliver(user.id))
    else:
        last = session.scalar(select(func.max(Page.sent_at)).where(Page.to_number == user.phone))
        if last is not None and now - last < throttle:
            wait = (last + throttle - now).total_seconds()
            after_commit(session, Deliver(user.id), delay_seconds=wait)
            return [], f"throttled for {wait:.0f}s"
        batch = others[:1]
    if len(others) > (0 if pages else 1):
        after_commit(session, Deliver(user.id), delay_seconds=throttle.total_seconds())
    return batch, None


def deliver(*, user_id: int, now: datetime) -> str:
    """Send a person's pending SMS: the pages at once (one bundle if several), then notices and
    reminders one by one, spaced per phone."""
    with db.transaction() as session:
        user = session.get(User, user_id, with_for_update={"of": User})
        pending = list(
            session.scalars(
                select(Page)
                .where(
                    Page.user_id == user_id,
                    Page.channel == "sms",
                    Page.status == PageStatus.PENDING.value,
                )
                .order_by(Page.id)
            )
        )
        if user is None or not pending:
            return "nothing pending"
        timeline.lock_incidents(session, [p.incident_id for p in pending])
        live = _live(session, pending, now)
        if not live:
            return "nothing live"
        batch, held = _choose(session, user, live, now)
        if held:
            return held
        codes.make_unique(session, user, batch)
        key = "pages-" + "-".join(str(p.id) for p in batch)
        claimed = _claim(session, batch, key, now)
        if not claimed:
            return "claimed by another worker"
    return send_claimed(key=key)


def send_claimed(*, key: str) -> str:
    """Send (or re-send, after a crash) the pages claimed under `key`, with `key` as the
    provider's idempotency key so a repeat does not become a second message."""
    with db.transaction() as session:
        pages = list(
            session.scalars(
                select(Page)
                .where(Page.send_key == key, Page.status == PageStatus.SENDING.value)
                .order_by(Page.id)
            )
        )
        if not pages:
            return "nothing to send"
        body = _body(session, pages, utcnow())
        to = pages[0].to_number
    return _attempt(
        pages,
        lambda: sender().send_sms(
            to=to,
            body=body,
            status_callback=status_callback(),
            idempotency_key=key,
            validity_seconds=config.current().page_validity_seconds,
        ),
    )


def call(*, page_id: int, now: datetime) -> str:
    """Place a voice call for a page (the fallback, or a voice level)."""
    with db.transaction() as session:
        page = session.get(Page, page_id, with_for_update={"of": Page})
        if page is None or page.status != PageStatus.PENDING.value:
            return "not pending"
        key = f"call-{page.id}"
        if not _claim(session, [page], key, now):
            return "claimed by another worker"
        incident = session.get(Incident, page.incident_id)
        if incident is None:
            return "no incident"
        gather = f"{config.current().public_url}/webhooks/twilio/voice?page={page.id}"
        twiml = messages.voice_twiml(
            incident=incident,
            gather_url=gather,
            monitor_name=incident.monitor.name if incident.monitor else None,
        )
        to = page.to_number
    return _attempt(
        [page],
        lambda: sender().place_call(
            to=to, twiml=twiml, status_callback=status_callback(), idempotency_key=key
        ),
    )


def _attempt(pages: list[Page], send: Callable[[], SendResult]) -> str:
    """Call the provider for claimed pages (all SMS in one message, or one call) and record the
    outcome: back to pending on a transient error (RQ retries with backoff), failed on a
    permanent one (with the fallback), else sent with its timeline event, then any status the
    backend reported at once (the console's delivered) as its status callback would be."""
    ids = [p.id for p in pages]
    incident_ids = [p.incident_id for p in pages]
    voice = pages[0].channel == "voice"
    try:
        result = send()
    except TransientSendError as exc:
        with db.transaction() as session:
            timeline.lock_incidents(session, incident_ids)
            for page in _reload(session, ids):
                page.status, page.send_key = PageStatus.PENDING.value, None
                page.error = str(exc)[:300]
        raise
    except PermanentSendError as exc:
        with db.transaction() as session:
            timeline.lock_incidents(session, incident_ids)
            for page in _reload(session, ids):
                statuses.finish(session, page, PageStatus.FAILED, error=str(exc), code=exc.code)
        return f"failed: {exc.code}"
    sent = PageStatus.SENT if result.status not in ("queued", "accepted") else PageStatus.QUEUED
    with db.transaction() as session:
        timeline.lock_incidents(session, incident_ids)
        for page in _reload(session, ids):
            page.provider_id, page.sent_at, page.error = result.provider_id, utcnow(), None
            page.status = (PageStatus.QUEUED if voice else sent).value
            if page.incident_id is None:
                continue
            if voice:
                event = events.PageSent(
                    page_id=page.id,
                    to=page.user.name,
                    channel="voice",
                    provider_id=result.provider_id,
                )
            else:
                event = events.PageSent(
                    page_id=page.id,
                    to=page.user.name,
                    provider_id=result.provider_id,
                    segments=result.segments,
                    bundled_with=tuple(i for i in ids if i != page.id),
                )
            timeline.append(session, incident_id=page.incident_id, actor=PROVIDER, event=event)
    for status in result.reported:  # what the backend reports at once (the console: delivered)
        statuses.record(provider_id=result.provider_id, status=status)
    return f"sent {result.provider_id}"


def _reload(session: Session, ids: list[int]) -> list[Page]:
    """The pages again, in this transaction, in id order."""
    return list(session.scalars(select(Page).where(Page.id.in_(ids)).order_by(Page.id)))
