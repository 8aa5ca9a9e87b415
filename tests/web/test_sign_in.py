"""Signing in to the pages: API tokens open a session; cookies are secure; sessions end."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.auth.roles import Role
from service.extensions import db
from service.web.models import WebSession
from service.web.views import CSRF_COOKIE, SESSION_COOKIE
from tests.web.conftest import sign_in


def cookies_of(resp) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def sessions(app) -> list[WebSession]:
    with app.app_context():
        return list(db.session.scalars(select(WebSession)))


@pytest.mark.smoke
def test_pages_send_strangers_to_sign_in_and_a_token_opens_a_secure_session(app, client, reviewer):
    assert client.get("/").headers["Location"] == "/ui/incidents"
    resp = client.get("/ui/incidents/3?tz=UTC")
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("/ui/sign-in?next=")
    form = client.get(resp.headers["Location"])
    assert form.status_code == 200 and b'name="token"' in form.data
    assert b'value="/ui/incidents/3?tz=UTC"' in form.data

    resp = sign_in(client, reviewer["token"], "/ui/incidents")
    assert resp.status_code == 303 and resp.headers["Location"] == "/ui/incidents"
    set_cookies = cookies_of(resp)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        header = set_cookies[name]
        for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            assert flag in header, header
        assert "Domain" not in header
    secret = re.match(rf"{re.escape(SESSION_COOKIE)}=([^;]+)", set_cookies[SESSION_COOKIE])[1]
    [row] = sessions(app)
    assert row.user_id == reviewer["id"] and secret not in (row.secret_hash, row.csrf_hash)
    assert len(row.secret_hash) == 64
    page = client.get("/ui/incidents")
    assert page.status_code == 200 and b"Rita Reviewer" in page.data


@pytest.mark.parametrize(
    "token, status, message",
    [
        ("", 400, b"Paste your API token"),
        ("fb_not-a-real-token", 401, b"invalid, expired or revoked"),
        ("x" * 500, 401, b"too long"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason_and_open_nothing(app, client, token, status, message):
    resp = sign_in(client, token)
    assert resp.status_code == status and message in resp.data
    assert SESSION_COOKIE not in cookies_of(resp)
    assert sessions(app) == []


def test_a_service_account_cannot_use_the_pages(app, client, people):
    ingest = people.make(Role.INGEST, name="Listening tool")
    resp = sign_in(client, ingest["token"])
    assert resp.status_code == 401 and b"service account" in resp.data
    assert sessions(app) == []


def test_sign_in_posted_from_another_site_is_refused(app, client, reviewer):
    resp = client.post(
        "/ui/sign-in",
        data={"token": reviewer["token"]},
        headers={"Origin": "https://evil.example"},
    )
    assert resp.status_code == 403 and sessions(app) == []


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/ui/..//evil", "/api/v1/me", "/\\evil"]
)
def test_next_never_leaves_the_pages(client, reviewer, target):
    resp = sign_in(client, reviewer["token"], target)
    assert resp.status_code == 303 and resp.headers["Location"] == "/ui/incidents"


def test_revoking_the_token_ends_the_session(app, client, reviewer):
    sign_in(client, reviewer["token"])
    assert client.get("/ui/incidents").status_code == 200
    tokens = client.get(f"/api/v1/users/{reviewer['id']}/tokens", headers=reviewer["headers"])
    [token] = tokens.get_json()
    resp = client.delete(f"/api/v1/tokens/{token['id']}", headers=reviewer["headers"])
    assert resp.status_code in (200, 204), resp.get_json()
    assert client.get("/ui/incidents").status_code == 303


def test_sign_out_needs_the_csrf_token_and_ends_the_session(app, client, reviewer):
    resp = sign_in(client, reviewer["token"])
    csrf = re.match(rf"{re.escape(CSRF_COOKIE)}=([^;]+)", cookies_of(resp)[CSRF_COOKIE])[1]
    page = client.get("/ui/incidents")
    assert f'name="csrf" value="{csrf}"'.encode() in page.data
    assert client.post("/ui/sign-out", data={"csrf": "forged"}).status_code == 403
    assert client.get("/ui/incidents").status_code == 200  # still signed in
    resp = client.post("/ui/sign-out", data={"csrf": csrf})
    assert resp.status_code == 303
    [row] = sessions(app)
    assert row.revoked_at is not None
    client.set_cookie(SESSION_COOKIE, "replayed")  # the old cookie is gone; a guess is nothing
    assert client.get("/ui/incidents").status_code == 303


def test_sessions_expire_when_idle(app, client, reviewer, clock):
    sign_in(client, reviewer["token"])
    assert client.get("/ui/incidents").status_code == 200
    clock.advance(hours=2, minutes=1)
    assert client.get("/ui/incidents").status_code == 303


def test_sign_ins_that_succeed_do_not_use_up_the_limit(app, client, reviewer):
    # a team behind one office address signs in all morning: only failures are limited
    for _ in range(15):
        assert sign_in(client, reviewer["token"]).status_code == 303
    for _ in range(10):
        assert sign_in(client, "fb_wrong").status_code == 401
    assert sign_in(client, "fb_wrong").status_code == 429
