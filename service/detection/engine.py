"""Pure detection engine: is a monitor's mention volume spiking, and is it turning negative?

No Flask, Redis or database here. Each monitor has one :class:`MonitorModel`
(``service.detection.model``): a small JSON-able state updated once per closed bucket
(:meth:`MonitorModel.update`) and asked about the current, partially filled bucket
(:meth:`MonitorModel.assess`). Its size does not grow with history (about 4 KB at 60 s
buckets); :func:`rebuild` recreates it from stored buckets when it is lost. Settings:
:class:`DetectorConfig` (``service.detection.settings``). Full description and measurements:
``docs/detection.md``.

Model (every window is a duration, so it runs on 60 s production buckets and 300 s NAB rows):

* **Expected** ``mu = level x daily[hour]``: a robust exponentially weighted level (updates
  clipped at ``clip_sigmas``, so a spike barely moves it) times an hour-of-day profile learnt in
  the log domain (``seasonality``: none, daily, daily+weekly).
* **Surprise** of a sliding window (one bucket, a quarter of ``max_window_seconds``, all of
  it; the largest wins): ``ln((obs + 1) / (mu + 1)) / sqrt(phi + 1 / (mu + 1))``, a count-model
  z with the monitor's own overdispersion ``phi`` (robust, from clipped log residuals).
* **Calibration** (``service.detection.calibration``): hourly maxima of the surprise go into a
  decayed histogram; an exponential peaks-over-threshold fit gives the level crossed
  ``false_pages_per_30_days`` times per 30 days. An episode counts once, at the threshold.
  Floors: ``min_z``, and ``warmup_z`` during the first ``calibration_seconds``.
* **Volume anomalous**: surprise >= threshold, the negative-binomial tail probability is below
  what the budget allows if the count model were exact, ``observed >= min_ratio x expected``
  and ``observed - expected >= min_excess`` (floors that scale with the monitor's level).
* **Negative shift** (``service.detection.negativity``): in the most negative window, the
  negatives among scorable mentions are significantly above baseline share +
  ``negative_share_margin`` (exact binomial mid-p, Bonferroni over the windows, <=
  ``negative_alpha``).
* **Fire** = volume anomalous and negative shift (volume alone in ``volume_only`` mode);
  **opens** = fire while no episode is open. An episode closes once no closed bucket has been
  volume-anomalous for ``rearm_seconds``: one firestorm is one alarm, and a second clear spike
  an hour after the first calmed opens again.
"""

from __future__ import annotations

from service.detection.model import STATE_VERSION, MonitorModel, config_fingerprint, rebuild
from service.detection.settings import (
    DAY,
    SEASONALITY,
    Assessment,
    BucketAgg,
    DetectorConfig,
    bucket_start,
)

#: how much bucket history a rebuild reads (the service keeps 8 days of buckets)
REBUILD_SECONDS = 8 * DAY

__all__ = [
    "DAY",
    "SEASONALITY",
    "SEVERITY_RULES",
    "STATE_VERSION",
    "Assessment",
    "BucketAgg",
    "DetectorConfig",
    "MonitorModel",
    "REBUILD_SECONDS",
    "bucket_start",
    "config_fingerprint",
    "rebuild",
    "severity",
]


SEVERITY_RULES = """Points: magnitude observed/expected >= 5: 1, >= 10: 2, >= 20: 3;
negative share >= 0.5: 1, >= 0.7: 2; max author reach >= 100k: 1, >= 1M: 2.
Total >= 5: sev1, >= 3: sev2, >= 1: sev3, else sev4. Sentiment unknown (most of the surge
unreadable, opened on volume alone): one step lower, and never worse than sev3."""


def severity(assessment: Assessment, max_reach: float = 0.0) -> str:
    """Severity 'sev1' (worst) .. 'sev4' from magnitude, negativity and reach (SEVERITY_RULES)."""
    m = assessment.ratio
    pts = (m >= 5) + (m >= 10) + (m >= 20)
    pts += (assessment.negative_share >= 0.5) + (assessment.negative_share >= 0.7)
    pts += (max_reach >= 100_000) + (max_reach >= 1_000_000)
    rank = 1 if pts >= 5 else 2 if pts >= 3 else 3 if pts >= 1 else 4
    if assessment.sentiment_unknown:
        rank = min(max(rank + 1, 3), 4)
    return f"sev{rank}"
