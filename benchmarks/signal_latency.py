"""Signal latency: from the ingest call that makes a spike significant returning, to the
incident being open (gunicorn + a forking RQ worker on PostgreSQL + Redis). Target p99 <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta

import requests
from harness import Stack, percentile
from sqlalchemy import create_engine, text

NEGATIVE = "Acme kettle exploded, dangerous and awful. Never again."
NEUTRAL = "Acme kettle arrived today"


def mentions(prefix: str, start: datetime, minutes: int, per_minute: int, neg: float) -> list:
    """Mentions spread over `minutes` minutes from `start`."""
    rng = random.Random(prefix)
    out = []
    for m in range(minutes):
        for i in range(per_minute):
            at = start + timedelta(minutes=m, seconds=rng.uniform(0, 59))
            out.append(
                {
                    "source": "bench",
                    "source_id": f"{prefix}-{m}-{i}",
                    "text": NEGATIVE if rng.random() < neg else NEUTRAL,
                    "author_reach": rng.randrange(10_000),
                    "created_at": at.isoformat(),
                }
            )
    return out


def post(stack: Stack, key: str, items: list) -> None:
    """Push mentions in batches of 1,000."""
    for i in range(0, len(items), 1000):
        resp = requests.post(
            f"{stack.base}/api/v1/monitors/{key}/mentions",
            json={"mentions": items[i : i + 1000]},
            headers=stack.headers("ingest"),
            timeout=30,
        )
        resp.raise_for_status()


def main() -> None:
    """Measure `--trials` spikes, one fresh monitor each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    latencies = []
    with Stack(workers=1) as stack:
        engine = create_engine(stack.env["FIREBREAK_DATABASE_URL"])
        now = datetime.now(UTC)
        for t in range(args.trials):
            key = f"lat{t}"
            stack.create_monitor(key)
            # 7 hours of calm history, 10 a minute, 20% negative
            post(stack, key, mentions(f"{key}h", now - timedelta(hours=7), 7 * 60 - 2, 10, 0.2))
            time.sleep(0.5)  # let the history's evaluation finish
            spike = mentions(f"{key}s", datetime.now(UTC) - timedelta(seconds=50), 1, 150, 0.8)
            post(stack, key, spike)
            returned = time.perf_counter()
            with engine.connect() as conn:
                while True:
                    found = conn.execute(
                        text(
                            "select i.id from incidents i join monitors m on m.id = i.monitor_id "
                            "where m.key = :k"
                        ),
                        {"k": key},
                    ).first()
                    if found:
                        break
                    if time.perf_counter() - returned > 10:
                        raise RuntimeError(f"no incident for {key} after 10 s")
                    time.sleep(0.002)
            latencies.append(time.perf_counter() - returned)
        engine.dispose()
    print(
        json.dumps(
            {
                "trials": len(latencies),
                "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "max_ms": round(max(latencies) * 1000, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
