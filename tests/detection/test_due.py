"""Monitors waiting for an evaluation: claimed in batches, never twice at once, never lost."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from rq import Queue

from service.auth.roles import Role
from service.detection import due
from service.detection import service as detection
from service.detection.engine import DetectorConfig
from service.detection.state import state_key
from service.extensions import redis
from service.queues import QueueName
from service.reconcile import sweep
from tests.detection.test_detection_service import NEGATIVE, NEUTRAL, ORDINARY, mentions, post


def test_the_longest_waiting_are_claimed_first_and_never_twice(app, clock):
    with app.app_context():
        client = redis.client
        for i, monitor_id in enumerate((3, 1, 2)):
            due.ask(client, [monitor_id], now=clock.now + timedelta(seconds=i))
        due.ask(client, [3], now=clock.now + timedelta(seconds=9))  # waits already: kept first
        later = clock.now + timedelta(seconds=10)
        first = due.claim(client, now=later, limit=2)
        assert first.monitor_ids == [3, 1]
        assert first.waits() == [10.0, 9.0]
        due.ask(client, [3], now=later)  # new mentions while 3 is being evaluated
        second = due.claim(client, now=later, limit=5)
        assert second.monitor_ids == [2]  # 3 waits until its evaluation is over
        pipe = client.pipeline()
        due.release(pipe, first.monitor_ids, first.waits())
        pipe.execute()
        assert due.claim(client, now=later, limit=5).monitor_ids == [3]
        waits = client.hgetall(due.WAITS_KEY)
        assert waits[b"count"] == b"2" and waits[b"10.0"] == b"2"
        assert waits.get(b"5.0", b"0") == b"0"


def test_a_closed_minute_is_judged_once_unless_an_evaluation_already_did(app, clock):
    with app.app_context():
        client = redis.client
        closes = int(clock.now.timestamp()) + 60
        client.zadd(due.CLOSING_KEY, {"1": closes, "2": closes})
        client.zadd(due.EVALUATED_KEY, {"1": closes + 0.5})  # judged after the close
        before = due.claim(client, now=clock.now + timedelta(seconds=60.5), limit=10)
        assert before.monitor_ids == []  # not yet CLOSE_DELAY_SECONDS after the close
        claim = due.claim(client, now=clock.now + timedelta(seconds=62), limit=10)
        assert claim.monitor_ids == [2]
        assert claim.asked[2] == closes + due.CLOSE_DELAY_SECONDS
        assert client.zcard(due.CLOSING_KEY) == 0


def test_a_dead_workers_claims_come_back_after_the_lease(app, clock):
    with app.app_context():
        client = redis.client
        due.ask(client, [4, 5], now=clock.now)
        lost = due.claim(client, now=clock.now, limit=10)  # its worker dies: never released
        assert lost.monitor_ids == [4, 5]
        assert due.claim(client, now=clock.now + timedelta(seconds=30), limit=10).asked == {}
        waiting, _ = due.backlog(client, now=clock.now)
        assert waiting == 2  # the claims still count as waiting (the sweep queues a drain)
        again = due.claim(client, now=clock.now + timedelta(seconds=due.LEASE_SECONDS), limit=10)
        assert sorted(again.monitor_ids) == [4, 5]


@pytest.fixture
def brands(client, admin, people) -> dict:
    for i in range(30):
        client.post(
            "/api/v1/monitors",
            json={"key": f"brand{i}", "name": f"Brand {i}"},
            headers=admin["headers"],
        )
    return people.make(Role.INGEST, name="Listening tool")


def with_history(client, feeder: dict, rng: random.Random, start, brands) -> None:
    """Two hours of ordinary mentions, 8 a minute, for each brand (by number)."""
    for i in brands:
        history = []
        for m in range(2 * 60, 0, -1):
            history += mentions(rng, start - timedelta(minutes=m), 60, 8, ORDINARY)
        post(client, feeder, history, monitor=f"brand{i}")


def test_one_drain_evaluates_every_waiting_monitor_and_opens_the_firestorm(
    app, client, clock, run_jobs, brands, reviewer
):
    rng = random.Random(3)
    start = clock.now
    with_history(client, brands, rng, start, range(30))
    run_jobs()
    clock.now = start + timedelta(seconds=50)
    for i in range(30):  # a batch for every brand; brand7's is a negative surge
        surge = i == 7
        batch = mentions(
            rng,
            start,
            50,
            200 if surge else 7,
            [(0.8, NEGATIVE), (0.2, NEUTRAL)] if surge else ORDINARY,
        )
        post(client, brands, batch, monitor=f"brand{i}")
    with app.app_context():
        assert redis.client.zcard(due.DUE_KEY) == 30
        detect = Queue(QueueName.DETECT.value, connection=redis.client)
        assert detect.count == 1  # one job for the thirty
        redis.client.delete(due.WAITS_KEY)
    run_jobs()
    incidents = client.get("/api/v1/incidents", headers=reviewer["headers"]).get_json()
    assert [i["title"].split(":")[0] for i in incidents] == ["Negative spike on Brand 7"]
    with app.app_context():
        assert redis.client.zcard(due.DUE_KEY) == redis.client.zcard(due.CLAIMED_KEY) == 0
        assert all(redis.client.exists(state_key(m)) for m in range(1, 31))
        evaluated = redis.client.zrangebyscore(due.EVALUATED_KEY, clock.now.timestamp(), "+inf")
        assert len(evaluated) == 30
        assert redis.client.hget(due.WAITS_KEY, "count") == b"30"


def test_an_evaluation_that_fails_leaves_its_monitor_due_and_the_others_done(
    app, client, clock, run_jobs, brands, reviewer, monkeypatch
):
    from service.detection import service as detection

    rng = random.Random(4)
    start = clock.now
    with_history(client, brands, rng, start, (0, 1))
    run_jobs()
    clock.now = start + timedelta(seconds=50)
    surge = mentions(rng, start, 50, 200, [(0.8, NEGATIVE), (0.2, NEUTRAL)])
    post(client, brands, surge, monitor="brand0")
    post(client, brands, mentions(rng, start, 50, 7, ORDINARY), monitor="brand1")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(detection.signals, "open_incident", broken)
    assert run_jobs() == 1  # the drain finished: one monitor failing does not fail the rest
    with app.app_context():
        assert redis.client.zrange(due.DUE_KEY, 0, -1) == [b"1"]  # asked for again, later
        assert redis.client.zscore(due.EVALUATED_KEY, "2") == clock.now.timestamp()
        assert redis.client.zcard(due.CLAIMED_KEY) == 0
    monkeypatch.undo()
    clock.advance(seconds=due.RETRY_SECONDS)
    with app.app_context():
        sweep(now=clock.now)  # a monitor waits: the sweep queues a drain
    run_jobs()
    assert len(client.get("/api/v1/incidents", headers=reviewer["headers"]).get_json()) == 1


def test_a_minutes_close_is_left_to_a_drain_already_queued_or_running(app, clock):
    from service.detection import jobs

    with app.app_context():
        client = redis.client
        due.ask(client, [9], now=clock.now)
        client.set(due.DRAIN_FLAG, 1)  # another drain holds the flag: it claims monitor 9
        assert jobs.drain(at_close=True) == {"evaluated": 0}
        assert client.zcard(due.DUE_KEY) == 1
        client.delete(due.DRAIN_FLAG)
        assert jobs.drain(at_close=True)["evaluated"] == 0  # monitor 9 does not exist
        assert client.zcard(due.DUE_KEY) == 0 and not client.exists(due.DRAIN_FLAG)


def test_a_drain_steps_aside_after_a_batch_when_pages_wait(app, clock, monkeypatch):
    from service.detection import service as detection
    from service.queues import queue

    monkeypatch.setattr(detection, "BATCH_SIZE", 1)
    monkeypatch.setattr(detection, "STEP_ASIDE_SECONDS", 0.0)  # no other worker took it
    with app.app_context():
        client = redis.client
        due.ask(client, [1, 2, 3], now=clock.now)
        client.set(due.DRAIN_FLAG, 1)
        sms = queue(QueueName.SMS, client)
        client.rpush(sms.key, "a-page-job")  # a page waits for a worker
        assert detection.drain()["evaluated"] == 0  # one batch (no such monitor), then aside
        assert client.zcard(due.DUE_KEY) == 2
        assert queue(QueueName.DETECT, client).count == 1  # its successor
        assert client.ttl(due.DRAIN_FLAG) > 0  # ... holds the flag
        client.delete(sms.key)


def test_a_batch_reaching_a_monitors_trip_count_puts_it_first_in_line(app, client, clock, brands):
    rng = random.Random(5)
    start = clock.now
    with_history(client, brands, rng, start, range(4))
    with app.app_context():
        client_ = redis.client
        client_.delete(due.DUE_KEY, due.CLOSING_KEY)
        models = detection.models()
        for monitor_id in range(1, 5):  # the evaluations that learnt the history save trips
            seen = models.observe(monitor_id, DetectorConfig(), clock.now)
            models.save(monitor_id, seen.model)
        trips = {int(k): float(v) for k, v in client_.hgetall(due.TRIP_KEY).items()}
        assert sorted(trips) == [1, 2, 3, 4] and all(8 < t < 100 for t in trips.values())
    clock.now = start + timedelta(seconds=30)
    for i in range(3):  # ordinary batches: due in the order they came
        post(client, brands, mentions(rng, start, 30, 5, ORDINARY), monitor=f"brand{i}")
    post(client, brands, mentions(rng, start, 30, 150, ORDINARY), monitor="brand3")
    with app.app_context():
        client_ = redis.client
        assert client_.zscore(due.DUE_KEY, "4") < 0 <= client_.zscore(due.DUE_KEY, "1")
        _, oldest = due.backlog(client_, now=clock.now + timedelta(seconds=1))
        assert oldest == pytest.approx(1.0, abs=0.01)  # the offset never shows as a wait
        later = clock.now + timedelta(seconds=2)
        first = due.claim(client_, now=later, limit=2)
        assert first.monitor_ids == [4, 1]  # before those asked for earlier
        assert first.waits() == [pytest.approx(2.0, abs=0.01)] * 2
        assert due.claim(client_, now=later, limit=10).monitor_ids == [2, 3]


def test_urgent_monitors_take_at_most_half_a_batch_unless_nothing_else_waits(app, clock):
    with app.app_context():
        client = redis.client
        due.ask(client, [1, 2, 3], now=clock.now)
        client.zadd(
            due.DUE_KEY, {str(m): clock.now.timestamp() - due.URGENT_OFFSET for m in (7, 8, 9)}
        )
        later = clock.now + timedelta(seconds=1)
        assert due.claim(client, now=later, limit=4).monitor_ids == [7, 8, 1, 2]
        assert due.claim(client, now=later, limit=4).monitor_ids == [9, 3]
