"""SMS / voice provider seam: a sender protocol, typed errors, Twilio and console backends."""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from service.config import Settings
from service.paging.segments import count_segments

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
DEFAULT_TIMEOUT_SECONDS = 10.0
CALL_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Twilio error codes that mean "slow down / try later" even if the HTTP status says 4xx.
TRANSIENT_TWILIO_CODES = frozenset({20429, 14107})


@dataclass(frozen=True)
class SendResult:
    """Outcome of an accepted send: provider id, provider status, SMS segments, HTTP status, and
    the statuses the backend reports at once (recorded as its status callbacks would be)."""

    provider_id: str
    status: str
    segments: int | None
    http_status: int
    reported: tuple[str, ...] = ()


class SendError(Exception):
    """Base class for provider send failures."""

    def __init__(self, message: str, *, http_status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.code = code


class TransientSendError(SendError):
    """Retry with backoff: 429, 5xx, timeouts, connection errors."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, http_status=http_status, code=code)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Do not retry: the provider rejected the request (e.g. 21211 invalid To, 21610 STOP)."""


@runtime_checkable
class SmsSender(Protocol):
    """What the paging code needs from an SMS/voice provider."""

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None,
        idempotency_key: str,
        validity_seconds: int | None = None,
    ) -> SendResult:
        """Send one SMS (dropped by the provider after validity_seconds); raise typed errors."""
        ...

    def place_call(
        self, *, to: str, twiml: str, status_callback: str | None, idempotency_key: str
    ) -> SendResult:
        """Place one voice call running `twiml`; raise the typed errors on failure."""
        ...


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a Retry-After header (delta seconds or HTTP date) into seconds, or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class _CallState:
    """Per-call data shared between TwilioSender and the HTTP client via a ContextVar."""

    idempotency_key: str | None = None
    http_status: int | None = None
    retry_after: float | None = None


_CALL_STATE: ContextVar[_CallState | None] = ContextVar("firebreak_twilio_call", default=None)


def _is_loopback(host: str) -> bool:
    """Return True for localhost or a loopback IP literal."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that can redirect *.twilio.com to another base URL and adds headers."""

    def __init__(self, *, api_base_url: str | None = None, timeout: float | None = None):
        super().__init__(timeout=timeout)
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        if self.api_base_url:
            parts = urlsplit(self.api_base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"TWILIO_API_BASE_URL must be an http(s) URL: {api_base_url!r}")
            if parts.scheme == "http" and not _is_loopback(parts.hostname):
                log.warning(
                    "TWILIO_API_BASE_URL uses plain http to a non-loopback host; "
                    "credentials travel unencrypted"
                )

    def rewrite_url(self, url: str) -> str:
        """Swap the scheme+host of a Twilio API URL for the configured base URL."""
        if not self.api_base_url:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.api_base_url}{parts.path}{query}"

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the (possibly rewritten) URL and note status/Retry-After."""
        state = _CALL_STATE.get()
        headers = dict(headers or {})
        if state is not None and state.idempotency_key:
            headers[IDEMPOTENCY_HEADER] = state.idempotency_key
        response = super().request(
            method,
            self.rewrite_url(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        if state is not None:
            state.http_status = response.status_code
            response_headers = response.headers or {}
            state.retry_after = parse_retry_after(response_headers.get("Retry-After"))
        return response


def _to_int(value: Any) -> int | None:
    """Best-effort int conversion for Twilio's stringly-typed numbers and codes."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _map_exception(exc: Exception, state: _CallState, what: str) -> SendError:
    """Translate SDK / requests exceptions into TransientSendError or PermanentSendError."""
    if isinstance(exc, requests.Timeout):
        return TransientSendError(f"{what}: provider timed out")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return TransientSendError(f"{what}: connection error ({type(exc).__name__})")
    status = _to_int(getattr(exc, "status", None)) or state.http_status
    code = _to_int(getattr(exc, "code", None))
    detail = getattr(exc, "msg", None) or getattr(exc, "title", None) or type(exc).__name__
    message = f"{what}: HTTP {status} code {code}: {detail}"
    if status in (408, 429) or (status or 0) >= 500 or code in TRANSIENT_TWILIO_CODES:
        retry_after = state.retry_after
        return TransientSendError(message, http_status=status, code=code, retry_after=retry_after)
    return PermanentSendError(message, http_status=status, code=code)


class TwilioSender:
    """SmsSender backed by the official twilio SDK (optionally aimed at a stand-in base URL)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        api_base_url: str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        if not messaging_service_sid and not from_number:
            raise ValueError("TwilioSender needs messaging_service_sid or from_number")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be > 0")
        self.account_sid = account_sid
        self.messaging_service_sid = messaging_service_sid or None
        self.from_number = from_number or None
        self.timeout_seconds = timeout_seconds
        self.http_client = BaseUrlHttpClient(api_base_url=api_base_url, timeout=timeout_seconds)
        self.client = Client(account_sid, auth_token, http_client=self.http_client)

    def __repr__(self) -> str:
        base = self.http_client.api_base_url or "https://api.twilio.com"
        return f"<TwilioSender account={self.account_sid} base={base}>"

    @contextmanager
    def _call(self, idempotency_key: str, what: str) -> Iterator[_CallState]:
        """Run one SDK call with per-call state and typed error mapping."""
        state = _CallState(idempotency_key=idempotency_key)
        token = _CALL_STATE.set(state)
        try:
            yield state
        except (TwilioException, requests.RequestException) as exc:
            raise _map_exception(exc, state, what) from exc
        finally:
            _CALL_STATE.reset(token)

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None,
        idempotency_key: str,
        validity_seconds: int | None = None,
    ) -> SendResult:
        """Create a Message via the Messages API (Messaging Service preferred over From)."""
        sender: dict[str, Any] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        with self._call(idempotency_key, "send_sms") as state:
            message = self.client.messages.create(
                to=to,
                body=body,
                status_callback=status_callback or values.unset,
                validity_period=validity_seconds or values.unset,
                **sender,
            )
        segments = _to_int(message.num_segments)
        if not segments:  # Messaging Service sends report 0 until a sender is assigned
            segments = count_segments(body)
        return SendResult(
            provider_id=str(message.sid),
            status=str(message.status),
            segments=segments,
            http_status=state.http_status or 201,
        )

    def place_call(
        self, *, to: str, twiml: str, status_callback: str | None, idempotency_key: str
    ) -> SendResult:
        """Create a Call via the Calls API running inline TwiML (needs a From number)."""
        if not self.from_number:
            raise PermanentSendError("place_call: TWILIO_FROM_NUMBER is required for voice calls")
        callback: dict[str, Any] = {}
        if status_callback:
            callback = {
                "status_callback": status_callback,
                "status_callback_event": CALL_STATUS_EVENTS,
                "status_callback_method": "POST",
            }
        with self._call(idempotency_key, "place_call") as state:
            call = self.client.calls.create(to=to, from_=self.from_number, twiml=twiml, **callback)
        return SendResult(
            provider_id=str(call.sid),
            status=str(call.status),
            segments=None,
            http_status=state.http_status or 201,
        )


def _mask(number: str) -> str:
    """Mask a phone number for logs, keeping the last four digits."""
    return "***" + number[-4:] if len(number) > 4 else "***"


class ConsoleSender:
    """Development sender: keeps sends in memory and appends them as JSON lines to a file. What
    it sends arrives: each send reports `delivered` (a call `completed`) at once, which the
    paging code records through the status callback's own path."""

    #: what a send answers, and the status it reports right after, per kind
    STATUSES = {"sms": ("sent", "delivered"), "call": ("queued", "completed")}

    def __init__(self, outbox_path: str | Path | None = None):
        self.outbox_path = Path(outbox_path) if outbox_path else None
        self.records: list[dict[str, Any]] = []
        self._by_key: dict[tuple[str, str], SendResult] = {}
        self._lock = threading.Lock()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Recorded SMS messages."""
        return [r for r in self.records if r["kind"] == "sms"]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Recorded voice calls."""
        return [r for r in self.records if r["kind"] == "call"]

    def _record(self, kind: str, idempotency_key: str, fields: dict[str, Any]) -> SendResult:
        """Store one send (once per idempotency key) and return its result."""
        with self._lock:
            existing = self._by_key.get((kind, idempotency_key))
            if existing is not None:
                return existing
            provider_id = f"CONSOLE-{uuid.uuid4().hex[:16]}"  # unique across worker forks
            segments = count_segments(fields["body"]) if kind == "sms" else None
            status, reported = self.STATUSES[kind]
            record = {
                "kind": kind,
                "provider_id": provider_id,
                "status": reported,
                "segments": segments,
                "idempotency_key": idempotency_key,
                "created_at": datetime.now(UTC).isoformat(),
                **fields,
            }
            self.records.append(record)
            if self.outbox_path is not None:
                self.outbox_path.parent.mkdir(parents=True, exist_ok=True)
                with self.outbox_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            result = SendResult(provider_id, status, segments, 201, reported=(reported,))
            self._by_key[(kind, idempotency_key)] = result
        log.info("console %s %s to %s", kind, provider_id, _mask(fields["to"]))
        return result

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None,
        idempotency_key: str,
        validity_seconds: int | None = None,
    ) -> SendResult:
        """Record an SMS instead of sending it."""
        fields = {
            "to": to,
            "body": body,
            "status_callback": status_callback,
            "validity_seconds": validity_seconds,
        }
        return self._record("sms", idempotency_key, fields)

    def place_call(
        self, *, to: str, twiml: str, status_callback: str | None, idempotency_key: str
    ) -> SendResult:
        """Record a voice call instead of placing it."""
        fields = {"to": to, "twiml": twiml, "status_callback": status_callback}
        return self._record("call", idempotency_key, fields)


def build_sender(settings: Settings) -> SmsSender:
    """Build the configured sender (SMS_BACKEND "twilio" or "console") from validated settings."""
    if settings.sms_backend == "console":
        return ConsoleSender(settings.console_outbox_path)
    assert settings.twilio_account_sid and settings.twilio_auth_token  # checked by config.load
    return TwilioSender(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        from_number=settings.twilio_from_number,
        api_base_url=settings.twilio_api_base_url,
        timeout_seconds=float(settings.twilio_timeout_seconds),
    )
