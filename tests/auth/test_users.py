"""Users: admin-only management, validation, and the last-admin guard."""

from __future__ import annotations

import re

import pytest

from service.auth.roles import Role
from tests.helpers import assert_problem


@pytest.mark.smoke
def test_admin_creates_user_with_e164_phone(client, admin):
    resp = client.post(
        "/api/v1/users",
        json={"name": "Lena Legal", "roles": ["legal"], "phone": "+1 (415) 555-2671"},
        headers=admin["headers"],
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["phone"] == "+14155552671" and body["roles"] == ["legal"]
    # times read as everywhere else in the API: UTC, microseconds, "Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["created_at"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"roles": ["legal"]}, "name"),
        ({"name": "X", "roles": ["pope"]}, "roles.0"),
        ({"name": "X", "roles": []}, "roles"),
        ({"name": "X", "roles": ["legal"], "phone": "12"}, "phone"),
        ({"name": "X", "roles": ["legal"], "phone": "1-800-FLOWERS"}, "phone"),  # no letters
        ({"name": "X", "roles": ["legal"], "phone": "+1 555 555 5555"}, "phone"),  # not valid
        ({"name": "X", "roles": ["legal"], "name\u0000": 1}, "name\u0000"),
        ({"name": "X", "roles": ["legal"], "email": "nope"}, "email"),
        ({"name": "X", "roles": ["legal"], "is_god": True}, "is_god"),
        ({"name": "", "roles": ["legal"]}, "name"),
    ],
)
def test_invalid_user_is_422_naming_the_field(client, admin, unchanged, payload, field):
    unchanged.mark()
    assert_problem(
        client.post("/api/v1/users", json=payload, headers=admin["headers"]), 422, field=field
    )
    unchanged.check()


def test_duplicate_phone_is_409(client, admin, unchanged):
    payload = {"name": "A", "roles": ["wolf"], "phone": "+14155552671"}
    assert client.post("/api/v1/users", json=payload, headers=admin["headers"]).status_code == 201
    unchanged.mark()
    resp = client.post("/api/v1/users", json={**payload, "name": "B"}, headers=admin["headers"])
    assert_problem(resp, 409, field="phone")
    unchanged.check()


def test_only_admin_manages_users(client, wolf, unchanged):
    unchanged.mark()
    resp = client.post(
        "/api/v1/users", json={"name": "X", "roles": ["admin"]}, headers=wolf["headers"]
    )
    assert_problem(resp, 403)
    assert_problem(
        client.patch(
            f"/api/v1/users/{wolf['id']}", json={"roles": ["admin"]}, headers=wolf["headers"]
        ),
        403,
    )
    unchanged.check()


def test_last_admin_cannot_be_demoted(client, admin, unchanged):
    unchanged.mark()
    resp = client.patch(
        f"/api/v1/users/{admin['id']}", json={"roles": ["reviewer"]}, headers=admin["headers"]
    )
    assert_problem(resp, 409, contains="last active admin")
    unchanged.check()


def test_roles_update_changes_access(client, admin, people):
    person = people.make(Role.REVIEWER)
    declare = {"title": "t", "severity": "sev3"}
    assert (
        client.post("/api/v1/incidents", json=declare, headers=person["headers"]).status_code == 403
    )
    client.patch(
        f"/api/v1/users/{person['id']}", json={"roles": ["responder"]}, headers=admin["headers"]
    )
    assert (
        client.post("/api/v1/incidents", json=declare, headers=person["headers"]).status_code == 201
    )


def test_cli_creates_first_admin_with_a_working_token(app, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--name", "Root", "--phone", "+442071838750"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1].split(": ")[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["roles"] == [Role.ADMIN.value]
    assert me.get_json()["phone"] == "+442071838750"


def test_a_national_number_is_stored_in_e164_and_the_document_names_the_format(client, admin):
    payload = {"name": "N", "roles": ["wolf"], "phone": "(415) 555-2671"}
    made = client.post("/api/v1/users", json=payload, headers=admin["headers"])
    assert made.status_code == 201 and made.get_json()["phone"] == "+14155552671"
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    phone = spec["UserCreate"]["properties"]["phone"]
    assert phone["format"] == "phone" and "libphonenumber" in phone["description"]
    assert phone["pattern"] == "^\\+?[0-9 ().-]{7,25}$"
