"""Soak: sustained ingest at a fixed rate with incidents opening and resolving; web and worker
memory, Redis keys and errors sampled throughout.

The whole stack (gunicorn 2 x 4 threads, one RQ worker) on PostgreSQL and Redis. Loader threads
post batches of 500 mentions on a fixed schedule spread over 4 monitors (30 % of texts from a
small viral pool, every mention new); every 20 s an incident is declared on a monitor and
acknowledged, and resolved 30 s later. Every 10 s: the resident memory (VmRSS) of the gunicorn
workers and the RQ worker, Redis DBSIZE and used memory. Targets: memory after warm-up grows
<= 10 %, Redis keys bounded, zero errors, the rate held.

    PYTHONPATH=. python benchmarks/soak.py [--minutes 10] [--rate 2000] [--warmup 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "FIREBREAK_BENCH_DATABASE_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/firebreak_bench_soak",
)
os.environ.setdefault("FIREBREAK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")

from harness import BENCH_REDIS, Stack, load_texts  # noqa: E402

BATCH = 500
MONITORS = ("soak-a", "soak-b", "soak-c", "soak-d")


def rss_kib(pid: int) -> int:
    """Resident memory of a process (KiB), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


class Load:
    """Posts mention batches on a schedule; counts what came back."""

    def __init__(self, stack: Stack, rate: int, texts: list[str]) -> None:
        self.stack, self.rate, self.texts = stack, rate, texts
        self.sent = self.batches = self.errors = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.serial = 0
        self.statuses: dict[int, int] = {}

    def batch(self, rng: random.Random) -> bytes:
        with self.lock:
            self.serial += 1
            serial = self.serial
        now = datetime.now(UTC).isoformat()
        viral = self.texts[:20]
        items = [
            {
                "source": "twitter",
                "source_id": f"{serial}-{i}",
                "text": rng.choice(viral)
                if rng.random() < 0.3
                else f"{self.texts[rng.randrange(len(self.texts))]} #s{serial}x{i}",
                "author": f"user{rng.randrange(100_000)}",
                "author_reach": rng.randrange(50_000),
                "created_at": now,
            }
            for i in range(BATCH)
        ]
        return json.dumps({"mentions": items}).encode()

    def run(self, worker: int, workers: int) -> None:
        """Post this thread's share of the schedule until stopped."""
        rng = random.Random(worker)
        session = requests.Session()
        interval = BATCH * workers / self.rate
        due = time.monotonic() + worker * interval / workers
        while not self.stop.is_set():
            time.sleep(max(0.0, due - time.monotonic()))
            due += interval
            monitor = MONITORS[rng.randrange(len(MONITORS))]
            try:
                resp = session.post(
                    f"{self.stack.base}/api/v1/monitors/{monitor}/mentions",
                    data=self.batch(rng),
                    headers=self.stack.headers("ingest"),
                    timeout=30,
                )
                ok = resp.status_code == 200 and resp.json()["rejected"] == 0
                status = resp.status_code
            except requests.RequestException:
                ok, status = False, 0
            with self.lock:
                self.batches += 1
                self.sent += BATCH
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.errors += 0 if ok else 1


def incidents(stack: Stack, stop: threading.Event, counts: dict[str, int]) -> None:
    """Declare, acknowledge and (30 s later) resolve incidents, one every 20 s."""
    open_: list[tuple[float, int]] = []
    headers = stack.headers("admin")
    while not stop.wait(20):
        resp = requests.post(
            f"{stack.base}/api/v1/incidents",
            json={"title": f"Soak {counts['opened'] + 1}", "severity": "sev3"},
            headers=headers,
            timeout=30,
        )
        if resp.status_code != 201:
            counts["errors"] += 1
            continue
        number = resp.json()["number"]
        counts["opened"] += 1
        ack = requests.post(
            f"{stack.base}/api/v1/incidents/{number}/acknowledge", json={}, headers=headers
        )
        counts["errors"] += ack.status_code != 200
        open_.append((time.monotonic(), number))
        while open_ and time.monotonic() - open_[0][0] >= 30:
            _, old = open_.pop(0)
            done = requests.post(
                f"{stack.base}/api/v1/incidents/{old}/resolve", json={}, headers=headers
            )
            counts["resolved"] += done.status_code == 200
            counts["errors"] += done.status_code != 200


def sample(stack: Stack, r: redis.Redis) -> dict[str, Any]:
    """Memory of the web workers and the RQ worker, Redis size."""
    web, worker = stack.procs[0], stack.procs[1]
    web_pids = children(web.pid)
    # the RQ worker runs jobs in-process by default (no work horse to add)
    return {
        "t": time.monotonic(),
        "web_kib": sum(rss_kib(p) for p in web_pids),
        "worker_kib": rss_kib(worker.pid) + sum(rss_kib(p) for p in children(worker.pid)),
        "redis_keys": r.dbsize(),
        "redis_bytes": int(r.info("memory")["used_memory"]),
    }


def growth(samples: list[dict[str, Any]], key: str, start: float) -> float:
    """Growth of the last minute's mean over the first minute after warm-up (%)."""
    after = [s for s in samples if s["t"] >= start]
    first = [s[key] for s in after if s["t"] < start + 60]
    last = [s[key] for s in after if s["t"] >= after[-1]["t"] - 60]
    return 100.0 * (statistics.mean(last) / statistics.mean(first) - 1.0)


def main() -> None:
    """Run the soak and print (and save) its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=2000, help="mentions per second")
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes before measuring")
    parser.add_argument("--threads", type=int, default=4, help="loader threads")
    args = parser.parse_args()
    texts = load_texts()
    with Stack(web_workers=2, threads=4, workers=1) as stack:
        for key in MONITORS:
            stack.create_monitor(key)
        r = redis.Redis.from_url(BENCH_REDIS)
        load = Load(stack, args.rate, texts)
        counts = {"opened": 0, "resolved": 0, "errors": 0}
        threads = [
            threading.Thread(target=load.run, args=(i, args.threads), daemon=True)
            for i in range(args.threads)
        ]
        threads.append(
            threading.Thread(target=incidents, args=(stack, load.stop, counts), daemon=True)
        )
        began = time.monotonic()
        for t in threads:
            t.start()
        samples = []
        while time.monotonic() - began < args.minutes * 60:
            samples.append(sample(stack, r))
            time.sleep(10)
        samples.append(sample(stack, r))
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - began
    start = began + args.warmup * 60
    measured = [s for s in samples if s["t"] >= start]
    result = {
        "minutes": round(elapsed / 60, 2),
        "target_rate": args.rate,
        "mentions_sent": load.sent,
        "achieved_rate": round(load.sent / elapsed),
        "batch_errors": load.errors,
        "statuses": load.statuses,
        "incidents": counts,
        "web_mib": [round(s["web_kib"] / 1024) for s in samples],
        "worker_mib": [round(s["worker_kib"] / 1024) for s in samples],
        "redis_keys": [s["redis_keys"] for s in samples],
        "web_growth_pct": round(growth(samples, "web_kib", start), 1),
        "worker_growth_pct": round(growth(samples, "worker_kib", start), 1),
        "redis_keys_after_warmup": [
            min(s["redis_keys"] for s in measured),
            max(s["redis_keys"] for s in measured),
        ],
        "redis_mib_after_warmup": [
            round(min(s["redis_bytes"] for s in measured) / 2**20),
            round(max(s["redis_bytes"] for s in measured) / 2**20),
        ],
    }
    out = ROOT / "benchmarks" / "results" / "soak.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: v for k, v in result.items() if not isinstance(v, list) or len(v) < 4}, indent=2
        )
    )


if __name__ == "__main__":
    main()
