"""Shared helpers of the detection benchmarks: run the pure engine over NAB series and score.

Everything runs in-process through :func:`service.detection.backtest.replay` (the same path as
``firebreak backtest``); alarms (``alarm == 1``, where an incident would open) are scored with
NAB's rules from ``nab_score.py`` at a fixed threshold of 0.5 - no sweep.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nab_score import (  # noqa: E402
    PROFILES,
    Profile,
    load_profiles,
    normalise,
    prepare,
    raw_score,
    sweep,
)

from service.detection.backtest import replay  # noqa: E402
from service.detection.engine import DetectorConfig  # noqa: E402

DATA = ROOT / ".." / "shared" / "data" / "nab"
SERIES = ("AAPL", "AMZN", "FB", "GOOG", "IBM", "KO")
NAB_CONFIG = {"bucket_seconds": 300, "volume_only": True}


@dataclasses.dataclass
class Series:
    """One NAB series: its key, timestamps, values and labelled windows."""

    key: str
    stamps: list[str]
    times: list[datetime]
    values: np.ndarray
    windows: list[list[str]]


def load(data: Path = DATA) -> dict[str, Series]:
    """The six realTweets series with their windows."""
    windows = json.loads((data / "labels" / "combined_windows.json").read_text())
    out = {}
    for name in SERIES:
        key = f"realTweets/Twitter_volume_{name}.csv"
        with (data / "data" / key).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        stamps = [r["timestamp"] for r in rows]
        times = [datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) for s in stamps]
        vals = np.array([float(r["value"]) for r in rows])
        out[name] = Series(key, stamps, times, vals, windows[key])
    return out


def thin(values: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Binomial thinning: keep each mention with probability ``fraction`` (fixed seed)."""
    rng = np.random.default_rng(seed)
    return rng.binomial(values.astype(np.int64), fraction).astype(float)


def columns(
    s: Series, values: np.ndarray | None, overrides: dict[str, Any]
) -> tuple[list[float], list[float]]:
    """(anomaly_score, alarm) columns of one series under a configuration, as backtest writes."""
    cfg = DetectorConfig(**{**NAB_CONFIG, **overrides})
    vals = s.values if values is None else values
    rows = [(raw, t, float(v)) for raw, t, v in zip(s.stamps, s.times, vals, strict=True)]
    out = list(replay(rows, cfg))
    return [score for _, score, _ in out], [float(alarm) for _, _, alarm in out]


def detect(s: Series, values: np.ndarray | None, overrides: dict[str, Any]) -> list[float]:
    """Alarm column (1.0 where an incident opens) of one series under a configuration."""
    return columns(s, values, overrides)[1]


def score_files(
    series: Sequence[Series], alarms: Sequence[list[float]], data: Path = DATA
) -> dict[str, float]:
    """NAB normalised score per profile of these series' alarm columns (threshold 0.5)."""
    profiles: dict[str, Profile] = load_profiles(data / "config" / "profiles.json")
    files = [prepare(s.key, s.stamps, a, s.windows) for s, a in zip(series, alarms, strict=True)]
    windows = sum(f.windows for f in files)
    return {
        p: normalise(sum(raw_score(f, 0.5, profiles[p]) for f in files), windows, profiles[p])
        for p in PROFILES
    }


def swept(
    series: Sequence[Series], scores: Sequence[list[float]], data: Path = DATA
) -> dict[str, float]:
    """NAB's own procedure on the anomaly_score columns: the threshold swept per profile."""
    profiles: dict[str, Profile] = load_profiles(data / "config" / "profiles.json")
    files = [prepare(s.key, s.stamps, c, s.windows) for s, c in zip(series, scores, strict=True)]
    windows = sum(f.windows for f in files)
    return {p: normalise(sweep(files, profiles[p])[1], windows, profiles[p]) for p in PROFILES}


def counts(series: Sequence[Series], alarms: Sequence[list[float]]) -> tuple[int, int, int]:
    """(windows hit, windows scored, alarms outside windows) after probation."""
    hit = total = fps = 0
    for s, a in zip(series, alarms, strict=True):
        f = prepare(s.key, s.stamps, a, s.windows)
        hit += len({r.window for r in f.rows if r.score >= 0.5 and r.window is not None})
        fps += sum(1 for r in f.rows if r.score >= 0.5 and r.window is None)
        total += f.windows
    return hit, total, fps


def evaluate(
    data: dict[str, Series], overrides: dict[str, Any], names: Sequence[str] = SERIES
) -> tuple[dict[str, float], tuple[int, int, int]]:
    """Scores and counts of a configuration over the named series (full volume)."""
    ss = [data[n] for n in names]
    al = [detect(s, None, overrides) for s in ss]
    return score_files(ss, al), counts(ss, al)


def fmt(scores: dict[str, float]) -> str:
    """'standard / low FP / low FN' figures."""
    return " / ".join(f"{scores[p]:.2f}" for p in PROFILES)
