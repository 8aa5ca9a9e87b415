"""Authentication (401) and authorisation (403), tokens shown once and stored hashed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service.auth.models import ApiToken
from service.auth.roles import Role
from service.db import utcnow
from service.extensions import db
from tests.helpers import assert_problem


@pytest.mark.smoke
def test_missing_token_is_401_with_challenge(client):
    resp = client.get("/api/v1/incidents")
    body = assert_problem(resp, 401, contains="missing")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["type"] == "urn:firebreak:problem:unauthorized"


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer fb_nottherealone", "Bearer " + "x" * 500, "Token abc"],
)
def test_malformed_or_unknown_tokens_are_401(client, admin, header):
    assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_revoked_expired_and_inactive_are_401(app, client, people):
    for case in ("revoked", "expired", "inactive"):
        person = people.make(Role.RESPONDER, name=f"R {case}")
        assert client.get("/api/v1/me", headers=person["headers"]).status_code == 200
        with app.app_context(), db.transaction() as session:
            token = session.scalar(select(ApiToken).where(ApiToken.user_id == person["id"]))
            if case == "revoked":
                token.revoked_at = utcnow()
            elif case == "expired":
                token.expires_at = utcnow() - timedelta(seconds=1)
            else:
                token.user.active = False
        assert_problem(client.get("/api/v1/me", headers=person["headers"]), 401)


def test_wrong_role_is_403_and_names_the_roles(client, reviewer, unchanged):
    unchanged.mark()
    resp = client.post(
        "/api/v1/incidents", json={"title": "x", "severity": "sev2"}, headers=reviewer["headers"]
    )
    body = assert_problem(resp, 403, contains="roles")
    assert "responder" in body["detail"]
    unchanged.check()


def test_token_is_shown_once_and_stored_hashed(app, client, admin):
    resp = client.post(
        f"/api/v1/users/{admin['id']}/tokens", json={"name": "laptop"}, headers=admin["headers"]
    )
    assert resp.status_code == 201
    secret = resp.get_json()["token"]
    assert secret.startswith("fb_") and len(secret) > 40
    with app.app_context():
        row = db.session.get(ApiToken, resp.get_json()["id"])
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr([c for c in row.__dict__.values()])
    listed = client.get(f"/api/v1/users/{admin['id']}/tokens", headers=admin["headers"])
    assert all("token" not in t for t in listed.get_json())
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )


def test_last_used_time_is_recorded(app, client, admin):
    with app.app_context():
        db.session.execute(update(ApiToken).values(last_used_at=None))
        db.session.commit()
    client.get("/api/v1/me", headers=admin["headers"])
    with app.app_context():
        used = db.session.scalar(select(ApiToken.last_used_at))
    assert used is not None and used.tzinfo is not None


def test_revoke_own_token_then_it_stops_working(client, people):
    person = people.make(Role.COMMS)
    tokens = client.get(f"/api/v1/users/{person['id']}/tokens", headers=person["headers"])
    token_id = tokens.get_json()[0]["id"]
    resp = client.delete(f"/api/v1/tokens/{token_id}", headers=person["headers"])
    assert resp.status_code == 200 and resp.get_json()["revoked_at"]
    assert_problem(client.get("/api/v1/me", headers=person["headers"]), 401)


def test_cannot_touch_another_users_tokens(client, people, admin, unchanged):
    a, b = people.make(Role.COMMS, name="A"), people.make(Role.LEGAL, name="B")
    unchanged.mark()
    assert_problem(
        client.post(f"/api/v1/users/{b['id']}/tokens", json={"name": "x"}, headers=a["headers"]),
        403,
    )
    b_tokens = client.get(f"/api/v1/users/{b['id']}/tokens", headers=admin["headers"]).get_json()
    assert_problem(client.delete(f"/api/v1/tokens/{b_tokens[0]['id']}", headers=a["headers"]), 404)
    unchanged.check()
