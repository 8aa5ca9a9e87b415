"""Twilio webhooks refuse what Twilio never sends: an inbound SMS without its MessageSid, a
keypad answer without its CallSid (replay protection keys on them), a status it does not
document. Each is a 422 naming the field, and changes nothing."""

from __future__ import annotations

import pytest

from service.paging.statuses import CALL_STATUSES, MESSAGE_STATUSES
from tests.conftest import PUBLIC_URL
from tests.helpers import assert_problem
from tests.paging.fixtures import WOLF, declare, kinds, policy, team
from tests.support.twilio_standin import signed_webhook_headers

ACCOUNT = "AC" + "0" * 31 + "1"


def _post(client, token: str, path: str, params: dict[str, str]):
    """POST a form webhook signed for the public URL, as Twilio would."""
    url = f"{PUBLIC_URL}{path}"
    return client.post(path, data=params, headers=signed_webhook_headers(token, url, params))


@pytest.fixture
def opened(tw_app, tw_jobs, standin):
    """An incident paged to the Wolf (#1, reply code 1)."""
    wolf, _backup, _legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    return client, wolf, number


def test_a_signed_sms_without_a_message_sid_is_refused_every_time(opened, standin, unchanged):
    client, wolf, number = opened
    unchanged.mark()
    for body in (f"NOTE {number} calling the agency", f"RES {number}", "1A"):
        for _ in range(3):
            resp = _post(
                client,
                standin.auth_token,
                "/webhooks/twilio/sms",
                {"AccountSid": ACCOUNT, "From": WOLF, "Body": body},
            )
            assert_problem(resp, 422, field="MessageSid")
    blank = _post(
        client,
        standin.auth_token,
        "/webhooks/twilio/sms",
        {"AccountSid": ACCOUNT, "From": WOLF, "Body": "1A", "MessageSid": "  "},
    )
    assert_problem(blank, 422, field="MessageSid")
    unchanged.check()
    assert "note.added" not in kinds(client, wolf, number)


def test_a_keypad_answer_without_a_call_sid_is_refused(opened, standin, unchanged):
    client, wolf, number = opened
    unchanged.mark()
    for _ in range(2):
        resp = _post(client, standin.auth_token, "/webhooks/twilio/voice?page=1", {"Digits": "1"})
        assert_problem(resp, 422, field="CallSid")
    unchanged.check()
    got = client.get(f"/api/v1/incidents/{number}", headers=wolf["headers"]).get_json()
    assert got["status"] == "triggered"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"MessageStatus": "delivered"}, "MessageSid"),
        ({"MessageSid": "SM" + "1" * 32}, "MessageStatus"),
        ({"MessageSid": "SM" + "1" * 32, "MessageStatus": "exploded"}, "MessageStatus"),
        ({"MessageSid": "SM" + "1" * 32, "MessageStatus": "expired"}, "MessageStatus"),
        ({"MessageSid": "SM" + "1" * 32, "MessageStatus": "no-answer"}, "MessageStatus"),
        ({"CallSid": "CA" + "1" * 32}, "CallStatus"),
        ({"CallSid": "CA" + "1" * 32, "CallStatus": "exploded"}, "CallStatus"),
        ({"CallSid": "CA" + "1" * 32, "CallStatus": "read"}, "CallStatus"),
        ({}, "MessageSid"),
    ],
)
def test_a_status_callback_twilio_would_not_send_is_refused(
    opened, standin, unchanged, params, field
):
    client, _wolf, _number = opened
    unchanged.mark()
    resp = _post(client, standin.auth_token, "/webhooks/twilio/status", params)
    assert_problem(resp, 422, field=field)
    unchanged.check()


def test_an_unknown_message_status_does_not_move_a_real_page(opened, standin, unchanged):
    client, _wolf, _number = opened
    sid = standin.messages[0].sid
    unchanged.mark()
    resp = _post(
        client,
        standin.auth_token,
        "/webhooks/twilio/status",
        {"MessageSid": sid, "MessageStatus": "exploded"},
    )
    body = assert_problem(resp, 422, field="MessageStatus", contains="exploded")
    assert "delivered" in body["detail"]  # names the statuses accepted
    unchanged.check()


@pytest.mark.parametrize(
    ("sid_field", "status_field", "status"),
    [("MessageSid", "MessageStatus", s) for s in sorted(MESSAGE_STATUSES)]
    + [("CallSid", "CallStatus", s) for s in sorted(CALL_STATUSES)],
)
def test_every_documented_status_is_taken(tw_app, standin, sid_field, status_field, status):
    prefix = "SM" if sid_field == "MessageSid" else "CA"
    params = {sid_field: prefix + "9" * 32, status_field: status.upper()}  # case-tolerant
    resp = _post(tw_app.test_client(), standin.auth_token, "/webhooks/twilio/status", params)
    assert resp.status_code == 204, resp.get_data(as_text=True)
