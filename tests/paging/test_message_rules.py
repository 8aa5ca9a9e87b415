"""The message rules: pages first, notices alone, unique codes, nothing after resolve, the
resolution SMS, never early. Real Redis, RQ workers and the twilio SDK against the stand-in."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from service import create_app
from service.db import utcnow
from service.extensions import db
from service.incidents.models import Incident
from service.paging import jobs as paging_jobs
from service.paging import service as paging
from service.paging.models import Escalation, Page
from tests.paging.fixtures import (
    BACKUP,
    LEGAL,
    WOLF,
    declare,
    kinds,
    policy,
    team,
    twilio_settings,
)


def _to(standin, phone):
    return [m.params["Body"] for m in standin.messages if m.params["To"] == phone]


@pytest.fixture
def spaced_app(app: Flask, standin) -> Flask:
    """The app with the default 30 s spacing between messages to one phone."""
    settings = twilio_settings(standin)
    settings["SMS_THROTTLE_SECONDS"] = 30
    return create_app(settings)


def _jobs(app: Flask) -> None:
    from workers.runtime import make_worker

    make_worker(app, simple=True).work(burst=True, logging_level="WARNING")


def test_a_page_is_never_held_behind_a_notice(spaced_app, standin):
    wolf, backup, legal = team(spaced_app)
    policy(spaced_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = spaced_app.test_client()
    first = declare(client, wolf, title="first")
    with spaced_app.app_context(), db.transaction() as session:
        incident = session.get_one(Incident, first)
        user = incident.assignee(paging.IncidentRole.WOLF)
        assert user is not None
        paging.new_page(
            session, incident=incident, user=user, kind="notify", body="a notice", now=utcnow()
        )
    _jobs(spaced_app)  # the page of #1 goes; the notice waits 30 s behind it
    assert len(_to(standin, WOLF)) == 1
    second = declare(client, wolf, title="second")
    _jobs(spaced_app)
    bodies = _to(standin, WOLF)
    assert len(bodies) == 2 and f"#{second} " in bodies[1]  # not held by the 30 s spacing
    assert "a notice" not in " ".join(bodies)  # the notice still waits for its spacing


def test_notices_are_never_bundled_with_pages_and_keep_their_text(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}],
        notify=[{"user_id": wolf["id"]}],
    )
    number = declare(tw_app.test_client(), wolf)
    tw_jobs()
    bodies = _to(standin, WOLF)
    assert len(bodies) == 2
    assert bodies[0].startswith(f"FIREBREAK SEV1 #{number} ")
    assert bodies[1].startswith("FIREBREAK legal notice")


def test_a_bundle_gives_each_incident_its_own_code_and_a_matching_footer(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    a = declare(client, wolf, title="first")
    b = declare(client, wolf, title="second")
    with tw_app.app_context(), db.transaction() as session:  # as if opened at the same moment
        session.execute(update(Page).where(Page.incident_id == b).values(reply_code=1))
    tw_jobs()
    [body] = _to(standin, WOLF)
    assert f"#{a} SEV1 1A https://firebreak.test/r/" in body
    assert f"#{b} SEV1 2A https://firebreak.test/r/" in body
    assert body.endswith("Reply 1A or 2A to ack (R resolve, E escalate).")
    with tw_app.app_context():
        query = select(Page.incident_id, Page.reply_code).where(Page.user_id == wolf["id"])
        codes = dict(db.session.execute(query).all())
    assert codes == {a: 1, b: 2}


def test_nothing_goes_out_about_a_resolved_incident_and_it_is_recorded(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}],
        notify=[{"role": "legal"}],
    )
    client = tw_app.test_client()
    number = declare(client, wolf)
    resp = client.post(
        f"/api/v1/incidents/{number}/resolve", json={"note": "false alarm"}, headers=wolf["headers"]
    )
    assert resp.status_code == 200, resp.get_json()
    tw_jobs()
    assert standin.messages == []  # nobody was reached, so no resolution SMS either
    k = kinds(client, wolf, number)
    assert "page.dropped" in k and "page.sent" not in k
    with tw_app.app_context():
        statuses = {p.kind: p.status for p in db.session.scalars(select(Page))}
    assert statuses == {"page": "cancelled", "notify": "dropped"}


def test_a_message_created_after_resolve_is_dropped_at_send_time(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=wolf["headers"])
    with tw_app.app_context(), db.transaction() as session:  # a late step reminder
        incident = session.get_one(Incident, number)
        user = incident.assignee(paging.IncidentRole.WOLF)
        assert user is not None
        paging.new_page(
            session, incident=incident, user=user, kind="notify", body="step due", now=utcnow()
        )
    tw_jobs()
    bodies = _to(standin, WOLF)
    assert "step due" not in " ".join(bodies)
    assert kinds(client, wolf, number).count("page.dropped") == 1


def test_everyone_paged_gets_one_resolution_sms(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}],
        notify=[{"role": "legal"}],
    )
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=wolf["headers"])
    tw_jobs()
    for phone in (WOLF, LEGAL):
        bodies = _to(standin, phone)
        assert len(bodies) == 2, bodies
        assert bodies[1] == (
            f"FIREBREAK #{number} resolved by {wolf['name']}. No action needed. Thank you."
        )
    assert _to(standin, BACKUP) == []


def test_the_resolution_sms_can_be_turned_off_per_policy(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}],
        notify_resolved=False,
    )
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=wolf["headers"])
    tw_jobs()
    assert len(_to(standin, WOLF)) == 1


def test_an_escalation_timer_that_fires_early_waits_for_its_due_time(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 300},
        ],
    )
    number = declare(tw_app.test_client(), wolf)
    tw_jobs()
    with tw_app.app_context(), db.transaction() as session:
        esc = session.scalar(select(Escalation).where(Escalation.incident_id == number))
        assert esc is not None
        due = utcnow() + timedelta(milliseconds=700)
        esc.next_at = due
    with tw_app.app_context():
        assert paging_jobs.escalate(number, 1, 0, 0) is True  # like RQ, up to a second early
        fired = utcnow()
        level_two = db.session.scalar(select(Page).where(Page.user_id == backup["id"]))
    assert level_two is not None and level_two.created_at >= due and fired >= due
    started = time.monotonic()
    with tw_app.app_context(), db.transaction() as session:
        esc = session.scalar(select(Escalation).where(Escalation.incident_id == number))
        assert esc is not None
        esc.next_at = utcnow() + timedelta(seconds=30)
        expect = (esc.epoch, esc.round, esc.level)
    with tw_app.app_context():  # far too early: re-armed, nothing paged, no long sleep
        assert paging_jobs.escalate(number, *expect) is False
    assert time.monotonic() - started < 2


def test_a_bundle_never_cuts_an_incident_the_rest_follow_at_once(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    numbers = [declare(client, wolf, title=f"storm {i}") for i in range(7)]
    tw_jobs()
    bodies = _to(standin, WOLF)
    assert len(bodies) > 1  # seven pages with links do not fit one message
    for number in numbers:  # every incident is in exactly one message, whole
        holding = [b for b in bodies if re.search(rf"#{number}\b.*\b{number}A\b", b)]
        assert len(holding) == 1, (number, bodies)
    assert all(len(b) <= 306 for b in bodies)
