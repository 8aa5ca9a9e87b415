"""Paging under faults: a worker killed mid-send, lost scheduled jobs, two workers racing.

Real processes, real Redis and PostgreSQL, the real twilio SDK against the stand-in. Every page
must reach the provider exactly once and every escalation must still happen.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from service.db import utcnow
from service.extensions import db, redis
from service.paging.models import Page, PageStatus
from service.paging.reconcile import sweep
from service.queues import QueueName, queue
from service.timeline.models import EventKind, TimelineEvent
from tests.paging.fixtures import BACKUP, WOLF, declare, policy, two_wolves, wait_for


def _count(app, kind: EventKind, number: int | None = None) -> int:
    with app.app_context():
        query = select(func.count()).where(TimelineEvent.kind == kind.value)
        if number is not None:
            query = query.where(TimelineEvent.incident_id == number)
        return db.session.scalar(query)


def _page_status(app, page_id: int) -> str:
    with app.app_context():
        return db.session.get(Page, page_id).status


def test_worker_killed_mid_send_is_resent_once_with_the_same_idempotency_key(
    tw_app, standin, worker_process
):
    wolf, _backup = two_wolves(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    standin.fail_next("timeout", delay=3.0)  # Twilio takes the message but answers late
    worker = worker_process(FIREBREAK_WORKER_FORK="1")  # the job runs in a work horse
    worker.wait_ready()
    declare(tw_app.test_client(), wolf)
    wait_for(lambda: standin.requests, 30)  # the send is in flight ...
    worker.stop(kill=True)  # ... and the worker and its work horse die (SIGKILL)
    assert standin.wait_idle(10)
    assert len(standin.messages) == 1  # the provider accepted it; we never heard back
    with tw_app.app_context():
        page = db.session.scalars(select(Page)).one()
        page_id, key = page.id, page.send_key
    assert _page_status(tw_app, page_id) == PageStatus.SENDING.value

    with tw_app.app_context():  # the reconciler, a minute later, finds the interrupted send
        done = sweep(now=utcnow() + timedelta(seconds=61))
    assert done["resent"] == 1
    assert len(standin.messages) == 1, "the retry must not send a second SMS"
    assert len(standin.requests) == 2 and standin.requests[1].replayed
    tokens = {r.idempotency_token for r in standin.requests}
    assert len(tokens) == 1 and key in next(iter(tokens))
    assert _page_status(tw_app, page_id) == PageStatus.QUEUED.value
    assert _count(tw_app, EventKind.PAGE_SENT) == 1

    with tw_app.app_context():  # and a second sweep finds nothing left to do
        again = sweep(now=utcnow() + timedelta(seconds=61))
    assert again["resent"] == 0 and len(standin.requests) == 2


def test_lost_scheduled_escalation_is_repaired_by_the_sweep(tw_app, tw_jobs, standin):
    wolf, backup = two_wolves(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 1},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 300},
        ],
    )
    number = declare(tw_app.test_client(), wolf)
    tw_jobs()
    assert [m.params["To"] for m in standin.messages] == [WOLF]
    with tw_app.app_context():
        scheduled = ScheduledJobRegistry(queue=queue(QueueName.ESCALATIONS, redis.client))
        assert scheduled.count == 1  # the next level's timer ...
        redis.client.flushdb()  # ... is lost with everything else in Redis
        assert ScheduledJobRegistry(queue=queue(QueueName.ESCALATIONS, redis.client)).count == 0
        done = sweep(now=utcnow() + timedelta(seconds=3))  # level 2 was due 1 s after opening
    assert done["escalations"] == 1
    tw_jobs()
    assert [m.params["To"] for m in standin.messages] == [WOLF, BACKUP]
    with tw_app.app_context():  # the sweep runs again: nothing is paged twice
        sweep(now=utcnow() + timedelta(seconds=3))
    tw_jobs()
    assert [m.params["To"] for m in standin.messages] == [WOLF, BACKUP]
    assert _count(tw_app, EventKind.ESCALATED, number) == 2


def test_two_workers_send_every_page_exactly_once_and_escalate_every_incident(
    tw_app, standin, worker_process
):
    wolf, backup = two_wolves(tw_app)
    policy(
        tw_app,
        [
            {"targets": [{"user_id": wolf["id"]}], "delay_seconds": 2},
            {"targets": [{"user_id": backup["id"]}], "delay_seconds": 2},
        ],
    )
    for w in (worker_process(), worker_process()):
        w.wait_ready()
    client = tw_app.test_client()
    numbers = [declare(client, wolf, title=f"storm {i}") for i in range(6)]

    def sent() -> Counter:  # (phone, incident) per SMS; a bundle names several incidents
        return Counter(
            (m.params["To"], n)
            for m in standin.messages
            for n in dict.fromkeys(re.findall(r"#\d+", m.params["Body"]))
        )

    expected = {(phone, f"#{n}") for n in numbers for phone in (WOLF, BACKUP)}
    try:
        wait_for(lambda: set(sent()) >= expected, 40)
    except AssertionError:
        raise AssertionError(f"missing {sorted(expected - set(sent()))}; sent {sent()}") from None
    wait_for(lambda: _count(tw_app, EventKind.ESCALATION_EXHAUSTED) == len(numbers), 20)
    assert standin.wait_idle(5)
    counts = sent()
    assert set(counts) == expected and set(counts.values()) == {1}, counts
    for n in numbers:
        assert _count(tw_app, EventKind.ESCALATED, n) == 2
        assert _count(tw_app, EventKind.PAGE_SENT, n) == 2  # one per page, bundled or not
    with tw_app.app_context():
        statuses = set(db.session.scalars(select(Page.status)))
    assert statuses == {PageStatus.QUEUED.value}
