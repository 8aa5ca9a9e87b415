"""Pure tests of the detection engine (no database, no Redis)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.detection.engine import (
    Assessment,
    BucketAgg,
    DetectorConfig,
    EpisodeTracker,
    assess,
    bucket_start,
    history_offsets,
    required_bucket_starts,
    severity,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)
CFG = DetectorConfig()  # 60 s buckets


def flat_history(hours: float = 30, rate: float = 20.0, share: float = 0.2, seed: int = 0):
    """Minute buckets with Poisson-like noise ending just before T0."""
    rng = random.Random(seed)
    n = int(hours * 60)
    out = []
    for k in range(n, 0, -1):
        c = max(0, round(rng.gauss(rate, rate**0.5)))
        out.append(BucketAgg(T0 - timedelta(minutes=k), c, round(c * share), 0.0, 10.0 * c))
    return out


def test_required_starts_cover_24h_and_seven_daily_slots() -> None:
    now = T0 + timedelta(seconds=42)
    starts = required_bucket_starts(now, CFG)
    assert starts == sorted(starts)
    assert all(s < T0 and s.tzinfo is not None for s in starts)
    assert starts[-1] == T0 - timedelta(minutes=1)
    assert T0 - timedelta(hours=24) in starts
    for d in range(1, 8):
        assert T0 - timedelta(days=d, minutes=15) in starts
        assert T0 - timedelta(days=d) + timedelta(minutes=15) in starts
    assert min(starts) == T0 - timedelta(days=7, minutes=15)
    # the 7-day novelty span covers every bucket; day 7's slot adds 15 min before it
    assert len(starts) == len(set(starts)) == 7 * 1440 + 15
    narrow = required_bucket_starts(now, replace(CFG, novelty_seconds=86_400))
    assert len(narrow) == 1440 + 15 + 6 * 31  # day 1 overlaps the 24 h window


def test_offsets_scale_with_bucket_length() -> None:
    offs = history_offsets(replace(CFG, bucket_seconds=300))
    assert len(offs) == 7 * 288 + 3  # the 7-day novelty span covers every bucket
    assert all(o % 300 == 0 and o < 0 for o in offs)


def test_bucket_start_floors_and_requires_aware() -> None:
    assert bucket_start(T0 + timedelta(seconds=59), CFG) == T0
    with pytest.raises(ValueError):
        BucketAgg(datetime(2025, 1, 1), 1)


def test_flat_stream_is_not_anomalous() -> None:
    h = flat_history()
    a = assess(h, BucketAgg(T0, 22, 4), T0 + timedelta(minutes=1), CFG)
    assert isinstance(a, Assessment)
    assert 15 <= a.expected <= 25
    assert not a.volume_anomalous and not a.fire and not a.warming_up
    assert a.score < 0.5


def test_volume_spike_with_negative_shift_fires() -> None:
    h = flat_history()
    a = assess(h, BucketAgg(T0, 200, 140), T0 + timedelta(minutes=1), CFG)
    assert a.volume_anomalous and a.negative_shift and a.fire
    assert a.ratio > 8 and a.z > CFG.z_threshold and a.p_value < 1e-4
    assert a.negative_share == pytest.approx(0.7)
    assert a.baseline_negative_share == pytest.approx(0.2, abs=0.02)
    assert 0.5 <= a.score <= 1.0 and a.reasons


def test_spike_without_negative_shift_fires_only_in_volume_only_mode() -> None:
    h = flat_history()
    cur = BucketAgg(T0, 200, 40)
    a = assess(h, cur, T0 + timedelta(minutes=1), CFG)
    assert a.volume_anomalous and not a.negative_shift and not a.fire
    assert assess(h, cur, T0 + timedelta(minutes=1), replace(CFG, volume_only=True)).fire


def test_negative_share_alone_does_not_fire() -> None:
    a = assess(flat_history(), BucketAgg(T0, 22, 18), T0 + timedelta(minutes=1), CFG)
    assert not a.volume_anomalous and not a.fire
    assert a.negative_share > a.baseline_negative_share + CFG.negative_share_margin


def test_partial_bucket_is_completed_with_previous_bucket() -> None:
    h = flat_history()
    prev = h[-1].count
    a = assess(h, BucketAgg(T0, 100, 70), T0 + timedelta(seconds=15), CFG)
    assert a.elapsed_fraction == pytest.approx(0.25)
    assert a.observed == pytest.approx(100 + 0.75 * prev)
    assert a.fire


def test_warming_up_never_fires() -> None:
    h = flat_history(hours=2)
    a = assess(h, BucketAgg(T0, 500, 400), T0 + timedelta(minutes=1), CFG)
    assert a.warming_up and not a.fire


def test_gaps_count_as_zero_and_future_buckets_are_ignored() -> None:
    h = flat_history()
    sparse = [b for i, b in enumerate(h) if i % 2 == 0]
    a_full = assess(h, BucketAgg(T0, 30, 6), T0 + timedelta(minutes=1), CFG)
    a_sparse = assess(sparse, BucketAgg(T0, 30, 6), T0 + timedelta(minutes=1), CFG)
    assert a_sparse.recent_expected < a_full.recent_expected
    future = h + [BucketAgg(T0 + timedelta(minutes=k), 5000, 5000) for k in range(1, 5)]
    a_future = assess(
        future, BucketAgg(T0, 30, 6), T0 + timedelta(minutes=1), CFG, data_start=h[0].start
    )
    assert a_future == a_full


def test_episode_tracker_one_alarm_per_surge_then_rearms() -> None:
    cfg = replace(CFG, volume_only=True)
    hist = {b.epoch: b for b in flat_history(hours=30)}
    tracker = EpisodeTracker(cfg)
    opened = []
    t = T0
    plan = [400] * 20 + [20] * 150 + [900] * 5  # the second surge beats the first (novel)
    for c in plan:
        cur = BucketAgg(t, c)
        a = assess(hist, cur, t + timedelta(minutes=1), cfg, data_start=T0 - timedelta(hours=30))
        if tracker.step(a):
            opened.append(t)
        hist[cur.epoch] = cur
        t += timedelta(minutes=1)
    assert opened == [T0, T0 + timedelta(minutes=170)]


def _fake(ratio: float, share: float) -> Assessment:
    base = assess(flat_history(hours=7), BucketAgg(T0, 20, 4), T0 + timedelta(minutes=1), CFG)
    return replace(base, ratio=ratio, negative_share=share)


def test_severity_rules() -> None:
    assert severity(_fake(25, 0.8), max_reach=50_000) == "sev1"  # 3 + 2 points
    assert severity(_fake(12, 0.55)) == "sev2"  # 2 + 1
    assert severity(_fake(6, 0.3), max_reach=150_000) == "sev3"  # 1 + 1
    assert severity(_fake(3, 0.3)) == "sev4"
    assert severity(_fake(3, 0.3), max_reach=2_000_000) == "sev3"


@pytest.mark.parametrize(
    "bad",
    [
        {"bucket_seconds": 7},
        {"bucket_seconds": 0},
        {"rearm_seconds": 90},
        {"negative_rule": "sometimes"},
        {"z_threshold": 0},
        {"negative_share_margin": 1.5},
    ],
)
def test_config_rejects_bad_settings(bad: dict) -> None:
    with pytest.raises(ValueError):
        DetectorConfig(**bad)
