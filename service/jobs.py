"""Enqueueing RQ jobs from service code: after the transaction commits, never before."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from rq import Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.extensions import redis
from service.queues import QueueName, queue

log = logging.getLogger(__name__)

#: sends retry on 429/5xx/timeouts with backoff (seconds)
SEND_RETRY_INTERVALS = [1, 2, 5, 15, 30]


@dataclass
class Deferred:
    """A job to enqueue once the surrounding transaction has committed."""

    queue: QueueName
    func: str
    args: tuple[Any, ...]
    job_id: str | None = None
    delay_seconds: float = 0
    retry: Retry | None = None
    options: dict[str, Any] = field(default_factory=dict)


def enqueue_now(job: Deferred) -> None:
    """Put a job on its queue (or schedule it); a duplicate unique id is not an error."""
    q = queue(job.queue, redis.client)
    retry = job.retry
    if retry is None and job.queue is QueueName.SMS:
        retry = Retry(max=len(SEND_RETRY_INTERVALS), interval=SEND_RETRY_INTERVALS)
    kwargs: dict[str, Any] = {"job_id": job.job_id, "retry": retry, **job.options}
    if job.job_id:
        kwargs["unique"] = True
    try:
        if job.delay_seconds > 0:
            from datetime import timedelta

            q.enqueue_in(timedelta(seconds=job.delay_seconds), job.func, *job.args, **kwargs)
        else:
            q.enqueue(job.func, *job.args, **kwargs)
    except DuplicateJobError:
        log.debug("job %s already queued", job.job_id)


def after_commit(session: Session, job: Deferred) -> None:
    """Enqueue `job` when `session` commits; dropped if it rolls back."""
    session.info.setdefault("deferred_jobs", []).append(job)


@event.listens_for(Session, "after_commit")
def _flush_jobs(session: Session) -> None:
    jobs = session.info.pop("deferred_jobs", [])
    if not jobs:
        return
    _ = current_app  # jobs are enqueued inside an app context
    for job in jobs:
        try:
            enqueue_now(job)
        except Exception:  # noqa: BLE001 - the reconciler re-enqueues from the database
            log.exception("could not enqueue %s; the reconciler will retry", job.func)


@event.listens_for(Session, "after_rollback")
def _drop_jobs(session: Session) -> None:
    session.info.pop("deferred_jobs", None)
