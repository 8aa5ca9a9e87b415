"""Write samples/backtest_small_brand.csv: a synthetic NAB-format series for `firebreak backtest`.

A small brand (about 4 mentions per 5 minutes at the daily mean, day/night cycle 0.3x-1.7x,
quieter weekends, Poisson-gamma noise) over 14 days from 2025-03-03 00:00 UTC, 5-minute rows
``timestamp,value``. Three surges are injected: day 9 10:00 (x8 for 45 min), day 9 13:30 (a
second, smaller one: x5 for 30 min) and day 12 03:00 (x6 for 1 h, at night). Seeded, so the
file is reproducible:

    python samples/generate_backtest_sample.py
"""

from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20250303
START = datetime(2025, 3, 3)
ROWS = 14 * 288
RATE = 4.0  # mentions per 5 minutes at the daily mean
SURGES = (  # (row of onset, rows, factor)
    (8 * 288 + 10 * 12, 9, 8.0),
    (8 * 288 + 13 * 12 + 6, 6, 5.0),
    (11 * 288 + 3 * 12, 12, 6.0),
)
OUT = Path(__file__).resolve().parent / "backtest_small_brand.csv"


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw by Knuth's method (small means only)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main() -> None:
    """Generate the sample file."""
    rng = random.Random(SEED)
    with OUT.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value"])
        for i in range(ROWS):
            t = START + timedelta(minutes=5 * i)
            hours = t.hour + t.minute / 60
            lam = RATE * (1 + 0.7 * math.cos(2 * math.pi * (hours - 15) / 24))
            lam *= 0.7 if t.weekday() >= 5 else 1.0
            for onset, length, factor in SURGES:
                if onset <= i < onset + length:
                    lam *= factor
            lam *= rng.gammavariate(20.0, 1 / 20.0)
            w.writerow([t.strftime("%Y-%m-%d %H:%M:%S"), _poisson(rng, lam)])


if __name__ == "__main__":
    main()
