"""Approval rules as data: several roles, the checklist, one decision per race, immutability."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from service.bus import REACTIONS_KEY
from service.extensions import db
from service.statements import approval as approvals
from service.statements.hooks import StatementApproved
from service.statements.models import ApprovalDecision, StatementVersion
from service.statements.service import approved_exists
from tests.helpers import assert_problem
from tests.statements.statement_fixtures import (
    HOLDING,
    decide,
    declare,
    draft,
    events,
    publish,
    submit,
    url,
    use_policy,
)

CHECKLIST = [
    {"id": "front-page", "text": "Happy to see this on a newspaper's front page?"},
    {"id": "no-admission", "text": "Admits no liability"},
]


def test_two_roles_and_a_checklist_from_the_playbook(client, crew, people, monkeypatch, unchanged):
    from service.auth.roles import Role

    use_policy(monkeypatch, approvals=["legal", "comms"], checklist=CHECKLIST)
    number = declare(client, crew["wolf"], wolf_id=crew["wolf"]["id"])
    sid = draft(client, crew["wolf"], number)["id"]
    approval = submit(client, crew["wolf"], number, sid).get_json()["approval"]
    assert approval["required_roles"] == ["legal", "comms"]
    assert approval["checklist"] == CHECKLIST

    unchanged.mark()
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING, checklist=["front-page"])
    body = assert_problem(resp, 409, field="checklist", contains="no-admission")
    assert body["missing"] == "no-admission"
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING, checklist=["bogus"])
    assert_problem(resp, 409, field="checklist", contains="unknown checklist item: bogus")
    unchanged.check()

    ticked = ["front-page", "no-admission"]
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING, checklist=ticked)
    assert resp.status_code == 200, resp.get_json()
    approval = resp.get_json()["approval"]
    assert approval["status"] == "pending" and approval["missing_roles"] == ["comms"]
    assert approval["decisions"][0]["checklist"] == ticked
    assert_problem(publish(client, crew["comms"], number, sid, 1, HOLDING), 409, contains="comms")

    # a second lawyer cannot fill the comms slot
    unchanged.mark()
    resp = decide(client, crew["legal2"], number, sid, 1, HOLDING, checklist=ticked)
    assert_problem(resp, 409, contains="already approved by legal")
    unchanged.check()

    # someone holding both roles still decides once, for the open role
    both = people.make(Role.LEGAL, Role.COMMS, name="Bo Both")
    resp = decide(client, both, number, sid, 1, HOLDING, checklist=ticked)
    assert resp.status_code == 200, resp.get_json()
    approval = resp.get_json()["approval"]
    assert approval["status"] == "approved"
    assert [d["role"] for d in approval["decisions"]] == ["legal", "comms"]
    assert publish(client, crew["comms"], number, sid, 1, HOLDING).status_code == 201
    approved = [e for e in events(client, crew["wolf"], number) if "approved" in e["kind"]]
    assert [e["data"]["status"] for e in approved] == ["pending", "approved"]
    assert approved[0]["data"]["waiting_for"] == ["comms"]


def test_the_rule_is_snapshotted_at_submission(client, crew, monkeypatch):
    use_policy(monkeypatch, approvals=["legal"])
    number = declare(client, crew["wolf"])
    sid = draft(client, crew["comms"], number)["id"]
    submit(client, crew["comms"], number, sid)
    use_policy(monkeypatch, approvals=["legal", "wolf"], checklist=CHECKLIST)
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING)
    assert resp.get_json()["approval"]["status"] == "approved"


def test_the_rule_comes_from_the_playbook_or_the_default(app, monkeypatch):
    monkeypatch.undo()  # the real policy_for, not the suite's default rule
    rule = {"approvals": ["legal", "comms", "legal"], "approval_due_seconds": 60, "checklist": []}
    monkeypatch.setattr(approvals, "statement_policy", lambda _s, *, incident_id: rule)
    with app.app_context():
        assert approvals.policy_for(db.session, incident_id=1) == {
            "approvals": ["legal", "comms"],
            "approval_due_seconds": 60,
            "checklist": [],
        }
        monkeypatch.setattr(approvals, "statement_policy", lambda _s, *, incident_id: None)
        assert approvals.policy_for(db.session, incident_id=1) == approvals.DEFAULT_POLICY
        empty = {"approvals": [], "approval_due_seconds": None, "checklist": []}
        monkeypatch.setattr(approvals, "statement_policy", lambda _s, *, incident_id: empty)
        assert approvals.policy_for(db.session, incident_id=1) == approvals.DEFAULT_POLICY


def test_full_approval_sends_the_signal_once_and_approved_exists(app, client, crew, monkeypatch):
    use_policy(monkeypatch, approvals=["legal", "comms"])
    received: list[dict] = []

    def listener(event: StatementApproved) -> None:
        received.append(
            {
                "incident_id": event.incident_id,
                "statement_id": event.statement_id,
                "in_tx": event.session.in_transaction(),
            }
        )

    table = app.extensions[REACTIONS_KEY]
    monkeypatch.setitem(table, StatementApproved, (*table[StatementApproved], listener))
    number = declare(client, crew["wolf"])
    sid = draft(client, crew["wolf"], number)["id"]
    submit(client, crew["wolf"], number, sid)
    with app.app_context():
        assert not approved_exists(db.session, incident_id=number)
    decide(client, crew["legal"], number, sid, 1, HOLDING)
    assert received == []
    with app.app_context():
        assert not approved_exists(db.session, incident_id=number)
    decide(client, crew["comms"], number, sid, 1, HOLDING)
    assert received == [{"incident_id": number, "statement_id": sid, "in_tx": True}]
    with app.app_context():
        assert approved_exists(db.session, incident_id=number)
        assert not approved_exists(db.session, incident_id=number + 1)


def test_racing_approvals_make_one_decision(app, client, crew, people):
    from service.auth.roles import Role

    lawyers = [people.make(Role.LEGAL, name=f"Lawyer {i}") for i in range(8)]
    number = declare(client, crew["wolf"], wolf_id=crew["wolf"]["id"])
    sid = draft(client, crew["comms"], number)["id"]
    submit(client, crew["comms"], number, sid)
    barrier = threading.Barrier(len(lawyers))
    results: list[int] = []

    def approve(person: dict) -> None:
        c = app.test_client()
        barrier.wait()
        results.append(decide(c, person, number, sid, 1, HOLDING).status_code)

    threads = [threading.Thread(target=approve, args=(p,)) for p in lawyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * (len(lawyers) - 1)
    with app.app_context():
        assert len(list(db.session.scalars(select(ApprovalDecision)))) == 1
    kinds = [e["kind"] for e in events(client, crew["wolf"], number)]
    assert kinds.count("statement.approved") == 1
    verify = client.get(
        f"/api/v1/incidents/{number}/timeline/verify", headers=crew["wolf"]["headers"]
    )
    assert verify.get_json()["intact"] is True


def test_racing_approve_and_reject_make_one_decision(app, client, crew):
    number = declare(client, crew["wolf"])
    sid = draft(client, crew["comms"], number)["id"]
    submit(client, crew["comms"], number, sid)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def act(who: str, action: str) -> None:
        c = app.test_client()
        barrier.wait()
        resp = decide(c, crew[who], number, sid, 1, HOLDING, action=action, comment="why")
        results[action] = resp.status_code

    threads = [
        threading.Thread(target=act, args=("legal", "approve")),
        threading.Thread(target=act, args=("legal2", "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    st = client.get(url(number, sid), headers=crew["wolf"]["headers"]).get_json()
    approval = st["versions"][0]["approval"]
    assert len(approval["decisions"]) == 1
    winner = "approved" if results["approve"] == 200 else "rejected"
    assert approval["status"] == winner


def test_versions_cannot_be_changed_or_deleted(app, client, crew):
    number = declare(client, crew["wolf"])
    draft(client, crew["comms"], number)
    with app.app_context():
        version = db.session.scalar(select(StatementVersion))
        version.text = "sneaky edit"
        with pytest.raises(PermissionError, match="immutable"):
            db.session.flush()
        db.session.rollback()
        version = db.session.scalar(select(StatementVersion))
        db.session.delete(version)
        with pytest.raises(PermissionError, match="immutable"):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(StatementVersion)).text == HOLDING
