"""Pure detection engine: is a monitor's mention volume spiking, and is it turning negative?

No Flask, Redis or database here. The service keeps per-monitor time buckets and calls
:func:`assess` with the closed buckets listed by :func:`required_bucket_starts` plus the
current (possibly partial) bucket.

Model (all windows are durations, so it runs on 60 s production buckets and 300 s NAB rows):

* **Expected volume** per bucket ``= max(recent, seasonal, floor)`` where ``recent`` is the
  median of the last 24 h of buckets and ``seasonal`` the median of the buckets within
  +-15 min of the same time of day on each of the previous 7 days. Medians ignore spikes
  until they last half the window; taking the larger of the two is conservative: a burst that
  is normal at this time of day, or has been the norm today, is not a surprise.
* **Significance** is a count-model z on the log scale: ``z = ln((obs+1)/(exp+1)) / s`` with
  ``s^2 = 1/(exp+1) + phi`` (Poisson part plus negative-binomial overdispersion ``phi``, taken
  from the MAD of bucket-to-bucket log differences over the last 24 h, so the daily cycle does
  not inflate it). Tiny counts keep a wide Poisson sigma; a jump from 2 to 84 still stands out.
* **Novelty**: the observed count must beat every bucket of the last ``novelty_seconds``
  (7 days): a burst no bigger than one seen this week is routine for the brand.
* **Volume anomalous** when the observed count is at least ``min_volume_per_minute`` scaled
  to the bucket, at least ``min_ratio`` times the expectation, novel, and ``z >= z_threshold``.
* **Negative shift** when the negative share exceeds its own 24 h baseline by
  ``negative_share_margin`` (and the excess is binomially significant), combined with the
  negative volume being anomalous by the same ratio/z rule, per ``negative_rule``.
* **Fire** = volume anomalous and negative shift (volume only in ``volume_only`` mode).

A partially filled current bucket is completed with the missing fraction of the previous
bucket, so the observation always spans one bucket length and matches the baselines.

**History the service must fetch** (:func:`required_bucket_starts`): every closed bucket of
the last 7 days (novelty) plus 15 min before that (the day-7 seasonal slot): 10,095 buckets
at 60 s, 2,019 at 300 s. Missing buckets count as zero.

**Episodes** (:class:`EpisodeTracker`): one alarm opens an episode (an incident); nothing
else opens until every evaluation has been calm (``z < 2`` and not anomalous) for 2 h.

Why these defaults: 24 h median + 7-day same-slot median is the shortest history that covers
a daily cycle and a weekly one without storing weeks; 3x and 20 mentions per 5 min are
floors a responder would not want to be woken for below; z >= 3.5 under the count model
(ratio and novelty floors do most of the false-alarm control on heavy-tailed real series).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DAY = 86_400
NEGATIVE_RULES = ("share_and_volume", "share", "share_or_volume")


@dataclass(frozen=True)
class DetectorConfig:
    """Detection settings; every window is a duration in seconds."""

    bucket_seconds: int = 60  # production buckets are 1 min; NAB rows are 300 s
    recent_seconds: int = DAY  # recent-level baseline window (median and spread)
    seasonal_days: int = 7  # same time-of-day slots over this many previous days
    seasonal_halfwidth_seconds: int = 900  # +-15 min around the slot on each day
    warmup_seconds: int = 6 * 3600  # no verdict until this much history is known
    min_volume_per_minute: float = 4.0  # volume floor: 4/min = 20 per 5-min bucket
    min_expected_per_minute: float = 0.2  # expectation floor, avoids ratios against ~0
    min_ratio: float = 3.0  # observed must be at least 3x expected
    z_threshold: float = 3.5  # count-model log-scale z needed to call volume anomalous
    min_log_scale: float = 0.1  # floor on the log-scale sigma (very steady series)
    min_dispersion: float = 0.01  # floor on the overdispersion phi of the count model
    novelty_seconds: int = 7 * DAY  # observed must exceed every bucket of this recent span
    negative_share_margin: float = 0.10  # share must beat its baseline by 10 points
    negative_share_z: float = 2.0  # binomial z of that share increase
    negative_rule: str = "share_and_volume"  # one of NEGATIVE_RULES
    volume_only: bool = False  # counts only (NAB): fire on volume alone
    calm_z: float = 2.0  # episode: a bucket is calm when z < calm_z and not anomalous
    rearm_seconds: int = 2 * 3600  # episode ends after this long calm: one spike, one alarm

    def __post_init__(self) -> None:  # noqa: C901 - replaced with the detector of issue 13
        """Reject settings the model cannot honour (ValueError names the field)."""
        b = self.bucket_seconds
        if b <= 0 or DAY % b:
            raise ValueError(f"bucket_seconds must divide a day, got {b}")
        for name in (
            "recent_seconds",
            "seasonal_halfwidth_seconds",
            "rearm_seconds",
            "novelty_seconds",
        ):
            if getattr(self, name) < 0 or getattr(self, name) % b:
                raise ValueError(f"{name} must be a non-negative multiple of bucket_seconds")
        if self.recent_seconds < 2 * b:
            raise ValueError("recent_seconds must span at least two buckets")
        if not 0 <= self.seasonal_days <= 28:
            raise ValueError("seasonal_days must be between 0 and 28")
        for name in ("min_ratio", "z_threshold", "min_log_scale", "min_expected_per_minute"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.min_volume_per_minute < 0 or self.warmup_seconds < 0:
            raise ValueError("min_volume_per_minute and warmup_seconds must be non-negative")
        if not 0 <= self.negative_share_margin < 1:
            raise ValueError("negative_share_margin must be in [0, 1)")
        if self.negative_rule not in NEGATIVE_RULES:
            raise ValueError(f"negative_rule must be one of {', '.join(NEGATIVE_RULES)}")

    def per_bucket(self, per_minute: float) -> float:
        """Scale a per-minute rate to one bucket."""
        return per_minute * self.bucket_seconds / 60.0


@dataclass(frozen=True)
class BucketAgg:
    """Aggregates of one time bucket of one monitor."""

    start: datetime  # tz-aware UTC
    count: float = 0.0
    negative: float = 0.0
    sentiment_sum: float = 0.0
    reach: float = 0.0
    epoch: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the start is tz-aware and cache it as epoch seconds."""
        object.__setattr__(self, "epoch", _epoch(self.start))


@dataclass(frozen=True)
class Assessment:
    """Everything a signal must explain about one evaluation."""

    bucket_start: datetime
    now: datetime
    elapsed_fraction: float
    warming_up: bool
    observed: float
    expected: float
    recent_expected: float
    seasonal_expected: float | None
    ratio: float
    log_scale: float
    z: float
    p_value: float
    negative: float
    negative_share: float
    baseline_negative_share: float
    negative_expected: float
    negative_z: float
    share_z: float
    reach: float
    mean_sentiment: float | None
    volume_anomalous: bool
    negative_shift: bool
    fire: bool
    score: float
    reasons: tuple[str, ...] = field(default=())


def _epoch(ts: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    if ts.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return int(ts.timestamp())


def bucket_start(ts: datetime, config: DetectorConfig) -> datetime:
    """Start of the bucket containing ``ts`` (buckets aligned to the epoch)."""
    e = _epoch(ts)
    return datetime.fromtimestamp(e - e % config.bucket_seconds, UTC)


def history_offsets(config: DetectorConfig) -> list[int]:
    """Offsets in seconds (negative, ascending) of the closed buckets assess() reads."""
    b = config.bucket_seconds
    span = max(config.recent_seconds, config.novelty_seconds)
    offs = {-k * b for k in range(1, span // b + 1)}
    half = config.seasonal_halfwidth_seconds // b
    for d in range(1, config.seasonal_days + 1):
        offs.update(-d * DAY + j * b for j in range(-half, half + 1))
    return sorted(o for o in offs if o < 0)


def required_bucket_starts(now: datetime, config: DetectorConfig) -> list[datetime]:
    """Closed bucket starts (oldest first) the service must fetch to assess at ``now``."""
    cur = _epoch(bucket_start(now, config))
    return [datetime.fromtimestamp(cur + o, UTC) for o in history_offsets(config)]


def _median(xs: list[float]) -> float:
    """Median of a non-empty list."""
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _quantile(s: list[float], q: float) -> float:
    """Linear-interpolated quantile of a sorted non-empty list."""
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _log_z(obs: float, exp: float, scale: float) -> float:
    """Robust log-scale z of an observed count against an expected one."""
    return math.log((obs + 1.0) / (exp + 1.0)) / scale


def _log_scale(
    by_start: Mapping[int, BucketAgg],
    span: range,
    zero: BucketAgg,
    level: float,
    expected: float,
    config: DetectorConfig,
) -> float:
    """Sigma of ln(count+1) at ``expected``: Poisson part 1/(exp+1) plus overdispersion phi.

    phi comes from the bucket-to-bucket noise of the last 24 h (MAD of first differences of
    log counts, so the daily cycle does not inflate it) minus its Poisson part at ``level``.
    """
    seq = [math.log(by_start.get(t, zero).count + 1.0) for t in span]
    diffs = sorted(abs(x - y) for x, y in zip(seq, seq[1:], strict=False))
    sd = 1.4826 * _quantile(diffs, 0.5) / math.sqrt(2.0) if diffs else 0.0
    phi = max(sd * sd - 1.0 / (level + 1.0), config.min_dispersion)
    return max(math.sqrt(phi + 1.0 / (expected + 1.0)), config.min_log_scale)


def assess(
    history: Sequence[BucketAgg] | Mapping[int, BucketAgg],
    current: BucketAgg,
    now: datetime,
    config: DetectorConfig,
    data_start: datetime | None = None,
) -> Assessment:
    """Assess the current bucket against history (closed buckets; missing ones count as zero).

    ``history`` is a sequence of buckets, or (for streaming replays, to avoid copying) a
    mapping from bucket-start epoch seconds to buckets; only the offsets named by
    :func:`history_offsets` are read. ``data_start`` is when the monitor's data begins
    (default: the oldest history bucket); buckets before it are unknown rather than zero.
    """
    b = config.bucket_seconds
    cur = current.epoch
    by_start = history if isinstance(history, Mapping) else {h.epoch: h for h in history}
    first = _epoch(data_start) if data_start else min(by_start, default=cur)
    zero = BucketAgg(current.start)

    def get(offset: int) -> BucketAgg | None:
        """Bucket at cur+offset, zero if missing but known, None if before data_start."""
        s = cur + offset
        return None if s < first else by_start.get(s, zero)

    frac = min(max((_epoch(now) - cur) / b, 0.0), 1.0)
    prev = get(-b) if frac < 1.0 else None
    w = 1.0 - frac if prev else 0.0
    obs = current.count + w * (prev.count if prev else 0.0)
    neg = current.negative + w * (prev.negative if prev else 0.0)
    reach = current.reach + w * (prev.reach if prev else 0.0)
    sent = current.sentiment_sum + w * (prev.sentiment_sum if prev else 0.0)

    lo = max(cur - config.recent_seconds, first)
    span = range(cur - b, lo - 1, -b)
    recent = [h for h in map(by_start.get, span) if h is not None]
    counts = sorted([0.0] * (len(span) - len(recent)) + [h.count for h in recent])
    recent_neg = sum([h.negative for h in recent])
    half = config.seasonal_halfwidth_seconds // b
    slots = [
        t
        for d in range(1, config.seasonal_days + 1)
        for j in range(-half, half + 1)
        if (t := cur - d * DAY + j * b) >= first
    ]
    seasonal = [h.count if h else 0.0 for h in map(by_start.get, slots)]
    warming = cur - first < config.warmup_seconds or len(counts) < 2
    floor = config.per_bucket(config.min_expected_per_minute)
    recent_exp = _quantile(counts, 0.5) if counts else 0.0
    seasonal_exp = _median(seasonal) if seasonal else None
    expected = max(recent_exp, seasonal_exp or 0.0, floor)
    scale = _log_scale(by_start, span, zero, recent_exp, expected, config)
    z = _log_z(obs, expected, scale)
    ratio = obs / expected

    reasons: list[str] = []
    if warming:
        reasons.append("warming up")
    vol_ok = obs >= config.per_bucket(config.min_volume_per_minute)
    nov_lo = max(cur - config.novelty_seconds, first)
    peak = max(
        (h.count for h in map(by_start.get, range(cur - b, nov_lo - 1, -b)) if h), default=0.0
    )
    novel = obs > peak
    volume_anomalous = (
        not warming and vol_ok and novel and ratio >= config.min_ratio and z >= config.z_threshold
    )
    if volume_anomalous:
        reasons.append(f"volume {obs:.0f} vs expected {expected:.1f} ({ratio:.1f}x, z={z:.1f})")

    base_share = (recent_neg + 1.0) / (sum(counts) + 2.0)
    share = neg / obs if obs > 0 else 0.0
    share_z = (share - base_share) / math.sqrt(base_share * (1 - base_share) / max(obs, 1.0))
    share_shift = (
        share - base_share >= config.negative_share_margin and share_z >= config.negative_share_z
    )
    neg_exp = max(expected * base_share, floor * base_share)
    neg_z = _log_z(neg, neg_exp, scale)
    neg_volume = neg / neg_exp >= config.min_ratio and neg_z >= config.z_threshold
    rule = config.negative_rule
    if rule == "share":
        negative_shift = share_shift
    elif rule == "share_or_volume":
        negative_shift = share_shift or neg_volume
    else:  # "share_and_volume" (validated by DetectorConfig)
        negative_shift = share_shift and neg_volume
    if negative_shift:
        reasons.append(f"negative share {share:.0%} vs baseline {base_share:.0%}")

    fire = volume_anomalous and (config.volume_only or negative_shift)
    score = max(z, 0.0) / (max(z, 0.0) + config.z_threshold)
    if not fire:
        score = min(score, 0.499)
    return Assessment(
        bucket_start=current.start,
        now=now,
        elapsed_fraction=frac,
        warming_up=warming,
        observed=obs,
        expected=expected,
        recent_expected=recent_exp,
        seasonal_expected=seasonal_exp,
        ratio=ratio,
        log_scale=scale,
        z=z,
        p_value=0.5 * math.erfc(z / math.sqrt(2.0)),
        negative=neg,
        negative_share=share,
        baseline_negative_share=base_share,
        negative_expected=neg_exp,
        negative_z=neg_z,
        share_z=share_z,
        reach=reach,
        mean_sentiment=sent / obs if obs > 0 else None,
        volume_anomalous=volume_anomalous,
        negative_shift=negative_shift,
        fire=fire,
        score=score,
        reasons=tuple(reasons),
    )


class EpisodeTracker:
    """One open episode per monitor: alarm once, re-arm after ``rearm_seconds`` of calm.

    Mirrors the service's "an incident is open for this monitor" dedupe: while an episode is
    open nothing new opens; it closes once every assessment has been calm (z < calm_z and not
    volume-anomalous) for ``rearm_seconds`` continuously.
    """

    def __init__(self, config: DetectorConfig) -> None:
        """Start armed (no open episode)."""
        self.config = config
        self.open = False
        self.calm_since: datetime | None = None

    def step(self, a: Assessment) -> bool:
        """Feed one assessment; True exactly when a new episode (incident) opens."""
        if not self.open:
            if a.fire:
                self.open = True
                self.calm_since = None
                return True
            return False
        if a.z < self.config.calm_z and not a.volume_anomalous:
            self.calm_since = self.calm_since or a.now
            if a.now - self.calm_since >= timedelta(seconds=self.config.rearm_seconds):
                self.open = False
                self.calm_since = None
        else:
            self.calm_since = None
        return False


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
