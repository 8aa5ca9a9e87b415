"""Seeded synthetic per-minute bucket streams for exercising the detector.

* :func:`negative_surge` - 10x volume for 10 minutes, negative share 20 % -> 70 %.
* :func:`positive_surge` - the same 10x surge with the share unchanged (a launch).
* :func:`negative_flat` - ordinary volume whose share turns negative (20 % -> 70 %).
* :func:`daily_cycle` - 7 days of a strong day/night cycle and nothing else.

Each event stream carries 30 h of ordinary history first, so baselines are warm.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.detection.engine import BucketAgg, DetectorConfig, MonitorModel

START = datetime(2025, 3, 3, tzinfo=UTC)
BASE_RATE = 20.0  # mentions per minute at the daily mean
BASE_SHARE = 0.20  # ordinary negative share


@dataclass(frozen=True)
class Scenario:
    """A bucket stream and, if it holds one, the onset of the incident-worthy event."""

    name: str
    buckets: list[BucketAgg]
    onset: datetime | None


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, rounded normal for large ones)."""
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _bucket(rng: random.Random, start: datetime, rate: float, share: float) -> BucketAgg:
    """One minute bucket with Poisson volume and binomial negatives."""
    n = poisson(rng, rate)
    neg = sum(rng.random() < share for _ in range(n))
    sentiment = -0.6 * neg + 0.3 * (n - neg)
    reach = sum(rng.paretovariate(1.5) * 100 for _ in range(n))
    return BucketAgg(start, n, neg, sentiment, reach)


def _rate(t: datetime, amplitude: float) -> float:
    """Daily-cycle mean rate at t (peak mid-afternoon UTC)."""
    hours = t.hour + t.minute / 60
    return BASE_RATE * (1 + amplitude * math.cos(2 * math.pi * (hours - 15) / 24))


def _stream(
    seed: int, minutes: int, event: tuple[int, int, float, float] | None, amplitude: float
) -> list[BucketAgg]:
    """Buckets with an optional event (first minute, length, volume factor, share)."""
    rng = random.Random(seed)
    out = []
    for m in range(minutes):
        t = START + timedelta(minutes=m)
        rate, share = _rate(t, amplitude), BASE_SHARE
        if event and event[0] <= m < event[0] + event[1]:
            rate, share = rate * event[2], event[3]
        out.append(_bucket(rng, t, rate, share))
    return out


HISTORY_MIN = 30 * 60  # 30 h: a full 24 h baseline plus one earlier day of the same slots


def negative_surge(seed: int = 1) -> Scenario:
    """10x volume for 10 minutes with negative share 70 % (baseline 20 %)."""
    b = _stream(seed, HISTORY_MIN + 60, (HISTORY_MIN, 10, 10.0, 0.70), 0.3)
    return Scenario("negative_surge", b, START + timedelta(minutes=HISTORY_MIN))


def positive_surge(seed: int = 2) -> Scenario:
    """10x volume for 10 minutes with the share unchanged (a product launch)."""
    b = _stream(seed, HISTORY_MIN + 60, (HISTORY_MIN, 10, 10.0, BASE_SHARE), 0.3)
    return Scenario("positive_surge", b, None)


def negative_flat(seed: int = 3) -> Scenario:
    """Ordinary volume that turns 70 % negative for two hours."""
    b = _stream(seed, HISTORY_MIN + 180, (HISTORY_MIN, 120, 1.0, 0.70), 0.3)
    return Scenario("negative_flat", b, None)


def daily_cycle(seed: int = 4, days: int = 7) -> Scenario:
    """A strong day/night cycle (rate 0.2x..1.8x of the mean) with no anomaly."""
    return Scenario("daily_cycle", _stream(seed, days * 24 * 60, None, 0.8), None)


def run(
    buckets: Sequence[BucketAgg],
    config: DetectorConfig | None = None,
    partial_steps: int = 1,
    partial_from: datetime | None = None,
) -> list[datetime]:
    """Stream buckets through a monitor's model as production does; return when incidents open.

    Each bucket is folded in when it closes. With ``partial_steps`` > 1, buckets from
    ``partial_from`` on are also assessed while they fill (mentions assumed to arrive evenly),
    as production does on every ingest batch.
    """
    cfg = config or DetectorConfig()
    model = MonitorModel(cfg)
    opened = []
    for cur in buckets:
        steps = partial_steps if partial_from is not None and cur.start >= partial_from else 0
        for k in range(1, steps):
            f = k / steps
            part = BucketAgg(
                cur.start,
                round(cur.count * f),
                round(cur.negative * f),
                cur.sentiment_sum * f,
                cur.reach * f,
            )
            if model.assess(cur.start + timedelta(seconds=cfg.bucket_seconds * f), part).opens:
                opened.append(cur.start + timedelta(seconds=cfg.bucket_seconds * f))
        if model.update(cur).opens:
            opened.append(cur.start + timedelta(seconds=cfg.bucket_seconds))
    return opened
