"""SMS replies: answers that say what the incident is, and notes kept as the API keeps them."""

from __future__ import annotations

from sqlalchemy import select

from service.extensions import db
from service.timeline.models import TimelineEvent
from tests.paging.fixtures import WOLF, declare, policy, sms_webhook, team


def _say(client, standin, text: str, who: str = WOLF) -> str:
    return sms_webhook(client, text, who, token=standin.auth_token).get_data(as_text=True)


def _opened(tw_app, tw_jobs):
    wolf, _backup, _legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    return client, wolf, number


def test_acknowledging_a_resolved_incident_says_it_is_resolved(tw_app, tw_jobs, standin):
    client, wolf, number = _opened(tw_app, tw_jobs)
    assert f"#{number} acknowledged" in _say(client, standin, "1A")
    assert "already acknowledged by Winston Wolf" in _say(client, standin, f"ACK {number}")
    assert f"#{number} resolved" in _say(client, standin, f"RES {number}")
    for reply in (f"ACK {number}", "1A", "1R", f"RES {number}"):
        text = _say(client, standin, reply)
        assert f"#{number} is already resolved" in text and "nothing changed" in text, reply
        assert "acknowledged" not in text, reply
    client.post(f"/api/v1/incidents/{number}/close", json={}, headers=wolf["headers"])
    assert f"#{number} is closed; nothing changed" in _say(client, standin, f"ACK {number}")
    got = client.get(f"/api/v1/incidents/{number}", headers=wolf["headers"]).get_json()
    assert got["status"] == "closed"


def _notes(app, number: int) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == number, TimelineEvent.kind == "note.added")
            .order_by(TimelineEvent.seq)
        )
        return [row.data["text"] for row in rows]


def test_a_long_sms_note_is_kept_whole_up_to_the_note_limit(tw_app, tw_jobs, standin):
    client, _wolf, number = _opened(tw_app, tw_jobs)
    text = ("The agency calls back at noon; " * 70)[:2000].strip()
    assert len(text) > 1000
    assert _say(client, standin, f"NOTE {number} {text}") == _twiml(f"Note added to #{number}.")
    assert _notes(tw_app, number) == [text]


def test_a_note_above_the_limit_says_it_was_cut_and_how_much_was_kept(tw_app, tw_jobs, standin):
    client, _wolf, number = _opened(tw_app, tw_jobs)
    text = "x" * 6000
    reply = _say(client, standin, f"NOTE {number} {text}")
    assert f"Note added to #{number}, but cut" in reply
    assert "the first 5,000 of 6,000 characters were kept" in reply
    assert _notes(tw_app, number) == ["x" * 5000]


def _twiml(message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{message}</Message></Response>'
    )
