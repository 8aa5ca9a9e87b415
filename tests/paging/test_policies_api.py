"""Escalation policies through the API: targets are one of four kinds, the rotations and users
they name exist, the key is the URL's; a rotation a policy pages is not deleted."""

from __future__ import annotations

import pytest

from service.auth.roles import Role
from service.extensions import db
from tests.helpers import assert_problem

POLICY = {
    "key": "brand-a",
    "name": "Brand A",
    "levels": [{"targets": [{"rotation": "wolves"}, {"user_id": 2.0}], "delay_seconds": 60}],
    "notify": [{"purpose": "legal"}, {"role": "comms"}],
}


@pytest.fixture
def named(client, admin, people):
    """What POLICY names: the rotation `wolves` and user 2 (a Wolf)."""
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    assert wolf["id"] == 2
    rotation = {
        "key": "wolves",
        "name": "The Wolves",
        "purpose": "wolf",
        "handoff_at": "2026-01-05T09:00:00Z",
        "shift_seconds": 604800,
        "member_ids": [wolf["id"]],
    }
    resp = client.post("/api/v1/rotations", json=rotation, headers=admin["headers"])
    assert resp.status_code == 201, resp.get_json()
    return wolf


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({}, "levels.0.targets.0"),
        ({"role": "wolf", "purpose": "legal"}, "levels.0.targets.0"),
        ({"role": "pope"}, "levels.0.targets.0.role"),
        ({"purpose": "janitor"}, "levels.0.targets.0.purpose"),
        ({"user_id": "7"}, "levels.0.targets.0.user_id"),
        ({"user_id": 0}, "levels.0.targets.0.user_id"),
        ({"rotation": ""}, "levels.0.targets.0.rotation"),
        ({"team": "x"}, "levels.0.targets.0.team"),
    ],
)
def test_a_target_is_exactly_one_known_kind(client, admin, unchanged, target, field):
    body = {**POLICY, "levels": [{"targets": [target], "delay_seconds": 60}]}
    unchanged.mark()
    resp = client.post("/api/v1/escalation-policies", json=body, headers=admin["headers"])
    assert_problem(resp, 422, field=field)
    unchanged.check()


def test_targets_are_kept_as_given_and_replaced_by_key(client, admin, named):
    made = client.post("/api/v1/escalation-policies", json=POLICY, headers=admin["headers"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["levels"][0]["targets"] == [{"rotation": "wolves"}, {"user_id": 2}]
    assert made.get_json()["notify"] == POLICY["notify"]
    settings = {k: v for k, v in POLICY.items() if k != "key"}
    replaced = client.put(
        "/api/v1/escalation-policies/brand-a",
        json={**settings, "name": "Brand A2"},
        headers=admin["headers"],
    )
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["key"] == "brand-a" and replaced.get_json()["name"] == "Brand A2"
    # the URL names the policy: the same key in the body is fine (clients that send it back),
    # another one is a conflict and changes nothing
    resp = client.put("/api/v1/escalation-policies/brand-a", json=POLICY, headers=admin["headers"])
    assert resp.status_code == 200 and resp.get_json()["name"] == "Brand A"
    other = {**POLICY, "key": "brand-b", "name": "Renamed"}
    resp = client.put("/api/v1/escalation-policies/brand-a", json=other, headers=admin["headers"])
    assert_problem(resp, 409, field="key")
    got = client.get("/api/v1/escalation-policies/brand-a", headers=admin["headers"]).get_json()
    assert got["name"] == "Brand A"
    resp = client.put("/api/v1/escalation-policies/nope", json=settings, headers=admin["headers"])
    assert_problem(resp, 404)


def test_the_document_states_the_target_rule(client):
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    target = spec["Target"]
    assert (target["minProperties"], target["maxProperties"]) == (1, 1)
    assert target["additionalProperties"] is False
    assert "required" not in spec["PolicyReplace"]["properties"]["key"]
    assert "key" not in spec["PolicyReplace"].get("required", [])


def _with(target: dict, *, where: str = "level") -> dict:
    """POLICY with one more target in its first level (or its notify list)."""
    if where == "notify":
        return {**POLICY, "notify": [*POLICY["notify"], target]}
    level = {**POLICY["levels"][0], "targets": [*POLICY["levels"][0]["targets"], target]}
    return {**POLICY, "levels": [level]}


@pytest.mark.parametrize(
    ("target", "where", "field"),
    [
        ({"rotation": "ghosts"}, "level", "levels.0.targets.2.rotation"),
        ({"user_id": 9999}, "level", "levels.0.targets.2.user_id"),
        ({"rotation": "nope"}, "notify", "notify.2.rotation"),
        ({"user_id": 9999}, "notify", "notify.2.user_id"),
    ],
)
def test_a_target_naming_nothing_is_a_404_naming_it_on_create_and_replace(
    client, admin, named, unchanged, target, where, field
):
    body = _with(target, where=where)
    unchanged.mark()
    resp = client.post("/api/v1/escalation-policies", json=body, headers=admin["headers"])
    assert_problem(resp, 404, field=field, contains=str(next(iter(target.values()))))
    unchanged.check()
    made = client.post("/api/v1/escalation-policies", json=POLICY, headers=admin["headers"])
    assert made.status_code == 201, made.get_json()
    unchanged.mark()
    settings = {k: v for k, v in body.items() if k != "key"}
    resp = client.put(
        "/api/v1/escalation-policies/brand-a", json=settings, headers=admin["headers"]
    )
    assert_problem(resp, 404, field=field)
    unchanged.check()


def test_a_user_who_cannot_take_part_is_a_409_naming_it(app, client, admin, named, people):
    from service.auth.models import User

    gone = people.make(Role.WOLF, name="Gone Wolf")
    robot = people.make(Role.INGEST, name="Listening tool")
    with app.app_context(), db.transaction() as session:
        session.get_one(User, gone["id"]).active = False
    for who in (gone, robot):
        resp = client.post(
            "/api/v1/escalation-policies",
            json=_with({"user_id": who["id"]}, where="notify"),
            headers=admin["headers"],
        )
        assert_problem(resp, 409, field="notify.2.user_id")


def test_a_rotation_a_policy_pages_cannot_be_deleted(client, admin, named, unchanged):
    for key, body in (("brand-a", POLICY), ("brand-b", {**POLICY, "levels": [LEVEL_ROLE]})):
        body = {**body, "key": key}
        if key == "brand-b":  # names the rotation in its notify list only
            body["notify"] = [{"rotation": "wolves"}]
        made = client.post("/api/v1/escalation-policies", json=body, headers=admin["headers"])
        assert made.status_code == 201, made.get_json()
    unchanged.mark()
    resp = client.delete("/api/v1/rotations/wolves", headers=admin["headers"])
    problem = assert_problem(resp, 409, contains="brand-a, brand-b")
    assert problem["policies"] == ["brand-a", "brand-b"]
    unchanged.check()
    for key in ("brand-a", "brand-b"):  # taken out of both, it may go
        replaced = client.put(
            f"/api/v1/escalation-policies/{key}",
            json={"name": key, "levels": [LEVEL_ROLE]},
            headers=admin["headers"],
        )
        assert replaced.status_code == 200, replaced.get_json()
    assert client.delete("/api/v1/rotations/wolves", headers=admin["headers"]).status_code == 204


LEVEL_ROLE = {"targets": [{"role": "wolf"}], "delay_seconds": 60}


def test_the_document_says_named_targets_must_exist(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for targets in (
        schemas["Level"]["properties"]["targets"],
        schemas["PolicyCreate"]["properties"]["notify"],
    ):
        assert "must exist (404" in targets["items"]["description"]
    target = schemas["Target"]["properties"]
    assert "404" in target["rotation"]["description"] and "409" in target["user_id"]["description"]
    paths = spec["paths"]
    assert "404" in paths["/api/v1/escalation-policies"]["post"]["responses"]
    assert "404" in paths["/api/v1/escalation-policies/{key}"]["put"]["responses"]
    assert "409" in paths["/api/v1/rotations/{key}"]["delete"]["responses"]
