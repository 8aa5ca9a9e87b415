"""Twilio webhooks are idempotent by MessageSid / CallSid: a replay gets the same answer and
changes nothing."""

from __future__ import annotations

from datetime import timedelta

from service.db import utcnow
from service.extensions import db
from service.paging.models import Page, WebhookReceipt
from service.paging.reconcile import sweep
from tests.conftest import PUBLIC_URL, snapshot
from tests.paging.fixtures import BACKUP, WOLF, declare, kinds, policy, team
from tests.support.twilio_standin import signed_webhook_headers

SID = "SM" + "7" * 32


def _sms(client, token: str, body: str, from_: str, sid: str = SID):
    params = {"AccountSid": "AC" + "0" * 31 + "1", "From": from_, "Body": body, "MessageSid": sid}
    url = f"{PUBLIC_URL}/webhooks/twilio/sms"
    return client.post(
        "/webhooks/twilio/sms", data=params, headers=signed_webhook_headers(token, url, params)
    )


def _setup(tw_app, tw_jobs):
    wolf, backup, _legal = team(tw_app)
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
    return client, wolf


def test_a_replayed_note_adds_nothing(tw_app, tw_jobs, standin) -> None:
    client, wolf = _setup(tw_app, tw_jobs)
    first = _sms(client, standin.auth_token, "NOTE 1 calling the agency", WOLF)
    assert first.status_code == 200 and "Note added" in first.get_data(as_text=True)
    before = snapshot(tw_app)
    again = _sms(client, standin.auth_token, "NOTE 1 calling the agency", WOLF)
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert snapshot(tw_app) == before
    assert kinds(client, wolf).count("note.added") == 1
    other = _sms(client, standin.auth_token, "NOTE 1 second note", WOLF, sid="SM" + "8" * 32)
    assert "Note added" in other.get_data(as_text=True)
    assert kinds(client, wolf).count("note.added") == 2


def test_a_replayed_esc_escalates_once(tw_app, tw_jobs, standin) -> None:
    client, wolf = _setup(tw_app, tw_jobs)
    first = _sms(client, standin.auth_token, "ESC 1", WOLF)
    assert first.status_code == 200
    tw_jobs()
    before = snapshot(tw_app)
    sent = len(standin.messages)
    again = _sms(client, standin.auth_token, "ESC 1", WOLF)
    tw_jobs()
    assert again.get_data() == first.get_data()
    assert snapshot(tw_app) == before
    assert len(standin.messages) == sent
    assert [m.params["To"] for m in standin.messages].count(BACKUP) == 1


def test_a_replayed_voice_keypad_answer_changes_nothing(tw_app, tw_jobs, standin) -> None:
    client, wolf = _setup(tw_app, tw_jobs)
    with tw_app.app_context():
        page_id = db.session.query(Page.id).order_by(Page.id).first()[0]
    params = {"CallSid": "CA" + "3" * 32, "Digits": "2"}
    url = f"{PUBLIC_URL}/webhooks/twilio/voice?page={page_id}"

    def press():
        headers = signed_webhook_headers(standin.auth_token, url, params)
        return client.post(f"/webhooks/twilio/voice?page={page_id}", data=params, headers=headers)

    first = press()
    assert first.status_code == 200 and b"<Say>" in first.data
    before = snapshot(tw_app)
    assert press().data == first.data
    assert snapshot(tw_app) == before
    assert kinds(client, wolf).count("escalation.level") == 2


def test_old_receipts_are_pruned_by_the_sweep(tw_app, tw_jobs, standin) -> None:
    client, _wolf = _setup(tw_app, tw_jobs)
    _sms(client, standin.auth_token, "NOTE 1 hello", WOLF)
    with tw_app.app_context():
        assert db.session.query(WebhookReceipt).count() == 1
        assert sweep(now=utcnow())["receipts_pruned"] == 0
        assert sweep(now=utcnow() + timedelta(days=8))["receipts_pruned"] == 1
