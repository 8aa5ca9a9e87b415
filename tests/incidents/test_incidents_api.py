"""Declaring, listing, transitions, notes, severity and roles through the API."""

from __future__ import annotations

import pytest

from service.auth.roles import Role
from tests.helpers import assert_problem


def declare(client, who, **extra):
    payload = {"title": "Boycott trend on #AcmeFail", "severity": "sev2", **extra}
    resp = client.post("/api/v1/incidents", json=payload, headers=who["headers"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.smoke
def test_declare_and_get_by_number(client, wolf, reviewer):
    made = declare(client, wolf, description="Influencer video", wolf_id=wolf["id"])
    assert made["number"] == 1 and made["status"] == "triggered" and made["source"] == "manual"
    assert made["opened_at"].endswith("Z") and len(made["opened_at"]) == 27
    assert made["assignments"][0]["role"] == "wolf"
    got = client.get("/api/v1/incidents/1", headers=reviewer["headers"])
    assert got.status_code == 200 and got.get_json()["title"] == made["title"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"severity": "sev2"}, "title"),
        ({"title": "x"}, "severity"),
        ({"title": "x", "severity": "sev9"}, "severity"),
        ({"title": "x" * 201, "severity": "sev2"}, "title"),
        ({"title": 42, "severity": "sev2"}, "title"),
        ({"title": "x", "severity": "sev2", "colour": "red"}, "colour"),
        ({"title": "x", "severity": "sev2", "wolf_id": "me"}, "wolf_id"),
    ],
)
def test_bad_declarations_are_422_and_change_nothing(client, wolf, unchanged, payload, field):
    unchanged.mark()
    resp = client.post("/api/v1/incidents", json=payload, headers=wolf["headers"])
    body = assert_problem(resp, 422, field=field)
    assert body["type"] == "urn:firebreak:problem:validation"
    unchanged.check()


def test_unknown_wolf_is_404_naming_the_field(client, wolf, unchanged):
    unchanged.mark()
    resp = client.post(
        "/api/v1/incidents",
        json={"title": "x", "severity": "sev2", "wolf_id": 999},
        headers=wolf["headers"],
    )
    assert_problem(resp, 404, field="wolf_id")
    unchanged.check()


def test_malformed_json_is_400(client, wolf, unchanged):
    unchanged.mark()
    resp = client.post(
        "/api/v1/incidents",
        data='{"title": ',
        headers={**wolf["headers"], "Content-Type": "application/json"},
    )
    assert_problem(resp, 400)
    unchanged.check()


def test_non_json_body_is_415(client, wolf, unchanged):
    unchanged.mark()
    resp = client.post(
        "/api/v1/incidents",
        data="title=x&severity=sev2",
        headers={**wolf["headers"], "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(resp, 415)
    unchanged.check()


def test_json_array_body_is_422(client, wolf, unchanged):
    unchanged.mark()
    assert_problem(client.post("/api/v1/incidents", json=[1, 2], headers=wolf["headers"]), 422)
    unchanged.check()


def test_oversized_body_is_413(app, client, wolf, unchanged):
    unchanged.mark()
    big = "x" * (app.config["MAX_BODY_BYTES"] + 10)
    resp = client.post(
        "/api/v1/incidents",
        json={"title": "t", "severity": "sev2", "description": big},
        headers=wolf["headers"],
    )
    assert_problem(resp, 413)
    unchanged.check()


def test_unknown_incident_is_404(client, reviewer):
    assert_problem(
        client.get("/api/v1/incidents/4242", headers=reviewer["headers"]), 404, contains="#4242"
    )
    assert_problem(client.get("/api/v1/incidents/abc", headers=reviewer["headers"]), 404)


def test_list_filters_and_pagination(client, wolf, reviewer):
    for i in range(5):
        declare(client, wolf, title=f"i{i}", severity="sev1" if i % 2 else "sev3")
    client.post("/api/v1/incidents/2/resolve", json={}, headers=wolf["headers"])
    h = reviewer["headers"]
    page = client.get("/api/v1/incidents?page=1&page_size=2", headers=h)
    assert [i["number"] for i in page.get_json()] == [5, 4]
    assert '"total": 5' in page.headers["X-Pagination"]
    sev1 = client.get("/api/v1/incidents?severity=sev1", headers=h).get_json()
    assert sorted(i["number"] for i in sev1) == [2, 4]
    resolved = client.get("/api/v1/incidents?status=resolved", headers=h).get_json()
    assert [i["number"] for i in resolved] == [2]
    both = client.get("/api/v1/incidents?status=resolved&status=triggered", headers=h).get_json()
    assert len(both) == 5
    opened = page.get_json()[0]["opened_at"]
    after = client.get(f"/api/v1/incidents?opened_after={opened}", headers=h).get_json()
    assert [i["number"] for i in after] == [5]
    assert (
        client.get("/api/v1/incidents?opened_before=2000-01-01T00:00:00Z", headers=h).get_json()
        == []
    )
    assert_problem(
        client.get("/api/v1/incidents?status=exploded", headers=h), 422, field="status.0"
    )
    assert_problem(
        client.get("/api/v1/incidents?opened_after=yesterday", headers=h), 422, field="opened_after"
    )
    assert_problem(client.get("/api/v1/incidents?page_size=100000", headers=h), 422)


@pytest.mark.smoke
def test_lifecycle_and_invalid_transitions(client, wolf, people, unchanged):
    declare(client, wolf)
    h = wolf["headers"]
    assert (
        client.post("/api/v1/incidents/1/acknowledge", json={}, headers=h).get_json()["status"]
        == "acknowledged"
    )
    unchanged.mark()
    body = assert_problem(
        client.post("/api/v1/incidents/1/acknowledge", json={}, headers=h),
        409,
        contains="acknowledged by Winston Wolf",
    )
    assert body["type"] == "urn:firebreak:problem:invalid-transition"
    assert_problem(client.post("/api/v1/incidents/1/close", json={}, headers=h), 409)
    assert_problem(client.post("/api/v1/incidents/1/reopen", json={}, headers=h), 409)
    unchanged.check()
    assert (
        client.post(
            "/api/v1/incidents/1/resolve", json={"note": "trend died"}, headers=h
        ).status_code
        == 200
    )
    assert (
        client.post("/api/v1/incidents/1/reopen", json={}, headers=h).get_json()["status"]
        == "triggered"
    )
    client.post("/api/v1/incidents/1/resolve", json={}, headers=h)
    responder = people.make(Role.RESPONDER)
    assert_problem(
        client.post("/api/v1/incidents/1/close", json={}, headers=responder["headers"]), 403
    )
    closed = client.post("/api/v1/incidents/1/close", json={}, headers=h).get_json()
    assert closed["status"] == "closed" and closed["closed_at"]
    unchanged.mark()
    for action in ("acknowledge", "resolve", "reopen", "close"):
        assert_problem(client.post(f"/api/v1/incidents/1/{action}", json={}, headers=h), 409)
    assert_problem(client.patch("/api/v1/incidents/1", json={"severity": "sev1"}, headers=h), 409)
    unchanged.check()


def test_severity_and_details_change(client, wolf, unchanged):
    declare(client, wolf)
    h = wolf["headers"]
    resp = client.patch(
        "/api/v1/incidents/1", json={"severity": "sev1", "reason": "CNN picked it up"}, headers=h
    )
    assert resp.get_json()["severity"] == "sev1"
    unchanged.mark()
    assert_problem(client.patch("/api/v1/incidents/1", json={"reason": "x"}, headers=h), 422)
    assert_problem(
        client.patch("/api/v1/incidents/1", json={"severity": "urgent"}, headers=h),
        422,
        field="severity",
    )
    unchanged.check()


def test_notes_and_roles(client, wolf, admin, people, reviewer, unchanged):
    declare(client, wolf)
    legal = people.make(Role.LEGAL, name="Lena Legal")
    note = client.post(
        "/api/v1/incidents/1/notes", json={"text": "Spoke to PR agency"}, headers=legal["headers"]
    )
    assert note.status_code == 201 and note.get_json()["kind"] == "note.added"
    unchanged.mark()
    for blank in ("", "   ", "\n\t "):
        assert_problem(
            client.post(
                "/api/v1/incidents/1/notes", json={"text": blank}, headers=legal["headers"]
            ),
            422,
            field="text",
        )
    assert_problem(
        client.post("/api/v1/incidents/1/notes", json={"text": "x"}, headers=reviewer["headers"]),
        403,
    )
    assert_problem(
        client.put(
            "/api/v1/incidents/1/roles/wolf", json={"user_id": 999}, headers=admin["headers"]
        ),
        404,
        field="user_id",
    )
    assert_problem(
        client.put(
            "/api/v1/incidents/1/roles/jester",
            json={"user_id": legal["id"]},
            headers=admin["headers"],
        ),
        404,
    )
    unchanged.check()
    resp = client.put(
        "/api/v1/incidents/1/roles/legal", json={"user_id": legal["id"]}, headers=admin["headers"]
    )
    assert resp.status_code == 200 and resp.get_json()["user"] == "Lena Legal"
    other = people.make(Role.WOLF, name="Backup Wolf")
    client.put(
        "/api/v1/incidents/1/roles/wolf", json={"user_id": wolf["id"]}, headers=admin["headers"]
    )
    client.put(
        "/api/v1/incidents/1/roles/wolf", json={"user_id": other["id"]}, headers=admin["headers"]
    )
    got = client.get("/api/v1/incidents/1", headers=reviewer["headers"]).get_json()
    assert {a["role"]: a["user"] for a in got["assignments"]} == {
        "legal": "Lena Legal",
        "wolf": "Backup Wolf",
    }


def test_assigning_the_holder_again_records_nothing(client, wolf, admin, reviewer):
    declare(client, wolf)
    for _ in range(2):
        resp = client.put(
            "/api/v1/incidents/1/roles/wolf", json={"user_id": wolf["id"]}, headers=admin["headers"]
        )
        assert resp.status_code == 200
    events = client.get("/api/v1/incidents/1/timeline", headers=reviewer["headers"]).get_json()
    assigned = [e for e in events["events"] if e["kind"] == "incident.role_assigned"]
    assert len(assigned) == 1 and "replaces" not in assigned[0]["data"]
