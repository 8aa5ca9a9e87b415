"""The incidents report (GET /api/v1/reports/incidents) over 10,000 incidents: one grouped query
instead of one query set per incident. Target: <= 300 ms for 10,000 incidents.

Fills a PostgreSQL database of its own with incidents (3 monitors, opened over the last 300 days)
and their timelines (opened, acknowledged, resolved, some reopened), then times the endpoint
through the app (auth, query, JSON) and, as the baseline, the per-incident algorithm it replaced
on the first 1,000 incidents.

    python benchmarks/report_benchmark.py [--incidents 10000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "FIREBREAK_BENCH_DATABASE_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/firebreak_bench_report",
)
os.environ.setdefault("FIREBREAK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")

from harness import BENCH_DB, BENCH_REDIS, empty_database  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from service import create_app  # noqa: E402
from service.auth import service as auth  # noqa: E402
from service.auth.roles import Role  # noqa: E402
from service.cli import upgrade_database  # noqa: E402
from service.extensions import db  # noqa: E402
from service.incidents.models import Incident  # noqa: E402
from service.monitors.models import Monitor  # noqa: E402
from service.postmortem.metrics import incident_metrics  # noqa: E402
from service.postmortem.report import aggregate  # noqa: E402
from service.timeline.models import TimelineEvent  # noqa: E402

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


def fill(count: int, now: datetime) -> None:
    """`count` incidents with their timelines, written in bulk."""
    rng = random.Random(15)
    session = db.session
    monitors = [Monitor(key=f"brand-{i}", name=f"Brand {i}") for i in range(3)]
    session.add_all(monitors)
    session.flush()
    incidents, events = [], []
    for n in range(1, count + 1):
        opened = now - timedelta(days=300) + timedelta(seconds=n * 300 * 86400 // count)
        fate = rng.random()
        status = "triggered" if fate < 0.05 else "acknowledged" if fate < 0.15 else "resolved"
        incidents.append(
            {
                "id": n,
                "title": f"Incident {n}",
                "description": "",
                "severity": rng.choice(SEVERITIES),
                "status": status,
                "source": "detector",
                "monitor_id": monitors[n % 3].id if status == "resolved" else None,
                "opened_at": opened,
                "version": 1,
            }
        )
        kinds = ["incident.opened"]
        if status != "triggered":
            kinds.append("incident.acknowledged")
        if status == "resolved":
            kinds += ["incident.resolved", "incident.reopened", "incident.resolved"][
                : 3 if fate > 0.95 else 1
            ]
        at = opened
        for seq, kind in enumerate(kinds, 1):
            at += timedelta(seconds=rng.randint(30, 3600))
            events.append(
                {
                    "incident_id": n,
                    "seq": seq,
                    "at": at,
                    "kind": kind,
                    "actor": "bench",
                    "data": {},
                    "prev_hash": "0" * 64,
                    "hash": f"{n:032x}{seq:032x}",
                }
            )
    session.execute(insert(Incident), incidents)
    for i in range(0, len(events), 5000):
        session.execute(insert(TimelineEvent), events[i : i + 5000])
    session.commit()


def baseline_report(session: Any, opened_from: datetime, opened_to: datetime) -> dict[str, Any]:
    """The algorithm the report replaced: the headline metrics read per incident."""
    rows = []
    query = (
        select(Incident)
        .where(Incident.opened_at >= opened_from, Incident.opened_at < opened_to)
        .order_by(Incident.id)
    )
    for incident in session.scalars(query):
        m = incident_metrics(session, incident_id=incident.id)
        rows.append(
            {
                "number": incident.id,
                "status": incident.status,
                "severity": incident.severity,
                "monitor": incident.monitor.key if incident.monitor else None,
                "time_to_acknowledge": m["time_to_acknowledge"],
                "time_to_resolve": m["time_to_resolve"],
            }
        )
    return {**aggregate(rows), "incidents": rows}


def timed(fn: Any, rounds: int) -> list[float]:
    """Milliseconds per call, `rounds` times after one warm-up."""
    fn()
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    """Fill, then time the endpoint over all incidents and both algorithms over 1,000."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    empty_database()
    app = create_app(
        {"DATABASE_URL": BENCH_DB, "REDIS_URL": BENCH_REDIS, "SECRET_KEY": "bench", "TESTING": True}
    )
    now = datetime.now(UTC)
    with app.app_context():
        upgrade_database(app)
        user = auth.create_user(db.session, name="Rita Reviewer", roles={Role.REVIEWER})
        _token, secret = auth.issue_token(db.session, user=user, name="bench")
        db.session.commit()
        fill(args.incidents, now)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    window = now - timedelta(days=301)
    first_1000 = now - timedelta(days=300) + timedelta(days=300 * 1000 / args.incidents)
    q_all = f"from={window.isoformat().replace('+00:00', 'Z')}"

    def endpoint(query: str) -> Any:
        resp = client.get(f"/api/v1/reports/incidents?{query}", headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()

    assert endpoint(q_all)["count"] == args.incidents
    all_ms = timed(lambda: endpoint(q_all), args.rounds)
    q_1000 = f"{q_all}&to={first_1000.isoformat().replace('+00:00', 'Z')}"
    small = endpoint(q_1000)
    new_ms = timed(lambda: endpoint(q_1000), args.rounds)
    with app.app_context():
        old = baseline_report(db.session, window, first_1000)
        assert old["count"] == small["count"]
        assert old["mtta_seconds"] == small["mtta_seconds"]
        assert old["mttr_seconds"] == small["mttr_seconds"]
        old_ms = timed(lambda: baseline_report(db.session, window, first_1000), 2)
    med = statistics.median
    print(
        f"report over {args.incidents} incidents: median {med(all_ms):.0f} ms "
        f"(min {min(all_ms):.0f}, max {max(all_ms):.0f}; target <= 300 ms)"
    )
    print(
        f"report over {small['count']} incidents: {med(new_ms):.1f} ms; per-incident "
        f"baseline {med(old_ms):.0f} ms: {med(old_ms) / med(new_ms):.0f}x faster; same figures"
    )


if __name__ == "__main__":
    main()
