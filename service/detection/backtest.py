"""Causal replay of NAB-format CSVs (``timestamp,value``) through the detection engine.

Each row is one closed bucket, folded into a fresh :class:`MonitorModel` with
:meth:`MonitorModel.update`: row i is assessed when its bucket closes, with only rows before it
in the state, through the same episode rule the service uses. Output per input file (same
name, in ``out_dir``): ``timestamp,anomaly_score,alarm``. ``anomaly_score`` is monotone in the
calibrated surprise (0.5 at the monitor's threshold), ``alarm`` is 1 exactly where an incident
would open.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from service.detection.engine import BucketAgg, DetectorConfig, MonitorModel

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


def replay(
    rows: list[tuple[str, datetime, float]], config: DetectorConfig
) -> Iterator[tuple[str, float, int]]:
    """Yield ``(timestamp, score, alarm)`` per row, assessing each row when it closes."""
    model = MonitorModel(config)
    for raw, ts, value in rows:
        a = model.update(BucketAgg(start=ts, count=value))
        yield raw, a.score, int(a.opens)


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
