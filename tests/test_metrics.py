"""/metrics: the operator's numbers, read from the database and Redis at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.auth.roles import Role
from service.extensions import db
from service.paging.models import Escalation


def scrape(client) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


@pytest.mark.smoke
def test_metrics_count_mentions_incidents_pages_and_queues(app, client, admin, people):
    feeder = people.make(Role.INGEST, name="Listening tool")
    wolf = people.make(Role.WOLF, name="Winston Wolf")
    client.post("/api/v1/monitors", json={"key": "acme", "name": "Acme"}, headers=admin["headers"])
    now = datetime.now(UTC).isoformat()
    good = {"source": "x", "text": "Acme kettle exploded", "created_at": now}
    batch = [{**good, "source_id": str(i)} for i in range(3)] + [{"source": "x"}]
    resp = client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": batch}, headers=feeder["headers"]
    )
    assert resp.status_code == 200, resp.get_json()
    client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": batch[:1]}, headers=feeder["headers"]
    )
    for severity in ("sev1", "sev2", "sev2"):
        created = client.post(
            "/api/v1/incidents",
            json={"title": "t", "severity": severity},
            headers=wolf["headers"],
        )
        assert created.status_code == 201
    m = scrape(client)
    assert m[("firebreak_mentions_total", (("outcome", "accepted"),))] == 3
    assert m[("firebreak_mentions_total", (("outcome", "duplicate"),))] == 1
    assert m[("firebreak_mentions_total", (("outcome", "rejected"),))] == 1
    assert m[("firebreak_incidents", (("severity", "sev2"), ("status", "triggered")))] == 2
    assert m[("firebreak_incidents", (("severity", "sev1"), ("status", "triggered")))] == 1
    assert m[("firebreak_oldest_due_escalation_seconds", ())] < 5  # nobody to page: due now
    assert ("firebreak_queue_jobs", (("queue", "sms"),)) in m
    assert m[("firebreak_signals_total", ())] == 0


def test_oldest_due_escalation_is_what_an_operator_alerts_on(app, client, wolf):
    client.post(
        "/api/v1/incidents", json={"title": "t", "severity": "sev1"}, headers=wolf["headers"]
    )
    with app.app_context(), db.transaction() as session:
        for esc in session.query(Escalation):
            esc.status, esc.next_at = "active", datetime.now(UTC) - timedelta(seconds=90)
    age = scrape(client)[("firebreak_oldest_due_escalation_seconds", ())]
    assert 90 <= age < 120


def test_detection_waits_and_the_due_backlog_are_exported(app, client, admin, people, run_jobs):
    feeder = people.make(Role.INGEST, name="Listening tool")
    client.post("/api/v1/monitors", json={"key": "acme", "name": "Acme"}, headers=admin["headers"])
    now = datetime.now(UTC).isoformat()
    batch = [{"source": "x", "source_id": "1", "text": "Acme kettle", "created_at": now}]
    client.post(
        "/api/v1/monitors/acme/mentions", json={"mentions": batch}, headers=feeder["headers"]
    )
    m = scrape(client)
    assert m[("firebreak_detection_due_monitors", ())] == 1  # waits for its drain
    assert m[("firebreak_detection_wait_seconds_count", ())] == 0
    run_jobs()
    m = scrape(client)
    assert m[("firebreak_detection_due_monitors", ())] == 0
    assert m[("firebreak_detection_oldest_due_seconds", ())] == 0
    assert m[("firebreak_detection_wait_seconds_count", ())] == 1
    assert m[("firebreak_detection_wait_seconds_bucket", (("le", "+Inf"),))] == 1
