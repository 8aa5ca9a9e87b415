"""Typed job requests, enqueued on RQ after the transaction commits (never before).

A domain declares what it wants run later as a frozen dataclass of ids (a :class:`JobRequest`);
the registry (:mod:`service.registry`) routes each request type to its queue and to the entry
point in that domain's ``jobs.py``. Services therefore never import the entry points (which
import the services): the job is referenced through the route, never named by a string.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from rq import Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy.orm import Session

from service.db import after_commit as run_after_commit
from service.extensions import redis
from service.queues import QueueName, queue

log = logging.getLogger(__name__)

#: sends retry on 429/5xx/timeouts with backoff (seconds)
SEND_RETRY_INTERVALS = [1, 2, 5, 15, 30]
ROUTES_KEY = "firebreak.job_routes"


@dataclass(frozen=True)
class JobRequest:
    """Base of the typed requests: a subclass's fields are its entry point's arguments."""

    def arguments(self) -> tuple[Any, ...]:
        """The entry point's positional arguments (JSON-serialisable ids and stamps)."""
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))


@dataclass(frozen=True)
class Route:
    """Where a request type runs: its queue and its entry point (a function in a jobs.py)."""

    queue: QueueName
    entry: Callable[..., Any]


def install_routes(app: Any, routes: Mapping[type[JobRequest], Route]) -> None:
    """Bind the request → entry point table (from the registry) to an app."""
    app.extensions[ROUTES_KEY] = dict(routes)


def route_of(request: JobRequest) -> Route:
    """The route of a request; a request type without one is a programming error."""
    routes: Mapping[type[JobRequest], Route] = current_app.extensions[ROUTES_KEY]
    try:
        return routes[type(request)]
    except KeyError:
        raise LookupError(f"no job route for {type(request).__name__}") from None


def enqueue_now(
    request: JobRequest, *, job_id: str | None = None, delay_seconds: float = 0
) -> None:
    """Put a job on its queue (or schedule it); a duplicate unique id is not an error."""
    target = route_of(request)
    q = queue(target.queue, redis.client)
    retry = None
    if target.queue is QueueName.SMS:
        retry = Retry(max=len(SEND_RETRY_INTERVALS), interval=SEND_RETRY_INTERVALS)
    kwargs: dict[str, Any] = {"job_id": job_id, "retry": retry}
    if job_id:
        kwargs["unique"] = True
    try:
        if delay_seconds > 0:
            q.enqueue_in(
                timedelta(seconds=delay_seconds), target.entry, *request.arguments(), **kwargs
            )
        else:
            q.enqueue(target.entry, *request.arguments(), **kwargs)
    except DuplicateJobError:
        log.debug("job %s already queued", job_id)


def after_commit(
    session: Session, request: JobRequest, *, job_id: str | None = None, delay_seconds: float = 0
) -> None:
    """Enqueue `request` when `session` commits; dropped if it rolls back."""

    def enqueue() -> None:
        try:
            enqueue_now(request, job_id=job_id, delay_seconds=delay_seconds)
        except Exception:  # noqa: BLE001 - the reconciler re-enqueues from the database
            log.exception("could not enqueue %r; the reconciler will retry", request)

    run_after_commit(session, enqueue)
