"""Two processes' worth of writers on one incident's timeline never collide on a number, on
PostgreSQL (row locks) and on SQLite (a transaction takes the write lock when it begins)."""

from __future__ import annotations

import threading

import pytest

from service.auth.roles import Role
from service.extensions import db
from service.incidents import service as incidents
from service.timeline.service import Actor


@pytest.mark.smoke
def test_concurrent_notes_get_distinct_numbers(app, client, people):
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    resp = client.post(
        "/api/v1/incidents", json={"title": "race", "severity": "sev3"}, headers=wolf["headers"]
    )
    number = resp.get_json()["number"]
    errors: list[BaseException] = []

    def write(who: int) -> None:
        try:
            for i in range(15):
                with app.app_context(), db.transaction() as session:
                    incident = incidents.get(session, number=number, lock=True)
                    incidents.add_note(
                        session, incident=incident, actor=Actor.system("t"), text=f"{who}-{i}"
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    events = client.get(f"/api/v1/incidents/{number}/timeline", headers=wolf["headers"])
    seqs = [e["seq"] for e in events.get_json()["events"]]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 45
