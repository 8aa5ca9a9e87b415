"""Causal replay of NAB-format CSVs (``timestamp,value``) through the detection engine.

Each row is one closed bucket, folded into a fresh :class:`MonitorModel` with
:meth:`MonitorModel.update`: row i is assessed when its bucket closes, with only rows before it
in the state, through the same episode rule the service uses. Output per input file (same
name, in ``out_dir``): ``timestamp,anomaly_score,alarm``. ``alarm`` is 1 exactly where an
incident would open. ``anomaly_score`` is the model's score (monotone in the calibrated surprise,
0.5 at the monitor's threshold) where an incident could open, and 0 where it could not (see
:func:`opening_score`), so a threshold swept over it counts each burst once, as a change of the
false-page budget would.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from service.detection.engine import Assessment, BucketAgg, DetectorConfig, MonitorModel

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def read_series(path: Path) -> list[tuple[str, datetime, float]]:
    """Read ``timestamp,value`` rows; naive timestamps are taken as UTC."""
    out = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            raw = row["timestamp"]
            ts = datetime.strptime(raw.split(".")[0], TS_FORMAT).replace(tzinfo=UTC)
            out.append((raw, ts, float(row["value"])))
    return out


def infer_bucket_seconds(rows: list[tuple[str, datetime, float]]) -> int:
    """Most common spacing between consecutive rows, in seconds."""
    gaps: dict[int, int] = {}
    for (_, a, _), (_, b, _) in zip(rows, rows[1:], strict=False):
        g = int((b - a).total_seconds())
        gaps[g] = gaps.get(g, 0) + 1
    return max(gaps, key=lambda g: gaps[g]) if gaps else 300


def opening_score(a: Assessment, *, incident_open: bool, recent_max: float) -> float:
    """The row's score where an incident could open there, else 0.

    An incident opens where no incident is open and the score crosses the threshold; at a
    lower threshold (a larger budget) the episode rule holds the same way: a row opens only if
    no row of the last ``rearm_seconds`` scored as high. So the opening row keeps its score,
    rows while an incident is open score 0 (they would not page again), and other rows keep
    their score only if it beats every score of the last ``rearm_seconds``. For a given state
    the result is still monotone in the surprise, and a threshold of 0.5 gives exactly the
    ``alarm`` column.
    """
    if a.opens:
        return a.score
    if incident_open or a.score <= recent_max:
        return 0.0
    return a.score


def replay(
    rows: list[tuple[str, datetime, float]], config: DetectorConfig
) -> Iterator[tuple[str, float, int]]:
    """Yield ``(timestamp, anomaly_score, alarm)`` per row, assessing each row when it closes."""
    model = MonitorModel(config)
    recent: deque[tuple[int, float]] = deque()  # (bucket start, raw score) of the last rearm
    for raw, ts, value in rows:
        a = model.update(BucketAgg(start=ts, count=value))
        start = int(a.bucket_start.timestamp())
        while recent and recent[0][0] <= start - config.rearm_seconds:
            recent.popleft()
        recent_max = max((score for _, score in recent), default=0.0)
        score = opening_score(a, incident_open=model.episode_open, recent_max=recent_max)
        recent.append((start, a.score))
        yield raw, score, int(a.opens)


def backtest_files(
    paths: list[Path], out_dir: Path, config: DetectorConfig | None = None
) -> list[Path]:
    """Replay each CSV in volume-only mode; bucket length is taken from the data's spacing."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        rows = read_series(Path(path))
        cfg = dataclasses.replace(
            config or DetectorConfig(), bucket_seconds=infer_bucket_seconds(rows), volume_only=True
        )
        target = out_dir / Path(path).name
        with target.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "anomaly_score", "alarm"])
            for raw, score, alarm in replay(rows, cfg):
                w.writerow([raw, f"{score:.6f}", alarm])
        written.append(target)
    return written
