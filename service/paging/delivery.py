"""Delivery: send pending pages once (claimed in the database first), throttled and bundled."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.auth.models import User
from service.db import utcnow
from service.extensions import db
from service.incidents.models import Incident
from service.jobs import Deferred, after_commit
from service.paging import messages
from service.paging import service as paging
from service.paging.models import FINAL, PROVIDER_ORDER, Page, PageStatus
from service.paging.sms import PermanentSendError, SmsSender, TransientSendError, build_sender
from service.queues import QueueName
from service.timeline import events
from service.timeline import service as timeline

log = logging.getLogger(__name__)
PROVIDER = timeline.Actor.system("sms")


def sender() -> SmsSender:
    """The configured SMS/voice backend (cached per app)."""
    app = current_app._get_current_object()
    cached = app.extensions.get("firebreak.sender")
    if cached is None:
        cached = app.extensions["firebreak.sender"] = build_sender(app.config)
    return cached


def status_callback() -> str:
    """Where the provider reports delivery status."""
    return f"{current_app.config['PUBLIC_URL']}/webhooks/twilio/status"


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
        ).rowcount
        if moved:
            claimed.append(page)
    session.flush()
    for page in claimed:
        session.refresh(page)
    return claimed


def _body(session: Session, pages: list[Page]) -> str:
    if len(pages) == 1:
        return pages[0].body
    items = [(session.get(Incident, p.incident_id), p.reply_code) for p in pages]
    link = f"{current_app.config['PUBLIC_URL']}/incidents"
    return messages.bundle_text(items=items, link=link)


def deliver(*, user_id: int, now: datetime) -> str:
    """Send a person's pending SMS pages: one message, or one bundle if several wait."""
    throttle = timedelta(seconds=current_app.config["SMS_THROTTLE_SECONDS"])
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
        live = []
        for page in pending:
            if page.expires_at <= now:
                _finish(session, page, PageStatus.EXPIRED, error="not sent within its validity")
            else:
                live.append(page)
        last = session.scalar(select(func.max(Page.sent_at)).where(Page.to_number == user.phone))
        if live and last is not None and now - last < throttle:
            wait = (last + throttle - now).total_seconds()
            after_commit(
                session,
                Deferred(QueueName.SMS, "workers.jobs.deliver", (user_id,), delay_seconds=wait),
            )
            return f"throttled for {wait:.0f}s"
        if not live:
            return "nothing live"
        key = "pages-" + "-".join(str(p.id) for p in live)
        claimed = _claim(session, live, key, now)
        if not claimed:
            return "claimed by another worker"
    return send_claimed(key=key)


def send_claimed(*, key: str) -> str:
    """Send (or re-send, after a crash) the pages claimed under `key`, with `key` as the
    provider's idempotency key so a repeat does not become a second message."""
    session = db.session
    pages = list(
        session.scalars(
            select(Page)
            .where(Page.send_key == key, Page.status == PageStatus.SENDING.value)
            .order_by(Page.id)
        )
    )
    if not pages:
        return "nothing to send"
    body = _body(session, pages)
    incident_ids = [p.incident_id for p in pages]
    try:
        result = sender().send_sms(
            to=pages[0].to_number,
            body=body,
            status_callback=status_callback(),
            idempotency_key=key,
            validity_seconds=current_app.config["PAGE_VALIDITY_SECONDS"],
        )
    except TransientSendError as exc:
        with db.transaction() as session:
            timeline.lock_incidents(session, incident_ids)
            for page in pages:
                page = session.merge(page)
                page.status, page.error = PageStatus.PENDING.value, str(exc)[:300]
                page.send_key = None
        raise  # RQ retries with backoff
    except PermanentSendError as exc:
        with db.transaction() as session:
            timeline.lock_incidents(session, incident_ids)
            for page in pages:
                _finish(
                    session, session.merge(page), PageStatus.FAILED, error=str(exc), code=exc.code
                )
        return f"failed: {exc.code}"
    with db.transaction() as session:
        timeline.lock_incidents(session, incident_ids)
        for page in pages:
            page = session.merge(page)
            page.provider_id = result.provider_id
            page.status = (
                PageStatus.QUEUED if result.status in ("queued", "accepted") else PageStatus.SENT
            ).value
            page.sent_at = utcnow()
            page.error = None
            if page.incident_id is None:
                continue
            timeline.append(
                session,
                incident_id=page.incident_id,
                actor=PROVIDER,
                event=events.PageSent(
                    page_id=page.id,
                    to=page.user.name,
                    provider_id=result.provider_id,
                    segments=result.segments,
                    bundled_with=tuple(p.id for p in pages if p.id != page.id),
                ),
            )
    return f"sent {result.provider_id}"


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
        gather = f"{current_app.config['PUBLIC_URL']}/webhooks/twilio/voice?page={page.id}"
        twiml = messages.voice_twiml(
            incident=incident,
            gather_url=gather,
            monitor_name=incident.monitor.name if incident.monitor else None,
        )
        to = page.to_number
    try:
        result = sender().place_call(
            to=to, twiml=twiml, status_callback=status_callback(), idempotency_key=key
        )
    except TransientSendError:
        with db.transaction() as session:
            page = session.get(Page, page_id)
            page.status, page.send_key = PageStatus.PENDING.value, None
        raise
    except PermanentSendError as exc:
        with db.transaction() as session:
            timeline.lock_incidents(session, [incident.id])
            _finish(
                session,
                session.get(Page, page_id),
                PageStatus.FAILED,
                error=str(exc),
                code=exc.code,
            )
        return "failed"
    with db.transaction() as session:
        timeline.lock_incidents(session, [incident.id])
        page = session.get(Page, page_id)
        page.provider_id, page.status, page.sent_at = result.provider_id, "queued", utcnow()
        timeline.append(
            session,
            incident_id=page.incident_id,
            actor=PROVIDER,
            event=events.PageSent(
                page_id=page.id,
                to=page.user.name,
                channel="voice",
                provider_id=result.provider_id,
            ),
        )
    return "called"


def _finish(
    session: Session,
    page: Page,
    status: PageStatus,
    *,
    error: str | None = None,
    code: int | None = None,
) -> None:
    """A page failed, expired or went undelivered: record it, fall back to voice, escalate."""
    page.status, page.error, page.error_code = status.value, (error or "")[:300] or None, code
    if page.incident_id is None:
        return
    timeline.append(
        session,
        incident_id=page.incident_id,
        actor=PROVIDER,
        event=events.PageFailed(
            page_id=page.id,
            to=page.user.name,
            status=status.value,
            error=page.error,
            error_code=code,
            channel=page.channel,
        ),
    )
    if page.kind != "page" or page.incident_id is None:
        return
    incident = session.get(Incident, page.incident_id)
    if incident is None or incident.status != "triggered":
        return
    if page.channel == "sms":
        paging.new_page(
            session,
            incident=incident,
            user=page.user,
            kind="page",
            channel="voice",
            body=page.body,
            now=utcnow(),
        )
    paging.advance(
        session,
        incident_id=incident.id,
        now=utcnow(),
        expect=None,
        reason=f"page {page.id} {status.value}",
    )


def apply_status(session: Session, *, provider_id: str, status: str, error_code: Any) -> int:
    """A provider status callback: move the pages forward (never back); 0 if none matched."""
    try:
        new = PageStatus(status)
    except ValueError:
        new = {
            "accepted": PageStatus.QUEUED,
            "sending": PageStatus.SENT,
            "completed": PageStatus.DELIVERED,
            "answered": PageStatus.DELIVERED,
            "in-progress": PageStatus.DELIVERED,
            "busy": PageStatus.UNDELIVERED,
            "no-answer": PageStatus.UNDELIVERED,
            "canceled": PageStatus.FAILED,
        }.get(status)
    timeline.lock_incidents(
        session, session.scalars(select(Page.incident_id).where(Page.provider_id == provider_id))
    )
    pages = list(
        session.scalars(
            select(Page).where(Page.provider_id == provider_id).with_for_update(of=Page)
        )
    )
    if new is None or new not in PROVIDER_ORDER:
        return len(pages)
    for page in pages:
        current = PageStatus(page.status)
        if current in FINAL or PROVIDER_ORDER.get(current, 0) >= PROVIDER_ORDER[new]:
            continue
        if page.incident_id is not None:
            timeline.append(
                session,
                incident_id=page.incident_id,
                actor=PROVIDER,
                event=events.PageStatusChanged(
                    page_id=page.id, from_=current.value, to=new.value, error_code=error_code
                ),
            )
        if new in (PageStatus.FAILED, PageStatus.UNDELIVERED):
            code = int(error_code) if str(error_code or "").isdigit() else None
            _finish(session, page, new, error=f"provider reported {new.value}", code=code)
        else:
            page.status = new.value
            if new is PageStatus.DELIVERED:
                page.delivered_at = utcnow()
    return len(pages)
