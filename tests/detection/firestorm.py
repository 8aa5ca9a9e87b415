"""Synthetic firestorm replays through the real API, Redis, RQ worker and database."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

NEGATIVE = [
    "My Acme kettle exploded this morning, terrible and dangerous",
    "Acme kettles are a fire hazard. Awful company, never again",
    "Disgusted with Acme, the kettle burned my hand. Worst support ever",
    "Boycott Acme! Their kettles explode and they lie about it",
    "Scary video of an Acme kettle blowing up. Horrible.",
]
POSITIVE = [
    "Love my new Acme kettle, brilliant design",
    "Acme launch event was amazing, great job team",
    "The new Acme kettle is fantastic, best purchase this year",
]
NEUTRAL = ["Acme kettle arrived today", "Anyone tried the Acme kettle?", "Acme store opens at 9"]


def minute_mentions(
    rng: random.Random,
    start: datetime,
    count: int,
    negative_share: float,
    positive_share: float,
    prefix: str,
) -> list[dict[str, Any]]:
    """`count` mentions spread over the minute starting at `start`."""
    out = []
    for i in range(count):
        roll = rng.random()
        pool = (
            NEGATIVE
            if roll < negative_share
            else (POSITIVE if roll < negative_share + positive_share else NEUTRAL)
        )
        at = start + timedelta(seconds=rng.uniform(0, 59.9))
        out.append(
            {
                "source": "twitter",
                "source_id": f"{prefix}-{i}",
                "text": rng.choice(pool),
                "author": f"user{rng.randrange(10_000)}",
                "author_reach": int(rng.paretovariate(1.2) * 50),
                "created_at": at.isoformat(),
            }
        )
    return out


class Replay:
    """Drives a monitor minute by minute with a fake clock; records what opened when."""

    def __init__(
        self, client, feeder: dict, clock, run_jobs, monitor: str = "acme", seed: int = 7
    ) -> None:
        self.client, self.feeder, self.clock, self.run_jobs = client, feeder, clock, run_jobs
        self.monitor = monitor
        self.rng = random.Random(seed)
        self.minute = 0
        self.start = clock.now

    def _post(self, items: list[dict]) -> None:
        for i in range(0, len(items), 1000):
            resp = self.client.post(
                f"/api/v1/monitors/{self.monitor}/mentions",
                json={"mentions": items[i : i + 1000]},
                headers=self.feeder["headers"],
            )
            assert resp.status_code == 200, resp.get_json()
            assert resp.get_json()["rejected"] == 0, resp.get_json()["errors"][:3]

    def backfill(
        self,
        minutes: int,
        per_minute: float,
        negative_share: float = 0.2,
        positive_share: float = 0.3,
    ) -> None:
        """History before the replay starts (posted in bulk, evaluated once)."""
        items = []
        for m in range(minutes, 0, -1):
            at = self.start - timedelta(minutes=m)
            n = self._poisson(per_minute)
            items += minute_mentions(self.rng, at, n, negative_share, positive_share, f"b{m}")
        self._post(items)
        self.run_jobs()

    def _poisson(self, lam: float) -> int:
        # Knuth's method is fine for the small rates used here
        import math

        threshold, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def step(self, per_minute: float, negative_share: float, positive_share: float = 0.1) -> None:
        """One live minute: its mentions arrive, the clock reaches its end, the worker runs."""
        at = self.start + timedelta(minutes=self.minute)
        n = self._poisson(per_minute)
        self.clock.now = at + timedelta(seconds=59, microseconds=999_000)
        self._post(
            minute_mentions(self.rng, at, n, negative_share, positive_share, f"l{self.minute}")
        )
        self.run_jobs()
        self.minute += 1

    def incidents(self, who: dict) -> list[dict]:
        """The incidents opened so far."""
        return self.client.get(
            f"/api/v1/incidents?monitor={self.monitor}", headers=who["headers"]
        ).get_json()
