"""The timeline: every action in order, UTC microseconds, append-only, hash-chained."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service.auth.roles import Role
from service.extensions import db
from service.timeline.models import TimelineEvent
from tests.conftest import IS_SQLITE

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def drive_lifecycle(client, wolf, legal) -> None:
    h = wolf["headers"]
    assert (
        client.post(
            "/api/v1/incidents", json={"title": "Recall rumour", "severity": "sev3"}, headers=h
        ).status_code
        == 201
    )
    steps = [
        ("put", "/api/v1/incidents/1/roles/wolf", {"user_id": wolf["id"]}),
        ("post", "/api/v1/incidents/1/acknowledge", {"note": "on it"}),
        ("patch", "/api/v1/incidents/1", {"severity": "sev1", "reason": "press calls"}),
        ("post", "/api/v1/incidents/1/notes", {"text": "Holding statement drafted"}),
        ("patch", "/api/v1/incidents/1", {"title": "Product recall rumour"}),
        ("post", "/api/v1/incidents/1/resolve", {}),
        ("post", "/api/v1/incidents/1/reopen", {"note": "second wave"}),
        ("post", "/api/v1/incidents/1/acknowledge", {}),
        ("post", "/api/v1/incidents/1/resolve", {}),
        ("post", "/api/v1/incidents/1/close", {}),
    ]
    for method, url, body in steps:
        resp = getattr(client, method)(url, json=body, headers=h)
        assert resp.status_code in (200, 201), (url, resp.get_json())
    client.post(
        "/api/v1/incidents/1/notes", json={"text": "Legal review done"}, headers=legal["headers"]
    )


@pytest.mark.smoke
def test_whole_lifecycle_is_on_the_timeline_in_order_with_a_verified_chain(client, people):
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    legal = people.make(Role.LEGAL, name="Lena Legal")
    reviewer = people.make(Role.REVIEWER, name="Rita Reviewer")
    drive_lifecycle(client, wolf, legal)
    body = client.get("/api/v1/incidents/1/timeline", headers=reviewer["headers"]).get_json()
    events = body["events"]
    kinds = [e["kind"] for e in events]
    paging = ("escalation.", "page.", "playbook.", "step.")  # nobody here has a phone to page
    incident_kinds = [k for k in kinds if not k.startswith(paging)]
    assert incident_kinds == [
        "incident.declared",
        "incident.role_assigned",
        "incident.acknowledged",
        "incident.severity_changed",
        "note.added",
        "incident.details_changed",
        "incident.resolved",
        "incident.reopened",
        "incident.acknowledged",
        "incident.resolved",
        "incident.closed",
        "note.added",
    ]
    # paging is on the same timeline: level 1 at open and at reopen, stopped by each ack
    assert kinds[1] == "escalation.level"
    assert kinds.count("escalation.level") == 2 and kinds.count("escalation.stopped") == 2
    assert kinds[kinds.index("incident.acknowledged") + 1] == "escalation.stopped"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(TIME.match(e["at"]) for e in events)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(events, events[1:], strict=False))
    ack = events[kinds.index("incident.acknowledged")]
    assert ack["actor"] == f"Winston Wolf (#{wolf['id']})"
    assert ack["data"] == {"from": "triggered", "to": "acknowledged", "note": "on it"}
    severity = events[kinds.index("incident.severity_changed")]
    assert severity["data"] == {"from": "sev3", "to": "sev1", "reason": "press calls"}
    assert events[-1]["actor_user_id"] == legal["id"]
    verify = client.get("/api/v1/incidents/1/timeline/verify", headers=reviewer["headers"])
    assert verify.get_json() == {
        "incident_id": 1,
        "intact": True,
        "events": len(events),
        "head_hash": events[-1]["hash"],
        "first_bad_seq": None,
        "problem": None,
    }


def test_timeline_slices(client, wolf):
    client.post(
        "/api/v1/incidents", json={"title": "t", "severity": "sev3"}, headers=wolf["headers"]
    )
    for i in range(6):
        client.post("/api/v1/incidents/1/notes", json={"text": str(i)}, headers=wolf["headers"])
    first = client.get("/api/v1/incidents/1/timeline?limit=4", headers=wolf["headers"]).get_json()
    assert [e["seq"] for e in first["events"]] == [1, 2, 3, 4] and first["next_after_seq"] == 4
    rest = client.get(
        "/api/v1/incidents/1/timeline?after_seq=4", headers=wolf["headers"]
    ).get_json()
    total = len(
        client.get("/api/v1/incidents/1/timeline", headers=wolf["headers"]).get_json()["events"]
    )
    assert total >= 8  # opened, six notes, and whatever the playbook added
    assert [e["seq"] for e in rest["events"]] == list(range(5, total + 1))
    assert rest["next_after_seq"] is None


def _tamper(app, sql: str) -> None:
    """Tamper as someone with database superuser rights would: bypass the append-only trigger."""
    with app.app_context(), db.engine.begin() as conn:
        if IS_SQLITE:
            conn.execute(text("DROP TRIGGER timeline_events_no_update"))
            conn.execute(text("DROP TRIGGER timeline_events_no_delete"))
        else:
            conn.execute(text("ALTER TABLE timeline_events DISABLE TRIGGER USER"))
        conn.execute(text(sql))
        if not IS_SQLITE:
            conn.execute(text("ALTER TABLE timeline_events ENABLE TRIGGER USER"))


@pytest.mark.parametrize(
    ("sql", "bad_seq", "problem"),
    [
        (
            'UPDATE timeline_events SET data = \'{"text": "nothing to see"}\' WHERE seq = 3',
            3,
            "content altered",
        ),
        (
            "UPDATE timeline_events SET at = at - interval '1 hour' WHERE seq = 2",
            2,
            "content altered",
        ),
        ("DELETE FROM timeline_events WHERE seq = 2", 3, "expected 2, found 3"),
        ("UPDATE timeline_events SET actor = 'Someone else' WHERE seq = 4", 4, "content altered"),
    ],
)
def test_tampering_in_sql_is_detected(app, client, wolf, sql, bad_seq, problem):
    client.post(
        "/api/v1/incidents", json={"title": "t", "severity": "sev3"}, headers=wolf["headers"]
    )
    for text_ in ("a", "b", "c"):
        client.post("/api/v1/incidents/1/notes", json={"text": text_}, headers=wolf["headers"])
    _tamper(app, sql)
    report = client.get("/api/v1/incidents/1/timeline/verify", headers=wolf["headers"]).get_json()
    assert report["intact"] is False
    assert report["first_bad_seq"] == bad_seq and problem in report["problem"]
    result = app.test_cli_runner().invoke(args=["timeline", "verify", "1"])
    assert result.exit_code == 1 and f"BROKEN at seq {bad_seq}" in result.output


@pytest.mark.smoke
def test_database_refuses_update_and_delete(app, client, wolf):
    client.post(
        "/api/v1/incidents", json={"title": "t", "severity": "sev3"}, headers=wolf["headers"]
    )
    for sql in ("UPDATE timeline_events SET actor = 'x'", "DELETE FROM timeline_events"):
        with app.app_context(), pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text(sql))
    result = app.test_cli_runner().invoke(args=["timeline", "verify"])
    assert result.exit_code == 0 and re.search(r"#1: intact \(\d+ events", result.output)


def test_code_paths_cannot_update_or_delete_events(app, client, wolf):
    client.post(
        "/api/v1/incidents", json={"title": "t", "severity": "sev3"}, headers=wolf["headers"]
    )
    with app.app_context():
        session = db.session
        event = session.scalar(select(TimelineEvent))
        event.actor = "rewritten"
        with pytest.raises(PermissionError):
            session.flush()
        session.rollback()
        session.delete(session.scalar(select(TimelineEvent)))
        with pytest.raises(PermissionError):
            session.flush()
        session.rollback()


def test_no_endpoint_writes_or_deletes_timeline_events(app):
    for rule in app.url_map.iter_rules():
        if "timeline" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
