"""Synthetic scenarios through the default detector: a negative surge fires, nothing else does."""

from __future__ import annotations

from datetime import timedelta

from service.detection import scenarios


def test_negative_surge_fires_within_three_minutes() -> None:
    s = scenarios.negative_surge()
    opened = scenarios.run(s.buckets)
    assert s.onset is not None
    assert len(opened) == 1
    assert s.onset < opened[0] <= s.onset + timedelta(minutes=3)


def test_positive_surge_never_fires() -> None:
    assert scenarios.run(scenarios.positive_surge().buckets) == []


def test_flat_negative_stream_never_fires() -> None:
    assert scenarios.run(scenarios.negative_flat().buckets) == []


def test_daily_cycle_never_fires() -> None:
    s = scenarios.daily_cycle()
    assert len(s.buckets) == 7 * 24 * 60
    assert scenarios.run(s.buckets) == []


def test_scenarios_are_seeded() -> None:
    assert scenarios.positive_surge(7).buckets[:50] == scenarios.positive_surge(7).buckets[:50]


def test_continuous_evaluation_of_partial_buckets() -> None:
    surge = scenarios.negative_surge()
    assert surge.onset is not None
    near = surge.onset - timedelta(minutes=30)
    opened = scenarios.run(surge.buckets, partial_steps=4, partial_from=near)
    assert len(opened) == 1
    assert surge.onset < opened[0] <= surge.onset + timedelta(minutes=1)
    launch = scenarios.positive_surge()
    assert scenarios.run(launch.buckets, partial_steps=4, partial_from=near) == []
