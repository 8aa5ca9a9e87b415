"""Monitors: admin CRUD, validation of detector settings and lexicon."""

from __future__ import annotations

import pytest

from tests.helpers import assert_problem


@pytest.mark.smoke
def test_admin_creates_and_updates_a_monitor(client, admin, reviewer):
    resp = client.post(
        "/api/v1/monitors",
        json={
            "key": "acme",
            "name": "Acme Kettles",
            "lexicon": {"sick": 2.5},
            "detector": {"min_ratio": 4.0},
            "tags": ["consumer"],
        },
        headers=admin["headers"],
    )
    assert resp.status_code == 201, resp.get_json()
    got = client.get("/api/v1/monitors/acme", headers=reviewer["headers"]).get_json()
    assert got["lexicon"] == {"sick": 2.5} and got["detector"] == {"min_ratio": 4.0}
    patched = client.patch(
        "/api/v1/monitors/acme", json={"active": False}, headers=admin["headers"]
    )
    assert patched.get_json()["active"] is False
    assert [
        m["key"] for m in client.get("/api/v1/monitors", headers=reviewer["headers"]).get_json()
    ] == ["acme"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"key": "Acme!", "name": "x"}, "key"),
        ({"key": "acme"}, "name"),
        ({"key": "acme", "name": "x", "detector": {"z_threshold": "high"}}, "detector.z_threshold"),
        ({"key": "acme", "name": "x", "detector": {"warp_speed": 9}}, "detector.warp_speed"),
        ({"key": "acme", "name": "x", "detector": {"volume_only": 1}}, "detector.volume_only"),
        ({"key": "acme", "name": "x", "detector": {"min_ratio": "2"}}, "detector.min_ratio"),
        ({"key": "acme", "name": "x", "detector": {"min_ratio": 0}}, "detector.min_ratio"),
        # one bucket length for every monitor: the bucket store counts them all alike
        (
            {"key": "acme", "name": "x", "detector": {"bucket_seconds": 300}},
            "detector.bucket_seconds",
        ),
        ({"key": "acme", "name": "x", "detector": {"rearm_seconds": 90}}, "detector.rearm_seconds"),
        (
            {"key": "acme", "name": "x", "detector": {"max_window_seconds": 241 * 60}},
            "detector.max_window_seconds",
        ),
        ({"key": "acme", "name": "x", "lexicon": {"sick": 9}}, "lexicon.sick.value"),
        ({"key": "acme", "name": "x", "lexicon": {"two words": 1}}, "lexicon.two words.key"),
        ({"key": "acme", "name": "x", "lexicon": {f"w{i}": 1 for i in range(501)}}, "lexicon"),
        ({"key": "acme", "name": "x", "false_pages_per_30_days": 0}, "false_pages_per_30_days"),
    ],
)
def test_invalid_monitor_is_422(client, admin, unchanged, payload, field):
    unchanged.mark()
    assert_problem(
        client.post("/api/v1/monitors", json=payload, headers=admin["headers"]), 422, field=field
    )
    unchanged.check()


def test_the_document_states_the_detector_settings_and_the_lexicon(client):
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    detector = spec["DetectorSettings"]
    assert detector["additionalProperties"] is False and "bucket_seconds" not in detector
    props = detector["properties"]
    assert props["min_ratio"] == {**props["min_ratio"], "type": "number", "exclusiveMinimum": 0}
    assert props["rearm_seconds"]["multipleOf"] == 60
    assert props["max_window_seconds"]["maximum"] == 240 * 60
    assert props["seasonality"]["enum"] == ["none", "daily", "daily+weekly"]
    lexicon = spec["MonitorCreate"]["properties"]["lexicon"]
    assert lexicon["maxProperties"] == 500 and "maxLength" not in lexicon
    assert lexicon["propertyNames"]["pattern"] == "^[^ \\u0000]{1,40}$"
    assert lexicon["additionalProperties"] == {"type": "number", "minimum": -4.0, "maximum": 4.0}


def test_duplicate_key_409_and_roles(client, admin, wolf, unchanged):
    client.post("/api/v1/monitors", json={"key": "acme", "name": "A"}, headers=admin["headers"])
    unchanged.mark()
    assert_problem(
        client.post(
            "/api/v1/monitors", json={"key": "acme", "name": "B"}, headers=admin["headers"]
        ),
        409,
        field="key",
    )
    assert_problem(
        client.post(
            "/api/v1/monitors", json={"key": "other", "name": "B"}, headers=wolf["headers"]
        ),
        403,
    )
    assert_problem(client.delete("/api/v1/monitors/acme", headers=wolf["headers"]), 403)
    assert_problem(client.get("/api/v1/monitors/nope", headers=wolf["headers"]), 404)
    unchanged.check()
    assert client.delete("/api/v1/monitors/acme", headers=admin["headers"]).status_code == 204


def test_sensitivity_is_a_false_page_budget(client, admin, reviewer, unchanged):
    created = client.post(
        "/api/v1/monitors",
        json={"key": "acme", "name": "Acme", "false_pages_per_30_days": 0.5},
        headers=admin["headers"],
    ).get_json()
    assert created["false_pages_per_30_days"] == 0.5
    assert created["detector"] == {"false_pages_per_30_days": 0.5}
    client.post("/api/v1/monitors", json={"key": "beta", "name": "B"}, headers=admin["headers"])
    listed = client.get("/api/v1/monitors", headers=reviewer["headers"]).get_json()
    assert [m["false_pages_per_30_days"] for m in listed] == [0.5, 2.0]  # 2.0: the default
    patched = client.patch(
        "/api/v1/monitors/acme",
        json={"false_pages_per_30_days": 4, "detector": {"min_ratio": 2.0}},
        headers=admin["headers"],
    ).get_json()
    assert patched["detector"] == {"min_ratio": 2.0, "false_pages_per_30_days": 4.0}
    kept = client.patch(
        "/api/v1/monitors/acme", json={"name": "Acme Inc"}, headers=admin["headers"]
    ).get_json()
    assert kept["false_pages_per_30_days"] == 4.0
    unchanged.mark()
    for bad in (0, -1, 1001, "often", None):
        assert_problem(
            client.patch(
                "/api/v1/monitors/acme",
                json={"false_pages_per_30_days": bad},
                headers=admin["headers"],
            ),
            422,
            field="false_pages_per_30_days",
        )
    unchanged.check()


def test_a_monitor_with_incidents_is_not_deleted(client, admin, unchanged, app):
    from service.extensions import db
    from service.incidents import service as incidents
    from service.incidents.models import Severity
    from service.timeline.service import Actor

    client.post("/api/v1/monitors", json={"key": "acme", "name": "A"}, headers=admin["headers"])
    with app.app_context(), db.transaction() as session:
        incidents.declare(
            session,
            title="t",
            severity=Severity.SEV3,
            actor=Actor.system("test"),
            monitor_id=1,
            announce_now=False,
        )
    unchanged.mark()
    assert_problem(client.delete("/api/v1/monitors/acme", headers=admin["headers"]), 409)
    unchanged.check()


def test_monitor_takes_an_escalation_policy_and_unknown_is_404(client, admin, unchanged):
    made = client.post(
        "/api/v1/escalation-policies",
        json={
            "key": "brand-a",
            "name": "Brand A",
            "levels": [{"targets": [{"role": "wolf"}], "delay_seconds": 60}],
        },
        headers=admin["headers"],
    )
    assert made.status_code == 201, made.get_json()
    resp = client.post(
        "/api/v1/monitors",
        json={"key": "acme", "name": "Acme", "escalation_policy": "brand-a"},
        headers=admin["headers"],
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["escalation_policy"] == "brand-a"
    listed = client.get("/api/v1/monitors", headers=admin["headers"]).get_json()
    assert listed[0]["escalation_policy"] == "brand-a"
    unchanged.mark()
    body = assert_problem(
        client.post(
            "/api/v1/monitors",
            json={"key": "other", "name": "O", "escalation_policy": "nope"},
            headers=admin["headers"],
        ),
        404,
        field="escalation_policy",
    )
    assert "nope" in body["detail"]
    assert_problem(
        client.patch(
            "/api/v1/monitors/acme", json={"escalation_policy": "nope"}, headers=admin["headers"]
        ),
        404,
        field="escalation_policy",
    )
    unchanged.check()
    cleared = client.patch(
        "/api/v1/monitors/acme", json={"escalation_policy": None}, headers=admin["headers"]
    )
    assert cleared.get_json()["escalation_policy"] is None
