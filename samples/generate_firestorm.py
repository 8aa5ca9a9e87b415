"""Writes samples/firestorm.jsonl: 7 calm hours of Acme mentions, then a negative firestorm.

Deterministic (seeded). The onset is 2026-01-15T12:00:00Z; the demo shifts every timestamp so
the firestorm is happening now. Calm: ~12 mentions a minute, ~20% negative, mostly product chat.
Firestorm: a viral video claims Acme kettles explode; volume climbs to ~10x over 10 minutes and
the negative share from 20% to ~75%, with retweets of a few high-reach posts.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

ONSET = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CALM = [
    "Just made tea with my Acme kettle, love how quiet it is",
    "Acme kettle arrived today, looks nice on the counter",
    "Does anyone know if the Acme kettle has a keep-warm mode?",
    "Acme customer service sorted my order quickly, thanks",
    "Thinking about buying an Acme kettle, any reviews?",
    "The new Acme colours are great",
    "My Acme kettle takes ages to boil, a bit disappointing",
    "Acme delivery was late again, annoying",
]
STORM = [
    (
        "Acme kettle EXPLODED in my kitchen. This is terrifying, someone could have been hurt",
        2_400_000,
    ),
    ("This video of an Acme kettle blowing up is horrifying. Recall them now! #AcmeFail", 850_000),
    ("Acme knew about the defect and did nothing. Disgusting. #BoycottAcme", 120_000),
    ("Throwing my Acme kettle in the bin, not risking my kids' safety", 900),
    ("Acme's silence on the exploding kettles is shameful", 15_000),
    ("Who else is scared of their Acme kettle after that video? Awful", 300),
    ("Never buying Acme again, dangerous products and terrible company", 2_000),
]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main() -> None:
    """Write the file next to this script."""
    rng = random.Random(20260115)
    rows = []
    for minute in range(-7 * 60, 10):
        storm = max(0.0, min(1.0, (minute + 1) / 10)) if minute >= 0 else 0.0
        rate = 12 * (1 + 9 * storm)
        negative_share = 0.2 + 0.55 * storm
        for i in range(poisson(rng, rate)):
            at = ONSET + timedelta(minutes=minute, seconds=rng.uniform(0, 59.9))
            if rng.random() < negative_share and storm > 0:
                text, reach = rng.choice(STORM)
                text = text if rng.random() < 0.6 else f"RT {text}"
                reach = reach if not text.startswith("RT") else rng.randrange(50, 5000)
            else:
                text, reach = rng.choice(CALM), rng.randrange(20, 3000)
            rows.append(
                {
                    "source": "twitter",
                    "source_id": f"{minute + 1000:05d}{i:03d}",
                    "text": text,
                    "author": f"user{rng.randrange(1, 90_000)}",
                    "author_reach": reach,
                    "url": f"https://twitter.com/i/web/status/{rng.randrange(10**17, 10**18)}",
                    "created_at": at.isoformat().replace("+00:00", "Z"),
                }
            )
    out = Path(__file__).with_name("firestorm.jsonl")
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{out}: {len(rows)} mentions")


if __name__ == "__main__":
    main()
