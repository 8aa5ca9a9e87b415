"""PATCH of a monitor's detector settings: a JSON merge patch (RFC 7396) of its overrides."""

from __future__ import annotations

import pytest

from tests.helpers import assert_problem

URL = "/api/v1/monitors/acme"
START = {"min_ratio": 4.0, "seasonality": "none", "false_pages_per_30_days": 0.5}


@pytest.fixture
def acme(client, admin) -> dict:
    """A monitor with three detector overrides (the budget among them)."""
    resp = client.post(
        "/api/v1/monitors",
        json={"key": "acme", "name": "Acme", "detector": START},
        headers=admin["headers"],
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def patch(client, admin, body: dict):
    """PATCH the monitor as the admin."""
    return client.patch(URL, json=body, headers=admin["headers"])


def stored(client, admin) -> dict:
    """The monitor as the API shows it now."""
    return client.get(URL, headers=admin["headers"]).get_json()


def test_a_detector_patch_merges_into_the_overrides(client, admin, acme):
    resp = patch(client, admin, {"detector": {"false_pages_per_30_days": 1}})
    assert resp.status_code == 200, resp.get_json()
    merged = {"min_ratio": 4.0, "seasonality": "none", "false_pages_per_30_days": 1.0}
    assert resp.get_json()["detector"] == merged  # the other overrides are kept
    assert stored(client, admin)["detector"] == merged
    assert stored(client, admin)["false_pages_per_30_days"] == 1.0
    assert patch(client, admin, {"detector": {}}).get_json()["detector"] == merged
    assert patch(client, admin, {"name": "Acme Inc"}).get_json()["detector"] == merged


def test_null_resets_one_setting_and_a_null_detector_resets_them_all(client, admin, acme):
    resp = patch(client, admin, {"detector": {"min_ratio": None, "false_pages_per_30_days": None}})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["detector"] == {"seasonality": "none"}
    assert body["false_pages_per_30_days"] == 2.0  # back to the default
    # resetting a setting that is not overridden is no change
    assert patch(client, admin, {"detector": {"warmup_z": None}}).get_json()["detector"] == {
        "seasonality": "none"
    }
    cleared = patch(client, admin, {"detector": None})
    assert cleared.status_code == 200 and cleared.get_json()["detector"] == {}
    assert stored(client, admin)["detector"] == {}


def test_the_evaluation_uses_the_merged_settings(client, admin, acme, app):
    from service.detection.service import config_of
    from service.extensions import db
    from service.monitors import service as monitors

    patch(client, admin, {"detector": {"min_ratio": None, "min_excess": 5}})
    with app.app_context():
        config = config_of(monitors.get(db.session, key="acme").detector)
    assert (config.min_ratio, config.min_excess) == (1.5, 5.0)
    assert (config.seasonality, config.false_pages_per_30_days) == ("none", 0.5)


@pytest.mark.parametrize("inner", [1, 1.0])
def test_the_budget_in_both_places_must_be_one_value(client, admin, acme, unchanged, inner):
    resp = patch(
        client,
        admin,
        {"false_pages_per_30_days": 1, "detector": {"false_pages_per_30_days": inner}},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["detector"]["false_pages_per_30_days"] == 1.0
    assert resp.get_json()["detector"]["min_ratio"] == 4.0
    unchanged.mark()
    for conflicting in (3, None):
        body = {"false_pages_per_30_days": 2, "detector": {"false_pages_per_30_days": conflicting}}
        problem = assert_problem(patch(client, admin, body), 422, field="false_pages_per_30_days")
        assert "detector.false_pages_per_30_days" in [e["field"] for e in problem["errors"]]
    unchanged.check()


def test_a_new_monitor_gives_the_budget_once_too(client, admin, unchanged):
    unchanged.mark()
    assert_problem(
        client.post(
            "/api/v1/monitors",
            json={
                "key": "beta",
                "name": "B",
                "false_pages_per_30_days": 1,
                "detector": {"false_pages_per_30_days": 4},
            },
            headers=admin["headers"],
        ),
        422,
        field="false_pages_per_30_days",
    )
    unchanged.check()
    same = client.post(
        "/api/v1/monitors",
        json={
            "key": "beta",
            "name": "B",
            "false_pages_per_30_days": 4,
            "detector": {"false_pages_per_30_days": 4.0},
        },
        headers=admin["headers"],
    )
    assert same.status_code == 201 and same.get_json()["false_pages_per_30_days"] == 4.0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"detector": {"min_ratio": 0}}, "detector.min_ratio"),
        ({"detector": {"min_ratio": "2", "warmup_z": None}}, "detector.min_ratio"),
        ({"detector": {"false_pages_per_30_days": 0}}, "detector.false_pages_per_30_days"),
        ({"detector": {"false_pages_per_30_days": 1001}}, "detector.false_pages_per_30_days"),
        ({"detector": {"seasonality": "hourly"}}, "detector.seasonality"),
        ({"detector": {"rearm_seconds": 90}}, "detector.rearm_seconds"),
        ({"detector": {"volume_only": 1}}, "detector.volume_only"),
        ({"detector": {"bucket_seconds": None}}, "detector.bucket_seconds"),
        ({"detector": {"warp_speed": None}}, "detector.warp_speed"),
        ({"detector": "sensitive"}, "detector"),
        ({"detector": {"min_excess": 5}, "false_pages_per_30_days": 0}, "false_pages_per_30_days"),
    ],
)
def test_an_invalid_patch_is_422_and_changes_nothing(client, admin, acme, unchanged, body, field):
    unchanged.mark()
    assert_problem(patch(client, admin, body), 422, field=field)
    unchanged.check()
    assert stored(client, admin)["detector"] == START


def test_a_stored_override_that_no_longer_works_is_named(client, admin, acme, app, unchanged):
    from service.extensions import db
    from service.monitors.models import Monitor

    with app.app_context(), db.transaction() as session:
        monitor = session.query(Monitor).filter_by(key="acme").one()
        monitor.detector = {**START, "min_ratio": -1.0}  # written before the range was checked
    unchanged.mark()
    assert_problem(
        patch(client, admin, {"detector": {"min_excess": 5}}),
        422,
        field="detector",
        contains="min_ratio",
    )
    unchanged.check()
    fixed = patch(client, admin, {"detector": {"min_ratio": None}})
    assert fixed.status_code == 200 and fixed.get_json()["detector"] == {
        "seasonality": "none",
        "false_pages_per_30_days": 0.5,
    }


def test_the_document_states_the_patch_schema(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    update = schemas["MonitorUpdate"]["properties"]["detector"]
    assert {"$ref": "#/components/schemas/DetectorSettingsPatch"} in update["anyOf"]
    assert {"type": "null"} in update["anyOf"] and "RFC 7396" in update["description"]
    create = schemas["MonitorCreate"]["properties"]["detector"]
    assert create["$ref"] == "#/components/schemas/DetectorSettings"
    settings, patched = schemas["DetectorSettings"], schemas["DetectorSettingsPatch"]
    assert patched["additionalProperties"] is False and "required" not in patched
    assert set(patched["properties"]) == set(settings["properties"])
    for name, prop in patched["properties"].items():
        assert "null" in prop["type"], name
        assert "null" not in settings["properties"][name]["type"], name
    assert patched["properties"]["min_ratio"]["exclusiveMinimum"] == 0
