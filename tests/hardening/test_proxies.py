"""Behind proxies: FIREBREAK_TRUSTED_PROXIES hops of X-Forwarded-For decide the client a rate
limit counts; with 0 (the default) the header is ignored; spoofed entries beyond the trusted hops
and X-Forwarded-Host change nothing."""

from __future__ import annotations

import pytest
from flask import Flask

from service import create_app
from service.config import ConfigError, load
from service.limits import SIGN_IN
from tests.conftest import PUBLIC_URL, settings_for_tests
from tests.support.twilio_standin import DEFAULT_AUTH_TOKEN, signed_webhook_headers

TRIES = int(SIGN_IN.split(" per minute")[0])  # wrong sign-ins per client per minute
INGRESS = "10.0.0.2"  # every request reaches the app from the ingress controller


def _app(hops: int, **extra) -> Flask:
    return create_app(settings_for_tests(TRUSTED_PROXIES=hops, **extra))


def _sign_in(app: Flask, forwarded_for: str | None, **headers: str) -> int:
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    resp = app.test_client().post(
        "/ui/sign-in",
        data={"token": "wrong-token"},
        headers=headers,
        environ_base={"REMOTE_ADDR": INGRESS},
    )
    return resp.status_code


def _use_up(app: Flask, forwarded_for: str | None) -> None:
    for _ in range(TRIES):
        assert _sign_in(app, forwarded_for) == 401


def test_without_trusted_proxies_forwarded_for_is_ignored(app) -> None:
    plain = _app(0)
    _use_up(plain, "198.51.100.1")
    assert _sign_in(plain, "198.51.100.2") == 429  # another "client": the same peer address


def test_with_one_trusted_proxy_clients_are_limited_apart(app) -> None:
    proxied = _app(1)
    _use_up(proxied, "198.51.100.1")
    assert _sign_in(proxied, "198.51.100.1") == 429
    assert _sign_in(proxied, "198.51.100.2") == 401
    assert _sign_in(proxied, None) == 401  # no header: the peer (the ingress) is its own client


def test_spoofed_entries_beyond_the_trusted_hops_change_nothing(app) -> None:
    proxied = _app(1)
    # the client writes its own X-Forwarded-For; the ingress appends the address it saw
    for i in range(TRIES):
        assert _sign_in(proxied, f"192.0.2.{i}, 203.0.113.7") == 401
    assert _sign_in(proxied, "192.0.2.99, 203.0.113.7") == 429
    assert _sign_in(proxied, "203.0.113.7") == 429
    assert _sign_in(proxied, "192.0.2.1, 203.0.113.8") == 401  # another client behind it


def test_two_trusted_hops_take_the_address_the_outer_proxy_saw(app) -> None:
    proxied = _app(2)  # a load balancer, then the ingress controller
    _use_up(proxied, "192.0.2.1, 203.0.113.7, 10.0.0.9")
    assert _sign_in(proxied, "192.0.2.2, 203.0.113.7, 10.0.0.8") == 429
    assert _sign_in(proxied, "203.0.113.8, 10.0.0.9") == 401


def test_forwarded_host_is_never_trusted(app) -> None:
    proxied = _app(1)
    evil = "evil.example"
    # the same-origin check of a form compares with the Host the proxy passed on, not X-F-Host
    assert (
        _sign_in(proxied, "198.51.100.1", Origin=f"https://{evil}", **{"X-Forwarded-Host": evil})
        == 403
    )
    # a webhook signed for another host is refused: signatures are checked on the public URL
    twilio = _app(1, TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN).test_client()
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    path = "/webhooks/twilio/status"
    for signed_for, status in ((f"https://{evil}{path}", 403), (f"{PUBLIC_URL}{path}", 204)):
        headers = {
            **signed_webhook_headers(DEFAULT_AUTH_TOKEN, signed_for, params),
            "X-Forwarded-For": "198.51.100.1",
            "X-Forwarded-Host": evil,
            "X-Forwarded-Proto": "https",
        }
        resp = twilio.post(
            path, data=params, headers=headers, environ_base={"REMOTE_ADDR": INGRESS}
        )
        assert resp.status_code == status


@pytest.mark.parametrize("raw", ["-1", "6", "one"])
def test_trusted_proxies_must_be_a_small_count(tmp_path, monkeypatch, raw: str) -> None:
    monkeypatch.setenv("FIREBREAK_TRUSTED_PROXIES", raw)
    with pytest.raises(ConfigError, match="FIREBREAK_TRUSTED_PROXIES"):
        load(None, instance_path=str(tmp_path))


def test_trusted_proxies_default_to_none(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FIREBREAK_TRUSTED_PROXIES", raising=False)
    assert load(None, instance_path=str(tmp_path))["TRUSTED_PROXIES"] == 0
