"""Paging legal through the real twilio SDK; reminders and escalation of undecided approvals."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from service.auth.roles import Role
from service.db import utcnow
from service.extensions import db
from service.statements import deadlines
from service.statements.models import Approval
from tests.paging.fixtures import LEGAL, WOLF, contact, policy, sms_webhook, wait_for
from tests.statements.statement_fixtures import (
    HOLDING,
    decide,
    declare,
    draft,
    events,
    submit,
    url,
    use_policy,
)

ADMIN = "+14155550109"


def _setup(tw_app, *, with_wolf: bool = True):
    policy(tw_app, [{"targets": [{"role": "nobody"}], "delay_seconds": 3600}])
    wolf = contact(tw_app, "Winston Wolf", {Role.WOLF}, WOLF)
    legal = contact(tw_app, "Lena Legal", {Role.LEGAL}, LEGAL)
    admin = contact(tw_app, "Ada Admin", {Role.ADMIN}, ADMIN)
    comms = contact(tw_app, "Cora Comms", {Role.COMMS}, "+14155550108", verified=False)
    client = tw_app.test_client()
    number = declare(client, wolf, wolf_id=wolf["id"] if with_wolf else None)
    sid = draft(client, comms, number)["id"]
    return client, number, sid, {"wolf": wolf, "legal": legal, "admin": admin, "comms": comms}


def _texts(standin, to: str) -> list[str]:
    """The SMS to a phone, less the opening notice of the playbook's `page` roles (legal is
    called in at open; tests/playbooks/test_page_roles.py)."""
    bodies = [m.params["Body"] for m in standin.messages if m.params["To"] == to]
    return [b for b in bodies if "you are called in as" not in b]


def _approval(app) -> Approval:
    with app.app_context():
        return db.session.scalar(select(Approval))


def test_submission_texts_legal_with_number_and_link(tw_app, tw_jobs, standin):
    client, number, sid, crew = _setup(tw_app)
    assert submit(client, crew["comms"], number, sid).status_code == 200
    tw_jobs()
    [body] = _texts(standin, LEGAL)
    assert f"#{number}" in body and "needs approval by legal" in body
    assert re.search(r"https://firebreak\.test/r/[A-Za-z0-9_-]{22}$", body), body
    submitted = events(client, crew["wolf"], number, "statement.submitted")[0]
    assert submitted["data"]["notified"] == [{"user": "Lena Legal", "user_id": crew["legal"]["id"]}]


def test_an_sms_approve_never_approves(tw_app, tw_jobs, standin):
    client, number, sid, crew = _setup(tw_app)
    submit(client, crew["comms"], number, sid)
    tw_jobs()
    for body in ("APPROVE", f"APPROVE #{number}", "YES", "OK"):
        resp = sms_webhook(client, body, LEGAL, token=standin.auth_token)
        assert resp.status_code == 200
    tw_jobs()
    st = client.get(url(number, sid), headers=crew["wolf"]["headers"]).get_json()
    approval = st["versions"][0]["approval"]
    assert approval["status"] == "pending" and approval["decisions"] == []
    kinds = [e["kind"] for e in events(client, crew["wolf"], number)]
    assert "statement.approved" not in kinds


def test_sweep_reminds_then_escalates_once(tw_app, tw_jobs, standin):
    client, number, sid, crew = _setup(tw_app, with_wolf=False)
    submit(client, crew["comms"], number, sid)
    tw_jobs()
    due = _approval(tw_app).due_at
    with tw_app.app_context():
        assert deadlines.sweep(now=due - timedelta(seconds=5)) == {
            "statement_reminders": 0,
            "statement_escalations": 0,
        }
        assert deadlines.sweep(now=due + timedelta(seconds=1))["statement_reminders"] == 1
        assert deadlines.sweep(now=due + timedelta(seconds=2))["statement_reminders"] == 0
        assert deadlines.sweep(now=due + timedelta(seconds=1790))["statement_escalations"] == 0
        later = due + timedelta(seconds=1800 + 5)
        assert deadlines.sweep(now=later)["statement_escalations"] == 1
        assert deadlines.sweep(now=later) == {"statement_reminders": 0, "statement_escalations": 0}
    tw_jobs()
    legal_texts = _texts(standin, LEGAL)
    assert len(legal_texts) == 2 and legal_texts[1].startswith(f"Firebreak #{number}: REMINDER")
    [escalation] = _texts(standin, ADMIN)  # no Wolf assigned: the admins are told
    assert "still waiting for legal past its deadline" in escalation
    kinds = [e["kind"] for e in events(client, crew["admin"], number)]
    assert kinds.count("statement.reminder") == 1 and kinds.count("statement.escalated") == 1


def test_decided_approvals_are_not_reminded(tw_app, tw_jobs, standin):
    client, number, sid, crew = _setup(tw_app)
    submit(client, crew["comms"], number, sid)
    decide(client, crew["legal"], number, sid, 1, HOLDING)
    with tw_app.app_context():
        far = utcnow() + timedelta(days=1)
        assert deadlines.sweep(now=far) == {"statement_reminders": 0, "statement_escalations": 0}


def test_undecided_approval_reminds_then_escalates_with_a_real_worker(
    tw_app, standin, worker_process, monkeypatch
):
    use_policy(monkeypatch, approval_due_seconds=1)
    client, number, sid, crew = _setup(tw_app)
    worker = worker_process()
    try:
        assert submit(client, crew["comms"], number, sid).status_code == 200
        wait_for(lambda: len(_texts(standin, LEGAL)) >= 2, timeout=30)
        wait_for(lambda: any("still waiting" in t for t in _texts(standin, WOLF)), timeout=30)
    finally:
        worker.stop()
    legal_texts = _texts(standin, LEGAL)
    assert "needs approval by legal" in legal_texts[0] and "REMINDER" in legal_texts[1]
    approval = _approval(tw_app)
    assert approval.status == "pending" and approval.reminded_at and approval.escalated_at
    kinds = [e["kind"] for e in events(client, crew["wolf"], number)]
    assert kinds.count("statement.reminder") == 1 and kinds.count("statement.escalated") == 1
