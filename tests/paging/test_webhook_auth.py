"""Twilio webhook signature verification and public-URL reconstruction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, abort, request

from service.paging.sms import TwilioSender
from service.paging.webhook_auth import (
    SIGNATURE_HEADER,
    public_request_url,
    sign_twilio_request,
    verify_twilio_request,
)
from tests.support.twilio_standin import (
    TwilioStandIn,
    inbound_sms_params,
    post_signed_webhook,
    serve_wsgi,
    signed_webhook_headers,
)

pytestmark = pytest.mark.smoke

TOKEN = "test-webhook-token"
URL = "https://firebreak.example.com/webhooks/twilio/status?incident=42"
PARAMS = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": "+15558675310"}


def test_sign_and_verify_round_trip() -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)
    assert verify_twilio_request(auth_token=TOKEN, url=URL, params=PARAMS, signature=signature)


def test_matches_twilio_published_vector() -> None:
    # Example from twilio-python's own validator tests (token "12345").
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sign_twilio_request("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.mark.parametrize(
    ("token", "url", "params"),
    [
        ("other-token", URL, PARAMS),
        (TOKEN, URL, {**PARAMS, "MessageStatus": "failed"}),
        (TOKEN, URL, {**PARAMS, "Extra": "1"}),
        (TOKEN, URL, {k: v for k, v in PARAMS.items() if k != "To"}),
        (TOKEN, URL.replace("incident=42", "incident=43"), PARAMS),
        (TOKEN, URL.replace("https://firebreak", "https://evil"), PARAMS),
        (TOKEN, URL.replace("https://", "http://"), PARAMS),
    ],
    ids=[
        "wrong-token",
        "tampered-param",
        "added-param",
        "dropped-param",
        "wrong-query",
        "wrong-host",
        "wrong-scheme",
    ],
)
def test_verify_rejects(token: str, url: str, params: dict[str, str]) -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)
    assert not verify_twilio_request(auth_token=token, url=url, params=params, signature=signature)


def test_verify_rejects_missing_inputs() -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)
    assert not verify_twilio_request(auth_token=TOKEN, url=URL, params=PARAMS, signature=None)
    assert not verify_twilio_request(auth_token=TOKEN, url=URL, params=PARAMS, signature="")
    assert not verify_twilio_request(auth_token="", url=URL, params=PARAMS, signature=signature)


def test_verify_tolerates_explicit_default_port() -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)
    with_port = URL.replace("example.com", "example.com:443")
    assert verify_twilio_request(
        auth_token=TOKEN, url=with_port, params=PARAMS, signature=signature
    )


@pytest.mark.parametrize(
    ("public_url", "path", "query", "expected"),
    [
        ("https://fb.example.com", "/hooks/sms", "", "https://fb.example.com/hooks/sms"),
        ("https://fb.example.com/", "hooks/sms", "", "https://fb.example.com/hooks/sms"),
        ("https://ex.com/firebreak/", "/hooks/sms", "", "https://ex.com/firebreak/hooks/sms"),
        ("https://fb.example.com:8443", "/h", "b=2&a=1", "https://fb.example.com:8443/h?b=2&a=1"),
        ("https://fb.example.com", "/h", b"x=%20y", "https://fb.example.com/h?x=%20y"),
    ],
)
def test_public_request_url(public_url: str, path: str, query: str | bytes, expected: str) -> None:
    assert public_request_url(public_url, path, query) == expected


@pytest.mark.parametrize("bad", ["fb.example.com", "ftp://fb.example.com", "https://x.com/?a=1"])
def test_public_request_url_rejects_bad_base(bad: str) -> None:
    with pytest.raises(ValueError):
        public_request_url(bad, "/hooks", "")


def make_receiver(public_url: str, received: list[dict[str, str]]) -> Flask:
    """A tiny app that checks signatures against the configured public URL only."""
    app = Flask(__name__)
    app.config["PUBLIC_URL"] = public_url

    @app.post("/webhooks/twilio/<kind>")
    def hook(kind: str) -> tuple[str, int]:
        public = app.config["PUBLIC_URL"]
        url = public_request_url(public, request.path, request.query_string)
        if not verify_twilio_request(
            auth_token=TOKEN,
            url=url,
            params=request.form,
            signature=request.headers.get(SIGNATURE_HEADER),
        ):
            abort(403)
        received.append({"kind": kind, **request.form.to_dict()})
        return "", 204

    return app


def test_flask_behind_proxy_uses_public_url_not_host_header() -> None:
    public = "https://firebreak.example.com"
    received: list[dict[str, str]] = []
    client = make_receiver(public, received).test_client()
    params = inbound_sms_params(from_="+15558675310", to="+15005550006", body="ACK 42")
    signed_for = public + "/webhooks/twilio/inbound?x=1"
    headers = signed_webhook_headers(TOKEN, signed_for, params)
    # The proxy forwards to an internal host; the Host header is not what Twilio signed.
    ok = client.post(
        "/webhooks/twilio/inbound?x=1",
        data=params,
        headers=headers,
        base_url="http://10.0.0.7:5000",
    )
    assert ok.status_code == 204 and received[0]["Body"] == "ACK 42"
    spoofed = {**headers, "Host": "evil.example.com"}
    forged = {**params, "Body": "ACK 99"}
    assert (
        client.post(
            "/webhooks/twilio/inbound?x=1",
            data=forged,
            headers=spoofed,
            base_url="http://10.0.0.7:5000",
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/webhooks/twilio/inbound?x=2",
            data=params,
            headers=headers,
            base_url="http://10.0.0.7:5000",
        ).status_code
        == 403
    )


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(auth_token=TOKEN) as server:
        yield server


def test_status_callback_round_trip_over_http(standin: TwilioStandIn) -> None:
    received: list[dict[str, str]] = []
    app = make_receiver("http://not-yet-known", received)
    with serve_wsgi(app) as url:
        app.config["PUBLIC_URL"] = url
        callback = f"{url}/webhooks/twilio/status?incident=42"
        sender = TwilioSender(
            account_sid=standin.account_sid,
            auth_token=TOKEN,
            from_number="+15005550006",
            api_base_url=standin.url,
            timeout_seconds=2.0,
        )
        result = sender.send_sms(
            to="+15558675310", body="SEV1", status_callback=callback, idempotency_key="k"
        )
        response = standin.send_status_callback(result.provider_id, "delivered")
        assert response.status_code == 204
        assert received[-1]["MessageSid"] == result.provider_id
        assert received[-1]["MessageStatus"] == "delivered"
        # A webhook signed for a different URL (or with another token) is refused.
        wrong_url = post_signed_webhook(
            callback,
            {"MessageSid": result.provider_id},
            TOKEN,
            signed_url=callback.replace("42", "41"),
        )
        wrong_token = post_signed_webhook(callback, {"MessageSid": result.provider_id}, "nope")
        assert (wrong_url.status_code, wrong_token.status_code) == (403, 403)
        assert len(received) == 1
