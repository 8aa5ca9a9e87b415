"""Detection use cases: ingest a batch, evaluate a monitor, open or update its incident."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import after_commit, utcnow
from service.detection import due, engine, signals
from service.detection.due import ACTIVE_KEY, EVALUATED_KEY
from service.detection.ingest import Limits, Report, ingest
from service.detection.schedule import Drain
from service.detection.signals import HORIZON, store
from service.detection.state import ModelStore, Observation, mark_stale
from service.extensions import db, redis
from service.incidents.models import OPEN_STATUSES, Incident
from service.jobs import enqueue_now
from service.monitors.models import Monitor
from service.queues import ALL_QUEUES, QueueName, queue

log = logging.getLogger(__name__)

#: after a monitor's incident is resolved, a spike that is still going does not open another
COOLDOWN = timedelta(minutes=30)
#: mentions older than this are history sent late (a backfill), not delivery delay: the state
#: already learnt their buckets as they were, so it is rebuilt from the buckets
LATE_HISTORY = timedelta(minutes=5)
#: monitors with mentions in this span are evaluated by every sweep (a sorted set in Redis)
ACTIVE_FOR = timedelta(hours=2)
#: how stale the sweep lets an active monitor's evaluation get
SWEEP_AFTER = timedelta(minutes=1)
#: monitors claimed per batch of evaluations; a drain steps aside (queues its successor) once
#: pages, escalations or incident jobs have been waiting for STEP_ASIDE_SECONDS (no other worker
#: is free to take them), or once it has run DRAIN_MAX_SECONDS
BATCH_SIZE = 100
STEP_ASIDE_SECONDS = 0.2
DRAIN_MAX_SECONDS = 60.0
#: how often a running drain renews its flag (which lives DRAIN_FLAG_TTL_SECONDS)
DRAIN_RENEW_SECONDS = 2.0
#: an idle drain waits this long for more monitors (polling), so a steady trickle of batches
#: is evaluated by a few long drains, not by one job per batch
DRAIN_LINGER_SECONDS = 0.25
DRAIN_POLL_SECONDS = 0.05


#: Redis hash of mention outcomes (accepted / duplicate / rejected), incremented by ingest
MENTIONS_KEY = "fb:metrics:mentions"


def count_mentions(*, accepted: int, duplicate: int, rejected: int) -> None:
    """Add one batch's outcomes to the mention counters (one Redis round trip)."""
    pipe = redis.client.pipeline(transaction=False)
    for field, value in (("accepted", accepted), ("duplicate", duplicate), ("rejected", rejected)):
        if value:
            pipe.hincrby(MENTIONS_KEY, field, value)
    pipe.execute()


def ingest_batch(app: Flask, *, monitor: Monitor, items: Sequence[Any], now: datetime) -> Report:
    """Count a batch for a monitor and ask for an evaluation if anything new arrived (now, and
    just after the current minute closes: a surge pushed at once and then silence is judged on
    its whole minute)."""
    b = engine.DetectorConfig().bucket_seconds
    closes_at = int(now.timestamp()) // b * b + b
    report = ingest(
        monitor_id=monitor.id,
        items=items,
        now=now,
        store=store(),
        lexicon=monitor.lexicon or None,
        limits=Limits(horizon=HORIZON),
        ask=due.ask_arguments(monitor.id, now=now, closes_at=closes_at, bucket_seconds=b),
    )
    count_mentions(
        accepted=report.count("accepted"),
        duplicate=report.count("duplicate"),
        rejected=report.count("rejected"),
    )
    oldest = report.oldest_accepted
    if oldest is not None and oldest < now - LATE_HISTORY:
        mark_stale(redis.client, monitor.id)  # a backfill: the state learnt these as silence
    if report.evaluation_due:  # the flag was set in the same Redis call as the counts
        enqueue_now(Drain())
    if report.close_due:  # the first batch of this minute, of any monitor
        enqueue_now(
            Drain(at_close=True),
            job_id=f"detect-close-{closes_at}",
            delay_seconds=closes_at + due.CLOSE_DELAY_SECONDS - now.timestamp(),
        )
    return report


def sweep(*, now: datetime) -> dict[str, int]:
    """Ask for an evaluation of every monitor that received mentions recently and was not
    evaluated in the last minute (their surges are judged even if nothing more arrives; their
    episodes close), and queue a drain if any monitor waits (its job may have been lost)."""
    client = redis.client
    client.zremrangebyscore(ACTIVE_KEY, "-inf", (now - ACTIVE_FOR).timestamp())
    pipe = client.pipeline(transaction=False)
    pipe.zrangebyscore(ACTIVE_KEY, (now - ACTIVE_FOR).timestamp(), "+inf")
    pipe.zrangebyscore(EVALUATED_KEY, (now - SWEEP_AFTER).timestamp(), "+inf")
    active, fresh = pipe.execute()
    stale = set(active) - set(fresh)
    ids = sorted(int(str(m, "ascii") if isinstance(m, bytes) else str(m)) for m in stale)
    due.ask(client, ids, now=now)
    waiting, _ = due.backlog(client, now=now)
    if waiting:
        request_drain()
    return {"monitors": len(ids)}


def request_drain() -> None:
    """Queue a drain of the due monitors unless one is already queued or running."""
    if take_drain():
        enqueue_now(Drain())


def take_drain() -> bool:
    """Take the drain flag (True: no other drain is queued or running; the caller drains)."""
    return due.take_drain_flag(redis.client)


def others_waiting() -> bool:
    """Whether jobs wait on a queue more urgent than detection's (pages, escalations,
    incidents)."""
    pipe = redis.client.pipeline(transaction=False)
    for name in ALL_QUEUES[: ALL_QUEUES.index(QueueName.DETECT)]:
        pipe.llen(queue(name, redis.client).key)
    return any(int(n) for n in pipe.execute())


def drain(*, clock: Callable[[], datetime] = utcnow) -> dict[str, int]:
    """Evaluate due monitors in batches while any arrive (waiting up to ``DRAIN_LINGER_SECONDS``
    for more); when more urgent jobs have waited ``STEP_ASIDE_SECONDS`` (no other worker took
    them), or after ``DRAIN_MAX_SECONDS``, queue a successor and end, so they get their turn.
    The drain flag stays set while it runs: ingest queues no other drain meanwhile."""
    client = redis.client
    done = {"evaluated": 0, "opened_or_updated": 0, "failed": 0}
    started = time.monotonic()
    renew_at = started + DRAIN_RENEW_SECONDS
    idle_since: float | None = None
    waiting_since: float | None = None
    while True:
        claim = due.claim(client, now=clock(), limit=BATCH_SIZE)
        if claim.asked:
            idle_since = None
            for key, value in evaluate_batch(claim, now=clock()).items():
                done[key] += value
            if others_waiting():  # another worker would take them at once if one were free
                waiting_since = waiting_since or time.monotonic()
            else:
                waiting_since = None
            blocked = waiting_since and time.monotonic() - waiting_since >= STEP_ASIDE_SECONDS
            if blocked or time.monotonic() - started >= DRAIN_MAX_SECONDS:
                due.keep_drain_flag(client)
                enqueue_now(Drain())  # the successor, after the jobs that wait
                return done
            if time.monotonic() >= renew_at:
                due.keep_drain_flag(client)
                renew_at = time.monotonic() + DRAIN_RENEW_SECONDS
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since >= DRAIN_LINGER_SECONDS:
            break
        time.sleep(DRAIN_POLL_SECONDS)
    client.delete(due.DRAIN_FLAG)
    if due.ready(client, now=clock()):  # asked for after the last claim, while the flag was set
        request_drain()
    return done


def models() -> ModelStore:
    """The detector states of the current app."""
    return ModelStore(redis.client, store())


def monitor_config(monitor: Monitor) -> engine.DetectorConfig:
    """The detector's defaults with the monitor's overrides (settings since removed ignored)."""
    return config_of(monitor.detector)


def config_of(detector: dict[str, Any] | None) -> engine.DetectorConfig:
    """The detector's defaults with these overrides (settings since removed ignored)."""
    known = {f.name for f in dataclasses.fields(engine.DetectorConfig)}
    overrides = {k: v for k, v in (detector or {}).items() if k in known}
    return dataclasses.replace(engine.DetectorConfig(), **overrides)


def evaluate(session: Session, *, monitor_id: int, now: datetime) -> Incident | None:
    """Evaluate one monitor; open an incident (or update the open one) if it is a firestorm."""
    monitor = session.get(Monitor, monitor_id)
    if monitor is None or not monitor.active:
        return None
    config = monitor_config(monitor)
    seen = models().observe(monitor.id, config, now)
    return respond(session, monitor_id=monitor_id, config=config, seen=seen, now=now)


def evaluate_batch(claim: due.Claim, *, now: datetime) -> dict[str, int]:
    """Evaluate claimed monitors together: their settings in one query, their states and
    buckets in one round trip each; only a monitor that fires takes a transaction of its own.
    The claims are released (and the waits counted) with the quiet monitors' saves."""
    monitors = Monitor.__table__
    with db.engine.connect() as conn:  # a plain read: no ORM session for the common case
        rows = conn.execute(
            select(monitors.c.id, monitors.c.detector).where(
                monitors.c.id.in_(claim.monitor_ids), monitors.c.active.is_(True)
            )
        ).all()
    configs = {monitor_id: config_of(detector) for monitor_id, detector in rows}
    state = models()
    seen = state.observe_many(configs, now)
    firing = [m for m, obs in seen.items() if obs.firing is not None or obs.opening is not None]
    pipe = redis.client.pipeline(transaction=False)
    for monitor_id, obs in seen.items():
        if monitor_id not in firing:
            state.save_on(pipe, monitor_id, obs.model, evaluated=(EVALUATED_KEY, now))
    quiet = [m for m in claim.monitor_ids if m not in firing]
    due.release(pipe, quiet, claim.waits())
    b = engine.DetectorConfig().bucket_seconds
    settled = [m for m in quiet if m in seen and not seen[m].close_fires]
    due.settle(pipe, settled, closes_at=int(now.timestamp()) // b * b + b)
    pipe.execute()
    done = {"evaluated": len(seen), "opened_or_updated": 0, "failed": 0}
    for monitor_id in firing:
        try:
            with db.transaction() as session:
                incident = respond(
                    session,
                    monitor_id=monitor_id,
                    config=configs[monitor_id],
                    seen=seen[monitor_id],
                    now=now,
                )
            done["opened_or_updated"] += incident is not None
        except Exception:  # noqa: BLE001 - one monitor's failure must not lose the batch
            log.exception("evaluation of monitor %s failed; it is due again", monitor_id)
            due.ask(redis.client, [monitor_id], now=now, after=due.RETRY_SECONDS)
            done["failed"] += 1
        finally:
            due.release(redis.client, [monitor_id])
    return done


def respond(
    session: Session,
    *,
    monitor_id: int,
    config: engine.DetectorConfig,
    seen: Observation,
    now: datetime,
) -> Incident | None:
    """Act on an observation: open an incident (or update the open one) if it fires.

    The detector's state is saved once the transaction commits, so an incident that failed to
    open is opened again by the next evaluation.
    """
    state = models()
    after_commit(
        session, lambda: state.save(monitor_id, seen.model, evaluated=(EVALUATED_KEY, now))
    )
    if seen.firing is None and seen.opening is None:
        return None  # the common case: nothing to open or record, no lock taken
    # serialise with any other evaluation of this monitor before looking at its incidents
    monitor = session.get(
        Monitor, monitor_id, with_for_update={"of": Monitor}, populate_existing=True
    )
    if monitor is None or not monitor.active:
        return None
    open_incident = session.scalar(
        select(Incident)
        .where(Incident.monitor_id == monitor.id, Incident.status.in_(OPEN_STATUSES))
        .with_for_update(of=Incident)
    )
    if open_incident is not None:
        firing = seen.firing
        if firing is None:
            return None
        return signals.update_incident(
            session,
            incident=open_incident,
            monitor=monitor,
            assessment=firing,
            config=config,
            now=now,
        )
    opening = seen.opening
    if opening is None:
        return None
    last = session.scalar(
        select(Incident)
        .where(Incident.monitor_id == monitor.id)
        .order_by(Incident.id.desc())
        .limit(1)
    )
    if last is not None and last.resolved_at and now - last.resolved_at < COOLDOWN:
        log.info(
            "monitor %s still spiking %s after #%s was resolved",
            monitor.key,
            now - last.resolved_at,
            last.id,
        )
        return None
    return signals.open_incident(
        session, monitor=monitor, assessment=opening, config=config, now=now
    )
