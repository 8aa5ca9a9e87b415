"""Negative-shift test valid at every size: exact binomial mid-p against the monitor's share."""

from __future__ import annotations

from typing import Any

from service.detection.stats import binom_midp_upper

PRIOR_SHARE = 0.25  # before any scorable mention is seen
PRIOR_WEIGHT = 4.0  # worth this many mentions


class ShareBaseline:
    """Exponentially decayed negative and scorable counts: the monitor's own negative share."""

    def __init__(self, negative: float = 0.0, scorable: float = 0.0) -> None:
        """Start from decayed sums (zero: the prior share alone)."""
        self.negative = negative
        self.scorable = scorable

    def update(self, negative: float, scorable: float, alpha: float) -> None:
        """Decay by ``alpha`` and add one closed bucket's counts."""
        self.negative = self.negative * (1.0 - alpha) + negative
        self.scorable = self.scorable * (1.0 - alpha) + scorable

    def share(self) -> float:
        """Baseline negative share among scorable mentions (shrunk towards the prior)."""
        return (self.negative + PRIOR_SHARE * PRIOR_WEIGHT) / (self.scorable + PRIOR_WEIGHT)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"negative": self.negative, "scorable": self.scorable}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShareBaseline:
        """Inverse of :meth:`to_dict`."""
        return cls(float(data["negative"]), float(data["scorable"]))


def share_test(negative: float, scorable: float, baseline: float, margin: float) -> float:
    """Mid-p that ``negative`` of ``scorable`` mentions arose at share ``baseline + margin``.

    Small means the share is significantly more than ``margin`` above the baseline: a praise
    surge (share unchanged or lower) and a steady negative hour (share high but at its own
    baseline) both give large values. Exact for 15 mentions as for 15,000.
    """
    p0 = min(baseline + margin, 0.99)
    return binom_midp_upper(negative, scorable, p0)
