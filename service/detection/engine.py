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

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from service.detection.model import STATE_VERSION, MonitorModel, config_fingerprint, rebuild
from service.detection.settings import (
    DAY,
    SEASONALITY,
    Assessment,
    BucketAgg,
    DetectorConfig,
    _dt,
    _epoch,
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
    "EpisodeTracker",
    "MonitorModel",
    "REBUILD_SECONDS",
    "assess",
    "bucket_start",
    "config_fingerprint",
    "rebuild",
    "required_bucket_starts",
    "severity",
]


SEVERITY_RULES = """Points: magnitude observed/expected >= 5: 1, >= 10: 2, >= 20: 3;
negative share >= 0.5: 1, >= 0.7: 2; max author reach >= 100k: 1, >= 1M: 2.
Total >= 5: sev1, >= 3: sev2, >= 1: sev3, else sev4."""


def severity(assessment: Assessment, max_reach: float = 0.0) -> str:
    """Severity 'sev1' (worst) .. 'sev4' from magnitude, negativity and reach (SEVERITY_RULES)."""
    m = assessment.ratio
    pts = (m >= 5) + (m >= 10) + (m >= 20)
    pts += (assessment.negative_share >= 0.5) + (assessment.negative_share >= 0.7)
    pts += (max_reach >= 100_000) + (max_reach >= 1_000_000)
    if pts >= 5:
        return "sev1"
    if pts >= 3:
        return "sev2"
    if pts >= 1:
        return "sev3"
    return "sev4"


# -- compatibility with the stateless API the service used before the incremental model ----

_REPLAYS: OrderedDict[int, tuple[object, MonitorModel]] = OrderedDict()


def required_bucket_starts(now: datetime, config: DetectorConfig) -> list[datetime]:
    """Closed bucket starts (oldest first) a rebuild at ``now`` reads: the last 8 days."""
    b = config.bucket_seconds
    cur = _epoch(bucket_start(now, config))
    return [_dt(cur - k * b) for k in range(REBUILD_SECONDS // b, 0, -1)]


def assess(
    history: Sequence[BucketAgg] | Mapping[int, BucketAgg],
    current: BucketAgg,
    now: datetime,
    config: DetectorConfig,
    data_start: datetime | None = None,
) -> Assessment:
    """Stateless compatibility call: replay ``history`` into a model, then assess ``current``.

    Costs O(history) for a sequence. A mapping from epoch seconds to buckets that only grows
    (a streaming replay) is followed incrementally. Episodes are not tracked here: use
    :class:`EpisodeTracker`, or better :class:`MonitorModel` directly.
    """
    b = config.bucket_seconds
    cur = current.epoch - current.epoch % b
    if isinstance(history, Mapping):
        key = id(history)
        held = _REPLAYS.get(key)
        model = held[1] if held and held[0] is history and held[1].config == config else None
        if model is None or (model.last is not None and model.last >= cur):
            model = MonitorModel(config)
        _REPLAYS[key] = (history, model)
        _REPLAYS.move_to_end(key)
        while len(_REPLAYS) > 8:
            _REPLAYS.popitem(last=False)
        first = _epoch(data_start) if data_start else min(history, default=cur)
        t = first - first % b if model.last is None else model.last + b
        while t < cur:
            model.update(history.get(t) or BucketAgg(_dt(t)))
            t += b
    else:
        past = sorted((h for h in history if h.epoch < cur), key=lambda h: h.epoch)
        model = MonitorModel(config)
        start = _epoch(data_start) if data_start else (past[0].epoch if past else cur)
        if past and past[0].epoch > start:
            model.update(BucketAgg(_dt(start - start % b)))
        for h in past:
            if h.epoch >= start:
                model.update(h)
    return model._evaluate(current, now)


class EpisodeTracker:
    """One open episode: alarm once, close after ``rearm_seconds`` without an anomaly."""

    def __init__(self, config: DetectorConfig) -> None:
        """Start armed (no open episode)."""
        self.config = config
        self.open = False
        self.calm_since: datetime | None = None

    def step(self, a: Assessment) -> bool:
        """Feed one assessment; True exactly when a new episode (incident) opens."""
        if a.volume_anomalous:
            self.calm_since = None
        elif self.calm_since is None:
            self.calm_since = a.now
        if self.open and self.calm_since is not None:
            if a.now - self.calm_since >= timedelta(seconds=self.config.rearm_seconds):
                self.open = False
        if a.fire and not self.open:
            self.open, self.calm_since = True, None
            return True
        return False
