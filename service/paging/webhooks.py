"""Twilio webhooks: delivery status, inbound SMS, voice keypad. Signed requests only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from service import config
from service.api import abort
from service.auth.models import User
from service.auth.service import InvalidPhone, normalize_phone
from service.db import utcnow
from service.extensions import db
from service.fields import MAX_ID, parse_id
from service.paging import receipts, replies, statuses
from service.paging.models import Page
from service.paging.webhook_auth import public_request_url, verify_twilio_request

log = logging.getLogger(__name__)
blp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")

MAX_FORM_BYTES = 16 * 1024


@blp.before_request
def _verify_signature() -> None:
    """Refuse anything not signed by Twilio for our public URL (proxy-aware: the configured
    public URL, never the Host header)."""
    token = config.current().twilio_auth_token
    if not token:
        abort(
            403, "webhooks are disabled: FIREBREAK_TWILIO_AUTH_TOKEN is not set", type="forbidden"
        )
    if (request.content_length or 0) > MAX_FORM_BYTES:
        abort(413, "webhook body too large")
    url = public_request_url(config.current().public_url, request.path, request.query_string)
    signature = request.headers.get("X-Twilio-Signature")
    if not verify_twilio_request(
        auth_token=token, url=url, params=request.form.to_dict(), signature=signature
    ):
        log.warning("refused an unsigned or wrongly signed webhook to %s", request.path)
        abort(403, "missing or invalid X-Twilio-Signature", type="forbidden")
    expected = config.current().twilio_account_sid
    if expected and request.form.get("AccountSid") not in (None, expected):
        abort(403, "webhook for another account", type="forbidden")


def _twiml(response: Any) -> Response:
    return Response(str(response), mimetype="application/xml")


def _required_sid(name: str) -> str:
    """The provider's sid of this webhook: Twilio always sends it, and replay protection keys
    on it, so a request without one is refused (422 naming it) and changes nothing."""
    sid = _sid(name)
    if sid is None:
        abort(422, f"{name} is required", field=name)
    return sid


def _state(name: str, accepted: frozenset[str]) -> str:
    """A status Twilio documents for this webhook (lower-cased); else 422 naming the field."""
    state = (request.form.get(name) or "").strip().lower()
    if not state:
        abort(422, f"{name} is required", field=name)
    if state not in accepted:
        abort(
            422,
            f"unknown {name} {state[:40]!r}: one of {', '.join(sorted(accepted))}",
            field=name,
        )
    return state


@blp.post("/status")
def status() -> Any:
    """A message or call status update from the provider (a status Twilio does not document
    is refused, 422, and changes nothing)."""
    if request.form.get("CallSid") and not request.form.get("MessageSid"):
        sid = _required_sid("CallSid")
        state = _state("CallStatus", statuses.CALL_STATUSES)
    else:
        sid = _required_sid("MessageSid")
        state = _state("MessageStatus", statuses.MESSAGE_STATUSES)
    raw_code = request.form.get("ErrorCode") or None
    if raw_code is not None and parse_id(raw_code) is None:
        abort(422, f"ErrorCode must be a number up to {MAX_ID}", field="ErrorCode")
    matched = statuses.record(provider_id=sid, status=state, error_code=raw_code)
    if not matched:
        log.info("status callback for unknown sid %s", sid)
    return Response(status=204)


def _sender() -> User | None:
    try:
        phone = normalize_phone(request.form.get("From", ""))
    except InvalidPhone:
        return None
    return db.session.scalar(select(User).where(User.phone == phone, User.active.is_(True)))


def _once(key: str, answer: Callable[[Session], Response]) -> Response:
    """Answer a webhook once per provider sid: a replay gets the recorded answer and changes
    nothing (the receipt commits with the effects; a concurrent duplicate loses on the key)."""
    try:
        with db.transaction() as session:
            seen = receipts.recall(session, key=key)
            if seen is not None:
                log.info("replayed webhook %s answered from its receipt", key)
                return Response(seen.body, status=seen.status, mimetype=seen.mimetype)
            response = answer(session)
            receipts.remember(
                session,
                key=key,
                status=response.status_code,
                mimetype=response.mimetype or "application/xml",
                body=response.get_data(as_text=True),
                now=utcnow(),
            )
            return response
    except IntegrityError:  # the same sid answered concurrently: give that answer
        db.session.rollback()
        seen = receipts.recall(db.session, key=key)
        if seen is None:
            raise
        return Response(seen.body, status=seen.status, mimetype=seen.mimetype)


def _sid(name: str) -> str | None:
    sid = (request.form.get(name) or "").strip()
    return sid[:64] if sid else None


@blp.post("/sms")
def inbound_sms() -> Any:
    """A reply from a contact: answered with TwiML; unknown numbers get nothing. A replayed
    MessageSid gets the first answer again and changes nothing; one without a MessageSid is
    refused (422)."""
    sid = _required_sid("MessageSid")
    user = _sender()
    # bounded by the form's size; a note keeps what the notes API keeps (replies.py)
    body = (request.form.get("Body") or "")[:MAX_FORM_BYTES]
    if user is None:
        return _twiml(MessagingResponse())  # unknown senders get nothing, and nothing changes

    def answer(session: Session) -> Response:
        text = replies.handle(session, user=session.merge(user), body=body)
        response = MessagingResponse()
        response.message(text)
        return _twiml(response)

    return _once(f"sms:{sid}", answer)


@blp.post("/voice")
def voice_keypad() -> Any:
    """The keypad answer of a voice page: 1 acknowledges, 2 escalates (once per CallSid and
    choice: a replay gets the same answer; one without a CallSid is refused, 422)."""
    sid = _required_sid("CallSid")
    page_id = parse_id(request.args.get("page"))
    digits = request.form.get("Digits", "")[:8]

    def answer(session: Session) -> Response:
        response = VoiceResponse()
        page = session.get(Page, page_id) if page_id else None
        if page is None or page.incident_id is None:
            response.say("This page is unknown. Goodbye.")
            return _twiml(response)
        command = {"1": f"ACK {page.incident_id}", "2": f"ESC {page.incident_id}"}.get(digits)
        if command is None:
            response.say("Unknown choice. Goodbye.")
            return _twiml(response)
        response.say(replies.handle(session, user=page.user, body=command))
        return _twiml(response)

    return _once(f"voice:{sid}:{page_id}:{digits}", answer)
