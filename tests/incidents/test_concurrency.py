"""Concurrent transitions on one incident: exactly one wins, state and timeline stay whole."""

from __future__ import annotations

import threading

from service.auth.roles import Role


def test_racing_acknowledgements_have_one_winner(app, people):
    wolves = [people.make(Role.WOLF, name=f"Wolf {i}") for i in range(8)]
    client = app.test_client()
    assert (
        client.post(
            "/api/v1/incidents",
            json={"title": "race", "severity": "sev1"},
            headers=wolves[0]["headers"],
        ).status_code
        == 201
    )
    barrier = threading.Barrier(len(wolves))
    results: list[int] = []

    def ack(person: dict) -> None:
        c = app.test_client()
        barrier.wait()
        results.append(
            c.post(
                "/api/v1/incidents/1/acknowledge", json={}, headers=person["headers"]
            ).status_code
        )

    threads = [threading.Thread(target=ack, args=(w,)) for w in wolves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * (len(wolves) - 1)
    timeline = client.get("/api/v1/incidents/1/timeline", headers=wolves[0]["headers"]).get_json()
    kinds = [e["kind"] for e in timeline["events"]]
    assert kinds.count("incident.acknowledged") == 1
    verify = client.get("/api/v1/incidents/1/timeline/verify", headers=wolves[0]["headers"])
    assert verify.get_json()["intact"] is True


def test_racing_resolve_and_notes_keep_the_chain(app, people):
    crew = [people.make(Role.RESPONDER, name=f"R{i}") for i in range(6)]
    client = app.test_client()
    client.post(
        "/api/v1/incidents", json={"title": "race", "severity": "sev2"}, headers=crew[0]["headers"]
    )
    barrier = threading.Barrier(len(crew))

    def act(i: int, person: dict) -> None:
        c = app.test_client()
        barrier.wait()
        for j in range(5):
            if i % 2:
                c.post(
                    "/api/v1/incidents/1/notes",
                    json={"text": f"n{i}.{j}"},
                    headers=person["headers"],
                )
            else:
                c.post("/api/v1/incidents/1/resolve", json={}, headers=person["headers"])

    threads = [threading.Thread(target=act, args=(i, p)) for i, p in enumerate(crew)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = client.get("/api/v1/incidents/1/timeline", headers=crew[0]["headers"]).get_json()[
        "events"
    ]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert sum(e["kind"] == "note.added" for e in events) == 15
    assert sum(e["kind"] == "incident.resolved" for e in events) == 1
    assert client.get("/api/v1/incidents/1/timeline/verify", headers=crew[0]["headers"]).get_json()[
        "intact"
    ]
