"""Deferred jobs go to Redis when the outer transaction commits, not when a savepoint ends."""

from __future__ import annotations

from service.extensions import db
from service.jobs import after_commit
from service.paging.schedule import Deliver
from service.queues import QueueName, queue


def _queued(app) -> int:
    from service.extensions import redis

    return len(queue(QueueName.SMS, redis.client))


def test_a_released_savepoint_does_not_enqueue_before_the_commit(app):
    with app.app_context():
        with db.transaction() as session:
            after_commit(session, Deliver(1))
            with session.begin_nested():  # e.g. a guarded reaction
                pass
            assert _queued(app) == 0  # the page is not visible to a worker yet
        assert _queued(app) == 1


def test_a_rolled_back_savepoint_keeps_the_outer_jobs(app):
    with app.app_context():
        with db.transaction() as session:
            after_commit(session, Deliver(1))
            try:
                with session.begin_nested():
                    raise ValueError("a guarded reaction failed")
            except ValueError:
                pass
        assert _queued(app) == 1
