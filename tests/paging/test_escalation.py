"""Paging end to end: the real twilio SDK over HTTP to the stand-in, real RQ workers."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import select

from service.auth.models import User
from service.auth.roles import Role
from service.db import utcnow
from service.extensions import db
from service.paging import links
from service.paging import service as paging_service
from service.paging.models import Escalation, EscalationPolicy, Page, PageLink
from tests.paging.fixtures import (
    BACKUP,
    FROM_NUMBER,
    LEGAL,
    WOLF,
    contact,
    declare,
    kinds,
    pages,
    policy,
    sms_webhook,
    status_webhook,
    team,
    two_wolves,
    wait_for,
)


def test_open_pages_the_wolf_and_notifies_legal_through_the_sdk(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 300},
        ],
        notify=[{"role": "legal"}],
    )
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    sent = {m.params["To"]: m.params for m in standin.messages}
    assert set(sent) == {WOLF, LEGAL}
    page = sent[WOLF]
    assert page["From"] == FROM_NUMBER
    assert page["Body"].startswith(f"FIREBREAK SEV1 #{number} ") and "1A ack" in page["Body"]
    link = re.search(r"https://firebreak\.test/r/([A-Za-z0-9_-]{22}) ", page["Body"])
    assert link, page["Body"]
    with tw_app.app_context():
        stored = db.session.scalars(select(PageLink)).all()
        bodies = db.session.scalars(select(Page.body)).all()
    assert links.digest(link.group(1)) in {s.token_hash for s in stored}
    assert not any(link.group(1) in b for b in bodies)  # the token is never stored in the clear
    assert page["StatusCallback"] == "https://firebreak.test/webhooks/twilio/status"
    assert page["ValidityPeriod"] == "600"
    assert "legal notice" in sent[LEGAL]["Body"]
    assert all(m.idempotency_token for m in standin.messages)
    assert pages(tw_app) == [
        ("Winston Wolf", "page", "sms", "queued", 0),
        ("Lena Legal", "notify", "sms", "queued", None),
    ]
    k = kinds(client, wolf)
    assert k.count("page.queued") == 2 and k.count("page.sent") == 2
    assert "escalation.level" in k
    incident = client.get("/api/v1/incidents/1", headers=wolf["headers"]).get_json()
    roles = {a["role"]: a["user"] for a in incident["assignments"]}
    assert roles == {"wolf": "Winston Wolf", "legal": "Lena Legal"}


def test_unanswered_page_escalates_on_time_and_an_sms_ack_stops_it(tw_app, standin, worker_process):
    wolf, backup, legal = team(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 2},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 2},
        ],
        repeat=1,
    )
    worker_process()
    client = tw_app.test_client()
    opened = time.time()
    declare(client, wolf)
    wait_for(lambda: [m for m in standin.messages if m.params["To"] == WOLF])
    second = wait_for(lambda: [m for m in standin.messages if m.params["To"] == BACKUP], 8)[0]
    lateness = second.received_at - opened - 2.0  # level 1 is due 2 s after the incident opened
    # never early; the 2 s lateness target is measured in benchmarks/paging_latency.py, here
    # only a bound a loaded CI machine keeps
    assert 0.0 <= lateness <= 6.0, lateness
    reply = sms_webhook(client, " 1a ", BACKUP, token=standin.auth_token)
    assert reply.status_code == 200 and reply.mimetype == "application/xml"
    assert "#1 acknowledged" in reply.get_data(as_text=True)
    count = len(standin.messages)
    time.sleep(3)  # past the next level's delay: nothing more is sent
    assert len(standin.messages) == count
    k = kinds(client, wolf)
    assert k.count("escalation.level") == 2 and "escalation.stopped" in k
    assert k.index("sms.reply") < k.index("incident.acknowledged") < k.index("escalation.stopped")


def test_sms_commands(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    declare(client, wolf, title="first")
    declare(client, wolf, title="second")
    tw_jobs()
    bodies = [m.params["Body"] for m in standin.messages if m.params["To"] == WOLF]
    assert any("#1" in b and "1A" in b for b in bodies)
    assert any("#2" in b and "2A" in b for b in bodies)  # the next free reply code
    say = lambda text, who=WOLF: sms_webhook(  # noqa: E731
        client, text, who, token=standin.auth_token
    ).get_data(as_text=True)
    assert "#2 acknowledged" in say("2A")
    assert "already acknowledged by Winston Wolf" in say("ack 2")
    assert "Note added to #1" in say("NOTE 1 Calling the agency now")
    assert "Open: #1 sev1 triggered, #2 sev1 acknowledged" in say("status")
    assert "did not understand" in say("launch the rockets")
    assert "No incident found for #99" in say("ACK 99")
    assert "cannot acknowledge" in say("ACK 1", LEGAL)
    assert "#1 resolved" in say("res 1")
    assert "ACK 42" in say("HELP")


def test_unknown_numbers_and_bad_signatures_change_nothing(tw_app, tw_jobs, standin, unchanged):
    wolf, backup, legal = team(tw_app)
    client = tw_app.test_client()
    declare(client, wolf)
    tw_jobs()
    unchanged.mark()
    unknown = sms_webhook(client, "ACK 1", "+14155559999", token=standin.auth_token)
    assert unknown.status_code == 200 and "<Message>" not in unknown.get_data(as_text=True)
    forged = sms_webhook(client, "ACK 1", WOLF, token="not-the-token")
    assert forged.status_code == 403 and forged.mimetype == "application/problem+json"
    host_signed = sms_webhook(
        client,
        "ACK 1",
        WOLF,
        token=standin.auth_token,
        sign_url="http://localhost/webhooks/twilio/sms",
    )
    assert host_signed.status_code == 403
    unsigned = client.post("/webhooks/twilio/sms", data={"From": WOLF, "Body": "ACK 1"})
    assert unsigned.status_code == 403
    unchanged.check()


def test_stop_opts_out_and_the_next_level_is_paged_instead(tw_app, tw_jobs, standin):
    wolf, backup = two_wolves(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 300},
        ],
    )
    client = tw_app.test_client()
    assert "no more Firebreak SMS" in sms_webhook(
        client, "STOP", WOLF, token=standin.auth_token
    ).get_data(as_text=True)
    declare(client, backup)
    tw_jobs()
    from service.db import utcnow
    from service.paging.reconcile import sweep

    with tw_app.app_context():
        sweep(now=utcnow())  # the empty level is due at once
    tw_jobs()
    # nothing to the opted-out Wolf; the backup is paged (and, no Wolf being assigned, called
    # in by the playbook's `page: [wolf, ...]` too)
    assert {m.params["To"] for m in standin.messages} == {BACKUP}
    assert [(p[0], p[4]) for p in pages(tw_app) if p[1] == "page"] == [("Bea Backup", 1)]
    k = kinds(client, backup)
    assert "page.skipped" in k
    assert "opened" not in k
    sms_webhook(client, "START", WOLF, token=standin.auth_token)
    sent = len(standin.messages)
    declare(client, backup, title="again")
    tw_jobs()
    assert [m.params["To"] for m in standin.messages[sent:]] == [WOLF]


def test_undelivered_sms_calls_the_same_person_then_a_failed_call_escalates(
    tw_app, tw_jobs, standin
):
    wolf, backup = two_wolves(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 300},
        ],
    )
    client = tw_app.test_client()
    declare(client, wolf)
    tw_jobs()
    sid = standin.messages[0].sid
    assert status_webhook(client, sid, "sent", token=standin.auth_token).status_code == 204
    assert (
        status_webhook(
            client, sid, "undelivered", token=standin.auth_token, error_code="30003"
        ).status_code
        == 204
    )
    assert status_webhook(client, sid, "delivered", token=standin.auth_token).status_code == 204
    tw_jobs()
    # the fallback rule: an undelivered SMS calls the same person first ...
    assert [c.params["To"] for c in standin.calls] == [WOLF]
    assert "<Gather" in standin.calls[0].params["Twiml"]
    # ... and level 2 keeps its timer (not paged at once)
    assert [m.params["To"] for m in standin.messages] == [WOLF]
    rows = pages(tw_app, 1)
    assert rows[0][3] == "undelivered"  # a late "delivered" never moves it back
    k = kinds(client, wolf)
    assert "page.failed" in k and k.count("escalation.level") == 1
    # the call is not answered either: the next level is paged at once
    call = standin.calls[0].sid
    assert status_webhook(client, call, "no-answer", token=standin.auth_token).status_code == 204
    tw_jobs()
    assert [m.params["To"] for m in standin.messages] == [WOLF, BACKUP]
    assert kinds(client, wolf).count("escalation.level") == 2


def test_voice_keypad_acknowledges(tw_app, tw_jobs, standin):
    from tests.support.twilio_standin import signed_webhook_headers

    wolf, backup, legal = team(tw_app)
    client = tw_app.test_client()
    declare(client, wolf)
    tw_jobs()
    with tw_app.app_context():
        page_id = db.session.scalar(select(Page.id).where(Page.user_id == wolf["id"]))
    url = f"https://firebreak.test/webhooks/twilio/voice?page={page_id}"
    params = {"AccountSid": standin.account_sid, "Digits": "1", "CallSid": "CA1"}
    resp = client.post(
        f"/webhooks/twilio/voice?page={page_id}",
        data=params,
        headers=signed_webhook_headers(standin.auth_token, url, params),
    )
    assert "acknowledged" in resp.get_data(as_text=True)
    assert (
        client.get("/api/v1/incidents/1", headers=wolf["headers"]).get_json()["status"]
        == "acknowledged"
    )


def _escalation(app, number):
    with app.app_context():
        esc = db.session.scalar(select(Escalation).where(Escalation.incident_id == number))
        return esc.policy_key, esc.status, dict(esc.policy)


def _events(client, who, number, kind):
    body = client.get(f"/api/v1/incidents/{number}/timeline", headers=who["headers"]).get_json()
    return [e for e in body["events"] if e["kind"] == kind]


def test_an_escalation_that_paged_nobody_falls_back_to_the_built_in_chain(tw_app, tw_jobs, standin):
    wolf, backup = two_wolves(tw_app)
    gone = contact(tw_app, "Gone Wolf", {Role.WOLF}, "+14155550109")
    with tw_app.app_context(), db.transaction() as session:
        session.get_one(User, gone["id"]).active = False  # deactivated since the policy named him
    policy(
        tw_app,
        [
            {"targets": [{"user_id": gone["id"]}], "delay_seconds": 300},
            {"targets": [{"role": "responder"}], "delay_seconds": 300},  # nobody holds it
        ],
        repeat=1,
    )
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()  # both levels, twice, page nobody (each at once): then the built-in chain
    [fallback] = _events(client, wolf, number, "escalation.fallback")
    assert fallback["data"] == {
        "policy": "test",
        "fallback": "built-in",
        "rounds": 2,
        "reason": "nobody acknowledged in time",
    }
    first = [e["data"] for e in _events(client, wolf, number, "escalation.level")]
    assert [(e["level"], e["round"], e.get("policy")) for e in first] == [
        (1, 1, "test"),
        (2, 1, None),
        (1, 2, None),
        (2, 2, None),
        (1, 1, "built-in"),  # the Wolf rotations: there are none
        (2, 1, None),  # every wolf
    ]
    assert first[-1]["paged"] == ["Winston Wolf", "Bea Backup"]
    assert [(p[0], p[4]) for p in pages(tw_app, number) if p[1] == "page"] == [
        ("Winston Wolf", 1),
        ("Bea Backup", 1),
    ]
    assert {WOLF, BACKUP} <= {m.params["To"] for m in standin.messages}
    key, status, snapshot = _escalation(tw_app, number)
    assert (key, status, snapshot["fell_back_from"]) == ("built-in", "active", "test")
    assert not _events(client, wolf, number, "escalation.exhausted")
    reply = sms_webhook(client, "1A", WOLF, token=standin.auth_token).get_data(as_text=True)
    assert f"#{number} acknowledged" in reply


def test_the_fallback_happens_once_and_never_when_someone_was_paged(tw_app, tw_jobs, standin):
    wolf = contact(tw_app, "Winston Wolf", {Role.WOLF}, WOLF, verified=False)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()  # nobody can be paged, by the policy or the built-in chain: it falls back once
    assert len(_events(client, wolf, number, "escalation.fallback")) == 1
    assert len(_events(client, wolf, number, "escalation.exhausted")) == 1
    assert _escalation(tw_app, number)[:2] == ("built-in", "exhausted")
    assert standin.messages == []
    # a policy that paged someone is exhausted as before, without falling back
    ready = contact(tw_app, "Bea Backup", {Role.WOLF}, BACKUP)
    with tw_app.app_context(), db.transaction() as session:
        session.scalars(select(EscalationPolicy)).one().levels = [
            {"targets": [{"user_id": ready["id"]}], "delay_seconds": 10}
        ]
    other = declare(client, wolf, title="second")
    tw_jobs()
    with tw_app.app_context():
        assert paging_service.advance(
            db.session,
            incident_id=other,
            now=utcnow() + timedelta(seconds=11),
            expect=None,
            reason="test",
        )
        db.session.commit()
    assert len(_events(client, wolf, other, "escalation.exhausted")) == 1
    assert not _events(client, wolf, other, "escalation.fallback")
    assert _escalation(tw_app, other)[:2] == ("test", "exhausted")
