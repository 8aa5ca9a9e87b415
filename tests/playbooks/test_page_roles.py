"""A playbook's `page` roles are called in by SMS when the incident opens with it: each holder
not already paged or notified gets one notice with their own link, on the timeline as pages
are; nobody the escalation policy already paged or notified hears twice."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.auth.roles import Role
from service.extensions import db
from service.paging import links
from service.paging.messages import MAX_SEGMENTS
from service.paging.models import PageLink
from service.paging.segments import count_segments
from tests.paging.fixtures import (
    BACKUP,
    LEGAL,
    WOLF,
    contact,
    declare,
    policy,
    team,
)

CORA, CODY, LARS = "+14155550111", "+14155550112", "+14155550113"
LINK = re.compile(r"https://firebreak\.test/r/([A-Za-z0-9_-]{22})")


def _to(standin, phone: str) -> list[str]:
    return [m.params["Body"] for m in standin.messages if m.params["To"] == phone]


def _timeline(client, who, number) -> list[dict]:
    body = client.get(f"/api/v1/incidents/{number}/timeline", headers=who["headers"]).get_json()
    return body["events"]


def test_the_playbooks_roles_are_called_in_once_at_open(tw_app, tw_jobs, standin):
    wolf, backup, legal = team(tw_app)
    cora = contact(tw_app, "Cora Comms", {Role.COMMS}, CORA)
    cody = contact(tw_app, "Cody Comms", {Role.COMMS}, CODY, verified=False)
    contact(tw_app, "Lars Legal", {Role.LEGAL}, LARS)  # Lena holds legal for the incident
    policy(
        tw_app,
        [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}],
        notify=[{"user_id": legal["id"]}],
    )
    client = tw_app.test_client()
    number = declare(client, wolf)  # the shipped default: page: [wolf, legal, comms]
    tw_jobs()
    run = client.get(f"/api/v1/incidents/{number}/playbook", headers=wolf["headers"]).get_json()
    assert run["page"] == ["wolf", "legal", "comms"]
    # the Wolf and legal, paged and notified by the policy, hear once; nobody else of theirs
    [page] = _to(standin, WOLF)
    assert page.startswith(f"FIREBREAK SEV1 #{number} ") and "1A ack" in page
    [notice] = _to(standin, LEGAL)
    assert notice.startswith("FIREBREAK legal notice")
    assert _to(standin, BACKUP) == [] and _to(standin, LARS) == []
    # comms: one notice with her own link, within the SMS budget
    [called] = _to(standin, CORA)
    assert called.startswith(f"FIREBREAK SEV1 #{number} Exploding kettle video: you are called")
    assert "as comms" in called and count_segments(called) <= MAX_SEGMENTS
    token = LINK.search(called)
    assert token, called
    with tw_app.app_context():
        owner = db.session.scalars(
            select(PageLink.user_id).where(PageLink.token_hash == links.digest(token.group(1)))
        ).one()
    assert owner == cora["id"]
    assert client.get(f"/r/{token.group(1)}").status_code == 200
    # on the timeline as pages are: queued for Cora, skipped (and why) for Cody
    events = _timeline(client, wolf, number)
    queued = [e["data"] for e in events if e["kind"] == "page.queued"]
    assert [(q["to"], q["kind"]) for q in queued] == [
        ("Winston Wolf", "page"),
        ("Lena Legal", "notify"),
        ("Cora Comms", "notify"),
    ]
    skipped = [e["data"] for e in events if e["kind"] == "page.skipped"]
    assert skipped == [
        {
            "user": "Cody Comms",
            "user_id": cody["id"],
            "reason": "no verified phone (playbook pages comms)",
        }
    ]
    kinds = [e["kind"] for e in events]
    assert kinds.index("playbook.attached") < kinds.index("page.skipped")
    # and, having been told, she hears when it resolves
    client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=wolf["headers"])
    tw_jobs()
    assert _to(standin, CORA)[-1].startswith(f"FIREBREAK #{number} resolved by Winston Wolf")


def test_roles_are_called_in_only_at_open(tw_app, tw_jobs, standin):
    wolf, _backup, _legal = team(tw_app)
    contact(tw_app, "Cora Comms", {Role.COMMS}, CORA)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    number = declare(client, wolf)
    tw_jobs()
    assert len(_to(standin, CORA)) == 1
    resp = client.post(
        f"/api/v1/incidents/{number}/playbook",
        json={"playbook_id": "executive-post", "replace": True},
        headers=wolf["headers"],
    )
    assert resp.status_code in (200, 201), resp.get_json()
    tw_jobs()
    assert len(_to(standin, CORA)) == 1  # attaching by hand later calls nobody in
