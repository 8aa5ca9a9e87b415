"""Playbook runs: selection on open, step rules via the API and SMS, frozen content."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from service import create_app
from service.auth.roles import Role
from service.extensions import db
from service.incidents import service as incidents
from service.incidents.models import Severity
from service.monitors.models import Monitor
from service.timeline.service import Actor
from tests.conftest import settings_for_tests
from tests.paging.fixtures import FROM_NUMBER, contact, sms_webhook, twilio_settings

DRILL = """\
id: drill
version: 1
title: Drill
description: A short drill.
default: true
triggers:
  - severity_at_least: sev1
page: [wolf]
steps:
  - id: assess
    title: Assess the storm
    owner: responder
    due: {due}
    notify: true
    instructions: Look at it.
  - id: reply
    title: Reply publicly
    owner: comms
    due: {{after: 10m, from: ready}}
    depends_on: [assess]
    instructions: Reply.
  - id: extra
    title: Extra polish
    owner: comms
    due: 2h
    optional: true
    depends_on: [assess]
    instructions: Maybe.
"""


def drill_dir(tmp_path: Path, due: str = "30m") -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "drill.yaml").write_text(DRILL.format(due=due))
    return folder


@pytest.fixture
def drill_app(app: Flask, tmp_path: Path) -> Flask:
    return create_app(settings_for_tests(PLAYBOOKS_DIR=str(drill_dir(tmp_path))))


def declare(client, who: dict, severity: str = "sev2") -> int:
    body = {"title": "Storm", "severity": severity}
    resp = client.post("/api/v1/incidents", json=body, headers=who["headers"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["number"]


def step_action(client, who, number, step, action, **body):
    return client.post(
        f"/api/v1/incidents/{number}/playbook/steps/{step}/{action}",
        json=body,
        headers=who["headers"],
    )


def states(client, who, number) -> dict[str, str]:
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=who["headers"]).get_json()
    return {s["id"]: s["state"] for s in run["steps"]}


def test_declared_and_detector_opened_incidents_get_the_right_playbook(app, client, wolf):
    number = declare(client, wolf, "sev2")
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=wolf["headers"]).get_json()
    assert run["playbook_id"] == "negative-firestorm" and len(run["sha256"]) == 64
    assert run["steps"][0]["position"] == 1 and run["steps"][0]["instructions"]
    with app.app_context(), db.transaction() as session:
        tagged = Monitor(key="acme", name="Acme", tags=["executive"])
        named = Monitor(key="shop", name="Shop", playbook_id="customer-service-surge")
        session.add_all([tagged, named])
        session.flush()
        numbers = [
            incidents.declare(
                session,
                title=f"storm {m.key}",
                severity=Severity.SEV3,
                source="detector",
                actor=Actor.system("detector"),
                monitor_id=m.id,
            ).id
            for m in (tagged, named)
        ]
    got = [
        client.get(f"/api/v1/incidents/{n}/playbook", headers=wolf["headers"]).get_json()
        for n in numbers
    ]
    assert [g["playbook_id"] for g in got] == ["executive-post", "customer-service-surge"]
    assert "named by monitor shop" in got[1]["reason"]
    kinds = [
        e["kind"]
        for e in client.get(
            f"/api/v1/incidents/{number}/timeline", headers=wolf["headers"]
        ).get_json()["events"]
    ]
    assert "playbook.attached" in kinds and "step.changed" in kinds


def test_walk_a_playbook_via_api_with_rules(drill_app, people, unchanged):
    client = drill_app.test_client()
    lead = people.make(Role.WOLF, name="Wanda Wolf")
    responder = people.make(Role.RESPONDER, name="Rex Responder")
    comms = people.make(Role.COMMS, name="Cora Comms")
    number = declare(client, lead)
    assert states(client, lead, number) == {
        "assess": "ready",
        "reply": "pending",
        "extra": "pending",
    }
    unchanged.mark()
    assert step_action(client, comms, number, "assess", "start").status_code == 403
    resp = step_action(client, responder, number, "reply", "done")
    assert resp.status_code == 403  # comms owns it
    resp = step_action(client, comms, number, 2, "done")
    assert resp.status_code == 409 and resp.get_json()["type"].endswith("invalid-transition")
    assert step_action(client, responder, number, "assess", "block").status_code == 422
    assert step_action(client, comms, number, "reply", "skip", reason="no").status_code == 403
    blank = client.post(
        f"/api/v1/incidents/{number}/playbook/steps/assess/notes",
        json={"text": "  \n "},
        headers=responder["headers"],
    )
    assert blank.status_code == 422
    assert [e["field"] for e in blank.get_json()["errors"]] == ["text"]
    unchanged.check()
    assert step_action(client, responder, number, 1, "start").get_json()["state"] == "in_progress"
    resp = client.post(
        f"/api/v1/incidents/{number}/playbook/steps/assess/notes",
        json={"text": "screenshots attached"},
        headers=responder["headers"],
    )
    assert resp.status_code == 201
    done = step_action(client, responder, number, "assess", "done").get_json()
    assert done["state"] == "done" and done["finished_at"]
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=lead["headers"]).get_json()
    reply = run["steps"][1]
    assert reply["state"] == "ready" and reply["due_at"] and reply["ready_at"]
    assert run["steps"][0]["notes"][0]["text"] == "screenshots attached"
    assert step_action(client, comms, number, "extra", "skip").status_code == 422
    assert (
        step_action(client, comms, number, "extra", "skip", reason="not needed").status_code == 200
    )
    assert step_action(client, lead, number, "reply", "done").status_code == 200
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=lead["headers"]).get_json()
    assert run["complete"] is True
    again = client.post(f"/api/v1/incidents/{number}/playbook", json={}, headers=lead["headers"])
    assert again.status_code == 409
    assert (
        client.post(
            f"/api/v1/incidents/{number}/playbook", json={"replace": True}, headers=comms["headers"]
        ).status_code
        == 403
    )


def test_editing_the_file_after_attaching_changes_nothing(drill_app, people, tmp_path):
    client = drill_app.test_client()
    lead = people.make(Role.ADMIN, name="Ada")
    number = declare(client, lead)
    before = client.get(f"/api/v1/incidents/{number}/playbook", headers=lead["headers"]).get_json()
    path = Path(drill_app.config["PLAYBOOKS_DIR"]) / "drill.yaml"
    path.write_text(
        path.read_text()
        .replace("version: 1", "version: 2")
        .replace("Assess the storm", "Assess it again")
    )
    after = client.get(f"/api/v1/incidents/{number}/playbook", headers=lead["headers"]).get_json()
    assert after == before
    replaced = client.post(
        f"/api/v1/incidents/{number}/playbook",
        json={"replace": True, "playbook_id": "drill", "reason": "new version"},
        headers=lead["headers"],
    )
    assert replaced.status_code == 201, replaced.get_json()
    new = replaced.get_json()
    assert new["version"] == 2 and new["steps"][0]["title"] == "Assess it again"
    assert new["sha256"] != before["sha256"] and "new version" in new["reason"]
    path.write_text("id: drill\nversion: [broken\n")  # invalid: the last valid one stays
    other = declare(client, lead)
    run = client.get(f"/api/v1/incidents/{other}/playbook", headers=lead["headers"]).get_json()
    assert run["playbook_id"] == "drill" and run["version"] == 2


def test_sms_done_completes_a_step(app, standin, tmp_path):
    tw = create_app(twilio_settings(standin, PLAYBOOKS_DIR=str(drill_dir(tmp_path))))
    lead = contact(tw, "Wes Wolf", {Role.WOLF}, "+14155550201")
    rex = contact(tw, "Rex Resp", {Role.RESPONDER}, "+14155550202")
    client = tw.test_client()
    number = declare(client, lead)
    reply = sms_webhook(client, f"DONE {number} 1", rex["phone"], token=standin.auth_token)
    text = reply.get_data(as_text=True)
    assert f"#{number} step 1 (assess) done" in text and "Ready now: 2, 3" in text
    reply = sms_webhook(client, f"DONE {number} 2", rex["phone"], token=standin.auth_token)
    assert "only that role" in reply.get_data(as_text=True)
    assert states(client, lead, number)["reply"] == "ready"
    reply = sms_webhook(client, f"DONE {number} reply", lead["phone"], token=standin.auth_token)
    assert "step 2 (reply) done" in reply.get_data(as_text=True)
    assert FROM_NUMBER
