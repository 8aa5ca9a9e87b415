"""Bad input and wrong people: each a clear problem+json, and nothing changes."""

from __future__ import annotations

import pytest

from service.statements.models import MAX_TEXT, content_hash
from tests.helpers import assert_problem
from tests.statements.statement_fixtures import (
    BASE,
    HOLDING,
    decide,
    declare,
    draft,
    publish,
    submit,
    url,
)


@pytest.fixture
def drafted(client, crew):
    """An incident with a holding statement drafted by comms (not yet submitted)."""
    number = declare(client, crew["wolf"], wolf_id=crew["wolf"]["id"])
    return number, draft(client, crew["comms"], number)["id"]


@pytest.fixture
def submitted(client, crew, drafted):
    """The same, submitted for legal approval."""
    number, sid = drafted
    assert submit(client, crew["comms"], number, sid).status_code == 200
    return number, sid


@pytest.mark.parametrize("who", ["reviewer", "responder"])
def test_wrong_role_cannot_draft(client, crew, drafted, unchanged, who):
    number, _ = drafted
    unchanged.mark()
    resp = client.post(
        BASE.format(n=number),
        json={"purpose": "holding", "channel": "twitter", "text": HOLDING},
        headers=crew[who]["headers"],
    )
    assert_problem(resp, 403, contains="roles")
    unchanged.check()


def test_no_token_is_401(client, drafted, unchanged):
    number, _ = drafted
    unchanged.mark()
    assert_problem(client.get(BASE.format(n=number)), 401)
    unchanged.check()


@pytest.mark.parametrize(
    "text,contains", [("", "text"), ("   \n\t", "empty"), ("x" * (MAX_TEXT + 1), "text")]
)
def test_empty_or_oversized_text_is_422(client, crew, drafted, unchanged, text, contains):
    number, sid = drafted
    unchanged.mark()
    resp = client.post(
        BASE.format(n=number),
        json={"purpose": "holding", "channel": "twitter", "text": text},
        headers=crew["comms"]["headers"],
    )
    assert_problem(resp, 422, field="text", contains=contains)
    resp = client.post(
        url(number, sid, "/versions"), json={"text": text}, headers=crew["comms"]["headers"]
    )
    assert_problem(resp, 422, field="text")
    unchanged.check()


def test_unknown_purpose_is_422(client, crew, drafted, unchanged):
    number, _ = drafted
    unchanged.mark()
    resp = client.post(
        BASE.format(n=number),
        json={"purpose": "tweetstorm", "channel": "twitter", "text": HOLDING},
        headers=crew["comms"]["headers"],
    )
    assert_problem(resp, 422, field="purpose")
    unchanged.check()


def test_unknown_incident_statement_or_version_is_404(client, crew, drafted, unchanged):
    number, sid = drafted
    unchanged.mark()
    resp = client.post(
        BASE.format(n=999),
        json={"purpose": "holding", "channel": "twitter", "text": HOLDING},
        headers=crew["comms"]["headers"],
    )
    assert_problem(resp, 404, contains="#999")
    assert_problem(client.get(BASE.format(n=999), headers=crew["comms"]["headers"]), 404)
    assert_problem(client.get(url(number, 999), headers=crew["comms"]["headers"]), 404)
    assert_problem(client.get(url(999, sid), headers=crew["comms"]["headers"]), 404)
    assert_problem(submit(client, crew["comms"], number, sid, 7), 404, contains="version 7")
    resp = client.get(url(number, sid, "/diff?from=1&to=3"), headers=crew["comms"]["headers"])
    assert_problem(resp, 404, field="to")
    unchanged.check()


def test_submitting_twice_is_409(client, crew, submitted, unchanged):
    number, sid = submitted
    unchanged.mark()
    assert_problem(submit(client, crew["comms"], number, sid), 409, contains="already submitted")
    unchanged.check()


def test_approving_an_unsubmitted_version_is_409(client, crew, drafted, unchanged):
    number, sid = drafted
    unchanged.mark()
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING)
    assert_problem(resp, 409, contains="not been submitted")
    unchanged.check()


def test_approving_a_stale_hash_is_409(client, crew, submitted, unchanged):
    number, sid = submitted
    unchanged.mark()
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING + " (what I read)")
    body = assert_problem(resp, 409, field="hash", contains="different text")
    assert body["current_hash"] == content_hash(HOLDING)
    unchanged.check()


def test_approving_a_superseded_version_is_409(client, crew, submitted, unchanged):
    number, sid = submitted
    newer = HOLDING + " Update."
    client.post(
        url(number, sid, "/versions"), json={"text": newer}, headers=crew["comms"]["headers"]
    )
    unchanged.mark()
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING)
    assert_problem(resp, 409, contains="stale")
    assert_problem(submit(client, crew["comms"], number, sid, 1), 409, contains="stale")
    unchanged.check()


def test_approving_twice_is_409(client, crew, submitted, unchanged):
    number, sid = submitted
    assert decide(client, crew["legal"], number, sid, 1, HOLDING).status_code == 200
    unchanged.mark()
    assert_problem(decide(client, crew["legal"], number, sid, 1, HOLDING), 409, contains="already")
    assert_problem(decide(client, crew["legal2"], number, sid, 1, HOLDING), 409, contains="already")
    unchanged.check()


def test_self_approval_is_403(client, crew, unchanged):
    number = declare(client, crew["wolf"])
    sid = draft(client, crew["legal"], number)["id"]
    submit(client, crew["legal"], number, sid)
    unchanged.mark()
    resp = decide(client, crew["legal"], number, sid, 1, HOLDING)
    assert_problem(resp, 403, contains="four eyes")
    unchanged.check()
    # another lawyer may approve it
    assert decide(client, crew["legal2"], number, sid, 1, HOLDING).status_code == 200


@pytest.mark.parametrize("who", ["comms", "wolf"])
def test_a_role_the_rule_does_not_name_cannot_approve(client, crew, submitted, unchanged, who):
    number, sid = submitted
    unchanged.mark()
    resp = decide(client, crew[who], number, sid, 1, HOLDING)
    assert_problem(resp, 403, contains="must be decided by: legal")
    assert_problem(decide(client, crew["reviewer"], number, sid, 1, HOLDING), 403)
    unchanged.check()


@pytest.mark.parametrize("comment", [{}, {"comment": ""}, {"comment": " \n\t "}])
def test_reject_needs_a_comment(client, crew, submitted, unchanged, comment):
    number, sid = submitted
    unchanged.mark()
    resp = client.post(
        url(number, sid, "/versions/1/reject"),
        json={"hash": content_hash(HOLDING), **comment},
        headers=crew["legal"]["headers"],
    )
    assert_problem(resp, 422, field="comment")
    unchanged.check()


def test_publishing_unapproved_is_409(client, crew, drafted, unchanged):
    number, sid = drafted
    unchanged.mark()
    resp = publish(client, crew["comms"], number, sid, 1, HOLDING)
    assert_problem(resp, 409, contains="never submitted")
    unchanged.check()
    submit(client, crew["comms"], number, sid)
    unchanged.mark()
    resp = publish(client, crew["comms"], number, sid, 1, HOLDING)
    assert_problem(resp, 409, contains="not approved yet (waiting for legal)")
    unchanged.check()


def test_publishing_rejected_is_409(client, crew, submitted, unchanged):
    number, sid = submitted
    decide(client, crew["legal"], number, sid, 1, HOLDING, action="reject", comment="no")
    unchanged.mark()
    assert_problem(
        publish(client, crew["comms"], number, sid, 1, HOLDING), 409, contains="rejected"
    )
    unchanged.check()


def test_publishing_other_text_than_approved_is_409(client, crew, submitted, unchanged):
    number, sid = submitted
    decide(client, crew["legal"], number, sid, 1, HOLDING)
    unchanged.mark()
    resp = publish(client, crew["comms"], number, sid, 1, HOLDING + " PS: lol")
    body = assert_problem(resp, 409, field="hash", contains="not the approved text")
    assert body["approved_hash"] == content_hash(HOLDING)
    unchanged.check()


def test_only_comms_or_the_incidents_wolf_publish(client, crew, people, submitted, unchanged):
    from service.auth.roles import Role

    number, sid = submitted
    decide(client, crew["legal"], number, sid, 1, HOLDING)
    other_wolf = people.make(Role.WOLF, name="Other Wolf")
    unchanged.mark()
    assert_problem(publish(client, other_wolf, number, sid, 1, HOLDING), 403, contains="Wolf")
    assert_problem(publish(client, crew["legal"], number, sid, 1, HOLDING), 403)
    unchanged.check()
