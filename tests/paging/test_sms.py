"""The real twilio SDK talking HTTP to the local stand-in, plus console backend and settings."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest

from service.config import ConfigError, Settings, load
from service.paging.sms import (
    IDEMPOTENCY_HEADER,
    BaseUrlHttpClient,
    ConsoleSender,
    PermanentSendError,
    SendResult,
    SmsSender,
    TransientSendError,
    TwilioSender,
    build_sender,
    parse_retry_after,
)
from tests.support.twilio_standin import TwilioStandIn

pytestmark = pytest.mark.smoke

MSG_SERVICE = "MG" + "a" * 32
FROM = "+15005550006"
TO = "+15558675310"
CALLBACK = "https://firebreak.example.com/webhooks/twilio/status"


@pytest.fixture(scope="module")
def standin_server() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(timeout_delay=1.0) as server:
        yield server


@pytest.fixture
def standin(standin_server: TwilioStandIn) -> Iterator[TwilioStandIn]:
    standin_server.reset()
    yield standin_server
    standin_server.wait_idle()


def make_sender(standin: TwilioStandIn, **overrides: object) -> TwilioSender:
    kwargs: dict = {
        "account_sid": standin.account_sid,
        "auth_token": standin.auth_token,
        "messaging_service_sid": MSG_SERVICE,
        "from_number": FROM,
        "api_base_url": standin.url,
        "timeout_seconds": 2.0,
    }
    kwargs.update(overrides)
    return TwilioSender(**kwargs)


def test_send_sms_via_messaging_service(standin: TwilioStandIn) -> None:
    result = make_sender(standin).send_sms(
        to=TO,
        body="SEV1: brand crisis, join bridge",
        status_callback=CALLBACK,
        idempotency_key="page-1-lead",
    )
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert (result.status, result.segments, result.http_status) == ("accepted", 1, 201)
    [msg] = standin.messages
    assert msg.path == f"/2010-04-01/Accounts/{standin.account_sid}/Messages.json"
    assert msg.params == {
        "To": TO,
        "Body": "SEV1: brand crisis, join bridge",
        "MessagingServiceSid": MSG_SERVICE,
        "StatusCallback": CALLBACK,
    }
    assert msg.auth_user == standin.account_sid
    assert msg.headers[IDEMPOTENCY_HEADER] == "page-1-lead"
    assert msg.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert msg.headers["User-Agent"].startswith("twilio-python/9.")
    assert msg.sid == result.provider_id


def test_send_sms_via_from_number_without_callback(standin: TwilioStandIn) -> None:
    sender = make_sender(standin, messaging_service_sid=None)
    body = "x" * 161
    result = sender.send_sms(to=TO, body=body, status_callback=None, idempotency_key="k")
    assert (result.status, result.segments) == ("queued", 2)
    assert standin.messages[0].params == {"To": TO, "From": FROM, "Body": body}


def test_place_call(standin: TwilioStandIn) -> None:
    twiml = "<Response><Say>Crisis page. Press 1 to acknowledge.</Say></Response>"
    result = make_sender(standin).place_call(
        to=TO, twiml=twiml, status_callback=CALLBACK, idempotency_key="call-1"
    )
    assert result.provider_id.startswith("CA")
    assert (result.status, result.segments, result.http_status) == ("queued", None, 201)
    [call] = standin.calls
    assert call.path.endswith("/Calls.json")
    assert call.params["To"] == TO and call.params["From"] == FROM
    assert call.params["Twiml"] == twiml and call.params["StatusCallback"] == CALLBACK
    assert call.multi_params["StatusCallbackEvent"] == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]
    assert call.headers[IDEMPOTENCY_HEADER] == "call-1"
    assert standin.messages == []


def test_place_call_without_from_number_is_permanent(standin: TwilioStandIn) -> None:
    sender = make_sender(standin, from_number=None)
    with pytest.raises(PermanentSendError, match="TWILIO_FROM_NUMBER"):
        sender.place_call(to=TO, twiml="<Response/>", status_callback=None, idempotency_key="k")
    assert standin.requests == []


def test_same_idempotency_key_returns_same_sid_once(standin: TwilioStandIn) -> None:
    sender = make_sender(standin)
    first = sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="dup")
    second = sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="dup")
    other = sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="other")
    assert first.provider_id == second.provider_id != other.provider_id
    assert len(standin.messages) == 2 and len(standin.requests) == 3
    assert standin.requests[1].replayed


def test_429_is_transient_with_retry_after(standin: TwilioStandIn) -> None:
    standin.fail_next("429", retry_after=7)
    with pytest.raises(TransientSendError) as info:
        make_sender(standin).send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")
    err = info.value
    assert (err.http_status, err.code, err.retry_after) == (429, 20429, 7.0)
    assert standin.messages == []


@pytest.mark.parametrize(("kind", "status", "retry_after"), [("500", 500, None), ("503", 503, 1.0)])
def test_5xx_is_transient(
    standin: TwilioStandIn, kind: str, status: int, retry_after: float | None
) -> None:
    standin.fail_next(kind)
    with pytest.raises(TransientSendError) as info:
        make_sender(standin).send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")
    assert info.value.http_status == status
    assert info.value.retry_after == retry_after


def test_faults_apply_to_next_n_then_recover(standin: TwilioStandIn) -> None:
    sender = make_sender(standin)
    standin.fail_next("500", 2)
    for _ in range(2):
        with pytest.raises(TransientSendError):
            sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="retry")
    result = sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="retry")
    assert result.http_status == 201
    assert [r.status_code for r in standin.requests] == [500, 500, 201]
    assert len(standin.messages) == 1


def test_timeout_is_transient_within_timeout_and_retry_is_deduplicated(
    standin: TwilioStandIn,
) -> None:
    sender = make_sender(standin, timeout_seconds=0.3)
    standin.fail_next("timeout", delay=1.0)
    started = time.monotonic()
    with pytest.raises(TransientSendError, match="timed out") as info:
        sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="slow")
    assert time.monotonic() - started < 0.9
    assert info.value.retry_after is None
    # Retrying with the same key must not create a second message once the slow one lands.
    retried = sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="slow")
    assert standin.wait_idle()
    assert len(standin.messages) == 1 and standin.messages[0].sid == retried.provider_id
    assert len(standin.requests) == 2


@pytest.mark.parametrize("code", [21211, 21610])
def test_twilio_error_codes_are_permanent(standin: TwilioStandIn, code: int) -> None:
    standin.fail_next(code)
    with pytest.raises(PermanentSendError) as info:
        make_sender(standin).send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")
    assert (info.value.http_status, info.value.code) == (400, code)
    assert not isinstance(info.value, TransientSendError)


def test_bad_credentials_are_permanent(standin: TwilioStandIn) -> None:
    sender = make_sender(standin, auth_token="wrong-token")
    with pytest.raises(PermanentSendError) as info:
        sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")
    assert (info.value.http_status, info.value.code) == (401, 20003)
    assert standin.messages == []


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = TwilioSender(
        account_sid="AC" + "0" * 32,
        auth_token="t",
        from_number=FROM,
        api_base_url=f"http://127.0.0.1:{port}",
        timeout_seconds=1.0,
    )
    with pytest.raises(TransientSendError, match="connection error"):
        sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")


def test_auth_token_never_logged_or_repr(
    standin: TwilioStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    sender = make_sender(standin)
    assert standin.auth_token not in repr(sender)
    with caplog.at_level(logging.DEBUG):
        sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")
        standin.fail_next(21211)
        with pytest.raises(PermanentSendError) as info:
            sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k2")
    assert standin.auth_token not in caplog.text
    assert standin.auth_token not in str(info.value)


def test_base_url_rewrite() -> None:
    client = BaseUrlHttpClient(api_base_url="http://127.0.0.1:8765/")
    path = "/2010-04-01/Accounts/AC1/Messages.json"
    assert client.rewrite_url("https://api.twilio.com" + path) == "http://127.0.0.1:8765" + path
    assert client.rewrite_url("https://api.dublin.ie1.twilio.com" + path + "?a=1") == (
        "http://127.0.0.1:8765" + path + "?a=1"
    )
    assert client.rewrite_url("https://example.com/x") == "https://example.com/x"
    assert BaseUrlHttpClient().rewrite_url("https://api.twilio.com/x") == (
        "https://api.twilio.com/x"
    )
    with pytest.raises(ValueError, match="TWILIO_API_BASE_URL"):
        BaseUrlHttpClient(api_base_url="127.0.0.1:8765")


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_console_sender_records_list_and_jsonl(tmp_path, capsys) -> None:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    sender = build_sender(settings_of(SMS_BACKEND="console", CONSOLE_OUTBOX_PATH=str(outbox)))
    assert isinstance(sender, ConsoleSender) and isinstance(sender, SmsSender)
    first = sender.send_sms(to=TO, body="€ crisis", status_callback=CALLBACK, idempotency_key="a")
    again = sender.send_sms(to=TO, body="€ crisis", status_callback=CALLBACK, idempotency_key="a")
    call = sender.place_call(to=TO, twiml="<Response/>", status_callback=None, idempotency_key="a")
    # sent, then delivered at once: reported to the paging code as a status callback would be
    assert first == again == SendResult(first.provider_id, "sent", 1, 201, reported=("delivered",))
    assert (call.status, call.reported) == ("queued", ("completed",))  # a call is answered
    assert first.provider_id.startswith("CONSOLE-")  # unique across forked workers
    assert call.provider_id.startswith("CONSOLE-") and call.provider_id != first.provider_id
    assert call.segments is None
    assert [m["body"] for m in sender.messages] == ["€ crisis"]
    assert [c["twiml"] for c in sender.calls] == ["<Response/>"]
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [(r["kind"], r["provider_id"], r["to"], r["status"]) for r in lines] == [
        ("sms", first.provider_id, TO, "delivered"),
        ("call", call.provider_id, TO, "completed"),
    ]
    assert lines[0]["status_callback"] == CALLBACK and lines[0]["idempotency_key"] == "a"
    assert capsys.readouterr().out == ""


def test_console_sender_without_outbox_keeps_list_only() -> None:
    sender = build_sender(settings_of(SMS_BACKEND="console"))
    sender.send_sms(to=TO, body="hi", status_callback=None, idempotency_key="k")
    assert isinstance(sender, ConsoleSender) and len(sender.records) == 1


def settings_of(**values: str) -> Settings:
    """Settings as the app reads them (environment defaults plus these), validated."""
    return Settings.of(load(values, instance_path="/tmp"))


def twilio_settings(standin: TwilioStandIn, **overrides: str) -> dict[str, str]:
    settings = {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": standin.account_sid,
        "TWILIO_AUTH_TOKEN": standin.auth_token,
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE_URL": standin.url,
        "TWILIO_TIMEOUT_SECONDS": "2",
    }
    settings.update(overrides)
    return settings


def test_build_sender_twilio_end_to_end(standin: TwilioStandIn) -> None:
    sender = build_sender(settings_of(**twilio_settings(standin)))
    assert isinstance(sender, TwilioSender) and isinstance(sender, SmsSender)
    assert sender.timeout_seconds == 2 and sender.messaging_service_sid is None
    sender.send_sms(to=TO, body="hi", status_callback=CALLBACK, idempotency_key="k")
    assert standin.messages[0].params["From"] == FROM


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SMS_BACKEND": ""}, "SMS_BACKEND: must be one of"),
        ({"SMS_BACKEND": "pigeon"}, "SMS_BACKEND: must be one of"),
        ({"TWILIO_ACCOUNT_SID": ""}, "TWILIO_ACCOUNT_SID: required"),
        ({"TWILIO_AUTH_TOKEN": "  "}, "TWILIO_AUTH_TOKEN: required"),
        (
            {"TWILIO_FROM_NUMBER": ""},
            "TWILIO_MESSAGING_SERVICE_SID or FIREBREAK_TWILIO_FROM_NUMBER",
        ),
        ({"TWILIO_TIMEOUT_SECONDS": "soon"}, "TWILIO_TIMEOUT_SECONDS: expected an integer"),
        ({"TWILIO_TIMEOUT_SECONDS": "0"}, "TWILIO_TIMEOUT_SECONDS: must be between 1 and 120"),
    ],
)
def test_twilio_settings_are_checked_once_naming_the_setting(
    standin: TwilioStandIn, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        settings_of(**twilio_settings(standin, **overrides))
    assert standin.auth_token not in str(info.value)
