"""GET /api/v1/reports/incidents: a bounded period, one query whatever the number of
incidents, the same figures as each incident's own metrics."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from service.extensions import db
from service.postmortem.metrics import incident_metrics
from tests.hardening.test_bad_input import problem


def _declare(client, who, title: str, *actions: str) -> int:
    resp = client.post(
        "/api/v1/incidents", json={"title": title, "severity": "sev2"}, headers=who["headers"]
    )
    number = resp.get_json()["number"]
    for action in actions:
        r = client.post(f"/api/v1/incidents/{number}/{action}", json={}, headers=who["headers"])
        assert r.status_code == 200, r.get_json()
    return number


def _queries(app):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", count)


@pytest.mark.smoke
def test_report_matches_each_incidents_metrics_in_constant_queries(app, client, admin) -> None:
    _declare(client, admin, "open")
    _declare(client, admin, "acked", "acknowledge")
    _declare(client, admin, "resolved", "acknowledge", "resolve")
    _declare(client, admin, "reopened", "acknowledge", "resolve", "reopen")
    _declare(client, admin, "resolved twice", "resolve", "reopen", "acknowledge", "resolve")
    client.get("/api/v1/me", headers=admin["headers"])  # token last-used write out of the way
    seen, stop = _queries(app)
    try:
        body = client.get("/api/v1/reports/incidents", headers=admin["headers"]).get_json()
        few = len(seen)
        for n in range(6, 26):
            _declare(client, admin, f"more {n}", "acknowledge", "resolve")
        seen.clear()
        many = client.get("/api/v1/reports/incidents", headers=admin["headers"]).get_json()
        assert len(seen) == few  # the same number of queries for 5 and 25 incidents
    finally:
        with app.app_context():
            stop()
    assert body["count"] == 5 and many["count"] == 25
    with app.app_context():
        for row in body["incidents"]:
            m = incident_metrics(db.session, incident_id=row["number"])
            assert row["time_to_acknowledge"] == m["time_to_acknowledge"], row
            assert row["time_to_resolve"] == m["time_to_resolve"], row
    by_number = {r["number"]: r for r in body["incidents"]}
    assert by_number[4]["time_to_resolve"] is None and by_number[5]["time_to_resolve"] > 0


def test_a_malformed_period_is_422(client, admin) -> None:
    query = "from=0001-01-01T00:00:00%2B01:00"
    problem(client.get(f"/api/v1/reports/incidents?{query}", headers=admin["headers"]), 422, "from")


@pytest.mark.parametrize(
    ("query", "covered", "truncated"),
    [  # cut at 366 days after `from` (and says so); a `to` not after `from` is an empty period
        ("from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z", ("2026-01-01", "2027-01-02"), True),
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", ("2026-01-02", "2026-01-02"), False),
        ("from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", ("2026-01-01", "2026-02-01"), False),
    ],
)
def test_report_period_is_bounded(client, admin, query, covered, truncated) -> None:
    resp = client.get(f"/api/v1/reports/incidents?{query}", headers=admin["headers"])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["from"][:10], body["to"][:10]) == covered
    assert body["truncated"] is truncated
    assert body["requested_to"][:10] == query.split("to=")[1][:10]  # the `to` asked for


def test_report_period_defaults_to_the_last_366_days(client, admin) -> None:
    body = client.get("/api/v1/reports/incidents", headers=admin["headers"]).get_json()
    assert body["from"] and body["to"]
    assert body["truncated"] is False and body["requested_to"] is None
    one_end = client.get(
        "/api/v1/reports/incidents?from=2026-01-01T00:00:00Z", headers=admin["headers"]
    ).get_json()
    assert one_end["to"].startswith("2027-01-02")
