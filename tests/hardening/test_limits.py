"""Rate limits (429 problem+json with Retry-After), verification tries per user, the secret key
required, and headers on answers that carry secrets."""

from __future__ import annotations

import re

import pytest

from service import create_app
from service.auth.roles import Role
from service.config import ConfigError, load
from service.paging import delivery, verification
from tests.conftest import settings_for_tests
from tests.hardening.test_bad_input import problem
from tests.web.conftest import sign_in


def _last_code(app) -> str:
    """The code in the last SMS the console backend sent."""
    with app.app_context():
        body = delivery.sender().messages[-1]["body"]  # type: ignore[attr-defined]
    match = re.search(r"code: (\d{6})", body)
    assert match, body
    return match.group(1)


def _rate_limited(resp) -> None:
    problem(resp, 429)
    assert int(resp.headers["Retry-After"]) >= 1


@pytest.fixture
def phoned(people):
    return people.make(Role.WOLF, name="Pat Phone", phone="+14155550199")


def test_codes_per_hour_are_limited_per_user(client, phoned) -> None:
    url = f"/api/v1/users/{phoned['id']}/phone/verification"
    for _ in range(3):
        assert client.post(url, headers=phoned["headers"]).status_code == 202
    _rate_limited(client.post(url, headers=phoned["headers"]))


def test_tries_are_counted_per_user_not_per_code(app, client, phoned, run_jobs) -> None:
    send = f"/api/v1/users/{phoned['id']}/phone/verification"
    verify = f"/api/v1/users/{phoned['id']}/phone/verify"
    assert client.post(send, headers=phoned["headers"]).status_code == 202
    for _ in range(verification.MAX_ATTEMPTS):
        resp = client.post(verify, json={"code": "000000"}, headers=phoned["headers"])
        problem(resp, 409, "code")  # well formed, but not the code that was sent
    assert client.post(send, headers=phoned["headers"]).status_code == 202  # a new code...
    run_jobs()
    code = _last_code(app)
    resp = client.post(verify, json={"code": code}, headers=phoned["headers"])
    _rate_limited(resp)  # ...does not reset the tries, even with the right code
    assert resp.get_json()["errors"][0]["field"] == "code"


def test_token_creation_is_limited_per_user(client, wolf) -> None:
    url = f"/api/v1/users/{wolf['id']}/tokens"
    for i in range(10):
        resp = client.post(url, json={"name": f"t{i}"}, headers=wolf["headers"])
        assert resp.status_code == 201
        assert resp.headers["Cache-Control"] == "no-store"
    _rate_limited(client.post(url, json={"name": "t11"}, headers=wolf["headers"]))


def test_invalid_bearer_tokens_are_limited_per_client(client, admin) -> None:
    for _ in range(30):
        resp = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
        assert resp.status_code == 401
    _rate_limited(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}))
    other = client.get(
        "/api/v1/me", headers=admin["headers"], environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


def test_invalid_tokens_never_lock_out_a_valid_one(client, admin, people) -> None:
    """Only invalid tokens are limited: a valid token from the same address (a shared office
    address, a listening tool's egress) still authenticates."""
    feeder = people.make(Role.INGEST, name="Listening tool")
    for _ in range(40):
        client.get("/api/v1/me", headers={"Authorization": "Bearer fb_guess"})
    _rate_limited(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}))
    assert client.get("/api/v1/me", headers=admin["headers"]).status_code == 200
    resp = client.post(
        "/api/v1/monitors/none/mentions", json={"mentions": []}, headers=feeder["headers"]
    )
    problem(resp, 404)  # authenticated: the monitor does not exist
    _rate_limited(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}))


def test_sign_in_is_limited_per_client(client) -> None:
    for _ in range(10):
        assert sign_in(client, "wrong-token").status_code == 401
    resp = sign_in(client, "wrong-token")
    assert resp.status_code == 429 and resp.mimetype == "text/html"
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_api_answers_are_nosniff_and_not_cached(client, admin) -> None:
    resp = client.get("/api/v1/me", headers=admin["headers"])
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


def test_the_secret_key_is_required_outside_development(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FIREBREAK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="FIREBREAK_SECRET_KEY"):
        load(None, instance_path=str(tmp_path))
    assert load({"ENV": "development"}, instance_path=str(tmp_path))["SECRET_KEY"] is None


def test_without_a_secret_key_verification_refuses(client, people, monkeypatch) -> None:
    settings = settings_for_tests(SECRET_KEY=None, ENV="development", TESTING=False)
    app = create_app(settings)
    user = people.make(Role.WOLF, phone="+14155550198")
    resp = app.test_client().post(
        f"/api/v1/users/{user['id']}/phone/verification", headers=user["headers"]
    )
    assert "FIREBREAK_SECRET_KEY" in problem(resp, 409)["detail"]
