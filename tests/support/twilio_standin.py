"""A local Twilio-compatible HTTP stand-in for the Messages and Calls APIs, with fault scripting."""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from service.paging.segments import count_segments
from service.paging.webhook_auth import SIGNATURE_HEADER, sign_twilio_request

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "standin-auth-token"  # a fake token: the stand-in is never real Twilio
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/(?P<resource>Messages|Calls)\.json$")
_FAULT_STATUS = {
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
}
_ERROR_MESSAGES = {
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
}


@dataclass
class RecordedRequest:
    """One HTTP request the stand-in received, and what it answered."""

    method: str
    path: str
    params: dict[str, str]
    multi_params: dict[str, list[str]]
    headers: dict[str, str]
    received_at: float
    auth_user: str | None = None
    status_code: int | None = None
    sid: str | None = None
    fault: str | None = None
    replayed: bool = False
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_token(self) -> str | None:
        """The I-Twilio-Idempotency-Token header value, if any."""
        return self.headers.get(IDEMPOTENCY_HEADER)


@dataclass
class _Fault:
    kind: str
    retry_after: int | None
    delay: float


def _twilio_error(status: int, code: int, message: str, headers: Mapping[str, str] | None = None):
    """Build a Twilio-shaped JSON error response."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(
        json.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json"
    )


def _basic_auth(request: Request) -> tuple[str, str] | None:
    """Decode a Basic Authorization header into (user, password)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


class _QuietHandler(WSGIRequestHandler):
    """Request handler without werkzeug's per-request access log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log line."""


class _ServerThread:
    """Serve a WSGI app on 127.0.0.1 (ephemeral port by default) in a daemon thread."""

    def __init__(self, app: Callable, host: str = "127.0.0.1", port: int = 0):
        self.server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        )
        self.thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def serve_wsgi(app: Callable) -> Iterator[str]:
    """Run any WSGI app (e.g. a Flask app) on an ephemeral local port; yield its base URL."""
    server = _ServerThread(app)
    try:
        yield server.url
    finally:
        server.close()


class TwilioStandIn:
    """Twilio Messages/Calls API stand-in: records, replays idempotent requests, scripts faults."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout_delay: float = 2.0,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.timeout_delay = timeout_delay
        self.on_request = on_request
        self.requests: list[RecordedRequest] = []
        self.messages: list[RecordedRequest] = []
        self.calls: list[RecordedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._by_token: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._server = _ServerThread(self._wsgi, host, port)
        self.url = self._server.url

    def __enter__(self) -> TwilioStandIn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the server down."""
        self._server.close()

    def reset(self) -> None:
        """Forget recorded requests, idempotency tokens and pending faults."""
        with self._lock:
            self.requests.clear()
            self.messages.clear()
            self.calls.clear()
            self._faults.clear()
            self._by_token.clear()

    def fail_next(
        self,
        kind: str | int,
        n: int = 1,
        *,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Make the next `n` API requests fail: "429", "500", "503", "timeout", or a Twilio code.

        "timeout" sleeps `delay` (default `timeout_delay`) seconds and then processes the request
        normally, like a Twilio that accepted the message but answered too late.
        """
        kind = str(kind)
        if kind not in _FAULT_STATUS and kind != "timeout" and not kind.isdigit():
            raise ValueError(f"unknown fault kind {kind!r}")
        if retry_after is None and kind in ("429", "503"):
            retry_after = 1
        fault = _Fault(kind, retry_after, self.timeout_delay if delay is None else delay)
        with self._lock:
            self._faults.extend([fault] * n)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. a sleeping "timeout" fault finished)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    def find(self, sid: str) -> RecordedRequest | None:
        """Return the recorded message or call with this sid."""
        return next((r for r in self.messages + self.calls if r.sid == sid), None)

    # -- HTTP handling ---------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Callable) -> Any:
        with self._lock:
            self._in_flight += 1
        try:
            return self._handle(Request(environ))(environ, start_response)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _handle(self, request: Request) -> Response:
        form = request.form
        auth = _basic_auth(request)
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            params={k: form.get(k, "") for k in form},
            multi_params={k: form.getlist(k) for k in form},
            headers={
                k: ("<redacted>" if k.lower() == "authorization" else v)
                for k, v in request.headers.items()
            },
            received_at=time.time(),
            auth_user=auth[0] if auth else None,
        )
        with self._lock:
            self.requests.append(rec)
        response = self._respond(request, rec, auth)
        rec.status_code = response.status_code
        if self.on_request is not None:
            self.on_request(rec)
        return response

    def _respond(self, request: Request, rec: RecordedRequest, auth: tuple[str, str] | None):
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None:
            return _twilio_error(404, 20404, "The requested resource was not found")
        if auth is None or auth != (self.account_sid, self.auth_token):
            return _twilio_error(
                401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        if match["sid"] != self.account_sid:
            return _twilio_error(404, 20404, "The requested resource was not found")
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            rec.fault = fault.kind
            if fault.kind == "timeout":
                time.sleep(fault.delay)
            elif fault.kind in _FAULT_STATUS:
                status, code, message = _FAULT_STATUS[fault.kind]
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                return _twilio_error(status, code, message, headers)
            else:
                code = int(fault.kind)
                return _twilio_error(400, code, _ERROR_MESSAGES.get(code, f"Error {code}"))
        return self._create(match["resource"], rec)

    def _create(self, resource: str, rec: RecordedRequest) -> Response:
        p = rec.params
        if not p.get("To"):
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if resource == "Messages":
            if not p.get("From") and not p.get("MessagingServiceSid"):
                return _twilio_error(400, 21603, "A 'From' phone number is required.")
            if not p.get("Body") and not p.get("MediaUrl") and not p.get("ContentSid"):
                return _twilio_error(400, 21602, "Message body is required.")
        elif not p.get("From"):
            return _twilio_error(400, 21213, "A 'From' phone number is required.")
        elif not (p.get("Url") or p.get("Twiml") or p.get("ApplicationSid")):
            return _twilio_error(400, 21205, "Url parameter is required.")
        token = rec.idempotency_token
        with self._lock:
            previous = self._by_token.get((resource, token)) if token else None
            if previous is not None:
                rec.replayed, rec.sid, rec.body = True, previous["sid"], previous
                return self._json(previous)
            body = self._message_body(p) if resource == "Messages" else self._call_body(p)
            rec.sid, rec.body = body["sid"], body
            (self.messages if resource == "Messages" else self.calls).append(rec)
            if token:
                self._by_token[(resource, token)] = body
        return self._json(body)

    @staticmethod
    def _json(body: dict[str, Any]) -> Response:
        return Response(json.dumps(body), status=201, mimetype="application/json")

    def _common(self, prefix: str, resource: str, p: Mapping[str, str]) -> dict[str, Any]:
        sid = prefix + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "to": p.get("To"),
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/{resource}/{sid}.json",
        }

    def _message_body(self, p: Mapping[str, str]) -> dict[str, Any]:
        pooled = bool(p.get("MessagingServiceSid")) and not p.get("From")
        body = p.get("Body", "")
        return {
            **self._common("SM", "Messages", p),
            "body": body,
            "from": p.get("From"),
            "messaging_service_sid": p.get("MessagingServiceSid"),
            # Like Twilio: pooled sends are "accepted" and report 0 segments until a sender is set.
            "status": "accepted" if pooled else "queued",
            "num_segments": "0" if pooled else str(count_segments(body)),
            "num_media": "0",
            **dict.fromkeys(("error_code", "error_message", "date_sent")),
        }

    def _call_body(self, p: Mapping[str, str]) -> dict[str, Any]:
        empty = dict.fromkeys(("duration", "start_time", "end_time"))
        return {
            **self._common("CA", "Calls", p),
            "from": p.get("From"),
            "status": "queued",
            **empty,
        }

    # -- webhooks Twilio would send ----------------------------------------------------------

    def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        extra: Mapping[str, str] | None = None,
        signed_url: str | None = None,
    ) -> requests.Response:
        """POST a signed status callback for a recorded message/call to its StatusCallback URL."""
        rec = self.find(sid)
        if rec is None or not rec.params.get("StatusCallback"):
            raise LookupError(f"no recorded message/call {sid} with a StatusCallback")
        is_message = sid.startswith("SM")
        params = {
            "AccountSid": self.account_sid,
            "To": rec.params.get("To", ""),
            "From": rec.params.get("From", ""),
            "ApiVersion": "2010-04-01",
            ("MessageSid" if is_message else "CallSid"): sid,
            ("MessageStatus" if is_message else "CallStatus"): status,
        }
        if is_message:
            params["SmsSid"], params["SmsStatus"] = sid, status
            if rec.params.get("MessagingServiceSid"):
                params["MessagingServiceSid"] = rec.params["MessagingServiceSid"]
        params.update(extra or {})
        return post_signed_webhook(
            rec.params["StatusCallback"], params, self.auth_token, signed_url=signed_url
        )


def signed_webhook_headers(auth_token: str, url: str, params: Mapping[str, str]) -> dict[str, str]:
    """Headers Twilio would send with a form webhook to `url` (for Flask test clients)."""
    return {
        SIGNATURE_HEADER: sign_twilio_request(auth_token, url, params),
        "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
        "User-Agent": "TwilioProxy/1.1",
    }


def inbound_sms_params(
    *, from_: str, to: str, body: str, account_sid: str = DEFAULT_ACCOUNT_SID
) -> dict[str, str]:
    """Form params of an inbound SMS webhook, as Twilio posts them."""
    sids = dict.fromkeys(("MessageSid", "SmsSid", "SmsMessageSid"), "SM" + uuid.uuid4().hex)
    return {
        **sids,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def post_signed_webhook(
    url: str,
    params: Mapping[str, str],
    auth_token: str,
    *,
    signed_url: str | None = None,
    timeout: float = 5.0,
) -> requests.Response:
    """POST form params to `url` with an X-Twilio-Signature computed over `signed_url or url`."""
    headers = signed_webhook_headers(auth_token, signed_url or url, params)
    return requests.post(
        url, data=dict(params), headers=headers, timeout=timeout, allow_redirects=False
    )


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in in the foreground for demos."""
    parser = argparse.ArgumentParser(description="Local Twilio API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)

    def show(rec: RecordedRequest) -> None:
        what = rec.params.get("Body") or rec.params.get("Twiml") or ""
        print(
            f"{rec.status_code} {rec.path} To={rec.params.get('To')} sid={rec.sid} "
            f"{'(replay) ' if rec.replayed else ''}{what[:80]!r}",
            flush=True,
        )

    standin = TwilioStandIn(
        args.account_sid, args.auth_token, args.host, args.port, on_request=show
    )
    print(
        f"Twilio stand-in on {standin.url} (TWILIO_API_BASE_URL); account {args.account_sid}",
        flush=True,
    )
    try:
        standin._server.thread.join()
    except KeyboardInterrupt:
        standin.close()


if __name__ == "__main__":
    main()
