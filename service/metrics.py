"""Prometheus metrics at /metrics, read from the database and Redis at scrape time.

Every web and worker process shares the same truth, so the numbers agree whichever gunicorn
process answers the scrape (no multiprocess directory to manage). Mention counters are kept in
one Redis hash that the ingest path increments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.detection import due
from service.detection.models import Signal
from service.detection.service import MENTIONS_KEY
from service.extensions import db, redis
from service.incidents.models import Incident
from service.paging.models import Escalation, Page
from service.queues import ALL_QUEUES, queue
from service.timeline.events import EventDataError, SmsReplied
from service.timeline.models import TimelineEvent

blp = Blueprint("metrics", __name__)


def _command(data: Any) -> str:
    """The command of a stored SMS reply event ("unknown" if its payload does not decode)."""
    try:
        return SmsReplied.from_data(data).command
    except EventDataError:
        return "unknown"


def _grouped(session: Session, *columns: Any) -> list[tuple[Any, ...]]:
    """Row counts grouped by `columns` (the first column's table)."""
    return list(session.execute(select(*columns, func.count()).group_by(*columns)).all())


class FirebreakCollector:
    """Collects the operator's numbers on every scrape."""

    def collect(self) -> Iterator[Any]:
        """Yield the metric families."""

        session = db.session
        mentions = CounterMetricFamily(
            "firebreak_mentions", "Mentions received, by outcome", labels=["outcome"]
        )
        raw = redis.client.hgetall(MENTIONS_KEY)
        for outcome in ("accepted", "duplicate", "rejected"):
            value = raw.get(outcome.encode(), raw.get(outcome, 0))
            mentions.add_metric([outcome], float(value or 0))
        yield mentions

        signals = CounterMetricFamily("firebreak_signals", "Firestorm signals detected")
        signals.add_metric([], float(session.scalar(select(func.count(Signal.id))) or 0))
        yield signals

        incidents = GaugeMetricFamily(
            "firebreak_incidents", "Incidents by severity and status", labels=["severity", "status"]
        )
        for severity, status, n in _grouped(session, Incident.severity, Incident.status):
            incidents.add_metric([severity, status], n)
        yield incidents

        pages = GaugeMetricFamily(
            "firebreak_pages",
            "Pages by status, channel and kind",
            labels=["status", "channel", "kind"],
        )
        for status, channel, kind, n in _grouped(session, Page.status, Page.channel, Page.kind):
            pages.add_metric([status, channel, kind], n)
        yield pages

        escalations = GaugeMetricFamily(
            "firebreak_escalations", "Escalations by status", labels=["status"]
        )
        for status, n in _grouped(session, Escalation.status):
            escalations.add_metric([status], n)
        yield escalations

        now = utcnow()
        oldest = session.scalar(
            select(func.min(Escalation.next_at)).where(
                Escalation.status == "active", Escalation.next_at <= now
            )
        )
        due = GaugeMetricFamily(
            "firebreak_oldest_due_escalation_seconds",
            "How long the oldest due escalation step has waited (0 if none): alert on this",
        )
        due.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield due

        replies = CounterMetricFamily(
            "firebreak_sms_replies", "SMS reply commands received", labels=["command"]
        )
        commands = Counter(
            _command(data)
            for data in session.scalars(
                select(TimelineEvent.data).where(TimelineEvent.kind == SmsReplied.kind.value)
            )
        )
        for command, n in sorted(commands.items()):
            replies.add_metric([command], n)
        yield replies

        yield from self._detection(now)
        yield from self._queues()

    def _detection(self, now: Any) -> Iterator[Any]:
        """How long monitors waited for an evaluation, and how many wait now."""
        raw = {
            (k.decode() if isinstance(k, bytes) else str(k)): float(v)
            for k, v in redis.client.hgetall(due.WAITS_KEY).items()
        }
        buckets = [(repr(bound), raw.get(repr(bound), 0.0)) for bound in due.WAIT_BUCKETS]
        buckets.append(("+Inf", raw.get("count", 0.0)))
        yield HistogramMetricFamily(
            "firebreak_detection_wait_seconds",
            "Seconds a monitor waited between being due (new mentions, its minute's close, the "
            "sweep) and its evaluation",
            buckets=buckets,
            sum_value=raw.get("sum", 0.0),
        )
        waiting, oldest = due.backlog(redis.client, now=now)
        depth = GaugeMetricFamily(
            "firebreak_detection_due_monitors",
            "Monitors due for an evaluation or being evaluated",
        )
        depth.add_metric([], waiting)
        yield depth
        age = GaugeMetricFamily(
            "firebreak_detection_oldest_due_seconds",
            "How long the longest-waiting due monitor has waited (0 if none): alert on this",
        )
        age.add_metric([], oldest)
        yield age

    def _queues(self) -> Iterator[Any]:
        """Queue depth, scheduled and failed jobs per RQ queue."""

        depth = GaugeMetricFamily("firebreak_queue_jobs", "Jobs waiting", labels=["queue"])
        scheduled = GaugeMetricFamily(
            "firebreak_queue_scheduled_jobs", "Jobs scheduled for later", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "firebreak_queue_failed_jobs", "Jobs that failed for good", labels=["queue"]
        )
        for name in ALL_QUEUES:
            q = queue(name, redis.client)
            depth.add_metric([name.value], q.count)
            scheduled.add_metric([name.value], ScheduledJobRegistry(queue=q).count)
            failed.add_metric([name.value], FailedJobRegistry(queue=q).count)
        yield from (depth, scheduled, failed)


@blp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition (scrape from inside the cluster; no personal data)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FirebreakCollector())
    body = generate_latest(registry)
    current_app.logger.debug("metrics scraped (%d bytes)", len(body))
    return Response(body, content_type=CONTENT_TYPE_LATEST)
