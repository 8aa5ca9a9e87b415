"""`firebreak reconcile`: the sweep the chart's CronJob (--once) and the demo (--loop) run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from service.extensions import db
from service.paging.models import Escalation
from service.timeline.models import EventKind, TimelineEvent


def _levels(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(TimelineEvent.kind == EventKind.ESCALATED.value)
        )


def test_reconcile_once_runs_an_overdue_escalation_and_exits(app, client, wolf):
    client.post(
        "/api/v1/incidents", json={"title": "t", "severity": "sev1"}, headers=wolf["headers"]
    )
    with app.app_context(), db.transaction() as session:  # its RQ timer was lost long ago
        esc = session.scalars(select(Escalation)).one()
        esc.status, esc.next_at = "active", datetime.now(UTC) - timedelta(minutes=5)
    before = _levels(app)
    result = app.test_cli_runner().invoke(args=["reconcile", "--once"])
    assert result.exit_code == 0, result.output
    assert "'escalations': 1" in result.output
    assert _levels(app) == before + 1
