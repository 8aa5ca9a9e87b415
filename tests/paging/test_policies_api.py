"""Escalation policies through the API: targets are one of four kinds, the key is the URL's."""

from __future__ import annotations

import pytest

from tests.helpers import assert_problem

POLICY = {
    "key": "brand-a",
    "name": "Brand A",
    "levels": [{"targets": [{"rotation": "wolves"}, {"user_id": 7.0}], "delay_seconds": 60}],
    "notify": [{"purpose": "legal"}, {"role": "comms"}],
}


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


def test_targets_are_kept_as_given_and_replaced_by_key(client, admin):
    made = client.post("/api/v1/escalation-policies", json=POLICY, headers=admin["headers"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["levels"][0]["targets"] == [{"rotation": "wolves"}, {"user_id": 7}]
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
