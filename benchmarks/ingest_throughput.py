"""Ingest throughput: the HTTP service vs the bare library chain, measured in the same run.

Service: gunicorn (2 processes x 4 threads) on PostgreSQL + Redis, batches of 500 mentions,
30% repeated texts (retweets), sentiment scored by the service. Baseline: in one process,
json.loads + marshmallow load of the documented schema + language identification (py3langid)
and VADER on every text + a Redis pipeline of the bucket counters. Target: service >= 1.2x
baseline; p99 batch latency <= 150 ms.

The two are measured in alternating rounds (bare, service, service, bare, ...) on fresh batches
each round (so no round finds the texts of an earlier one in the service's cache), and the
medians are reported: a shared machine's load drifts, and back-to-back phases would bias the ratio.

    cd benchmarks && ../.venv/bin/python ingest_throughput.py --rounds 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

from harness import BENCH_REDIS, Stack, load_texts, percentile

BATCH = 500


def make_batches(n: int, seed: int = 1, tag: str = "") -> list[bytes]:
    """Pre-serialised batches: 30% of texts come from a small viral pool."""
    rng = random.Random(seed)
    texts = load_texts()
    viral = texts[:20]
    now = datetime.now(UTC)
    out = []
    for b in range(n):
        items = []
        for i in range(BATCH):
            text = (
                rng.choice(viral)
                if rng.random() < 0.3
                else f"{texts[rng.randrange(len(texts))]} #r{tag}{b}x{i}"
            )
            items.append(
                {
                    "source": "twitter",
                    "source_id": f"{b}-{i}",
                    "text": text,
                    "author": f"user{rng.randrange(100_000)}",
                    "author_reach": rng.randrange(50_000),
                    "url": f"https://x.com/u/status/{b}{i}",
                    "created_at": (now - timedelta(seconds=rng.uniform(0, 600))).isoformat(),
                }
            )
        out.append(json.dumps({"mentions": items}).encode())
    return out


def bare_chain(batches: list[bytes]) -> float:
    """Mentions per second of the plain library chain in this process."""
    import redis
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from service.detection.schemas import MentionBatchSchema

    schema = MentionBatchSchema()
    analyzer = SentimentIntensityAnalyzer()
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    r = redis.Redis.from_url(BENCH_REDIS)
    start = time.perf_counter()
    for body in batches:
        data = schema.load(json.loads(body))
        pipe = r.pipeline(transaction=False)
        for m in data["mentions"]:
            identifier.classify(m["text"])  # the language, as the service identifies it
            compound = analyzer.polarity_scores(m["text"])["compound"]
            ts = int(m["created_at"].timestamp())
            key = f"bare:b:{ts - ts % 60}"
            pipe.hincrby(key, "n", 1)
            pipe.hincrbyfloat(key, "sent", compound)
            if compound <= -0.05:
                pipe.hincrby(key, "neg", 1)
        pipe.execute()
    elapsed = time.perf_counter() - start
    r.delete(*r.keys("bare:*") or ["none"])
    return len(batches) * BATCH / elapsed


def service(
    stack: Stack, batches: list[bytes], clients: int, monitor: str
) -> tuple[float, list[float]]:
    """Mentions per second through the HTTP API, and every batch's latency in seconds."""
    stack.create_monitor(monitor)
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(batches)
    headers = stack.headers("ingest")

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            t0 = time.perf_counter()
            conn.request("POST", f"/api/v1/monitors/{monitor}/mentions", body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            dt = time.perf_counter() - t0
            if resp.status != 200:
                raise RuntimeError(f"{resp.status}: {payload[:300]!r}")
            with lock:
                latencies.append(dt)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return len(batches) * BATCH / elapsed, latencies


def main() -> None:
    """Run both in alternating rounds, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warm = make_batches(4, seed=99, tag="w")
    bare_rates: list[float] = []
    rates: list[float] = []
    latencies: list[float] = []
    ratios: list[float] = []
    load_before = os.getloadavg()
    with Stack() as stack:
        service(stack, warm, args.clients, "warm")  # warm-up (imports, caches of the viral pool)
        for r in range(args.rounds):
            batches = make_batches(args.batches, seed=r + 1, tag=f"{r}-")
            if r % 2 == 0:
                bare = bare_chain(batches)
                rate, lat = service(stack, batches, args.clients, f"bench{r}")
            else:
                rate, lat = service(stack, batches, args.clients, f"bench{r}")
                bare = bare_chain(batches)
            bare_rates.append(bare)
            rates.append(rate)
            latencies += lat
            ratios.append(rate / bare)
            print(
                f"round {r}: bare {bare:.0f}/s service {rate:.0f}/s ratio {rate / bare:.2f} "
                f"p99 {percentile(lat, 0.99) * 1000:.0f} ms",
                flush=True,
            )
    result = {
        "bare_chain_mentions_per_s": round(statistics.median(bare_rates)),
        "service_mentions_per_s": round(statistics.median(rates)),
        "ratio": round(statistics.median(rates) / statistics.median(bare_rates), 2),
        "ratio_per_round": [round(x, 2) for x in ratios],
        "batch_latency_ms_p50": round(percentile(latencies, 0.5) * 1000, 1),
        "batch_latency_ms_p99": round(percentile(latencies, 0.99) * 1000, 1),
        "batches": args.batches,
        "rounds": args.rounds,
        "batch_size": BATCH,
        "clients": args.clients,
        "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
