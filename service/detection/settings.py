"""Detector settings, bucket aggregates and the assessment record (no logic beyond checks)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import NormalDist

DAY = 86_400
WEEK = 7 * DAY
SEASONALITY = ("none", "daily", "daily+weekly")
_ND = NormalDist()


@dataclass(frozen=True)
class DetectorConfig:
    """Per-monitor detection settings; every window is a duration in seconds."""

    bucket_seconds: int = 60  # production buckets are 1 min; NAB rows are 300 s
    false_pages_per_30_days: float = 2.0  # THE sensitivity: tolerated false pages per 30 days
    warmup_seconds: int = 2 * 3600  # no verdict until this much history is known
    calibration_seconds: int = 3 * DAY  # until this much history the threshold is >= warmup_z
    warmup_z: float = 3.5  # surprise threshold floor while calibrating
    min_z: float = 2.0  # floor on the calibrated surprise threshold
    calibration_halflife_days: float = 30.0  # memory of the surprise-tail histogram
    calibration_cap: float = 0.0  # hourly samples capped this many tail scales above threshold
    max_window_seconds: int = 3600  # longest sliding window (also 1 bucket and a quarter)
    level_halflife_seconds: int = 3 * DAY  # memory of the robust level
    seasonality: str = "daily"  # one of SEASONALITY
    seasonal_halflife_days: float = 7.0  # memory of the hour-of-day profile
    weekly_halflife_days: float = 28.0  # memory of the day-of-week profile
    dispersion_halflife_days: float = 30.0  # memory of the overdispersion estimate
    clip_sigmas: float = 3.0  # baseline updates are clipped at mu + this many sigmas
    min_dispersion: float = 0.01  # floor on the negative-binomial overdispersion phi
    min_expected_per_minute: float = 0.01  # floor on the expectation
    min_ratio: float = 1.5  # observed must be at least this multiple of expected
    min_excess: float = 3.0  # and at least this many mentions above it
    negative_share_margin: float = 0.10  # share must beat its baseline by 10 points
    negative_alpha: float = 0.05  # exact binomial mid-p of that increase (Bonferroni over windows)
    negative_halflife_seconds: int = DAY  # memory of the baseline negative share
    volume_only: bool = False  # counts only (NAB): fire on volume alone
    min_coverage: float = 0.5  # below this share of scorable mentions, sentiment is unknown
    rearm_seconds: int = 3600  # an episode closes once nothing was anomalous for this long

    def __post_init__(self) -> None:
        """Reject settings the model cannot honour (ValueError names the field)."""
        b = self.bucket_seconds
        if b <= 0 or 3600 % b:
            raise ValueError(f"bucket_seconds must divide an hour, got {b}")
        for name in ("rearm_seconds", "max_window_seconds"):
            if getattr(self, name) < 0 or getattr(self, name) % b:
                raise ValueError(f"{name} must be a non-negative multiple of bucket_seconds")
        if self.max_window_seconds > 240 * b:
            raise ValueError("max_window_seconds may span at most 240 buckets")
        for name, (lo, lo_open, hi, hi_open) in RANGES.items():
            value = getattr(self, name)
            if (value <= lo if lo_open else value < lo) or (value >= hi if hi_open else value > hi):
                left, right = "(" if lo_open else "[", ")" if hi_open else "]"
                raise ValueError(f"{name} must be in {left}{lo:g}, {hi:g}{right}")
        if self.seasonality not in SEASONALITY:
            raise ValueError(f"seasonality must be one of {', '.join(SEASONALITY)}")

    def per_bucket(self, per_minute: float) -> float:
        """Scale a per-minute rate to one bucket."""
        return per_minute * self.bucket_seconds / 60.0

    def windows(self) -> tuple[int, ...]:
        """Sliding window lengths in buckets: one bucket, a quarter of the longest, the longest."""
        k = max(self.max_window_seconds // self.bucket_seconds, 1)
        return tuple(sorted({1, max(1, round(k / 4)), k}))


_INF = math.inf
#: (low, low excluded, high, high excluded) of each numeric setting
RANGES: dict[str, tuple[float, bool, float, bool]] = {
    "false_pages_per_30_days": (0, True, 1000, False),
    **{
        name: (0, True, _INF, True)
        for name in (
            "level_halflife_seconds",
            "seasonal_halflife_days",
            "weekly_halflife_days",
            "calibration_halflife_days",
            "dispersion_halflife_days",
            "negative_halflife_seconds",
            "clip_sigmas",
            "min_ratio",
            "min_dispersion",
            "min_expected_per_minute",
        )
    },
    **{
        name: (0, False, _INF, True)
        for name in (
            "warmup_seconds",
            "calibration_seconds",
            "calibration_cap",
            "warmup_z",
            "min_z",
            "min_excess",
        )
    },
    "negative_share_margin": (0, False, 1, True),
    "negative_alpha": (0, True, 1, True),
    "min_coverage": (0, False, 1, False),
}


@dataclass(frozen=True)
class BucketAgg:
    """Aggregates of one time bucket of one monitor (``scorable`` defaults to ``count``)."""

    start: datetime  # tz-aware UTC
    count: float = 0.0
    negative: float = 0.0
    sentiment_sum: float = 0.0
    reach: float = 0.0
    scorable: float | None = None
    epoch: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the start is tz-aware and cache it as epoch seconds."""
        object.__setattr__(self, "epoch", _epoch(self.start))

    @property
    def scored(self) -> float:
        """Mentions with a sentiment polarity (the negative-share denominator)."""
        return self.count if self.scorable is None else self.scorable


@dataclass(frozen=True)
class Assessment:
    """Everything a signal must explain about one evaluation."""

    bucket_start: datetime
    now: datetime
    elapsed_fraction: float
    warming_up: bool
    window_seconds: int  # the sliding window with the largest surprise
    observed: float  # mentions in that window
    expected: float
    recent_expected: float  # the level alone (no seasonal profile), same window
    seasonal_expected: float | None  # the seasonal profile's expectation, same window
    ratio: float
    log_scale: float  # sigma of ln(count + 1) per window at ``expected`` (phi + Poisson)
    surprise: float  # log-scale z of the window: ln((obs+1)/(exp+1)) / log_scale
    threshold: float  # the monitor's calibrated surprise threshold for its false-page budget
    z: float  # significance (= surprise)
    p_value: float  # the count model's tail probability P(X >= observed)
    model_threshold: float  # -log10 p the count model alone must reach for the budget
    negative: float
    scorable: float
    negative_share: float
    baseline_negative_share: float
    negative_expected: float
    negative_z: float  # normal-equivalent of the binomial mid-p
    share_z: float
    negative_p_value: float
    coverage: float  # share of the window's mentions whose sentiment could be read
    sentiment_unknown: bool  # volume anomalous, but too few readable mentions to judge the shift
    reach: float
    mean_sentiment: float | None
    volume_anomalous: bool
    negative_shift: bool
    fire: bool
    opens: bool  # an incident opens exactly here
    episode_start: datetime | None  # where the running spike began (when firing)
    score: float  # in [0, 1], monotone in surprise; 0.5 at the threshold
    reasons: tuple[str, ...] = field(default=())


def _epoch(ts: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    if ts.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return int(ts.timestamp())


def _dt(epoch: float) -> datetime:
    """Aware UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(epoch, UTC)


def bucket_start(ts: datetime, config: DetectorConfig) -> datetime:
    """Start of the bucket containing ``ts`` (buckets aligned to the epoch)."""
    e = _epoch(ts)
    return _dt(e - e % config.bucket_seconds)


def _alpha(halflife_seconds: float, step_seconds: float) -> float:
    """EWMA weight giving this half-life at this update spacing."""
    return 1.0 - 0.5 ** (step_seconds / halflife_seconds)


def _logistic(x: float) -> float:
    """1 / (1 + e^-x), clamped against overflow."""
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def _z_of(p: float) -> float:
    """Normal quantile z with upper tail p (clamped to a finite range)."""
    return -_ND.inv_cdf(min(max(p, 1e-300), 1.0 - 1e-16))
