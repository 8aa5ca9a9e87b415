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
