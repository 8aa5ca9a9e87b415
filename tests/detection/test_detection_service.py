"""Detection through the API, Redis and real workers: small brands, unreadable text, a surge
pushed at once, the periodic sweep, and a state that costs the same whatever the history."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue

from service.auth.roles import Role
from service.db import utcnow
from service.detection import due
from service.detection import service as detection
from service.detection.buckets import BucketStore
from service.detection.state import stale_key, state_key
from service.extensions import db, redis
from service.queues import ALL_QUEUES
from service.reconcile import sweep
from tests.detection.firestorm import NEGATIVE, NEUTRAL, POSITIVE, Replay
from tests.paging.fixtures import wait_for

SPANISH_COMPLAINTS = [
    "Pésimo servicio de Acme, la tetera explotó y nadie responde",
    "No compren Acme, sus teteras son un peligro. Vergüenza",
    "Acme me estafó, llevo una semana esperando el reembolso",
    "Qué asco de atención al cliente la de Acme, nunca más",
]


def post(client: Any, feeder: dict, items: list[dict], monitor: str = "acme") -> dict:
    """Push mentions as a listening tool does (batches of 1,000); every one must be accepted."""
    accepted = 0
    for i in range(0, len(items), 1000):
        body = client.post(
            f"/api/v1/monitors/{monitor}/mentions",
            json={"mentions": items[i : i + 1000]},
            headers=feeder["headers"],
        ).get_json()
        assert body["rejected"] == 0, body
        accepted += body["accepted"]
    return {"accepted": accepted}


def mentions(
    rng: random.Random, start: datetime, seconds: float, count: int, pools: list[tuple]
) -> list[dict]:
    """`count` mentions spread over `seconds` from `start`, texts drawn from weighted pools."""
    out = []
    for i in range(count):
        roll, acc, texts = rng.random(), 0.0, pools[-1][1]
        for weight, pool in pools:
            acc += weight
            if roll < acc:
                texts = pool
                break
        at = start + timedelta(seconds=rng.uniform(0, seconds))
        out.append(
            {
                "source": "twitter",
                "source_id": f"{start.timestamp()}-{i}-{rng.random()}",
                "text": rng.choice(texts),
                "author_reach": rng.randrange(1, 5000),
                "created_at": at.isoformat(),
            }
        )
    return out


ORDINARY = [(0.2, NEGATIVE), (0.3, POSITIVE), (0.5, NEUTRAL)]


@pytest.fixture
def acme(client, admin, people) -> dict:
    client.post("/api/v1/monitors", json={"key": "acme", "name": "Acme"}, headers=admin["headers"])
    return people.make(Role.INGEST, name="Listening tool")


@pytest.fixture
def small_brand(acme, client, clock, run_jobs) -> Replay:
    # four minutes before an hour the history never saw: the surge begins in it (a new hour's
    # profile must not learn the surge and absorb it)
    clock.now = clock.now.replace(minute=56) - timedelta(days=1)
    replay = Replay(client, acme, clock, run_jobs)
    replay.backfill(minutes=4 * 60, per_minute=2.0)
    return replay


def test_a_small_brands_negative_surge_opens(small_brand, reviewer):
    for _ in range(5):
        small_brand.step(2.0, 0.2)
    for _ in range(10):  # 2 -> 15 mentions a minute, 46 % negative
        small_brand.step(15.0, 0.46)
    (incident,) = small_brand.incidents(reviewer)
    assert incident["source"] == "detector"


def test_a_small_brands_praise_and_steady_negative_hour_open_nothing(small_brand, reviewer):
    for _ in range(5):
        small_brand.step(2.0, 0.2)
    for _ in range(6):  # praise: 15 a minute, hardly anything negative
        small_brand.step(15.0, 0.05, positive_share=0.7)
    for _ in range(60):  # a steady, ordinary-volume negative hour is not a firestorm
        small_brand.step(2.0, 0.6)
    assert small_brand.incidents(reviewer) == []


def test_unreadable_text_never_dilutes_the_share_and_an_unreadable_surge_opens_on_volume(
    acme, client, clock, run_jobs, reviewer
):
    rng = random.Random(3)
    start = clock.now
    history = []
    for m in range(3 * 60, 0, -1):
        history += mentions(rng, start - timedelta(minutes=m), 60, 20, ORDINARY)
    post(client, acme, history)
    run_jobs()
    for minute in range(6):  # a Spanish firestorm: ten times the volume, no scorer reads it
        at = start + timedelta(minutes=minute)
        clock.now = at + timedelta(seconds=59)
        post(client, acme, mentions(rng, at, 59, 200, [(1.0, SPANISH_COMPLAINTS)]))
        run_jobs()
    incidents = client.get("/api/v1/incidents", headers=reviewer["headers"]).get_json()
    assert len(incidents) == 1, incidents
    incident = incidents[0]
    assert "sentiment unknown" in incident["title"] and "% es" in incident["title"]
    assert incident["severity"] in ("sev3", "sev4")  # volume alone: one step lower
    events = client.get(
        f"/api/v1/incidents/{incident['number']}/timeline", headers=reviewer["headers"]
    ).get_json()["events"]
    signal = events[0]["data"]
    assert signal["sentiment_unknown"] is True and signal["coverage"] < 0.5
    assert max(signal["unread_languages"], key=signal["unread_languages"].get) == "es"
    # the languages' shares add up to the unread share the coverage says
    assert sum(signal["unread_languages"].values()) == pytest.approx(
        1 - signal["coverage"], abs=0.01
    )
    assert "es" in {e["lang"] for e in signal["evidence"]}  # the evidence shows languages
    with client.application.app_context():
        bucket = BucketStore(redis.client, ttl_seconds=3600).fetch(
            1, [int(start.timestamp()) - 600]
        )[0]
        assert bucket.readable == bucket.count  # the English history was read...
        surge = BucketStore(redis.client, ttl_seconds=3600).fetch(1, [int(start.timestamp())])[0]
        assert surge.readable == 0 and surge.negative == 0  # ...the Spanish surge was not


def test_the_sweep_evaluates_a_monitor_that_received_nothing_since(
    acme, client, clock, run_jobs, reviewer, app
):
    rng = random.Random(5)
    start = clock.now
    history = []
    for m in range(3 * 60, 0, -1):
        history += mentions(rng, start - timedelta(minutes=m), 60, 20, ORDINARY)
    post(client, acme, history)
    run_jobs()
    clock.now = start + timedelta(seconds=59)
    post(client, acme, mentions(rng, start, 59, 300, [(0.8, NEGATIVE), (0.2, NEUTRAL)]))
    with app.app_context():  # the evaluation jobs were lost with Redis's queues
        for name in ALL_QUEUES:
            q = Queue(name.value, connection=redis.client)
            q.empty()
            for job_id in q.scheduled_job_registry.get_job_ids():
                q.scheduled_job_registry.remove(job_id, delete_job=True)
        redis.client.delete(due.DUE_KEY, due.CLOSING_KEY, due.DRAIN_FLAG)
    assert run_jobs() == 0
    with app.app_context():
        assert sweep(now=clock.now)["monitors"] == 0  # evaluated less than a minute ago
        clock.advance(seconds=61)
        assert sweep(now=clock.now)["monitors"] == 1
    run_jobs()
    assert len(client.get("/api/v1/incidents", headers=reviewer["headers"]).get_json()) == 1


def test_a_backfill_in_batches_is_learnt_as_history_not_as_silence(
    acme, client, clock, run_jobs, app
):
    # a listening tool connected to a new monitor sends the last hours oldest first, a batch at
    # a time, and each batch is evaluated: the first evaluation folds the later hours in while
    # their buckets are still empty; the later batches must not leave them learnt as silence
    rng = random.Random(12)
    start = clock.now
    history = []
    for m in range(6 * 60, 0, -1):
        history += mentions(rng, start - timedelta(minutes=m), 60, 12, ORDINARY)
    for i in range(0, len(history), 1000):
        post(client, acme, history[i : i + 1000])
        run_jobs()
    with app.app_context():
        state = json.loads(redis.client.get(state_key(1)))
        hour = start.hour if start.minute else (start.hour - 1) % 24
        assert state["level"] * state["daily"][hour] == pytest.approx(12.0, rel=0.3)
        assert not redis.client.exists(stale_key(1))


def test_an_evaluation_reads_the_same_few_buckets_whatever_the_history(
    acme, client, clock, run_jobs, app, monkeypatch
):
    rng = random.Random(9)
    start = clock.now
    history = []
    for m in range(2 * 24 * 60, 0, -3):
        history += mentions(rng, start - timedelta(minutes=m), 180, 6, ORDINARY)
    post(client, acme, history)
    run_jobs()
    read: list[int] = []
    original = BucketStore.fetch

    def counting(self: BucketStore, monitor_id: int, starts: Any) -> list:
        starts = list(starts)
        read.append(len(starts))
        return original(self, monitor_id, starts)

    monkeypatch.setattr(BucketStore, "fetch", counting)
    with app.app_context():
        assert redis.client.exists(state_key(1))
        for minute in range(1, 4):
            clock.now = start + timedelta(minutes=minute, seconds=5)
            with db.transaction() as session:
                detection.evaluate(session, monitor_id=1, now=clock.now)
        assert read and max(read) <= 70, read  # the windows' buckets and the new ones
        redis.client.delete(state_key(1))  # lost: rebuilt from the buckets
        read.clear()
        with db.transaction() as session:
            detection.evaluate(session, monitor_id=1, now=clock.now)
        assert max(read) > 2000  # a rebuild reads the stored days once...
        assert redis.client.exists(state_key(1))  # ...and is kept again


@pytest.mark.slow
def test_a_surge_pushed_at_once_then_silence_opens_within_five_seconds(
    acme, client, reviewer, worker_process
):
    worker_process().wait_ready()
    rng = random.Random(11)
    now = utcnow()
    history = []
    for m in range(3 * 60, 0, -1):
        history += mentions(rng, now - timedelta(minutes=m), 60, 10, ORDINARY)
    post(client, acme, history)
    time.sleep(2)  # the history's evaluation
    assert client.get("/api/v1/incidents", headers=reviewer["headers"]).get_json() == []
    # at a minute's close, the listening tool pushes that minute's surge in one request
    now = datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0)
    time.sleep(max(0.0, (minute + timedelta(seconds=59.5) - datetime.now(UTC)).total_seconds()))
    pushed = time.monotonic()
    post(client, acme, mentions(rng, minute, 59, 250, [(0.8, NEGATIVE), (0.2, NEUTRAL)]))
    opened = wait_for(
        lambda: client.get("/api/v1/incidents", headers=reviewer["headers"]).get_json(),
        timeout=10,
    )
    assert time.monotonic() - pushed <= 5.0
    assert len(opened) == 1


def test_late_history_rebuilds_stay_within_their_budget(app, monkeypatch):
    """Rebuilds for late history are paid in buckets replayed: a young monitor's (hours of
    history) are cheap, so a backfill in many batches is learnt batch by batch; a monitor with
    days of history spends the budget, and then the flag waits and the monitor is asked for
    again once the budget has refilled enough."""
    from service.detection import due
    from service.detection import state as states

    with app.app_context():
        store = detection.models()
        config = detection.engine.DetectorConfig()
        now = utcnow()
        model, rebuilt = store.load(3, config, now)
        assert rebuilt  # no state yet
        store.save(3, model)
        states.mark_stale(redis.client, 3)
        assert store.load(3, config, now)[1]  # late history: rebuilt, the flag consumed
        assert not redis.client.exists(stale_key(3))
        assert not store.load(3, config, now)[1]  # no flag: the saved state
        # two days of history: a rebuild replays ~2,800 buckets of a budget of two full ones
        first = int(now.timestamp()) - 2 * 86_400
        redis.client.set(f"{store.buckets.prefix(3)}:first", first - first % 60)
        monkeypatch.setattr(states, "LATE_REBUILDS", 2)
        redis.client.delete("fb:detect-late-rebuilds:3")
        for _ in range(8):  # 8 x 2,820 buckets fit in 2 x 11,520, a ninth does not
            states.mark_stale(redis.client, 3)
            assert store.load(3, config, now)[1]
        states.mark_stale(redis.client, 3)
        assert not store.load(3, config, now)[1]  # budget spent: the saved state ...
        assert redis.client.exists(stale_key(3))  # ... the flag waits ...
        asked = redis.client.zscore(due.DUE_KEY, "3")  # ... and the monitor is asked for again
        assert asked is not None and now.timestamp() < asked <= now.timestamp() + 60
        later = now + timedelta(seconds=asked - now.timestamp() + 1)
        assert store.load(3, config, later)[1]  # refilled: rebuilt
        assert not redis.client.exists(stale_key(3))
