"""The whole statement path through the API: draft, edit, submit, approve, publish, timeline."""

from __future__ import annotations

from service.statements.models import content_hash
from tests.statements.statement_fixtures import (
    HOLDING,
    decide,
    declare,
    draft,
    events,
    publish,
    submit,
    url,
)


def test_draft_approve_publish_shows_on_the_timeline(client, crew):
    number = declare(client, crew["wolf"], wolf_id=crew["wolf"]["id"])
    st = draft(client, crew["comms"], number)
    sid = st["id"]
    assert st["purpose"] == "holding" and st["channel"] == "twitter"
    [v1] = st["versions"]
    assert v1["number"] == 1 and v1["hash"] == content_hash(HOLDING) and v1["approval"] is None
    assert v1["author"] == "Cora Comms"

    resp = submit(client, crew["comms"], number, sid)
    assert resp.status_code == 200, resp.get_json()
    approval = resp.get_json()["approval"]
    assert approval["status"] == "pending" and approval["required_roles"] == ["legal"]
    assert approval["missing_roles"] == ["legal"] and approval["due_at"]

    resp = decide(client, crew["legal"], number, sid, 1, HOLDING, comment="fine by legal")
    assert resp.status_code == 200, resp.get_json()
    approval = resp.get_json()["approval"]
    assert approval["status"] == "approved" and approval["missing_roles"] == []
    [decision] = approval["decisions"]
    assert decision["role"] == "legal" and decision["user"] == "Lena Legal"
    assert decision["hash"] == content_hash(HOLDING) and decision["comment"] == "fine by legal"

    resp = publish(
        client, crew["comms"], number, sid, 1, HOLDING, url="https://x.com/acme/status/1"
    )
    assert resp.status_code == 201, resp.get_json()
    pub = resp.get_json()
    assert pub["version"] == 1 and pub["channel"] == "twitter"
    assert pub["published_by"] == "Cora Comms" and pub["url"] == "https://x.com/acme/status/1"

    got = client.get(url(number, sid), headers=crew["reviewer"]["headers"]).get_json()
    assert [p["hash"] for p in got["publications"]] == [content_hash(HOLDING)]
    listed = client.get(
        f"/api/v1/incidents/{number}/statements", headers=crew["reviewer"]["headers"]
    )
    assert [s["id"] for s in listed.get_json()] == [sid]

    evs = events(client, crew["reviewer"], number)
    assert [e["kind"] for e in evs] == [
        "statement.drafted",
        "statement.submitted",
        "statement.approved",
        "statement.published",
    ]
    assert [e["actor"].split(" (#")[0] for e in evs] == [
        "Cora Comms",
        "Cora Comms",
        "Lena Legal",
        "Cora Comms",
    ]
    assert evs[2]["data"]["comment"] == "fine by legal" and evs[2]["data"]["status"] == "approved"
    assert evs[3]["data"]["sha256"] == content_hash(HOLDING)
    verify = client.get(
        f"/api/v1/incidents/{number}/timeline/verify", headers=crew["wolf"]["headers"]
    )
    assert verify.get_json()["intact"] is True


def test_edit_after_approval_needs_approval_again_and_the_wolf_may_publish(client, crew):
    number = declare(client, crew["comms"], wolf_id=crew["wolf"]["id"])
    sid = draft(client, crew["comms"], number)["id"]
    submit(client, crew["comms"], number, sid)
    assert decide(client, crew["legal"], number, sid, 1, HOLDING).status_code == 200

    edited = HOLDING + " We are sorry."
    resp = client.post(
        url(number, sid, "/versions"), json={"text": edited}, headers=crew["wolf"]["headers"]
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["number"] == 2 and resp.get_json()["approval"] is None

    # v2 is not approved: publishing it is refused, and the old approval does not carry over
    refused = publish(client, crew["wolf"], number, sid, 2, edited)
    assert refused.status_code == 409
    assert "never submitted" in refused.get_json()["detail"]
    # the wolf wrote v2 and cannot approve it even holding... (they do not hold legal anyway)
    submit(client, crew["wolf"], number, sid, 2)
    assert decide(client, crew["legal2"], number, sid, 2, edited).status_code == 200
    resp = publish(client, crew["wolf"], number, sid, 2, edited, channel="press-release")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["channel"] == "press-release"

    diff = client.get(
        url(number, sid, "/diff?from=1&to=2"), headers=crew["reviewer"]["headers"]
    ).get_json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert f"-{HOLDING}" in diff["diff"] and f"+{edited}" in diff["diff"]
    assert diff["diff"].startswith("--- v1 ")


def test_rejection_is_recorded_with_its_comment_and_a_new_version_fixes_it(client, crew):
    number = declare(client, crew["wolf"])
    sid = draft(client, crew["comms"], number, text="We did nothing wrong.")["id"]
    submit(client, crew["comms"], number, sid)
    resp = decide(
        client,
        crew["legal"],
        number,
        sid,
        1,
        "We did nothing wrong.",
        action="reject",
        comment="admits nothing but sounds defensive; soften",
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["approval"]["status"] == "rejected"
    evs = events(client, crew["wolf"], number)
    assert evs[-1]["kind"] == "statement.rejected"
    assert evs[-1]["data"]["comment"] == "admits nothing but sounds defensive; soften"

    client.post(
        url(number, sid, "/versions"), json={"text": HOLDING}, headers=crew["comms"]["headers"]
    )
    assert submit(client, crew["comms"], number, sid, 2).status_code == 200
    assert decide(client, crew["legal"], number, sid, 2, HOLDING).status_code == 200
    assert publish(client, crew["comms"], number, sid, 2, HOLDING).status_code == 201
