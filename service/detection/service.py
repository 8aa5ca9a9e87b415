"""Detection use cases: ingest a batch, evaluate a monitor, open or update its incident."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import after_commit
from service.detection import engine
from service.detection.buckets import BucketStore
from service.detection.ingest import Limits, Report, ingest
from service.detection.language import sentiment_note
from service.detection.models import Signal
from service.detection.schedule import Detect, Recheck
from service.detection.state import ModelStore, mark_stale
from service.extensions import redis
from service.incidents import service as incidents
from service.incidents.models import OPEN_STATUSES, Incident, Severity, Status
from service.jobs import enqueue_now
from service.monitors.models import Monitor
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

log = logging.getLogger(__name__)

DETECTOR = Actor.system("detector")
#: after a monitor's incident is resolved, a spike that is still going does not open another
COOLDOWN = timedelta(minutes=30)
#: a signal on an open incident is recorded when it is this much bigger than the last one
GROWTH_TO_RECORD = 1.5
HORIZON = timedelta(days=8)
#: mentions older than this are history sent late (a backfill), not delivery delay: the state
#: already learnt their buckets as they were, so it is rebuilt from the buckets
LATE_HISTORY = timedelta(minutes=5)
#: an evaluation is queued at most once per monitor while one waits; if its job dies before
#: running, the next batch after this many seconds queues another
PENDING_TTL_SECONDS = 10
#: monitors with mentions in this span are evaluated by every sweep (a sorted set in Redis)
ACTIVE_FOR = timedelta(hours=2)
ACTIVE_KEY = "fb:detect-active"
#: the evaluation after a bucket closes runs this long after its end (late writes settle),
#: plus up to CLOSE_SPREAD_SECONDS by monitor (so a thousand minutes closing do not queue at once)
CLOSE_DELAY_SECONDS = 1.0
CLOSE_SPREAD_SECONDS = 5
#: when each monitor was last evaluated (a sorted set), and how stale the sweep lets it get
EVALUATED_KEY = "fb:detect-evaluated"
SWEEP_AFTER = timedelta(minutes=1)
#: the evidence of a signal: the most damaging mentions of the last minutes
EVIDENCE_WINDOW = timedelta(minutes=15)


def explain(assessment: Any) -> dict[str, Any]:
    """The assessment as JSON-ready data."""
    out = {}
    for key, value in dataclasses.asdict(assessment).items():
        if isinstance(value, datetime):
            value = timeline.format_time(value)
        elif isinstance(value, float):
            value = round(value, 4) if math.isfinite(value) else None
        out[key] = value
    return out


def store() -> BucketStore:
    """The bucket store of the current app."""
    return BucketStore(
        redis.client,
        bucket_seconds=engine.DetectorConfig().bucket_seconds,
        ttl_seconds=int(HORIZON.total_seconds()) + 3600,
    )


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
    """Count a batch for a monitor and ask for an evaluation if anything new arrived."""
    report = ingest(
        monitor_id=monitor.id,
        items=items,
        now=now,
        store=store(),
        lexicon=monitor.lexicon or None,
        limits=Limits(horizon=HORIZON),
        pending_key=pending_key(monitor.id),
        pending_ttl=PENDING_TTL_SECONDS,
    )
    count_mentions(
        accepted=report.count("accepted"),
        duplicate=report.count("duplicate"),
        rejected=report.count("rejected"),
    )
    oldest = report.oldest_accepted
    if oldest is not None and oldest < now - LATE_HISTORY:
        mark_stale(redis.client, monitor.id)  # a backfill: the state learnt these as silence
    if report.evaluation_due:  # the pending flag was set in the same Redis call as the counts
        enqueue_now(Detect(monitor.id))
    if report.count("accepted"):
        _evaluate_at_close(monitor.id, now)
    return report


def _evaluate_at_close(monitor_id: int, now: datetime) -> None:
    """Evaluate again just after the current bucket closes (once per monitor and bucket), so
    a surge pushed at once and then silence is judged on its whole bucket; and mark the monitor
    active for the periodic sweep."""
    b = engine.DetectorConfig().bucket_seconds
    bucket = int(now.timestamp()) // b * b
    pipe = redis.client.pipeline(transaction=False)
    pipe.set(f"fb:detect-close:{monitor_id}:{bucket}", 1, nx=True, ex=2 * b)
    pipe.zadd(ACTIVE_KEY, {str(monitor_id): now.timestamp()})
    first, _ = pipe.execute()
    if first:  # spread over a few seconds: every active monitor's minute closes at once
        jitter = monitor_id % CLOSE_SPREAD_SECONDS
        delay = bucket + b + CLOSE_DELAY_SECONDS + jitter - now.timestamp()
        enqueue_now(
            Recheck(monitor_id, closed_at=bucket + b),
            job_id=f"detect-{monitor_id}-{bucket}",
            delay_seconds=delay,
        )


def sweep(*, now: datetime) -> dict[str, int]:
    """Ask for an evaluation of every monitor that received mentions recently and was not
    evaluated in the last minute (their surges are judged even if nothing more arrives; their
    episodes close)."""
    client = redis.client
    client.zremrangebyscore(ACTIVE_KEY, "-inf", (now - ACTIVE_FOR).timestamp())
    pipe = client.pipeline(transaction=False)
    pipe.zrangebyscore(ACTIVE_KEY, (now - ACTIVE_FOR).timestamp(), "+inf")
    pipe.zrangebyscore(EVALUATED_KEY, (now - SWEEP_AFTER).timestamp(), "+inf")
    active, fresh = pipe.execute()
    due = set(active) - set(fresh)
    ids = sorted(int(str(m, "ascii") if isinstance(m, bytes) else str(m)) for m in due)
    for monitor_id in ids:
        request_evaluation(monitor_id, routine=True)
    return {"monitors": len(ids)}


def pending_key(monitor_id: int) -> str:
    """The Redis flag saying an evaluation of the monitor is queued."""
    return f"fb:detect-pending:{monitor_id}"


def request_evaluation(monitor_id: int, *, routine: bool = False) -> None:
    """Queue one evaluation of the monitor unless one is already waiting."""
    if redis.client.set(pending_key(monitor_id), 1, nx=True, ex=PENDING_TTL_SECONDS):
        enqueue_now(Recheck(monitor_id) if routine else Detect(monitor_id))


def models() -> ModelStore:
    """The detector states of the current app."""
    return ModelStore(redis.client, store())


def monitor_config(monitor: Monitor) -> engine.DetectorConfig:
    """The detector's defaults with the monitor's overrides (settings since removed ignored)."""
    known = {f.name for f in dataclasses.fields(engine.DetectorConfig)}
    overrides = {k: v for k, v in (monitor.detector or {}).items() if k in known}
    return dataclasses.replace(engine.DetectorConfig(), **overrides)


def evaluate(session: Session, *, monitor_id: int, now: datetime) -> Incident | None:
    """Evaluate one monitor; open an incident (or update the open one) if it is a firestorm.

    The detector's state is saved once the transaction commits, so an incident that failed to
    open is opened again by the next evaluation.
    """
    redis.client.delete(pending_key(monitor_id))
    monitor = session.get(Monitor, monitor_id)
    if monitor is None or not monitor.active:
        return None
    config = monitor_config(monitor)
    state = models()
    seen = state.observe(monitor.id, config, now)
    after_commit(
        session, lambda: state.save(monitor_id, seen.model, evaluated=(EVALUATED_KEY, now))
    )
    if seen.firing is None and seen.opening is None:
        return None  # the common case: nothing to open or record, no lock taken
    # serialise with any other evaluation of this monitor before looking at its incidents
    session.get(Monitor, monitor_id, with_for_update={"of": Monitor}, populate_existing=True)
    open_incident = session.scalar(
        select(Incident)
        .where(Incident.monitor_id == monitor.id, Incident.status.in_(OPEN_STATUSES))
        .with_for_update(of=Incident)
    )
    if open_incident is not None:
        firing = seen.firing
        if firing is None:
            return None
        return _update(
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
    return _open(session, monitor=monitor, assessment=opening, config=config, now=now)


def _evidence(monitor: Monitor, assessment: Any, config: Any) -> list[dict[str, Any]]:
    """The most damaging mentions of the last minutes."""
    evidence_from = assessment.bucket_start - EVIDENCE_WINDOW
    starts = range(
        int(evidence_from.timestamp()),
        int(assessment.bucket_start.timestamp()) + 1,
        config.bucket_seconds,
    )
    return store().evidence(monitor.id, starts, limit=10)


def _window_starts(assessment: Any, config: Any) -> range:
    """The bucket starts of the assessment's (most surprising) window."""
    b = config.bucket_seconds
    end = int(assessment.bucket_start.timestamp())
    return range(end - assessment.window_seconds + b, end + 1, b)


def _window_reach(monitor: Monitor, assessment: Any, config: Any) -> int:
    """How many people the window's mentions could reach (the sum of their authors' reach)."""
    return sum(b.reach for b in store().fetch(monitor.id, _window_starts(assessment, config)))


def _unread_languages(monitor: Monitor, assessment: Any, config: Any) -> dict[str, float]:
    """The languages of the window's unread mentions, as shares of all its mentions."""
    counts = store().unread_languages(monitor.id, _window_starts(assessment, config))
    total = max(float(assessment.observed), 1.0)
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return {lang: round(min(n / total, 1.0), 3) for lang, n in ranked[:5]}


def _severity(assessment: Any, evidence: list[dict[str, Any]]) -> Severity:
    """Severity from magnitude, negativity and the largest author's reach."""
    return Severity(engine.severity(assessment, max((e["reach"] for e in evidence), default=0)))


def _signal(
    session: Session,
    *,
    monitor: Monitor,
    assessment: Any,
    config: Any,
    now: datetime,
    evidence: list[dict[str, Any]],
    severity: Severity,
    episode_from: datetime | None = None,
) -> Signal:
    details = explain(assessment)
    if episode_from is not None:
        details["episode_start"] = timeline.format_time(episode_from)
    if assessment.coverage < 1.0:
        details["unread_languages"] = _unread_languages(monitor, assessment, config)
    signal = Signal(
        monitor_id=monitor.id,
        detected_at=now,
        window_start=assessment.now - timedelta(seconds=assessment.window_seconds),
        window_end=assessment.now,
        observed=float(assessment.observed),
        expected=float(assessment.expected),
        significance=float(assessment.z),
        negative_share=float(assessment.negative_share),
        negative_baseline=float(assessment.baseline_negative_share),
        reach=_window_reach(monitor, assessment, config),
        score=float(assessment.score),
        severity=severity.value,
        details=details,
        evidence=evidence,
    )
    session.add(signal)
    session.flush()
    return signal


def signal_event(
    signal: Signal, event_type: type[events.SignalDetected | events.SignalUpdated]
) -> events.SignalDetected | events.SignalUpdated:
    """What the timeline records of a signal (coverage only when something was unread)."""
    coverage = float(signal.details.get("coverage") or 1.0)
    return event_type(
        signal_id=signal.id,
        window=(
            timeline.format_time(signal.window_start),
            timeline.format_time(signal.window_end),
        ),
        observed=round(signal.observed, 2),
        expected=round(signal.expected, 2),
        ratio=round(signal.observed / signal.expected, 2) if signal.expected else None,
        z=round(signal.significance, 2),
        negative_share=round(signal.negative_share, 3),
        negative_baseline=round(signal.negative_baseline, 3),
        reach=signal.reach,
        severity=signal.severity,
        evidence=tuple(signal.evidence),
        coverage=round(coverage, 3) if coverage < 1 else None,
        unread_languages=signal.details.get("unread_languages") or None,
        sentiment_unknown=True if signal.details.get("sentiment_unknown") else None,
    )


def _open(
    session: Session, *, monitor: Monitor, assessment: Any, config: Any, now: datetime
) -> Incident:
    evidence = _evidence(monitor, assessment, config)
    signal = _signal(
        session,
        monitor=monitor,
        assessment=assessment,
        config=config,
        now=now,
        evidence=evidence,
        severity=_severity(assessment, evidence),
        episode_from=assessment.episode_start,
    )
    ratio = signal.observed / signal.expected if signal.expected else float("inf")
    if assessment.sentiment_unknown:
        mood = sentiment_note(signal.details.get("unread_languages"))
        title = f"Spike on {monitor.name}: {signal.observed:.0f} mentions ({ratio:.1f}x expected)"
    else:
        mood = f"{signal.negative_share:.0%} negative"
        title = (
            f"Negative spike on {monitor.name}: {signal.observed:.0f} mentions "
            f"({ratio:.1f}x expected)"
        )
    title = f"{title}, {mood}"
    incident = incidents.declare(
        session,
        title=title[:200],
        severity=Severity(signal.severity),
        actor=DETECTOR,
        source="detector",
        monitor_id=monitor.id,
        first_event=signal_event(signal, events.SignalDetected),
        announce_now=False,
    )
    signal.incident_id = incident.id
    session.flush()
    incidents.announce(session, incident=incident)
    return incident


def _update(
    session: Session,
    *,
    incident: Incident,
    monitor: Monitor,
    assessment: Any,
    config: Any,
    now: datetime,
) -> Incident:
    last = session.scalar(
        select(Signal).where(Signal.incident_id == incident.id).order_by(Signal.id.desc()).limit(1)
    )
    evidence = _evidence(monitor, assessment, config)
    new_severity = _severity(assessment, evidence)
    worse = new_severity.rank < Severity(incident.severity).rank
    grown = last is None or assessment.observed >= GROWTH_TO_RECORD * last.observed
    if not (worse or grown):
        return incident
    signal = _signal(
        session,
        monitor=monitor,
        assessment=assessment,
        config=config,
        now=now,
        evidence=evidence,
        severity=new_severity,
    )
    signal.incident_id = incident.id
    timeline.append(
        session,
        incident_id=incident.id,
        actor=DETECTOR,
        event=signal_event(signal, events.SignalUpdated),
    )
    if worse and Status(incident.status) in OPEN_STATUSES:
        incidents.change_details(
            session,
            incident=incident,
            actor=DETECTOR,
            severity=new_severity,
            reason="the spike grew",
        )
    return incident
