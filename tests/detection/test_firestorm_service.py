"""Firestorm scenarios end to end: API ingest -> Redis buckets -> RQ detect job -> incident."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.auth.roles import Role
from tests.detection.firestorm import Replay

BASE = 10.0  # mentions per minute before the surge


@pytest.fixture
def replay(client, admin, people, clock, run_jobs):
    client.post(
        "/api/v1/monitors",
        json={
            "key": "acme",
            "name": "Acme Kettles",
        },
        headers=admin["headers"],
    )
    feeder = people.make(Role.INGEST, name="Listening tool")
    r = Replay(client, feeder, clock, run_jobs)
    r.backfill(minutes=8 * 60, per_minute=BASE)
    return r


def test_negative_surge_opens_one_incident_within_minutes(replay, reviewer, client):
    """A gentle ramp (10x over 10 minutes, 20% -> 70% negative) opens one incident once the
    negative share is significantly above its baseline plus the 10-point margin."""
    for _ in range(10):
        replay.step(BASE, 0.2)
    onset = replay.clock.now + timedelta(microseconds=1000)
    opened_at_minute = None
    for k in range(1, 11):  # 10x over 10 minutes, negative share 20% -> 70%
        replay.step(BASE * (1 + 9 * k / 10), 0.2 + 0.5 * k / 10)
        if opened_at_minute is None and replay.incidents(reviewer):
            opened_at_minute = k
    for _ in range(5):  # it goes on: still one incident
        replay.step(BASE * 10, 0.7)
    incidents = replay.incidents(reviewer)
    assert len(incidents) == 1, incidents
    incident = incidents[0]
    assert incident["source"] == "detector" and incident["monitor"] == "acme"
    from datetime import datetime

    opened = datetime.fromisoformat(incident["opened_at"])
    assert opened - onset <= timedelta(minutes=6), (opened, onset)
    assert opened_at_minute is not None and opened_at_minute <= 6
    events = client.get(
        f"/api/v1/incidents/{incident['number']}/timeline", headers=reviewer["headers"]
    ).get_json()["events"]
    assert [e["kind"] for e in events[:2]] == ["signal.detected", "incident.opened"]
    signal = events[0]["data"]
    # the window that was most surprising (1, 15 or 60 min): well above what was expected
    assert signal["observed"] >= 1.5 * signal["expected"] and signal["z"] > 0
    assert signal["negative_share"] > signal["negative_baseline"]
    assert signal["evidence"] and all(e["sentiment"] < 0 for e in signal["evidence"])
    reaches = [e["damage"] for e in signal["evidence"]]
    assert reaches == sorted(reaches, reverse=True)
    assert client.get(
        f"/api/v1/incidents/{incident['number']}/timeline/verify", headers=reviewer["headers"]
    ).get_json()["intact"]


def test_positive_surge_of_the_same_size_opens_none(replay, reviewer):
    for _ in range(5):
        replay.step(BASE, 0.2)
    for k in range(1, 16):  # a launch: 10x volume, and people love it
        replay.step(BASE * min(10, 1 + 9 * k / 10), 0.05, positive_share=0.8)
    assert replay.incidents(reviewer) == []


def test_flat_negative_stream_opens_none(replay, reviewer):
    for _ in range(20):
        replay.step(BASE, 0.7)
    assert replay.incidents(reviewer) == []
