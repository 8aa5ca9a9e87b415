"""(e) Detection at scale: 1,000 monitors, each receiving a batch every 10 s, on this machine
(gunicorn + RQ workers, PostgreSQL, Redis). Targets: evaluation queue wait p99 <= 2 s and
signal latency p99 <= 1 s while the load runs; reports evaluations per second per core.

A monitor's queue wait is from being asked for (new mentions; its minute's close plus the
settling delay; the sweep) to being claimed by a drain, read from the service's own wait
histogram (``fb:metrics:detect-waits``; quantiles interpolated within its buckets).

Every monitor first gets 3 hours of history (so its detector is past warm-up and keeps a
state). During the load, one of forty quiet monitors (each once) gets a negative spike every
few seconds; the signal latency is from that ingest call returning to its incident being open.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from harness import Stack, percentile
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, text

NEGATIVE = "Acme kettle exploded, dangerous and awful. Never again."
TEXTS = [
    "Acme kettle arrived today",
    "Love my new Acme kettle, brilliant design",
    "Anyone tried the Acme kettle?",
    "Acme support was slow today",
]
QUEUES = ("sms", "escalations", "incidents", "detect", "default")
HOT = 40  # quiet monitors, one spike each during the load


def mentions(rng: random.Random, prefix: str, start: datetime, seconds: float, n: int, neg: float):
    """`n` mentions spread over `seconds` from `start`."""
    return [
        {
            "source": "bench",
            "source_id": f"{prefix}-{i}-{rng.random()}",
            "text": NEGATIVE if rng.random() < neg else rng.choice(TEXTS),
            "author_reach": rng.randrange(10_000),
            "created_at": (start + timedelta(seconds=rng.uniform(0, seconds))).isoformat(),
        }
        for i in range(n)
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


class Load:
    """The steady load: every monitor a small batch every `period` seconds."""

    def __init__(self, stack: Stack, keys: list[str], period: float, threads: int) -> None:
        self.stack, self.keys, self.period = stack, keys, period
        self.pool = ThreadPoolExecutor(threads)
        self.stop = threading.Event()
        self.sent = self.errors = 0
        self.local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "s"):
            self.local.s = requests.Session()
        return self.local.s

    def _push(self, key: str, rng: random.Random) -> None:
        items = mentions(rng, key, datetime.now(UTC) - timedelta(seconds=9), 9, 3, 0.15)
        try:
            resp = self._session().post(
                f"{self.stack.base}/api/v1/monitors/{key}/mentions",
                json={"mentions": items},
                headers=self.stack.headers("ingest"),
                timeout=30,
            )
            self.sent += 1
            if resp.status_code != 200:
                self.errors += 1
        except requests.RequestException:
            self.errors += 1

    def run(self, seconds: float) -> None:
        """Send the load for `seconds`, spreading each round over the period."""
        rng = random.Random(1)
        end = time.monotonic() + seconds
        step = self.period / len(self.keys)
        nxt = time.monotonic()
        while time.monotonic() < end and not self.stop.is_set():
            for key in self.keys:
                nxt += step
                delay = nxt - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.pool.submit(self._push, key, random.Random(rng.random()))
                if time.monotonic() >= end:
                    break
        self.pool.shutdown(wait=True)


def prepare(stack: Stack, keys: list[str]) -> None:
    """Create the monitors and give each 3 hours of history; wait for its evaluations."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(stack.create_monitor, keys))
    now = datetime.now(UTC)
    minutes = 3 * 60  # one mention a minute

    def backfill(key: str) -> None:
        items = mentions(
            random.Random(key),
            f"{key}h",
            now - timedelta(minutes=minutes),
            minutes * 60,
            minutes,
            0.15,
        )
        requests.post(
            f"{stack.base}/api/v1/monitors/{key}/mentions",
            json={"mentions": items},
            headers=stack.headers("ingest"),
            timeout=60,
        ).raise_for_status()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(backfill, keys))
    queue = Queue("detect", connection=Redis.from_url(stack.env["FIREBREAK_REDIS_URL"]))
    deadline = time.monotonic() + 300
    keys = ("fb:detect-due", "fb:detect-claimed", "fb:detect-closing")

    def busy() -> bool:  # jobs queued, or monitors due, being evaluated or waiting for a close
        return bool(queue.count or any(queue.connection.zcard(k) for k in keys))

    while busy() and time.monotonic() < deadline:
        time.sleep(0.5)


def spike_latency(stack: Stack, engine: Any, key: str, rng: random.Random) -> float | None:
    """Push a negative spike to a quiet monitor; seconds until its signal is recorded."""
    items = mentions(rng, f"{key}s", datetime.now(UTC) - timedelta(seconds=20), 20, 120, 0.8)
    requests.post(
        f"{stack.base}/api/v1/monitors/{key}/mentions",
        json={"mentions": items},
        headers=stack.headers("ingest"),
        timeout=30,
    ).raise_for_status()
    returned = time.perf_counter()
    with engine.connect() as conn:
        while time.perf_counter() - returned < 10:
            found = conn.execute(
                text(
                    "select count(*) from signals s join monitors m on m.id = s.monitor_id"
                    " where m.key = :k"
                ),
                {"k": key},
            ).scalar()
            if found:
                return time.perf_counter() - returned
            time.sleep(0.005)
    return None


def wait_histogram(stack: Stack) -> dict[str, float]:
    """The evaluations' seconds-waited histogram so far (cumulative counts by upper bound)."""
    redis = Redis.from_url(stack.env["FIREBREAK_REDIS_URL"])
    raw = redis.hgetall("fb:metrics:detect-waits")
    return {k.decode(): float(v) for k, v in raw.items()}


def histogram_quantile(before: dict[str, float], after: dict[str, float], q: float) -> float | None:
    """The q-quantile of the waits between two snapshots, interpolated within its bucket (as
    Prometheus's histogram_quantile does); None without evaluations."""
    total = after.get("count", 0.0) - before.get("count", 0.0)
    if total <= 0:
        return None
    bounds = sorted(float(k) for k in after if k not in ("count", "sum", "+Inf"))
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        key = repr(bound)
        n = after.get(key, 0.0) - before.get(key, 0.0)
        if n >= rank:
            inside = n - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, n
    return float("inf")


def job_times(stack: Stack, since: datetime, name: str) -> tuple[list[float], list[float]]:
    """Seconds each job finished since `since` waited in the queue `name`, and ran."""
    redis = Redis.from_url(stack.env["FIREBREAK_REDIS_URL"])
    queue = Queue(name, connection=redis, serializer=JSONSerializer)
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    waits, runs = [], []
    for job in Job.fetch_many(ids, connection=redis, serializer=JSONSerializer):
        if job is None or job.enqueued_at is None or job.started_at is None:
            continue
        if job.enqueued_at.replace(tzinfo=UTC) >= since:
            waits.append((job.started_at - job.enqueued_at).total_seconds())
            if job.ended_at is not None:
                runs.append((job.ended_at - job.started_at).total_seconds())
    return waits, runs


def ms(values: list[float], q: float) -> float | None:
    """A quantile in milliseconds (None without values)."""
    return round(percentile(values, q) * 1000, 1) if values else None


def main() -> None:
    """Run the load and the spikes; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--period", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-threads", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(7)
    with Stack(workers=args.workers, web_workers=2, threads=8) as stack:
        keys = [f"m{i}" for i in range(args.monitors)]
        prepare(stack, keys)
        started = datetime.now(UTC)
        hist_before = wait_histogram(stack)
        worker_pids = [p.pid for p in stack.procs[1:]]
        cpu_before = {pid: cpu_seconds(pid) for pid in worker_pids}
        load = Load(stack, keys[HOT:], args.period, args.client_threads)
        runner = threading.Thread(target=load.run, args=(args.seconds,))
        runner.start()
        engine = create_engine(stack.env["FIREBREAK_DATABASE_URL"])
        latencies: list[float] = []
        for key in keys[:HOT]:
            time.sleep(max(2.0, args.seconds / 30))
            if not runner.is_alive():
                break
            found = spike_latency(stack, engine, key, rng)
            latencies.append(found if found is not None else float("inf"))
        runner.join()
        elapsed = (datetime.now(UTC) - started).total_seconds()
        worker_cpu = sum(cpu_seconds(pid) - cpu_before[pid] for pid in worker_pids)
        hist_after = wait_histogram(stack)
        jobs = {name: job_times(stack, started, name) for name in QUEUES}
        drains = jobs["detect"][0]
        engine.dispose()
    evaluations = hist_after.get("count", 0.0) - hist_before.get("count", 0.0)
    waited = hist_after.get("sum", 0.0) - hist_before.get("sum", 0.0)

    def quantile_ms(q: float) -> float | None:
        value = histogram_quantile(hist_before, hist_after, q)
        return None if value is None else round(value * 1000, 1)

    print(
        json.dumps(
            {
                "monitors": args.monitors,
                "period_s": args.period,
                "seconds": round(elapsed, 1),
                "batches_sent": load.sent,
                "batch_errors": load.errors,
                "batches_per_s": round(load.sent / elapsed, 1),
                "evaluations": int(evaluations),
                "evaluations_per_s": round(evaluations / elapsed, 1),
                "queue_wait_mean_ms": round(waited / evaluations * 1000, 1)
                if evaluations
                else None,
                "queue_wait_p50_ms": quantile_ms(0.5),
                "queue_wait_p99_ms": quantile_ms(0.99),
                "drain_jobs": len(drains),
                "drain_job_wait_p99_ms": ms(drains, 0.99),
                "jobs": {
                    name: {"count": len(w), "wait_p99_ms": ms(w, 0.99), "run_p99_ms": ms(r, 0.99)}
                    for name, (w, r) in jobs.items()
                },
                "worker_cpu_s": round(worker_cpu, 1),
                "evaluations_per_cpu_s": round(evaluations / worker_cpu, 1) if worker_cpu else None,
                "spikes": len(latencies),
                "signal_latency_p50_ms": ms(latencies, 0.5),
                "signal_latency_p99_ms": ms(latencies, 0.99),
                "signal_latencies_ms": sorted(round(x * 1000) for x in latencies),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
