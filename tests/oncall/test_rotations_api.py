"""Rotations, overrides, schedules and who is on call, through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.auth.roles import Role
from tests.helpers import assert_problem

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def span(start: datetime, end: datetime) -> dict:
    """An override's time box as the API takes it: a start and a length."""
    return {"starts_at": iso(start), "duration_seconds": int((end - start).total_seconds())}


@pytest.fixture
def crew(people):
    """Two Wolves (with phones), a legal counsel, and a responder."""
    return {
        "w1": people.make(Role.WOLF, name="Wanda Wolf", phone="+14155550101"),
        "w2": people.make(Role.WOLF, name="Walt Wolf", phone="+14155550102"),
        "legal": people.make(Role.LEGAL, name="Lena Legal", phone="+14155550103"),
        "resp": people.make(Role.RESPONDER, name="Remy Responder"),
    }


@pytest.fixture
def wolves(client, admin, crew, clock):
    """A daily Wolf rotation (w1 then w2) whose hand-off was at the clock's start."""
    body = {
        "key": "wolves",
        "name": "The Wolves",
        "purpose": "wolf",
        "handoff_at": iso(clock.now),
        "shift_seconds": 86400,
        "member_ids": [crew["w1"]["id"], crew["w2"]["id"]],
    }
    resp = client.post("/api/v1/rotations", json=body, headers=admin["headers"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.smoke
def test_admin_creates_a_rotation_and_people_read_it(client, admin, reviewer, crew, wolves):
    assert wolves["member_ids"] == [crew["w1"]["id"], crew["w2"]["id"]]
    assert [m["name"] for m in wolves["members"]] == ["Wanda Wolf", "Walt Wolf"]
    assert wolves["purpose"] == "wolf" and wolves["shift_seconds"] == 86400
    got = client.get("/api/v1/rotations/wolves", headers=reviewer["headers"])
    assert got.status_code == 200 and got.get_json() == wolves
    listed = client.get("/api/v1/rotations", headers=reviewer["headers"]).get_json()
    assert [r["key"] for r in listed] == ["wolves"]
    patched = client.patch(
        "/api/v1/rotations/wolves",
        json={"member_ids": [crew["w2"]["id"], admin["id"], crew["w1"]["id"]], "name": "Pack"},
        headers=admin["headers"],
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["member_ids"] == [crew["w2"]["id"], admin["id"], crew["w1"]["id"]]
    assert patched.get_json()["name"] == "Pack"
    assert client.delete("/api/v1/rotations/wolves", headers=admin["headers"]).status_code == 204
    assert_problem(client.get("/api/v1/rotations/wolves", headers=reviewer["headers"]), 404)


@pytest.mark.smoke
def test_who_is_on_call_now_and_later(client, admin, reviewer, wolf, crew, wolves, clock):
    client.post(
        "/api/v1/rotations",
        json={
            "key": "legal",
            "name": "Counsel",
            "purpose": "legal",
            "handoff_at": iso(clock.now + DAY),  # not started yet: member 0 holds on
            "shift_seconds": 7 * 86400,
            "member_ids": [crew["legal"]["id"]],
        },
        headers=admin["headers"],
    )
    body = client.get("/api/v1/oncall", headers=admin["headers"]).get_json()
    assert body["at"] == iso(clock.now)
    legal, pack = body["rotations"]
    assert pack == {
        "rotation": "wolves",
        "name": "The Wolves",
        "purpose": "wolf",
        "who": {
            "id": crew["w1"]["id"],
            "name": "Wanda Wolf",
            "active": True,
            "phone": "+14155550101",
        },
        "since": iso(clock.now),
        "until": iso(clock.now + DAY),
        "via": "rotation",
    }
    assert legal["who"]["name"] == "Lena Legal" and legal["since"] is None
    assert legal["until"] == iso(clock.now + 8 * DAY)
    # a reviewer sees names, not phone numbers; a Wolf sees phones
    seen = client.get("/api/v1/oncall", headers=reviewer["headers"]).get_json()["rotations"]
    assert "phone" not in seen[1]["who"] and seen[1]["who"]["name"] == "Wanda Wolf"
    seen = client.get("/api/v1/oncall", headers=wolf["headers"]).get_json()["rotations"]
    assert seen[1]["who"]["phone"] == "+14155550101"
    later = client.get(
        "/api/v1/oncall",
        query_string={"at": (clock.now + DAY + HOUR).isoformat()},
        headers=reviewer["headers"],
    ).get_json()["rotations"][1]
    assert later["who"]["name"] == "Walt Wolf" and later["since"] == iso(clock.now + DAY)


@pytest.mark.smoke
def test_a_wolf_overrides_and_the_schedule_shows_it(
    client, admin, wolf, reviewer, crew, wolves, clock
):
    start, end = clock.now + 2 * HOUR, clock.now + 5 * HOUR
    resp = client.post(
        "/api/v1/rotations/wolves/overrides",
        json={
            "user_id": wolf["id"],
            **span(start, end),
            "reason": "swap",
        },
        headers=wolf["headers"],
    )
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    assert made["user"]["id"] == wolf["id"] and made["created_by_id"] == wolf["id"]
    assert made["rotation"] == "wolves" and made["reason"] == "swap"
    listed = client.get("/api/v1/rotations/wolves/overrides", headers=reviewer["headers"])
    assert [o["id"] for o in listed.get_json()] == [made["id"]]
    schedule = client.get(
        "/api/v1/rotations/wolves/schedule",
        query_string={"until": iso(clock.now + 2 * DAY)},
        headers=reviewer["headers"],
    ).get_json()
    assert schedule["from"] == iso(clock.now) and schedule["until"] == iso(clock.now + 2 * DAY)
    assert [
        (s["user"]["name"], s["starts_at"], s["ends_at"], s["override"]) for s in schedule["shifts"]
    ] == [
        ("Wanda Wolf", iso(clock.now), iso(start), False),
        ("Winston Wolf", iso(start), iso(end), True),
        ("Wanda Wolf", iso(end), iso(clock.now + DAY), False),
        ("Walt Wolf", iso(clock.now + DAY), iso(clock.now + 2 * DAY), False),
    ]
    default = client.get(
        "/api/v1/rotations/wolves/schedule", headers=reviewer["headers"]
    ).get_json()
    assert default["until"] == iso(clock.now + 14 * DAY) and len(default["shifts"]) == 16
    now = client.get(
        "/api/v1/oncall", query_string={"at": iso(start)}, headers=reviewer["headers"]
    ).get_json()["rotations"][0]
    assert now["via"] == "override" and now["who"]["name"] == "Winston Wolf"
    assert (now["since"], now["until"]) == (iso(start), iso(end))
    gone = client.delete(
        f"/api/v1/rotations/wolves/overrides/{made['id']}", headers=admin["headers"]
    )
    assert gone.status_code == 204
    assert (
        client.get("/api/v1/rotations/wolves/overrides", headers=reviewer["headers"]).get_json()
        == []
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "Wolves!"}, "key"),
        ({"key": None}, "key"),
        ({"name": ""}, "name"),
        ({"purpose": "janitor"}, "purpose"),
        ({"handoff_at": "2030-01-07T09:00:00"}, "handoff_at"),  # no offset
        ({"handoff_at": "next monday"}, "handoff_at"),
        ({"shift_seconds": 59}, "shift_seconds"),
        ({"shift_seconds": "3600"}, "shift_seconds"),
        ({"member_ids": ["x"]}, "member_ids.0"),
        ({"member_ids": "w1-twice"}, "member_ids.1"),  # resolved below
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_rotation_is_422_naming_the_field(client, admin, crew, unchanged, change, field):
    body = {
        "key": "wolves",
        "name": "Wolves",
        "purpose": "wolf",
        "handoff_at": "2030-01-07T09:00:00+01:00",
        "shift_seconds": 3600,
    }
    if change.get("member_ids") == "w1-twice":
        change = {"member_ids": [crew["w1"]["id"], crew["w1"]["id"]]}
    body.update(change)
    unchanged.mark()
    resp = client.post("/api/v1/rotations", json=body, headers=admin["headers"])
    assert_problem(resp, 422, field=field)
    unchanged.check()


@pytest.mark.parametrize(
    ("members", "status", "field"),
    [  # well formed, refused for what the database holds: unknown 404, unfit 409
        (["nobody"], 404, "member_ids.0"),
        (["w1", "legal"], 409, "member_ids.1"),  # a legal user in a wolf rotation
        (["resp"], 409, "member_ids.0"),
    ],
)
def test_members_who_cannot_serve_are_404_or_409(
    client, admin, crew, unchanged, members, status, field
):
    ids = [crew[m]["id"] if m in crew else 999_999 for m in members]
    body = {
        "key": "wolves",
        "name": "Wolves",
        "purpose": "wolf",
        "handoff_at": "2030-01-07T09:00:00+01:00",
        "shift_seconds": 3600,
        "member_ids": ids,
    }
    unchanged.mark()
    resp = client.post("/api/v1/rotations", json=body, headers=admin["headers"])
    assert_problem(resp, status, field=field)
    unchanged.check()


def test_the_document_states_the_rotation_rules(client):
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["RotationCreate"]["properties"]["member_ids"]["uniqueItems"] is True
    override = spec["OverrideCreate"]
    assert override["oneOf"] == [{"required": ["ends_at"]}, {"required": ["duration_seconds"]}]
    assert "after starts_at" in override["properties"]["ends_at"]["description"]
    assert override["properties"]["duration_seconds"]["maximum"] == 31 * 86400


def test_invalid_rotation_changes_are_422_and_change_nothing(
    client, admin, crew, wolves, unchanged
):
    unchanged.mark()
    for body, field in [
        ({"purpose": "legal"}, "purpose"),  # fixed once created
        ({"shift_seconds": 0}, "shift_seconds"),
        ({"handoff_at": None}, "handoff_at"),
    ]:
        resp = client.patch("/api/v1/rotations/wolves", json=body, headers=admin["headers"])
        assert_problem(resp, 422, field=field)
    unfit = {"member_ids": [crew["w1"]["id"], crew["legal"]["id"]]}
    resp = client.patch("/api/v1/rotations/wolves", json=unfit, headers=admin["headers"])
    assert_problem(resp, 409, field="member_ids.1")
    # an inactive user cannot join
    client.patch(
        f"/api/v1/users/{crew['w2']['id']}", json={"active": False}, headers=admin["headers"]
    )
    unchanged.mark()
    resp = client.patch(
        "/api/v1/rotations/wolves",
        json={"member_ids": [crew["w2"]["id"]]},
        headers=admin["headers"],
    )
    assert_problem(resp, 409, field="member_ids.0", contains="inactive")
    unchanged.check()


def test_invalid_overrides_are_refused(client, admin, crew, wolves, clock, unchanged):
    t = clock.now + HOUR
    base = {"user_id": crew["w2"]["id"], **span(t, t + DAY)}
    cases = [
        ({"duration_seconds": 0}, 422, "duration_seconds"),
        ({"duration_seconds": -3600}, 422, "duration_seconds"),
        ({"duration_seconds": 31 * 86400 + 1}, 422, "duration_seconds"),
        ({"duration_seconds": "3600"}, 422, "duration_seconds"),
        ({"ends_at": iso(t + DAY)}, 422, "ends_at"),  # its end or its length, not both
        ({"duration_seconds": None, "ends_at": iso(t)}, 422, "duration_seconds"),
        ({"user_id": None}, 422, "user_id"),
        ({"starts_at": "tomorrow"}, 422, "starts_at"),
        ({"reason": "x" * 501}, 422, "reason"),
        # well formed, refused for the state: an unknown user, an unfit one, a time gone by
        ({"user_id": 999_999}, 404, "user_id"),
        ({"user_id": crew["legal"]["id"]}, 409, "user_id"),
        (span(t - 3 * DAY, t - 2 * DAY), 409, "ends_at"),
    ]
    unchanged.mark()
    for change, status, field in cases:
        resp = client.post(
            "/api/v1/rotations/wolves/overrides", json={**base, **change}, headers=admin["headers"]
        )
        assert_problem(resp, status, field=field)
    unchanged.check()
    made = client.post(
        "/api/v1/rotations/wolves/overrides",
        json={**base, "duration_seconds": 31 * 86400.0},  # 31 days; a JSON integer may be 2.0
        headers=admin["headers"],
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["ends_at"] == iso(t + 31 * DAY)


def test_an_override_may_be_given_by_its_end(client, admin, crew, wolves, clock, unchanged):
    t = clock.now + HOUR
    base = {"user_id": crew["w2"]["id"], "starts_at": iso(t)}
    unchanged.mark()
    for end in [t, t - HOUR, t + 31 * DAY + HOUR]:  # not after its start; longer than 31 days
        resp = client.post(
            "/api/v1/rotations/wolves/overrides",
            json={**base, "ends_at": iso(end)},
            headers=admin["headers"],
        )
        assert_problem(resp, 422, field="ends_at")
    resp = client.post("/api/v1/rotations/wolves/overrides", json=base, headers=admin["headers"])
    assert_problem(resp, 422, field="ends_at")  # neither its end nor its length
    unchanged.check()
    made = client.post(
        "/api/v1/rotations/wolves/overrides",
        json={**base, "ends_at": iso(t + 8 * HOUR)},
        headers=admin["headers"],
    )
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["starts_at"], made.get_json()["ends_at"]) == (iso(t), iso(t + 8 * HOUR))


def test_windows_are_bounded_and_may_be_empty(client, admin, reviewer, wolf, wolves, clock):
    now = clock.now
    made = client.post(
        "/api/v1/rotations/wolves/overrides",
        json={"user_id": wolf["id"], **span(now, now + 2 * DAY)},
        headers=admin["headers"],
    )
    assert made.status_code == 201, made.get_json()

    def get(what: str, query: dict) -> dict:
        resp = client.get(
            f"/api/v1/rotations/wolves/{what}", query_string=query, headers=reviewer["headers"]
        )
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    empty = get("schedule", {"from": iso(now + DAY), "until": iso(now)})
    assert (empty["from"], empty["until"], empty["shifts"]) == (iso(now + DAY), iso(now + DAY), [])
    cut = get("schedule", {"from": iso(now), "until": iso(now + 120 * DAY)})
    assert cut["until"] == iso(now + 90 * DAY) and cut["shifts"]
    assert get("overrides", {"from": iso(now + DAY), "until": iso(now + DAY - HOUR)}) == []
    assert len(get("overrides", {"from": iso(now + DAY), "until": iso(now + DAY + HOUR)})) == 1
    resp = client.get(
        "/api/v1/rotations/wolves/schedule",
        query_string={"from": "yesterday"},
        headers=reviewer["headers"],
    )
    assert_problem(resp, 422, field="from")
    assert_problem(
        client.get(
            "/api/v1/oncall",
            query_string={"at": "2030-01-07T09:00:00"},
            headers=reviewer["headers"],
        ),
        422,
        field="at",
    )


def test_a_schedule_is_cut_at_5000_shifts(client, admin, reviewer, crew, clock):
    client.post(
        "/api/v1/rotations",
        json={
            "key": "fast",
            "name": "Fast",
            "purpose": "other",
            "handoff_at": iso(clock.now),
            "shift_seconds": 60,
            "member_ids": [crew["resp"]["id"]],
        },
        headers=admin["headers"],
    )
    resp = client.get(
        "/api/v1/rotations/fast/schedule",
        query_string={"until": iso(clock.now + 5 * DAY)},
        headers=reviewer["headers"],
    )
    assert resp.status_code == 200  # one member: one stretch, over the 5,000 minutes shown
    assert resp.get_json()["until"] == iso(clock.now + timedelta(minutes=5000))
    ok = client.get(
        "/api/v1/rotations/fast/schedule",
        query_string={"until": iso(clock.now + DAY)},
        headers=reviewer["headers"],
    )
    assert ok.status_code == 200 and len(ok.get_json()["shifts"]) == 1


def test_roles_are_enforced(client, people, admin, wolf, reviewer, crew, wolves, clock, unchanged):
    ingest = people.make(Role.INGEST, name="Listener")
    t = clock.now + HOUR
    override = {"user_id": wolf["id"], **span(t, t + HOUR)}
    made = client.post(
        "/api/v1/rotations/wolves/overrides", json=override, headers=admin["headers"]
    ).get_json()
    unchanged.mark()
    new = {"key": "x1", "name": "X", "purpose": "other", "handoff_at": iso(t), "shift_seconds": 60}
    refused = [
        client.post("/api/v1/rotations", json=new, headers=wolf["headers"]),
        client.patch("/api/v1/rotations/wolves", json={"name": "Y"}, headers=wolf["headers"]),
        client.delete("/api/v1/rotations/wolves", headers=wolf["headers"]),
        client.post(
            "/api/v1/rotations/wolves/overrides", json=override, headers=reviewer["headers"]
        ),
        client.post(
            "/api/v1/rotations/wolves/overrides", json=override, headers=crew["legal"]["headers"]
        ),
        client.delete(
            f"/api/v1/rotations/wolves/overrides/{made['id']}", headers=reviewer["headers"]
        ),
        client.get("/api/v1/oncall", headers=ingest["headers"]),
        client.get("/api/v1/rotations", headers=ingest["headers"]),
    ]
    for resp in refused:
        assert_problem(resp, 403)
    assert_problem(client.get("/api/v1/oncall"), 401)
    assert_problem(client.get("/api/v1/rotations/wolves/schedule"), 401)
    unchanged.check()


def test_unknown_is_404_and_duplicate_key_409(
    client, admin, wolf, reviewer, crew, wolves, clock, unchanged
):
    other = {"key": "other", "name": "O", "purpose": "other", "handoff_at": iso(clock.now)}
    client.post(
        "/api/v1/rotations", json={**other, "shift_seconds": 3600}, headers=admin["headers"]
    )
    window = span(clock.now, clock.now + DAY)
    theirs = client.post(
        "/api/v1/rotations/other/overrides",
        json={"user_id": crew["resp"]["id"], **window},
        headers=admin["headers"],
    ).get_json()
    unchanged.mark()
    for resp in [
        client.get("/api/v1/rotations/nope", headers=reviewer["headers"]),
        client.patch("/api/v1/rotations/nope", json={"name": "N"}, headers=admin["headers"]),
        client.delete("/api/v1/rotations/nope", headers=admin["headers"]),
        client.get("/api/v1/rotations/nope/schedule", headers=reviewer["headers"]),
        client.get("/api/v1/rotations/nope/overrides", headers=reviewer["headers"]),
        client.post(
            "/api/v1/rotations/nope/overrides",
            json={"user_id": wolf["id"], **window},
            headers=admin["headers"],
        ),
        client.delete("/api/v1/rotations/wolves/overrides/424242", headers=admin["headers"]),
        # an override of another rotation is not this rotation's
        client.delete(
            f"/api/v1/rotations/wolves/overrides/{theirs['id']}", headers=admin["headers"]
        ),
    ]:
        assert_problem(resp, 404)
    dup = {**other, "key": "wolves", "purpose": "wolf", "shift_seconds": 60}
    resp = client.post("/api/v1/rotations", json=dup, headers=admin["headers"])
    assert_problem(resp, 409, field="key")
    unchanged.check()


def test_deleting_a_rotation_deletes_its_overrides(client, admin, wolf, reviewer, wolves, clock):
    window = span(clock.now, clock.now + DAY)
    made = client.post(
        "/api/v1/rotations/wolves/overrides",
        json={"user_id": wolf["id"], **window},
        headers=admin["headers"],
    )
    assert made.status_code == 201
    assert client.delete("/api/v1/rotations/wolves", headers=admin["headers"]).status_code == 204
    assert client.get("/api/v1/oncall", headers=reviewer["headers"]).get_json()["rotations"] == []
    again = client.post(
        "/api/v1/rotations",
        json={k: wolves[k] for k in ("key", "name", "purpose", "handoff_at", "shift_seconds")},
        headers=admin["headers"],
    )
    assert again.status_code == 201
    listed = client.get("/api/v1/rotations/wolves/overrides", headers=reviewer["headers"])
    assert listed.get_json() == []
