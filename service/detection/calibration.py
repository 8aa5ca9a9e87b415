"""Per-monitor calibration of the surprise threshold to a false-page budget (bounded state).

Hourly maxima of the surprise score (``-log10`` tail probability) go into a decayed histogram.
A false page is an hour whose maximum crosses the threshold without a real incident, so a
budget of ``B`` false pages per 30 days is an hourly exceedance probability ``q = B / 720``.
The threshold is the ``1 - q`` quantile of hourly maxima, extrapolated with an exponential
peaks-over-threshold tail (SPOT, Siffer et al. 2017, with the GPD shape fixed at 0), and never
below the quantile the count model implies if it were exactly right (``log10(looks / q)``).
"""

from __future__ import annotations

from typing import Any

from service.detection.stats import exp_tail_threshold

BLOCK_SECONDS = 3600
BIN = 0.1  # histogram bin width (surprise is a log-scale z)
BINS = 300  # 0 .. 30; larger surprises go in the last bin
EDGES = [i * BIN for i in range(BINS + 1)]
MIN_BLOCKS = 24.0  # decayed hours of history before the tail fit is trusted
TAIL_FRACTION = 0.03  # the fitted tail holds at least this share of the hours
GPD = False  # also fit the GPD shape (SPOT); measured, not adopted (docs/detection.md)
DEFAULT_BETA = 0.5  # tail scale used before a fit exists
MIN_BETA = 0.1


class Calibrator:
    """Decayed histogram of hourly surprise maxima and the cached tail fit."""

    def __init__(self) -> None:
        """Empty: no hours seen."""
        self.hist: dict[int, float] = {}
        self.block: int | None = None
        self.block_max = 0.0
        self.episode_max = 0.0
        self.fit: tuple[float, float] | None = None  # (level, beta) at the cached rate
        self.rate = 0.0

    def observe(
        self, start: int, surprise: float, in_episode: bool, cap: float, halflife: float
    ) -> None:
        """Add one closed bucket's surprise, capped at ``cap``.

        Declustering: the hours of an open episode add nothing; the episode's maximum counts
        once, as one hour, when it closes (``in_episode`` turns False). Capping keeps one huge
        spike from inflating the tail scale: it counts as one exceedance, not as its size.
        """
        block = start // BLOCK_SECONDS
        if self.block is None:
            self.block = block
        if in_episode:
            self.episode_max = max(self.episode_max, min(surprise, cap))
            return
        if self.episode_max > 0.0:
            self.block_max = max(self.block_max, self.episode_max)
            self.episode_max = 0.0
        if block != self.block:
            self._flush(block - self.block, halflife)
            self.block, self.block_max = block, 0.0
        self.block_max = max(self.block_max, min(surprise, cap))

    def _flush(self, blocks: int, halflife_days: float) -> None:
        """Decay the histogram by ``blocks`` hours and add the finished hour's maximum."""
        decay = 0.5 ** (blocks / (halflife_days * 24.0))
        hist = {k: v * decay for k, v in self.hist.items() if v * decay > 1e-3}
        k = min(max(int(self.block_max / BIN), 0), BINS - 1)
        hist[k] = hist.get(k, 0.0) + 1.0
        self.hist = hist
        self.fit = None  # refit lazily at the next threshold() call

    def hours(self) -> float:
        """Decayed number of hours in the histogram."""
        return sum(self.hist.values())

    def threshold(self, budget: float, floor: float) -> tuple[float, float]:
        """(surprise threshold, tail scale beta) for ``budget`` false pages per 30 days."""
        q = budget * BLOCK_SECONDS / (30 * 86_400)
        n = self.hours()
        if n < MIN_BLOCKS:
            return floor, DEFAULT_BETA
        if self.fit is None or self.rate != q:
            dense = [self.hist.get(i, 0.0) for i in range(BINS)]
            self.fit = exp_tail_threshold(EDGES, dense, q, max(8.0, TAIL_FRACTION * n), GPD)
            self.rate = q
        if self.fit is None:
            return floor, DEFAULT_BETA
        return max(self.fit[0], floor), max(self.fit[1], MIN_BETA)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the fit is recomputed on load)."""
        return {
            "hist": {str(k): v for k, v in self.hist.items()},
            "block": self.block,
            "block_max": self.block_max,
            "episode_max": self.episode_max,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Inverse of :meth:`to_dict`."""
        c = cls()
        c.hist = {int(k): float(v) for k, v in data["hist"].items()}
        c.block = data["block"]
        c.block_max = float(data["block_max"])
        c.episode_max = float(data["episode_max"])
        return c
