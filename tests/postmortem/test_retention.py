"""Evidence retention: buckets and top mentions are copied to the database on open and resolve,
so the post-mortem chart and evidence survive Redis expiring them."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select

from service.auth.roles import Role
from service.detection import service as detection
from service.detection.buckets import BucketStore
from service.extensions import db, redis
from service.incidents import service as incidents
from service.incidents.models import Severity
from service.monitors.models import Monitor
from service.postmortem import retention
from service.postmortem.models import EvidenceSnapshot, IncidentBucket
from service.timeline.service import Actor
from tests.detection.firestorm import Replay, minute_mentions

BASE = 10.0
MINUTE = timedelta(minutes=1)
MONITOR = 1  # the first monitor of a clean database


@pytest.fixture
def feeder(app, client, admin, people):
    resp = client.post(
        "/api/v1/monitors", json={"key": "acme", "name": "Acme Kettles"}, headers=admin["headers"]
    )
    assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        assert db.session.scalar(select(Monitor.id).where(Monitor.key == "acme")) == MONITOR
    return people.make(Role.INGEST, name="Listening tool")


def post(client, feeder, items) -> None:
    resp = client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": items}, headers=feeder["headers"]
    )
    assert resp.status_code == 200 and resp.get_json()["rejected"] == 0, resp.get_json()


def redis_buckets(app, starts: list[datetime]) -> dict[datetime, int]:
    with app.app_context():
        store = detection.store()
        return {
            b.start: b.count for b in store.fetch(MONITOR, (int(s.timestamp()) for s in starts))
        }


def copied(app, number: int) -> dict[datetime, IncidentBucket]:
    with app.app_context():
        return {b.start: b for b in retention.series(db.session, incident_id=number)}


def snapshots(app, number: int) -> list[EvidenceSnapshot]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(EvidenceSnapshot)
                .where(EvidenceSnapshot.incident_id == number)
                .order_by(EvidenceSnapshot.id)
            )
        )


def resolve(client, wolf, number: int) -> None:
    resp = client.post(f"/api/v1/incidents/{number}/resolve", json={}, headers=wolf["headers"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "resolved"


def test_detector_incident_keeps_its_buckets_and_evidence_after_redis_forgets_them(
    app, client, feeder, people, clock, run_jobs, reviewer
):
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    replay = Replay(client, feeder, clock, run_jobs)
    replay.backfill(minutes=8 * 60, per_minute=BASE)
    for _ in range(10):
        replay.step(BASE, 0.2)
    for k in range(1, 11):
        replay.step(BASE * (1 + 9 * k / 10), 0.2 + 0.5 * k / 10)
        if replay.incidents(reviewer):
            break
    (incident,) = replay.incidents(reviewer)
    number, opened_at = incident["number"], datetime.fromisoformat(incident["opened_at"])
    opened_bucket = opened_at.replace(second=0, microsecond=0)

    # on open: every minute from 3 h before the signal's window to the open, as Redis had them
    at_open = copied(app, number)
    signal = client.get(
        f"/api/v1/incidents/{number}/timeline", headers=reviewer["headers"]
    ).get_json()["events"][0]["data"]
    signal_start = datetime.fromisoformat(signal["window"][0].replace("Z", "+00:00"))
    first = signal_start.replace(second=0, microsecond=0) - timedelta(hours=3)
    span = int((opened_bucket - first) / MINUTE) + 1
    window = [first + i * MINUTE for i in range(span)]
    assert sorted(at_open) == window
    assert {s: b.count for s, b in at_open.items()} == redis_buckets(app, window)
    assert sum(b.count for b in at_open.values()) > (span - 1) * BASE * 0.8
    assert all(b.seconds == 60 for b in at_open.values())
    (opened,) = snapshots(app, number)
    assert opened.reason == "opened" and opened.window_end == opened_at
    assert 0 < len(opened.mentions) <= retention.EVIDENCE_LIMIT
    assert all(m["sentiment"] < 0 for m in opened.mentions)

    # the spike goes on; a late batch lands in a bucket already copied
    for _ in range(5):
        replay.step(BASE * 10, 0.7)
    late_bucket = opened_bucket - 2 * MINUTE
    post(client, feeder, minute_mentions(replay.rng, late_bucket, 7, 0.9, 0.0, "late"))
    clock.advance(seconds=30)
    resolve(client, wolf, number)
    resolved_at = clock.now

    at_resolve = copied(app, number)
    window = [first + i * MINUTE for i in range(span + 6)]  # through the resolve bucket
    assert sorted(at_resolve) == window
    assert {s: b.count for s, b in at_resolve.items()} == redis_buckets(app, window)
    assert at_resolve[late_bucket].count == at_open[late_bucket].count + 7
    assert at_resolve[late_bucket].copied_at == resolved_at
    assert at_resolve[first].copied_at == at_open[first].copied_at  # unchanged: not rewritten
    assert at_resolve[opened_bucket + MINUTE].count > 5 * BASE  # after the open
    opened, resolved = snapshots(app, number)
    assert resolved.reason == "resolved" and resolved.window_end == resolved_at
    # evidence is the firestorm's: from 15 min before the first signal's window, not 3 h
    assert resolved.window_start == first + retention.BEFORE_OPEN - retention.EVIDENCE_BEFORE

    # Redis forgets everything; the database still has the chart and the evidence
    with app.app_context():
        redis.client.flushdb()
        assert [b.start for b in retention.series(db.session, incident_id=number)] == window
        kept = retention.evidence(db.session, incident_id=number)
    assert kept == resolved.mentions and kept
    assert {s: b.count for s, b in copied(app, number).items()} == {
        s: b.count for s, b in at_resolve.items()
    }


def declare_on_monitor(app, *, title: str = "Kettle video") -> int:
    with app.app_context(), db.transaction() as session:
        incident = incidents.declare(
            session,
            title=title,
            severity=Severity.SEV2,
            actor=Actor.system("test"),
            source="detector",
            monitor_id=MONITOR,
        )
        return incident.id


@pytest.mark.smoke
def test_copies_on_open_and_resolve_and_keeps_what_redis_lost(app, client, feeder, people, clock):
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    start = clock.now - timedelta(hours=5)  # the monitor's data begins here
    rng = random.Random(3)
    post(client, feeder, minute_mentions(rng, start, 4, 0.5, 0.2, "old"))
    for m in range(1, 11):  # the last ten minutes, busier and busier
        post(
            client, feeder, minute_mentions(rng, clock.now - m * MINUTE, 12 - m, 0.6, 0.1, f"m{m}")
        )
    number = declare_on_monitor(app)

    at_open = copied(app, number)
    first = clock.now - timedelta(hours=3)
    assert sorted(at_open) == [first + i * MINUTE for i in range(181)]
    assert at_open[clock.now - MINUTE].count == 11 and at_open[clock.now - 10 * MINUTE].count == 2
    assert sum(b.count for b in at_open.values()) == sum(range(2, 12))  # true zeros elsewhere
    assert at_open[first].count == 0
    (opened,) = snapshots(app, number)
    assert opened.mentions and len(opened.mentions) <= retention.EVIDENCE_LIMIT

    # Redis loses one copied bucket (it expired) while another grows; then the incident resolves
    lost = clock.now - 3 * MINUTE
    with app.app_context():
        redis.client.delete(f"{BucketStore.prefix(MONITOR)}:b:{int(lost.timestamp())}")
    post(client, feeder, minute_mentions(rng, clock.now - MINUTE, 5, 1.0, 0.0, "more"))
    clock.advance(minutes=2)
    resolve(client, wolf, number)
    at_resolve = copied(app, number)
    assert len(at_resolve) == 183
    assert at_resolve[lost].count == at_open[lost].count == 9  # kept, not zeroed
    assert at_resolve[clock.now - 3 * MINUTE].count == 16  # grew: updated
    assert [s.reason for s in snapshots(app, number)] == ["opened", "resolved"]


def test_window_never_starts_before_the_monitors_data_and_is_capped(app, feeder, client, clock):
    rng = random.Random(5)
    post(client, feeder, minute_mentions(rng, clock.now - 20 * MINUTE, 3, 0.5, 0.2, "a"))
    number = declare_on_monitor(app)
    at_open = copied(app, number)
    assert min(at_open) == clock.now - 20 * MINUTE and len(at_open) == 21

    with app.app_context(), db.transaction() as session:
        incident = incidents.get(session, number=number)
        later = clock.now + timedelta(days=2)
        written = retention.retain(session, incident=incident, reason="resolved", now=later)
    assert written == 24 * 60 + 1  # the last 24 h only, none of them copied before
    at_later = copied(app, number)
    assert max(at_later) == later and min(at_later) == min(at_open)
    assert len(at_later) == 21 + 24 * 60 + 1


def test_a_declared_incident_without_monitor_copies_nothing(app, client, feeder, people, clock):
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    post(client, feeder, minute_mentions(random.Random(4), clock.now - MINUTE, 5, 1.0, 0.0, "n"))
    on_monitor = declare_on_monitor(app)
    resp = client.post(
        "/api/v1/incidents", json={"title": "Rumour", "severity": "sev3"}, headers=wolf["headers"]
    )
    assert resp.status_code == 201
    by_hand = resp.get_json()["number"]
    clock.advance(minutes=1)
    resolve(client, wolf, by_hand)
    resolve(client, wolf, on_monitor)
    with app.app_context(), db.transaction() as session:
        for number, buckets, snaps in ((on_monitor, 3, 2), (by_hand, 0, 0)):  # data starts -1 min
            rows = select(func.count()).where(IncidentBucket.incident_id == number)
            assert session.scalar(rows) == buckets
            shots = select(func.count()).where(EvidenceSnapshot.incident_id == number)
            assert session.scalar(shots) == snaps
        incident = incidents.get(session, number=by_hand)
        assert retention.retain(session, incident=incident, reason="resolved", now=clock.now) == 0
        assert retention.series(session, incident_id=by_hand) == []
        assert retention.evidence(session, incident_id=by_hand) == []


def test_redis_failure_during_resolve_still_resolves_and_warns(
    app, client, feeder, people, clock, monkeypatch, caplog
):
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    rng = random.Random(9)
    post(client, feeder, minute_mentions(rng, clock.now - MINUTE, 6, 1.0, 0.0, "x"))
    number = declare_on_monitor(app)
    before = copied(app, number)
    assert sum(b.count for b in before.values()) == 6

    dead = Redis.from_url("redis://:s3cret@127.0.0.1:1/0", socket_connect_timeout=1)
    monkeypatch.setattr(
        detection, "store", lambda: BucketStore(dead, bucket_seconds=60, ttl_seconds=3600)
    )
    clock.advance(minutes=5)
    with caplog.at_level(logging.WARNING, logger="service.postmortem.retention"):
        resolve(client, wolf, number)
    warnings = [r for r in caplog.records if r.name == "service.postmortem.retention"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert f"#{number}" in warnings[0].getMessage() and "ConnectionError" in caplog.text
    assert "s3cret" not in caplog.text
    assert {s: b.count for s, b in copied(app, number).items()} == {
        s: b.count for s, b in before.items()
    }
    assert [s.reason for s in snapshots(app, number)] == ["opened"]


def test_evidence_is_the_latest_snapshot_else_the_first_signals(app, client, feeder, clock):
    from service.detection.models import Signal

    post(client, feeder, minute_mentions(random.Random(6), clock.now - MINUTE, 5, 1.0, 0.0, "e"))
    number = declare_on_monitor(app)
    with app.app_context():
        (snapshot,) = snapshots(app, number)
        assert 0 < len(snapshot.mentions) <= 5  # one per text
        assert retention.evidence(db.session, incident_id=number) == snapshot.mentions
    with app.app_context(), db.transaction() as session:
        session.query(EvidenceSnapshot).delete()
        mention = {"text": "kettle exploded", "reach": 10, "sentiment": -0.8}
        session.add(
            Signal(
                monitor_id=MONITOR,
                incident_id=number,
                detected_at=clock.now,
                window_start=clock.now - MINUTE,
                window_end=clock.now,
                observed=50,
                expected=5,
                significance=6,
                negative_share=0.7,
                negative_baseline=0.2,
                reach=10,
                score=0.7,
                severity="sev2",
                details={},
                evidence=[mention],
            )
        )
    with app.app_context():
        assert retention.evidence(db.session, incident_id=number) == [mention]
