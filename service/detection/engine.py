"""Pure detection engine: is a monitor's mention volume spiking, and is it turning negative?

No Flask, Redis or database here. Each monitor has one :class:`MonitorModel`, a small
serialisable state updated once per closed bucket (:meth:`MonitorModel.update`) and asked
about the current, partially filled bucket (:meth:`MonitorModel.assess`). Its size does not
grow with history; :func:`rebuild` recreates it from stored buckets when it is lost.

Model (every window is a duration, so it runs on 60 s production buckets and 300 s NAB rows):

* **Expected volume** ``mu = level x daily[hour] x weekly[weekday]``: a robust exponentially
  weighted level (updates clipped at ``clip_sigmas`` so a spike barely moves it) times
  multiplicative hour-of-day and day-of-week profiles learnt the same way.
* **Surprise** ``s = -log10 P(X >= observed)`` under a negative binomial with mean ``mu`` and
  the monitor's own overdispersion ``phi`` (learnt from clipped log residuals), over sliding
  windows of one bucket, a quarter of ``max_window_seconds`` and all of it; ``s`` is the
  largest. Poisson-exact for small brands, ratio-like for large ones.
* **Calibration** (:mod:`service.detection.calibration`): hourly maxima of ``s`` go into a
  decayed histogram; an exponential peaks-over-threshold tail fit gives the level exceeded
  ``false_pages_per_30_days`` times per 30 days. The threshold is never below the level the
  count model itself implies for that budget, and until ``calibration_seconds`` of history it
  is that level plus ``warmup_margin``.
* **Volume anomalous**: ``s >= threshold``, ``observed >= min_ratio x expected`` and at least
  ``min_excess`` mentions above it (floors that scale with the monitor's level).
* **Negative shift** (:mod:`service.detection.negativity`): the window's negatives among its
  scorable mentions are significantly above baseline share + ``negative_share_margin``
  (exact binomial mid-p <= ``negative_alpha``).
* **Fire** = volume anomalous and negative shift (volume alone in ``volume_only`` mode);
  **opens** = fire while no episode is open. An episode closes once no closed bucket has been
  volume-anomalous for ``rearm_seconds``, so one firestorm is one alarm and a second clear
  spike an hour after the first calmed opens again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

from service.detection.calibration import Calibrator
from service.detection.negativity import ShareBaseline, share_test
from service.detection.stats import nb_log10_tail

DAY = 86_400
WEEK = 7 * DAY
STATE_VERSION = 1
SEASONALITY = ("none", "daily", "daily+weekly")
CAP_BETAS = 2.0  # calibration samples are capped this many tail scales above the threshold
_ND = NormalDist()


@dataclass(frozen=True)
class DetectorConfig:
    """Per-monitor detection settings; every window is a duration in seconds."""

    bucket_seconds: int = 60  # production buckets are 1 min; NAB rows are 300 s
    false_pages_per_30_days: float = 1.0  # THE sensitivity: tolerated false pages per 30 days
    warmup_seconds: int = DAY  # no verdict until this much history is known
    calibration_seconds: int = 3 * DAY  # until then: model threshold + warmup_margin
    warmup_z: float = 4.0  # surprise threshold floor while calibrating
    min_z: float = 2.0  # floor on the calibrated surprise threshold
    calibration_halflife_days: float = 30.0  # memory of the surprise-tail histogram
    calibration_cap: float = 0.0  # hourly samples capped this many tail scales above threshold
    max_window_seconds: int = 3600  # longest sliding window (also 1 bucket and a quarter)
    level_halflife_seconds: int = 3 * DAY  # memory of the robust level
    seasonality: str = "none"  # one of SEASONALITY
    seasonal_halflife_days: float = 7.0  # memory of the hour-of-day profile
    weekly_halflife_days: float = 28.0  # memory of the day-of-week profile
    dispersion_halflife_days: float = 30.0  # memory of the overdispersion estimate
    clip_sigmas: float = 3.0  # baseline updates are clipped at mu + this many sigmas
    min_dispersion: float = 0.01  # floor on the negative-binomial overdispersion phi
    min_expected_per_minute: float = 0.01  # floor on the expectation
    min_ratio: float = 1.5  # observed must be at least this multiple of expected
    min_excess: float = 3.0  # and at least this many mentions above it
    negative_share_margin: float = 0.10  # share must beat its baseline by 10 points
    negative_alpha: float = 0.01  # exact binomial mid-p of that increase
    negative_halflife_seconds: int = DAY  # memory of the baseline negative share
    volume_only: bool = False  # counts only (NAB): fire on volume alone
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
        if not 0 < self.false_pages_per_30_days <= 1000:
            raise ValueError("false_pages_per_30_days must be in (0, 1000]")
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
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in (
            "warmup_seconds",
            "calibration_seconds",
            "calibration_cap",
            "warmup_z",
            "min_z",
            "min_excess",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative")
        if not 0 <= self.negative_share_margin < 1:
            raise ValueError("negative_share_margin must be in [0, 1)")
        if not 0 < self.negative_alpha < 1:
            raise ValueError("negative_alpha must be in (0, 1)")
        if self.seasonality not in SEASONALITY:
            raise ValueError(f"seasonality must be one of {', '.join(SEASONALITY)}")

    def per_bucket(self, per_minute: float) -> float:
        """Scale a per-minute rate to one bucket."""
        return per_minute * self.bucket_seconds / 60.0

    def windows(self) -> tuple[int, ...]:
        """Sliding window lengths in buckets: one bucket, a quarter of the longest, the longest."""
        k = max(self.max_window_seconds // self.bucket_seconds, 1)
        return tuple(sorted({1, max(1, round(k / 4)), k}))


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


class MonitorModel:
    """Incremental, serialisable per-monitor detector state (bounded size)."""

    def __init__(self, config: DetectorConfig) -> None:
        """Start empty: no history, no open episode."""
        self.config = config
        k = config.windows()[-1]
        self.kmax = k
        self.first: int | None = None  # first bucket start (epoch)
        self.last: int | None = None  # last closed bucket start (epoch)
        self.n = 0
        self.level = 0.0
        self.phi = 0.1
        self.abs_res = 0.5
        self.daily = [1.0] * 24
        self.daily_n = [0] * 24
        self.weekly = [1.0] * 7
        self.weekly_n = [0] * 7
        self.ring: list[list[float]] = []  # [count, mu, negative, scorable], newest last
        self.prev_extra = [0.0, 0.0]  # reach and sentiment_sum of the last closed bucket
        self.shares = ShareBaseline()
        self.calib = Calibrator()
        self.episode_open = False
        self.calm_since: int | None = None
        self._beta = 1.0

    # -- expectation ---------------------------------------------------------------------
    def expected_at(self, start: int) -> tuple[float, float]:
        """(seasonal expectation, level-only expectation) for the bucket starting at ``start``."""
        floor = self.config.per_bucket(self.config.min_expected_per_minute)
        hour = (start % DAY) // 3600
        dow = ((start // DAY) + 3) % 7  # 0 = Monday
        mu = self.level * self.daily[hour] * self.weekly[dow]
        return max(mu, floor), max(self.level, floor)

    def threshold(self) -> tuple[float, float]:
        """(surprise threshold, tail scale) for the monitor's false-page budget right now."""
        cfg = self.config
        calibrating = self.first is None or (self.n * cfg.bucket_seconds < cfg.calibration_seconds)
        floor = max(cfg.warmup_z, cfg.min_z) if calibrating else cfg.min_z
        return self.calib.threshold(cfg.false_pages_per_30_days, floor)

    def model_threshold(self) -> float:
        """-log10 p the count model must reach: the budget if the model were exactly right."""
        cfg = self.config
        looks = len(cfg.windows()) * 3600 / cfg.bucket_seconds
        return math.log10(looks * 720.0 / cfg.false_pages_per_30_days)

    # -- evaluation ----------------------------------------------------------------------
    def assess(self, now: datetime, current: BucketAgg) -> Assessment:
        """Assess the current (possibly partial) bucket at ``now``; may open an episode."""
        a = self._evaluate(current, now)
        if a.fire and not self.episode_open:
            self.episode_open, self.calm_since = True, None
            a = _opened(a)
        return a

    def update(self, bucket: BucketAgg) -> Assessment:
        """Fold in one closed bucket (gaps before it count as zero); return its assessment."""
        cfg = self.config
        b = cfg.bucket_seconds
        start = bucket.epoch - bucket.epoch % b
        if self.last is not None:
            if start <= self.last:
                raise ValueError("buckets must be fed in increasing order")
            gap = min((start - self.last) // b - 1, 8 * DAY // b)
            for k in range(gap, 0, -1):
                self._close(BucketAgg(_dt(start - k * b)))
        return self._close(bucket)

    def _close(self, bucket: BucketAgg) -> Assessment:
        """Assess a closed bucket, step the episode and calibration, then learn from it."""
        cfg = self.config
        b = cfg.bucket_seconds
        start = bucket.epoch - bucket.epoch % b
        if self.first is None:
            self.first = start
        a = self._evaluate(bucket, _dt(start + b))
        opened = False
        if a.volume_anomalous:
            self.calm_since = None
        elif self.calm_since is None:
            self.calm_since = start + b
        if self.episode_open and self.calm_since is not None:
            if start + b - self.calm_since >= cfg.rearm_seconds:
                self.episode_open = False
        if a.fire and not self.episode_open:
            self.episode_open, opened = True, True
            a = _opened(a)
        if not a.warming_up:
            cap = a.threshold + cfg.calibration_cap * self._beta
            self.calib.observe(
                start, a.surprise, self.episode_open, cap, cfg.calibration_halflife_days
            )
        mu, _ = self.expected_at(start)
        self._learn(start, bucket.count, mu)
        self.shares.update(bucket.negative, bucket.scored, _alpha(cfg.negative_halflife_seconds, b))
        self.ring.append([bucket.count, mu, bucket.negative, bucket.scored])
        if len(self.ring) > self.kmax:
            del self.ring[0]
        self.prev_extra = [bucket.reach, bucket.sentiment_sum]
        self.last = start
        self.n += 1
        return a

    def _learn(self, start: int, x: float, mu: float) -> None:
        """Robust updates of level, daily and weekly profiles and dispersion."""
        cfg = self.config
        b = cfg.bucket_seconds
        hour = (start % DAY) // 3600
        dow = ((start // DAY) + 3) % 7
        if self.n == 0:
            self.level = max(x, cfg.per_bucket(cfg.min_expected_per_minute))
        sd = math.sqrt(mu + self.phi * mu * mu)
        xc = min(x, mu + cfg.clip_sigmas * sd + 1.0) if self.n >= 12 else x
        season = self.daily[hour] * self.weekly[dow]
        a_l = max(_alpha(cfg.level_halflife_seconds, b), 1.0 / (self.n + 1))
        self.level += a_l * (xc / season - self.level)
        if self.level > 0 and cfg.seasonality != "none":
            # profiles learn in the log domain from ratios clipped to [1/3, 3]: a spike moves
            # its hour's factor by a bounded step, and small counts cannot swing it to zero
            self.daily_n[hour] += 1
            a_d = max(_alpha(cfg.seasonal_halflife_days * 3600, b), 1.0 / (self.daily_n[hour] + 4))
            ratio = (xc + 0.5) / (self.level * season + 0.5)
            step = math.log(min(max(ratio, 1 / 3), 3.0))
            self.daily[hour] = min(max(self.daily[hour] * math.exp(a_d * step), 0.02), 50.0)
            mean = sum(self.daily) / 24
            self.daily = [v / mean for v in self.daily]
            if cfg.seasonality == "daily+weekly":
                self.weekly_n[dow] += 1
                per_day = DAY / b
                a_w = max(
                    _alpha(cfg.weekly_halflife_days / 7 * per_day * b, b),
                    1.0 / (self.weekly_n[dow] + 4 * per_day),
                )
                self.weekly[dow] = min(max(self.weekly[dow] * math.exp(a_w * step), 0.1), 10.0)
                mean = sum(self.weekly) / 7
                self.weekly = [v / mean for v in self.weekly]
        # robust spread: EWMA of |log residual| clipped at 2.5 sigma, as a normal sigma
        pois = 1.0 / (mu + 1.0)
        sd_log = math.sqrt(self.phi + pois)
        e = min(abs(math.log((x + 1.0) / (mu + 1.0))), 2.5 * sd_log)
        a_p = max(_alpha(cfg.dispersion_halflife_days * DAY, b), 1.0 / (self.n + 10))
        self.abs_res += a_p * (e - self.abs_res)
        self.phi = max((1.2533 * self.abs_res) ** 2 - pois, cfg.min_dispersion)

    def _evaluate(self, cur: BucketAgg, now: datetime) -> Assessment:
        """The assessment of ``cur`` seen at ``now``, without changing any state."""
        cfg = self.config
        b = cfg.bucket_seconds
        start = cur.epoch - cur.epoch % b
        frac = min(max((_epoch(now) - start) / b, 0.0), 1.0)
        mu_cur, lvl_cur = self.expected_at(start)
        best = None
        best_neg = (2.0, 0.0, 0.0)  # (mid-p, negatives, scorable) of the most negative window
        base = self.shares.share()
        for k in cfg.windows():
            if k > len(self.ring) + 1:
                continue
            obs, mu, neg, sc = cur.count, frac * mu_cur, cur.negative, cur.scored
            for j in range(1, min(k, len(self.ring)) + 1):
                w = 1.0 if j < k else 1.0 - frac
                c, m, ng, s_ = self.ring[-j]
                obs, mu, neg, sc = obs + w * c, mu + w * m, neg + w * ng, sc + w * s_
            lvl = mu * lvl_cur / mu_cur
            mu = max(mu, cfg.per_bucket(cfg.min_expected_per_minute))
            scale = math.sqrt(self.phi + 1.0 / (mu + 1.0))
            s = math.log((obs + 1.0) / (mu + 1.0)) / scale
            if best is None or s > best[0]:
                best = (s, k, obs, mu, lvl, scale)
            neg_p = share_test(neg, sc, base, cfg.negative_share_margin)
            if neg_p < best_neg[0]:
                best_neg = (neg_p, neg, sc)
        assert best is not None
        s, k, obs, mu, lvl, scale = best
        neg_p, neg, sc = best_neg
        neg_p = min(1.0, neg_p * len(cfg.windows()))  # Bonferroni over the windows tried
        s_nb = nb_log10_tail(obs, mu, self.phi)
        s_thr = self.model_threshold()
        warming = self.first is None or start - self.first < cfg.warmup_seconds
        thr, beta = self.threshold()
        self._beta = beta
        ratio = obs / mu
        volume_anomalous = (
            not warming
            and s >= thr
            and s_nb >= s_thr
            and ratio >= cfg.min_ratio
            and obs - mu >= cfg.min_excess
        )
        reasons: list[str] = ["warming up"] if warming else []
        if volume_anomalous:
            reasons.append(
                f"volume {obs:.0f} in {k * b // 60} min vs expected {mu:.1f} "
                f"({ratio:.1f}x, surprise {s:.1f} >= {thr:.1f}, p={10**-s_nb:.1g})"
            )
        share = neg / sc if sc > 0 else 0.0
        negative_shift = neg_p <= cfg.negative_alpha
        if negative_shift:
            reasons.append(f"negative share {share:.0%} vs baseline {base:.0%} (p={neg_p:.2g})")
        fire = volume_anomalous and (cfg.volume_only or negative_shift)
        score = 0.0 if warming else min(_logistic((s - thr) / beta), _logistic(s_nb - s_thr))
        prev_w = 1.0 - frac
        reach = cur.reach + prev_w * self.prev_extra[0]
        sent = cur.sentiment_sum + prev_w * self.prev_extra[1]
        cur_obs = cur.count + (prev_w * self.ring[-1][0] if self.ring else 0.0)
        return Assessment(
            bucket_start=_dt(start),
            now=now,
            elapsed_fraction=frac,
            warming_up=warming,
            window_seconds=k * b,
            observed=obs,
            expected=mu,
            recent_expected=lvl,
            seasonal_expected=mu,
            ratio=ratio,
            log_scale=scale,
            surprise=s,
            threshold=thr,
            z=s,
            p_value=10.0**-s_nb,
            model_threshold=s_thr,
            negative=neg,
            scorable=sc,
            negative_share=share,
            baseline_negative_share=base,
            negative_expected=base * sc,
            negative_z=_z_of(neg_p),
            share_z=(share - base) / math.sqrt(base * (1 - base) / max(sc, 1.0)),
            negative_p_value=neg_p,
            reach=reach,
            mean_sentiment=sent / cur_obs if cur_obs > 0 else None,
            volume_anomalous=volume_anomalous,
            negative_shift=negative_shift,
            fire=fire,
            opens=False,
            episode_start=self._episode_start(start) if fire else None,
            score=score,
            reasons=tuple(reasons),
        )

    def _episode_start(self, start: int) -> datetime:
        """Earliest bucket of the unbroken run above mu + 2 sigma ending at ``start``."""
        b = self.config.bucket_seconds
        first = start
        for j in range(1, len(self.ring) + 1):
            c, m, _, _ = self.ring[-j]
            if c <= m + 2.0 * math.sqrt(m + self.phi * m * m):
                break
            first = start - j * b
        return _dt(first)

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (bounded: a few hundred numbers whatever the history length)."""
        return {
            "v": STATE_VERSION,
            "first": self.first,
            "last": self.last,
            "n": self.n,
            "level": self.level,
            "phi": self.phi,
            "abs_res": self.abs_res,
            "daily": self.daily,
            "daily_n": self.daily_n,
            "weekly": self.weekly,
            "weekly_n": self.weekly_n,
            "ring": self.ring,
            "prev_extra": self.prev_extra,
            "shares": self.shares.to_dict(),
            "calib": self.calib.to_dict(),
            "episode_open": self.episode_open,
            "calm_since": self.calm_since,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: DetectorConfig) -> MonitorModel:
        """Restore a state written by :meth:`to_dict` (ValueError if from another version)."""
        if data.get("v") != STATE_VERSION:
            raise ValueError("unknown detector state version")
        m = cls(config)
        keys = ("first", "last", "n", "level", "phi", "abs_res", "episode_open", "calm_since")
        for key in keys:
            setattr(m, key, data[key])
        m.daily, m.daily_n = list(data["daily"]), list(data["daily_n"])
        m.weekly, m.weekly_n = list(data["weekly"]), list(data["weekly_n"])
        m.ring = [list(r) for r in data["ring"]][-m.kmax :]
        m.prev_extra = list(data["prev_extra"])
        m.shares = ShareBaseline.from_dict(data["shares"])
        m.calib = Calibrator.from_dict(data["calib"])
        return m


def _opened(a: Assessment) -> Assessment:
    """The assessment marked as opening an incident."""
    from dataclasses import replace

    return replace(a, opens=True, reasons=(*a.reasons, "incident opens"))


def rebuild(buckets: list[BucketAgg], config: DetectorConfig) -> MonitorModel:
    """A model replayed from stored closed buckets (oldest first; gaps count as zero)."""
    m = MonitorModel(config)
    for bucket in sorted(buckets, key=lambda x: x.epoch):
        m.update(bucket)
    return m


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
