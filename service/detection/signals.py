"""Signals: what an evaluation that fires records, and the incident it opens or updates."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.detection import engine
from service.detection.buckets import BucketStore
from service.detection.language import sentiment_note
from service.detection.models import Signal
from service.extensions import redis
from service.incidents import service as incidents
from service.incidents.models import OPEN_STATUSES, Incident, Severity, Status
from service.monitors.models import Monitor
from service.timeline import events
from service.timeline import service as timeline
from service.timeline.service import Actor

DETECTOR = Actor.system("detector")
#: a signal on an open incident is recorded when it is this much bigger than the last one
GROWTH_TO_RECORD = 1.5
#: how long the bucket store keeps a monitor's buckets (the detector reads up to 8 days)
HORIZON = timedelta(days=8)
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
    """The languages of the window's unread mentions, as shares of all its mentions: the
    unread share the assessment measured (1 - coverage, over the same weighted window as its
    count), split by the languages counted in the window's buckets, so the two always agree."""
    counts = store().unread_languages(monitor.id, _window_starts(assessment, config))
    counted = sum(counts.values())
    unread = max(1.0 - float(assessment.coverage), 0.0)
    if counted <= 0 or unread <= 0.0:
        return {}
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return {lang: round(unread * n / counted, 3) for lang, n in ranked[:5]}


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


def open_incident(
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


def update_incident(
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
