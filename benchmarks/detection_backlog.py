"""Detection under a backlog: every monitor due at once (a worker back from an outage, a deploy,
a platform-wide burst) and one of them spikes. How long until its signal, with the spiking
monitor put first in line by its trip count (``service.detection.due``) and without (the trip
counts removed, as before they existed: it waits its turn behind the others), alternating in
the same stack with one worker.

    python benchmarks/detection_backlog.py [--monitors 1000] [--trials 6]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from detection_scale import prepare, spike_latency
from harness import Stack
from redis import Redis
from sqlalchemy import create_engine, text

DUE, TRIP, CLAIMED = "fb:detect-due", "fb:detect-trip", "fb:detect-claimed"


def settle(redis: Redis) -> None:
    """Wait until no monitor is due or being evaluated."""
    deadline = time.monotonic() + 120
    while (redis.zcard(DUE) or redis.zcard(CLAIMED)) and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    """Alternate trials with and without trip counts; print the latencies as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=6)
    args = parser.parse_args()
    keys = [f"m{i:04d}" for i in range(args.monitors)]
    out: dict[str, list[float]] = {"first_in_line": [], "in_turn": []}
    with Stack(workers=1) as stack:
        engine = create_engine(stack.env["FIREBREAK_DATABASE_URL"])
        redis = Redis.from_url(stack.env["FIREBREAK_REDIS_URL"])
        prepare(stack, keys)
        ids = [int(m) for m in redis.hkeys(TRIP)]
        rng = random.Random(7)
        spiking = rng.sample(keys, 2 * args.trials)
        for trial in range(2 * args.trials):
            mode = "first_in_line" if trial % 2 == 0 else "in_turn"
            settle(redis)
            trips = redis.hgetall(TRIP)
            if mode == "in_turn":
                redis.delete(TRIP)
            with engine.connect() as conn:
                spike_id = conn.execute(
                    text("select id from monitors where key = :k"), {"k": spiking[trial]}
                ).scalar()
            # everyone else due at once, then the spike arrives
            redis.zadd(DUE, {str(m): time.time() for m in ids if m != spike_id})
            found = spike_latency(stack, engine, spiking[trial], rng)
            if found is not None:
                out[mode].append(round(found * 1000))
            settle(redis)
            if trips:
                redis.hset(TRIP, mapping=trips)
    summary = {
        "monitors": args.monitors,
        "monitors_with_trip_counts": len(ids),
        **{f"{m}_ms": v for m, v in out.items()},
        **{f"{m}_median_ms": statistics.median(v) for m, v in out.items() if v},
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
