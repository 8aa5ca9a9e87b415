"""Legal's approval page: the link in the approval request shows the version, its diff, the
checklist and the rule; legal approves that exact version (hash-bound, four eyes)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.auth.models import User
from service.auth.roles import Role
from service.db import utcnow
from service.extensions import db
from service.incidents.models import Incident
from service.paging import links
from service.paging import service as paging
from service.statements.models import Approval, content_hash
from tests.paging.fixtures import LEGAL, WOLF, contact, policy, sms_webhook
from tests.respond.helpers import form_token, link_in
from tests.statements.statement_fixtures import HOLDING, declare, draft, events, submit, url

COMMS = "+14155550108"


def _setup(tw_app, tw_jobs, standin):
    policy(tw_app, [{"targets": [{"role": "nobody"}], "delay_seconds": 3600}])
    wolf = contact(tw_app, "Winston Wolf", {Role.WOLF}, WOLF)
    legal = contact(tw_app, "Lena Legal", {Role.LEGAL}, LEGAL)
    comms = contact(tw_app, "Cora Comms", {Role.COMMS}, COMMS)
    client = tw_app.test_client()
    number = declare(client, wolf, wolf_id=wolf["id"])
    sid = draft(client, comms, number)["id"]
    edited = HOLDING.replace("within the hour", "by 15:00 UTC")
    resp = client.post(
        url(number, sid, "/versions"), json={"text": edited}, headers=comms["headers"]
    )
    assert resp.status_code == 201, resp.get_json()
    assert submit(client, comms, number, sid, version=2).status_code == 200
    tw_jobs()
    return client, number, sid, edited, {"wolf": wolf, "legal": legal, "comms": comms}


def test_legal_approves_the_exact_version_from_the_link(tw_app, tw_jobs, standin):
    client, number, sid, edited, crew = _setup(tw_app, tw_jobs, standin)
    path = link_in(standin, LEGAL)
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Statement 1, version 2" in text and "by 15:00 UTC" in text
    assert "-We are aware" in text and "+We are aware" in text  # the diff to version 1
    assert "Needs: <strong>legal</strong>" in text
    assert content_hash(edited) in text
    csrf = form_token(client, path)
    stale = client.post(
        path + "/decide",
        data={"csrf": csrf, "decision": "approve", "sha256": content_hash(HOLDING)},
    )
    assert stale.status_code == 409  # not the text this link names: nothing decided
    assert events(client, crew["wolf"], number, "statement.approved") == []
    resp = client.post(
        path + "/decide",
        data={"csrf": csrf, "decision": "approve", "sha256": content_hash(edited)},
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)
    [approved] = events(client, crew["wolf"], number, "statement.approved")
    assert approved["actor"] == f"Lena Legal (#{crew['legal']['id']}) via link"
    assert approved["data"]["version"] == 2
    after = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "version 2 approved" in after and "Approve version" not in after
    again = client.post(
        path + "/decide",
        data={"csrf": csrf, "decision": "reject", "sha256": content_hash(edited)},
    )
    assert again.status_code == 409  # one decision per role


def _mint(tw_app, user_id: int, number: int) -> str:
    """A link for an approval, as an approval request would carry."""
    with tw_app.app_context(), db.transaction() as session:
        approval = session.scalars(select(Approval).order_by(Approval.id.desc())).first()
        assert approval is not None
        return "/r/" + links.issue(
            session, user_id=user_id, incident_id=number, approval_id=approval.id, now=utcnow()
        )


def test_a_decided_approval_sends_no_reminder_and_records_the_drop(tw_app, tw_jobs, standin):
    client, number, sid, edited, crew = _setup(tw_app, tw_jobs, standin)
    with tw_app.app_context(), db.transaction() as session:  # a reminder waiting to go
        approval = session.scalars(select(Approval)).one()
        paging.new_page(
            session,
            incident=session.get_one(Incident, number),
            user=session.get_one(User, crew["legal"]["id"]),
            kind="notify",
            body="REMINDER: statement waits",
            approval_id=approval.id,
            now=utcnow(),
        )
    path = link_in(standin, LEGAL)
    csrf = form_token(client, path)
    client.post(
        path + "/decide",
        data={
            "csrf": csrf,
            "decision": "reject",
            "sha256": content_hash(edited),
            "comment": "Too vague",
        },
    )
    tw_jobs()
    assert not any("REMINDER" in m.params["Body"] for m in standin.messages)
    dropped = events(client, crew["wolf"], number, "page.dropped")
    assert dropped and "approval rejected" in dropped[0]["data"]["reason"]


def test_four_eyes_hold_on_the_page_as_in_the_api(tw_app, tw_jobs, standin):
    client, number, sid, edited, crew = _setup(tw_app, tw_jobs, standin)
    mine = HOLDING.replace("within the hour", "tonight")
    legal = crew["legal"]
    resp = client.post(url(number, sid, "/versions"), json={"text": mine}, headers=legal["headers"])
    assert resp.status_code == 201
    assert submit(client, legal, number, sid, version=3).status_code == 200
    path = _mint(tw_app, legal["id"], number)
    page = client.get(path).get_data(as_text=True)
    assert "You wrote this version" in page
    resp = client.post(
        path + "/decide",
        data={
            "csrf": form_token(client, path),
            "decision": "approve",
            "sha256": content_hash(mine),
        },
    )
    assert resp.status_code == 403, resp.get_data(as_text=True)
    assert events(client, crew["wolf"], number, "statement.approved") == []
    assert sms_webhook(client, "APPROVE", LEGAL, token=standin.auth_token).status_code == 200
    assert events(client, crew["wolf"], number, "statement.approved") == []  # never by SMS


def _approval_status(tw_app) -> str:
    with tw_app.app_context():
        return db.session.scalars(select(Approval)).one().status


@pytest.mark.parametrize("comment", ["", "  \r\n "])
def test_a_rejection_without_a_comment_is_refused_on_the_page(tw_app, tw_jobs, standin, comment):
    client, number, sid, edited, crew = _setup(tw_app, tw_jobs, standin)
    path = link_in(standin, LEGAL)
    form = {"csrf": form_token(client, path), "sha256": content_hash(edited)}
    resp = client.post(path + "/decide", data={**form, "decision": "reject", "comment": comment})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and resp.mimetype == "text/html", text
    assert "Nothing was changed: a rejection of version 2 of statement 1 needs a comment" in text
    assert "Reject version 2" in text  # the form again, to write one
    assert events(client, crew["wolf"], number, "statement.rejected") == []
    assert _approval_status(tw_app) == "pending"
    resp = client.post(
        path + "/decide", data={**form, "decision": "reject", "comment": "Say when, not 15:00"}
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert "Done: version 2 rejected." in client.get(resp.headers["Location"]).get_data(
        as_text=True
    )
    [rejected] = events(client, crew["wolf"], number, "statement.rejected")
    assert rejected["data"]["comment"] == "Say when, not 15:00"
    assert rejected["actor"] == f"Lena Legal (#{crew['legal']['id']}) via link"


def test_a_comment_longer_than_the_api_allows_is_refused_and_kept(tw_app, tw_jobs, standin):
    client, number, sid, edited, crew = _setup(tw_app, tw_jobs, standin)
    path = link_in(standin, LEGAL)
    long = "w" * 5_001
    resp = client.post(
        path + "/decide",
        data={
            "csrf": form_token(client, path),
            "sha256": content_hash(edited),
            "decision": "reject",
            "comment": long,
        },
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422, text
    assert "the comment is 5,001 characters long; at most 5,000 fit" in text
    assert f">{long}</textarea>" in text
    assert events(client, crew["wolf"], number, "statement.rejected") == []
    assert _approval_status(tw_app) == "pending"


def test_done_on_the_approval_page_shows_only_its_own_outcomes(tw_app, tw_jobs, standin):
    client, number, sid, edited, crew = _setup(tw_app, tw_jobs, standin)
    path = link_in(standin, LEGAL)
    for text in ("legal approved everything", "acknowledged", "version 9 approved"):
        page = client.get(path, query_string={"done": text}).get_data(as_text=True)
        assert "Done:" not in page and text not in page
    page = client.get(path + "?done=approved").get_data(as_text=True)
    assert "Done: version 2 approved." in page
