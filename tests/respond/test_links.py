"""Links in SMS open the phone page: a GET never acts, forms need their token, the link works
for one person and one incident and dies with time, closing or revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service.db import utcnow
from service.extensions import db
from service.paging.models import PageLink
from tests.helpers import assert_problem
from tests.paging.fixtures import BACKUP, WOLF, declare, policy, sms_webhook, team
from tests.respond.helpers import form_token, link_in, post


def _incident(client, who, number):
    return client.get(f"/api/v1/incidents/{number}", headers=who["headers"]).get_json()


def _timeline(client, who, number):
    events = client.get(f"/api/v1/incidents/{number}/timeline", headers=who["headers"])
    return events.get_json()["events"]


@pytest.fixture
def paged(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    other = declare(client, wolf, title="Another brand's secret")
    tw_jobs()
    client.post(f"/api/v1/incidents/{other}/resolve", json={}, headers=wolf["headers"])
    number = declare(client, wolf, title="Exploding kettle video")
    tw_jobs()
    path = next(
        link_in(standin, WOLF, i)
        for i, m in enumerate(m for m in standin.messages if m.params["To"] == WOLF)
        if f"#{number} " in m.params["Body"]
    )
    return {"client": client, "wolf": wolf, "backup": backup, "number": number, "path": path}


def test_a_get_shows_the_incident_and_never_acts(paged):
    client, wolf, number = paged["client"], paged["wolf"], paged["number"]
    before = len(_timeline(client, wolf, number))
    for _ in range(3):  # link previews fetch it, so may the person
        page = client.get(paged["path"])
        assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"#{number} Exploding kettle video" in text and "Acknowledge" in text
    assert "secret" not in text  # nothing of other incidents
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    assert len(_timeline(client, wolf, number)) == before
    assert _incident(client, wolf, number)["status"] == "triggered"


def test_acknowledge_on_the_phone_page_lands_on_the_timeline_as_the_person(paged):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    resp = post(client, path, action="acknowledge")
    assert resp.status_code == 303 and resp.headers["Location"].startswith(path)
    assert _incident(client, wolf, number)["status"] == "acknowledged"
    acked = [e for e in _timeline(client, wolf, number) if e["kind"] == "incident.acknowledged"]
    assert acked[0]["actor"] == f"Winston Wolf (#{wolf['id']}) via link"
    assert "Done: acknowledged" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_note_and_resolve_with_a_note(paged):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    assert post(client, path, action="note", note="Calling the agency").status_code == 303
    assert post(client, path, action="resolve", note="Video taken down").status_code == 303
    events = _timeline(client, wolf, number)
    notes = [e["data"]["text"] for e in events if e["kind"] == "note.added"]
    assert "Calling the agency" in notes
    assert _incident(client, wolf, number)["status"] == "resolved"
    empty = post(client, path, action="note", note="  ")
    assert empty.status_code == 422 and "write a note" in empty.get_data(as_text=True)


@pytest.mark.parametrize("csrf", ["", "0" * 64])
def test_a_form_without_its_token_or_from_another_site_changes_nothing(paged, csrf):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    before = len(_timeline(client, wolf, number))
    assert post(client, path, action="acknowledge", csrf=csrf).status_code == 403
    token = form_token(client, path)
    foreign = client.post(
        path + "/act",
        data={"action": "acknowledge", "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert post(client, path, action="launch").status_code == 422
    assert _incident(client, wolf, number)["status"] == "triggered"
    assert len(_timeline(client, wolf, number)) == before


def test_an_expired_revoked_or_closed_link_is_gone(paged, tw_app):
    client, wolf, path = paged["client"], paged["wolf"], paged["path"]
    assert client.get("/r/" + "x" * 22).status_code == 410
    with tw_app.app_context(), db.transaction() as session:
        links = session.scalars(select(PageLink)).all()
        assert all(x.expires_at - x.created_at == timedelta(hours=12) for x in links)
        session.execute(update(PageLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(path).status_code == 410  # 12 hours later
    assert "sign in" in client.get(path).get_data(as_text=True)
    with tw_app.app_context(), db.transaction() as session:
        session.execute(update(PageLink).values(expires_at=utcnow() + timedelta(hours=1)))
    assert client.get(path).status_code == 200
    resp = client.post(f"/api/v1/users/{wolf['id']}/links/revoke", headers=wolf["headers"])
    assert resp.status_code == 200 and resp.get_json()["revoked"] >= 1
    assert client.get(path).status_code == 410
    assert post(client, path, action="acknowledge", csrf="0" * 64).status_code == 410
    assert_problem(
        client.post(f"/api/v1/users/{wolf['id']}/links/revoke", headers=paged["backup"]["headers"]),
        403,
    )


def test_closing_the_incident_kills_its_links(paged, tw_app, tw_jobs, standin):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=wolf["headers"])
    assert client.get(path).status_code == 200  # resolved: still readable
    client.post(f"/api/v1/incidents/{number}/close", json={}, headers=wolf["headers"])
    assert client.get(path).status_code == 410


def test_a_link_is_for_one_person(paged, tw_app, tw_jobs, standin):
    client, number = paged["client"], paged["number"]
    status = sms_webhook(client, f"STATUS {number}", BACKUP, token=standin.auth_token)
    text = status.get_data(as_text=True)
    assert "https://firebreak.test/r/" in text  # STATUS answers with the person's own link
    with tw_app.app_context():
        owners = {row.user.name for row in db.session.scalars(select(PageLink))}
    # Lena: the notice the playbook's `page: [wolf, legal, comms]` sent her at open
    assert owners == {"Winston Wolf", "Lena Legal", "Bea Backup"}


def _count(client, who, number) -> int:
    return len(_timeline(client, who, number))


def test_a_note_up_to_the_api_limit_is_kept_whole(paged):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    longest = "Agency call: " + "x" * (5_000 - len("Agency call: "))
    assert post(client, path, action="note", note=longest).status_code == 303
    lines = "first line\r\nsecond line"  # a form sends CRLF; stored as the API stores it
    assert post(client, path, action="note", note=lines).status_code == 303
    events = _timeline(client, wolf, number)
    notes = [e["data"]["text"] for e in events if e["kind"] == "note.added"]
    assert notes == [longest, "first line\nsecond line"]  # never cut
    assert 'maxlength="5000"' in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("action", "note", "says"),
    [
        ("note", "y" * 5_001, "the note is 5,001 characters long; at most 5,000 fit"),
        ("note", " \t\r\n\u3000", "the note is empty: write a note first"),
        ("resolve", "z" * 6_000, "the note is 6,000 characters long; at most 5,000 fit"),
    ],
)
def test_a_note_too_long_or_blank_is_refused_on_the_page_and_changes_nothing(
    paged, action, note, says
):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    before = _count(client, wolf, number)
    resp = post(client, path, action=action, note=note)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and resp.mimetype == "text/html", text
    assert f"Nothing was changed: {says}." in text
    if note.strip():  # what was typed is still in the form, to shorten and send again
        assert f">{note}</textarea>" in text
    assert _count(client, wolf, number) == before
    assert _incident(client, wolf, number)["status"] == "triggered"


def test_a_nul_character_in_a_note_answers_with_a_page_saying_so(paged):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    before = _count(client, wolf, number)
    for action in ("note", "resolve"):
        resp = post(client, path, action=action, note="Call\x00 the agency")
        text = resp.get_data(as_text=True)
        assert resp.status_code == 422 and resp.mimetype == "text/html", text
        assert "Nothing was changed" in text and "The note must not contain NUL characters" in text
        assert resp.headers["Cache-Control"] == "no-store"
        assert "nonce-" in resp.headers["Content-Security-Policy"]
    query = client.get(path + "?done=%00")
    assert query.status_code == 422 and query.mimetype == "text/html"
    assert "The link must not contain NUL characters" in query.get_data(as_text=True)
    assert _count(client, wolf, number) == before
    assert _incident(client, wolf, number)["status"] == "triggered"


def test_done_shows_only_the_pages_own_outcomes(paged):
    client, path = paged["client"], paged["path"]
    for text in ("Wire the money to account 123", "acknowledged.</p><p>forged", "step-99", "x"):
        page = client.get(path, query_string={"done": text}).get_data(as_text=True)
        assert "Done:" not in page and "Wire the money" not in page and "forged" not in page
    assert "Done: acknowledged." in client.get(path + "?done=acknowledged").get_data(as_text=True)
    assert "Done: note added." in client.get(path + "?done=note").get_data(as_text=True)
    assert "Done: step 1 done." in client.get(path + "?done=step-1").get_data(as_text=True)


def test_link_actions_are_recorded_via_link(paged):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    before = _count(client, wolf, number)
    assert post(client, path, action="step", step="1").status_code == 303
    assert post(client, path, action="note", note="On it").status_code == 303
    assert post(client, path, action="resolve").status_code == 303
    since = _timeline(client, wolf, number)[before:]
    mine = [e for e in since if e["actor_user_id"] == wolf["id"]]
    kinds = {e["kind"] for e in mine}
    assert {"step.changed", "note.added", "incident.resolved"} <= kinds, kinds
    assert {e["actor"] for e in mine} == {f"Winston Wolf (#{wolf['id']}) via link"}


def test_a_step_waiting_for_an_approved_statement_is_not_offered(paged):
    client, wolf, number, path = paged["client"], paged["wolf"], paged["number"], paged["path"]
    for ref in ("1", "3"):  # take command, assess scope: the holding statement (6) is ready
        resp = post(client, path, action="step", step=ref)
        assert resp.status_code == 303, resp.get_data(as_text=True)
    assert "Done: step 3 done." in client.get(resp.headers["Location"]).get_data(as_text=True)
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=wolf["headers"]).get_json()
    assert run["steps"][5]["state"] == "ready" and run["steps"][5]["id"] == "holding-statement"
    page = client.get(path).get_data(as_text=True)
    assert "Mark step 6 done" not in page and "Mark step 4 done" in page
    holding = page[page.index("<strong>6.</strong>") : page.index("<strong>7.</strong>")]
    assert "waits for an approved statement" in holding
    before = _count(client, wolf, number)
    assert post(client, path, action="step", step="6").status_code == 409  # still refused
    assert _count(client, wolf, number) == before
