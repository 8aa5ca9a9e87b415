"""A whole firestorm for the page tests: detector opens, pages, ack, statement, resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from service.auth.roles import Role
from tests.detection.firestorm import Replay
from tests.paging.fixtures import contact, policy
from tests.statements.statement_fixtures import HOLDING, decide, draft, publish, submit, use_policy


@dataclass
class Story:
    """What the story made: the incident's number and the people, with tokens."""

    number: int
    wolf: dict
    legal: dict
    reviewer: dict
    feeder: dict
    events: list[dict]


def firestorm(
    app, client, people, admin, clock, run_jobs, monkeypatch: pytest.MonkeyPatch
) -> Story:
    """Drive a detector-opened incident through paging, a statement and resolution."""
    use_policy(monkeypatch, approvals=["legal"])
    wolf = contact(app, "Winston Wolf", {Role.WOLF}, "+14155550101")
    legal = contact(app, "Lena Legal", {Role.LEGAL}, "+14155550102")
    reviewer = people.make(Role.REVIEWER, name="Rita Reviewer")
    policy(app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    resp = client.post(
        "/api/v1/monitors", json={"key": "acme", "name": "Acme Kettles"}, headers=admin["headers"]
    )
    assert resp.status_code == 201, resp.get_json()
    feeder = people.make(Role.INGEST, name="Listening tool")
    replay = Replay(client, feeder, clock, run_jobs)
    replay.backfill(minutes=7 * 60, per_minute=10)
    for _ in range(20):
        replay.step(10, 0.2)
    for k in range(1, 6):
        replay.step(10 * (1 + 2 * k), 0.2 + 0.1 * k)
        if replay.incidents(reviewer):
            break
    found = replay.incidents(reviewer)
    assert len(found) == 1, found
    number = found[0]["number"]
    run_jobs()
    h = wolf["headers"]
    clock.advance(seconds=40)
    assert (
        client.post(f"/api/v1/incidents/{number}/acknowledge", json={}, headers=h).status_code
        == 200
    )
    for _ in range(4):
        replay.step(60, 0.7)
    sid = draft(client, wolf, number)["id"]
    assert submit(client, wolf, number, sid).status_code == 200
    clock.advance(seconds=30)
    assert decide(client, legal, number, sid, 1, HOLDING).status_code == 200
    assert publish(client, wolf, number, sid, 1, HOLDING).status_code in (200, 201)
    for _ in range(10):
        replay.step(10, 0.2)
    clock.advance(minutes=1)
    note = {"text": "Video debunked <b>by</b> its creator"}
    assert client.post(f"/api/v1/incidents/{number}/notes", json=note, headers=h).status_code == 201
    assert client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=h).status_code == 200
    run_jobs()
    events = client.get(
        f"/api/v1/incidents/{number}/timeline", headers=reviewer["headers"]
    ).get_json()["events"]
    return Story(number, wolf, legal, reviewer, feeder, events)


MINUTE = timedelta(minutes=1)
