"""The incremental per-monitor detector state :class:`MonitorModel` (model: see ``engine``)."""

from __future__ import annotations

import math
import zlib
from dataclasses import astuple, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from service.detection.calibration import Calibrator
from service.detection.negativity import ShareBaseline, share_test
from service.detection.settings import (
    DAY,
    Assessment,
    BucketAgg,
    DetectorConfig,
    _alpha,
    _dt,
    _epoch,
    _logistic,
    _z_of,
)
from service.detection.stats import nb_log10_tail

STATE_VERSION = 4
#: how much a volume-anomalous bucket teaches the level, profiles and dispersion
ANOMALY_WEIGHT = 0.1
#: calm buckets in a row that a firestorm's run above the calm band may hold (its onset)
ONSET_GAP = 2
#: a surprise (-log10 p) from which a bucket counts as raised: it teaches the profiles and the
#: baseline negative share a tenth, as a volume-anomalous one does
CALM_Z = 2.0
#: prior of each seasonal factor, in mentions at factor 1 (a gamma prior of mean 1): an hour of
#: the day that has seen few mentions stays near 1, a busy one follows its counts
PROFILE_PRIOR = 10.0


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
        # each longer window's own spread (see _learn_windows)
        self.win_res = [0.5] * (len(config.windows()) - 1)
        self.win_phi = [0.1] * (len(config.windows()) - 1)
        self.daily = [1.0] * 24
        self.daily_n = [0] * 24
        # decayed sums of (counts seen, counts expected at factor 1) per hour and per weekday
        self.daily_sums = [[0.0, 0.0] for _ in range(24)]
        self.weekly = [1.0] * 7
        self.weekly_n = [0] * 7
        self.weekly_sums = [[0.0, 0.0] for _ in range(7)]
        self.ring: list[list[float]] = []  # [count, mu, negative, scorable], newest last
        self.prev_extra = [0.0, 0.0]  # reach and sentiment_sum of the last closed bucket
        self.shares = ShareBaseline()
        self.calib = Calibrator()
        self.episode_open = False
        self.calm_since: int | None = None

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

    def at_close(self, current: BucketAgg) -> Assessment:
        """What the current bucket's close would find if nothing more arrived (no change)."""
        b = self.config.bucket_seconds
        return self._evaluate(current, _dt(current.epoch - current.epoch % b + b))

    def trip_count(self) -> float:
        """The count in the bucket after the last closed one at which some window's volume
        test would pass (the bucket full, nothing else changed): a hint that lets ingest put a
        monitor about to fire ahead of the others (``due``). The count model's own check and
        the negative share are left out, so it errs low; ``inf`` while warming up."""
        cfg = self.config
        if self.last is None or self.first is None:
            return math.inf
        start = self.last + cfg.bucket_seconds
        if start - self.first < cfg.warmup_seconds:
            return math.inf
        mu_cur, _ = self.expected_at(start)
        thr, _ = self.threshold()
        floor = cfg.per_bucket(cfg.min_expected_per_minute)
        best = math.inf
        for index, k in enumerate(cfg.windows()):
            if k > len(self.ring) + 1:
                continue
            others = self.ring[len(self.ring) - (k - 1) :] if k > 1 else []
            rest = sum(row[0] for row in others)
            mu = max(mu_cur + sum(row[1] for row in others), floor)
            scale = math.sqrt(self._phi(index) + 1.0 / (mu + 1.0))
            need = max(
                (mu + 1.0) * math.exp(thr * scale) - 1.0, cfg.min_ratio * mu, mu + cfg.min_excess
            )
            best = min(best, need - rest)
        return max(best, 1.0)

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
        if a.volume_anomalous:
            self.calm_since = None
        elif self.calm_since is None:
            self.calm_since = start + b
        if self.episode_open and self.calm_since is not None:
            if start + b - self.calm_since >= cfg.rearm_seconds:
                self.episode_open = False
        if a.fire and not self.episode_open:
            self.episode_open = True
            a = _opened(a)
        if not a.warming_up:
            cap = a.threshold + cfg.calibration_cap * self.threshold()[1]
            self.calib.observe(
                start, a.surprise, self.episode_open, cap, cfg.calibration_halflife_days
            )
        mu, _ = self.expected_at(start)
        # a surge teaches the level little, and a raised bucket (above the calm band, or
        # surprising at any window) teaches its hour's profile and the baseline negative share
        # little: a surge would otherwise absorb itself within minutes on a young monitor, above
        # all in an hour of the day it has not seen yet, and a firestorm's negatives would raise
        # the share the next one is judged against (a level shift is still learnt, slowly)
        anomalous = ANOMALY_WEIGHT if a.volume_anomalous else 1.0
        raised = a.volume_anomalous or a.surprise >= CALM_Z or self._loud(bucket.count, mu)
        loud = ANOMALY_WEIGHT if raised else 1.0
        self._learn(start, bucket.count, mu, level_weight=anomalous, profile_weight=loud)
        self.shares.update(
            loud * bucket.negative,
            loud * bucket.scored,
            _alpha(cfg.negative_halflife_seconds, b),
        )
        self.ring.append([bucket.count, mu, bucket.negative, bucket.scored])
        if len(self.ring) > self.kmax:
            del self.ring[0]
        self._learn_windows()
        self.prev_extra = [bucket.reach, bucket.sentiment_sum]
        self.last = start
        self.n += 1
        return a

    def _learn(
        self, start: int, x: float, mu: float, *, level_weight: float, profile_weight: float
    ) -> None:
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
        a_l = level_weight * max(_alpha(cfg.level_halflife_seconds, b), 1.0 / (self.n + 1))
        self.level += a_l * (xc / season - self.level)
        if self.level > 0 and cfg.seasonality != "none":
            # each factor is a ratio of decayed sums, counts seen over counts expected at
            # factor 1, under a gamma prior of PROFILE_PRIOR mentions: unbiased for small
            # counts (a ratio's logarithm is not), and an hour not seen yet stays at 1
            self.daily_n[hour] += 1
            a_d = _alpha(cfg.seasonal_halflife_days * 3600, b)
            expect = self.level * self.weekly[dow]
            self.daily = _refit(
                self.daily_sums,
                self.daily_n,
                hour,
                xc,
                expect,
                a_d,
                profile_weight,
                0.02,
                50.0,
                True,
            )
            if cfg.seasonality == "daily+weekly":
                self.weekly_n[dow] += 1
                a_w = _alpha(cfg.weekly_halflife_days / 7 * DAY, b)
                expect = self.level * self.daily[hour]
                self.weekly = _refit(
                    self.weekly_sums, self.weekly_n, dow, xc, expect, a_w, profile_weight, 0.1, 10.0
                )
        # robust spread: EWMA of |log residual| clipped at 2.5 sigma, as a normal sigma
        pois = 1.0 / (mu + 1.0)
        sd_log = math.sqrt(self.phi + pois)
        e = min(abs(math.log((x + 1.0) / (mu + 1.0))), 2.5 * sd_log)
        a_p = max(_alpha(cfg.dispersion_halflife_days * DAY, b), 1.0 / (self.n + 10))
        self.abs_res += a_p * (e - self.abs_res)
        self.phi = max((1.2533 * self.abs_res) ** 2 - pois, cfg.min_dispersion)

    def _learn_windows(self) -> None:
        """Robust spread of each longer window's log residual, as that window's overdispersion.

        Residuals of neighbouring buckets are correlated (a level wanders for hours), so an
        hour's sum varies more than twelve independent buckets would: each window learns its
        own spread, the way ``phi`` is learnt for one bucket.
        """
        cfg = self.config
        b = cfg.bucket_seconds
        a_p = max(_alpha(cfg.dispersion_halflife_days * DAY, b), 1.0 / (self.n + 10))
        longer = cfg.windows()[1:]
        if not longer:
            return
        obs = mu = 0.0
        i = 0
        for j, (c, m, _, _) in enumerate(reversed(self.ring), start=1):
            obs, mu = obs + c, mu + m
            if j != longer[i]:
                continue
            pois = 1.0 / (mu + 1.0)
            cap = 2.5 * math.sqrt(self.win_phi[i] + pois)
            e = min(abs(math.log((obs + 1.0) / (mu + 1.0))), cap)
            self.win_res[i] += a_p * (e - self.win_res[i])
            self.win_phi[i] = max((1.2533 * self.win_res[i]) ** 2 - pois, cfg.min_dispersion)
            i += 1
            if i == len(longer):
                break

    def _phi(self, index: int) -> float:
        """Overdispersion of the window with this index in ``windows()`` (0: one bucket)."""
        return self.phi if index == 0 else self.win_phi[index - 1]

    def _evaluate(self, cur: BucketAgg, now: datetime) -> Assessment:
        """The assessment of ``cur`` seen at ``now``, without changing any state."""
        cfg = self.config
        b = cfg.bucket_seconds
        start = cur.epoch - cur.epoch % b
        frac = min(max((_epoch(now) - start) / b, 0.0), 1.0)
        mu_cur, lvl_cur = self.expected_at(start)
        thr, beta = self.threshold()
        best = None
        tested: list[tuple[float, float, float, float]] = []  # (s, neg, scorable) per window
        for index, k in enumerate(cfg.windows()):
            if k > len(self.ring) + 1:
                continue
            obs, mu, neg, sc = cur.count, frac * mu_cur, cur.negative, cur.scored
            for j in range(1, min(k, len(self.ring)) + 1):
                w = 1.0 if j < k else 1.0 - frac
                c, m, ng, s_ = self.ring[-j]
                obs, mu, neg, sc = obs + w * c, mu + w * m, neg + w * ng, sc + w * s_
            lvl = mu * lvl_cur / mu_cur
            mu = max(mu, cfg.per_bucket(cfg.min_expected_per_minute))
            phi = self._phi(index)
            scale = math.sqrt(phi + 1.0 / (mu + 1.0))
            s = math.log((obs + 1.0) / (mu + 1.0)) / scale
            if best is None or s > best[0]:
                best = (s, k, obs, mu, lvl, scale, sc, phi)
            tested.append((s, neg, sc, k))
        assert best is not None
        s, k, obs, mu, lvl, scale, win_scored, phi_k = best
        neg_p, neg, sc = self._negative_shift(tested, best_window=k, threshold=thr)
        s_nb = nb_log10_tail(obs, mu, phi_k)
        s_thr = self.model_threshold()
        warming = self.first is None or start - self.first < cfg.warmup_seconds
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
        base = self.shares.share()
        negative_shift = neg_p <= cfg.negative_alpha
        if negative_shift:
            reasons.append(f"negative share {share:.0%} vs baseline {base:.0%} (p={neg_p:.2g})")
        coverage = min(win_scored / obs, 1.0) if obs > 0 else 1.0
        sentiment_unknown = volume_anomalous and not negative_shift and coverage < cfg.min_coverage
        if sentiment_unknown:
            reasons.append(f"sentiment unknown: {coverage:.0%} of the mentions readable")
        fire = volume_anomalous and (cfg.volume_only or negative_shift or sentiment_unknown)
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
            coverage=coverage,
            sentiment_unknown=sentiment_unknown,
            reach=reach,
            mean_sentiment=sent / cur_obs if cur_obs > 0 else None,
            volume_anomalous=volume_anomalous,
            negative_shift=negative_shift,
            fire=fire,
            opens=False,
            episode_start=self._episode_start(start, k, cur.count, mu_cur) if fire else None,
            score=score,
            reasons=tuple(reasons),
        )

    def _negative_shift(
        self, tested: list[tuple[float, float, float, float]], *, best_window: int, threshold: float
    ) -> tuple[float, float, float]:
        """(mid-p, negatives, scorable) of the most negative window among those whose volume is
        itself surprising (else the most surprising one): a negative blip in a quiet minute
        does not make an hour's surge negative. Bonferroni over the windows tested."""
        cfg = self.config
        base = self.shares.share()
        loud = [t for t in tested if t[0] >= threshold] or [
            t for t in tested if t[3] == best_window
        ]
        found = min(
            (share_test(neg, sc, base, cfg.negative_share_margin), neg, sc)
            for _s, neg, sc, _k in loud
        )
        return min(1.0, found[0] * len(loud)), found[1], found[2]

    def _loud(self, count: float, mu: float) -> bool:
        """Above the calm band: mu + 2 sigma of the count model."""
        return count > mu + 2.0 * math.sqrt(mu + self.phi * mu * mu)

    def _episode_start(self, start: int, window: int, count: float, mu: float) -> datetime:
        """Where the running spike began: the earliest bucket of the run above the calm band
        that holds the newest such bucket of the window that fired (the bucket at ``start``,
        holding ``count`` against ``mu``, or one before it: the newest minutes may still be
        filling when a listening tool delivers late). Up to ``ONSET_GAP`` calm buckets in a
        row inside the run do not end it (small counts, a lagging minute). ``start`` itself
        when no bucket of the window is above the band."""
        b = self.config.bucket_seconds
        rows = len(self.ring)
        newest = (
            0
            if self._loud(count, mu)
            else next(
                (j for j in range(1, min(window, rows + 1)) if self._loud(*self.ring[-j][:2])), None
            )
        )
        if newest is None:
            return _dt(start)
        first, calm = newest, 0
        for j in range(newest + 1, rows + 1):
            if self._loud(*self.ring[-j][:2]):
                first, calm = j, 0
            else:
                calm += 1
                if calm > ONSET_GAP:
                    break
        return _dt(start - first * b)

    def refresh(self, recent: dict[int, BucketAgg]) -> None:
        """Correct the remembered recent buckets with their counts now (late mentions).

        ``recent`` maps bucket starts (epoch seconds) to their current aggregates; only the
        buckets still in the sliding windows are corrected (the learnt level and profiles keep
        what they saw: a late mention changes what is observed, not what is expected).
        """
        if self.last is None:
            return
        b = self.config.bucket_seconds
        for j in range(1, len(self.ring) + 1):
            agg = recent.get(self.last - (j - 1) * b)
            if agg is not None:
                row = self.ring[-j]
                row[0], row[2], row[3] = agg.count, agg.negative, agg.scored
                if j == 1:
                    self.prev_extra = [agg.reach, agg.sentiment_sum]

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (bounded: a few hundred numbers whatever the history length)."""
        return {
            "v": STATE_VERSION,
            "config": config_fingerprint(self.config),
            "first": self.first,
            "last": self.last,
            "n": self.n,
            "level": self.level,
            "phi": self.phi,
            "abs_res": self.abs_res,
            "win_res": self.win_res,
            "win_phi": self.win_phi,
            "daily": self.daily,
            "daily_n": self.daily_n,
            "weekly": self.weekly,
            "weekly_n": self.weekly_n,
            "daily_sums": self.daily_sums,
            "weekly_sums": self.weekly_sums,
            "ring": self.ring,
            "prev_extra": self.prev_extra,
            "shares": self.shares.to_dict(),
            "calib": self.calib.to_dict(),
            "episode_open": self.episode_open,
            "calm_since": self.calm_since,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: DetectorConfig) -> MonitorModel:
        """Restore a state written by :meth:`to_dict`.

        ValueError if it was written by another state version or under other settings: the
        caller then rebuilds from buckets.
        """
        if data.get("v") != STATE_VERSION:
            raise ValueError("unknown detector state version")
        if data.get("config") != config_fingerprint(config):
            raise ValueError("detector state was built with other settings")
        m = cls(config)
        keys = ("first", "last", "n", "level", "phi", "abs_res", "episode_open", "calm_since")
        for key in keys:
            setattr(m, key, data[key])
        m.daily, m.daily_n = list(data["daily"]), list(data["daily_n"])
        m.weekly, m.weekly_n = list(data["weekly"]), list(data["weekly_n"])
        m.daily_sums = [list(r) for r in data["daily_sums"]]
        m.weekly_sums = [list(r) for r in data["weekly_sums"]]
        m.win_res, m.win_phi = list(data["win_res"]), list(data["win_phi"])
        m.ring = [list(r) for r in data["ring"]][-m.kmax :]
        m.prev_extra = list(data["prev_extra"])
        m.shares = ShareBaseline.from_dict(data["shares"])
        m.calib = Calibrator.from_dict(data["calib"])
        return m


@lru_cache(maxsize=4096)
def config_fingerprint(config: DetectorConfig) -> int:
    """A short checksum of every setting (states are only valid for the settings they used)."""
    return zlib.crc32(repr(astuple(config)).encode())


def _refit(
    sums: list[list[float]],
    seen: list[int],
    slot: int,
    count: float,
    expect: float,
    alpha: float,
    weight: float,
    low: float,
    high: float,
    smooth: bool = False,
) -> list[float]:
    """Fold one bucket into its slot's decayed sums; the profile's factors, normalised so the
    slots seen so far average 1 (the level carries the scale; unseen slots stay at 1)."""
    row = sums[slot]
    keep = 1.0 - alpha * weight
    row[0] = keep * row[0] + weight * count
    row[1] = keep * row[1] + weight * expect
    if smooth:  # a day is a circle of hours; its neighbours count half as much
        k = len(sums)
        pairs = [
            [0.25 * sums[i - 1][j] + 0.5 * sums[i][j] + 0.25 * sums[(i + 1) % k][j] for j in (0, 1)]
            for i in range(k)
        ]
    else:
        pairs = sums
    raw = [(x + PROFILE_PRIOR) / (e + PROFILE_PRIOR) for x, e in pairs]
    used = [r for r, n in zip(raw, seen, strict=True) if n > 0]
    mean = sum(used) / len(used)
    return [min(max(r / mean, low), high) if n > 0 else 1.0 for r, n in zip(raw, seen, strict=True)]


def _opened(a: Assessment) -> Assessment:
    """The assessment marked as opening an incident."""
    return replace(a, opens=True, reasons=(*a.reasons, "incident opens"))


def rebuild(buckets: list[BucketAgg], config: DetectorConfig) -> MonitorModel:
    """A model replayed from stored closed buckets (oldest first; gaps count as zero)."""
    m = MonitorModel(config)
    for bucket in sorted(buckets, key=lambda x: x.epoch):
        m.update(bucket)
    return m
