"""Backtest: causal replay of NAB-format CSVs through the engine."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from service.detection.backtest import backtest_files

NAB = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "nab"


def write_series(path: Path, values: list[int]) -> list[str]:
    """Write a 5-minute NAB-style CSV and return its timestamps."""
    t0 = datetime(2015, 2, 26, 21, 42, 53)
    ts = [(t0 + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(len(values))]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value"])
        w.writerows(zip(ts, values, strict=True))
    return ts


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def synthetic(n: int = 600, spike_at: int = 450) -> list[int]:
    rng = random.Random(5)
    vals = [max(0, round(rng.gauss(50, 7))) for _ in range(n)]
    for k in range(6):
        vals[spike_at + k] = 900 - 100 * k
    return vals


def test_one_alarm_per_spike_and_output_shape(tmp_path: Path) -> None:
    src = tmp_path / "in" / "Twitter_volume_TEST.csv"
    src.parent.mkdir()
    ts = write_series(src, synthetic())
    [out] = backtest_files([src], tmp_path / "out")
    assert out == tmp_path / "out" / src.name
    rows = read_out(out)
    assert list(rows[0]) == ["timestamp", "anomaly_score", "alarm"]
    assert [r["timestamp"] for r in rows] == ts
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)
    alarms = [i for i, r in enumerate(rows) if r["alarm"] == "1"]
    assert alarms == [450]
    assert float(rows[450]["anomaly_score"]) >= 0.5


def test_a_burst_scores_once_so_a_swept_threshold_counts_it_once(tmp_path: Path) -> None:
    """Rows after the opening row of a burst score 0 (the incident is open); a threshold of 0.5
    gives exactly the alarms; at any lower threshold the burst is still one detection."""
    vals = synthetic(n=900)
    for k in range(8):  # a second, slower burst 20 hours later: rising, then falling
        vals[450 + 240 + k] = [120, 200, 320, 500, 700, 500, 300, 150][k]
    src = tmp_path / "S.csv"
    write_series(src, vals)
    [out] = backtest_files([src], tmp_path / "out")
    rows = read_out(out)
    scores = [float(r["anomaly_score"]) for r in rows]
    alarms = [i for i, r in enumerate(rows) if r["alarm"] == "1"]
    assert alarms == [450, 690]
    assert [i for i, s in enumerate(scores) if s >= 0.5] == alarms
    assert all(scores[i] == 0.0 for i in range(451, 456))  # the incident is open
    for lo, hi in ((440, 460), (680, 700)):
        for threshold in (0.5, 0.3, 0.1):
            assert sum(s >= threshold for s in scores[lo:hi]) == 1, (lo, threshold)


def test_replay_is_causal(tmp_path: Path) -> None:
    vals = synthetic()
    full, cut = tmp_path / "full" / "S.csv", tmp_path / "cut" / "S.csv"
    full.parent.mkdir()
    cut.parent.mkdir()
    write_series(full, vals)
    write_series(cut, vals[:452])
    [a] = backtest_files([full], tmp_path / "o1")
    [b] = backtest_files([cut], tmp_path / "o2")
    assert read_out(a)[:452] == read_out(b)


@pytest.mark.skipif(not NAB.is_dir(), reason="NAB data not present")
def test_real_nab_prefix(tmp_path: Path) -> None:
    src = NAB / "data" / "realTweets" / "Twitter_volume_KO.csv"
    head = src.read_text().splitlines()[:1400]
    short = tmp_path / src.name
    short.write_text("\n".join(head) + "\n")
    [out] = backtest_files([short], tmp_path / "out")
    rows = read_out(out)
    assert len(rows) == 1399
    assert sum(r["alarm"] == "1" for r in rows) <= 5


SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "backtest_small_brand.csv"


def test_shipped_sample_alarms_at_its_three_surges(tmp_path: Path) -> None:
    [out] = backtest_files([SAMPLE], tmp_path)
    rows = read_out(out)
    assert len(rows) == 14 * 288
    alarms = [r["timestamp"] for r in rows if r["alarm"] == "1"]
    assert [a[:13] for a in alarms] == ["2025-03-11 10", "2025-03-11 13", "2025-03-14 03"]
    scores = [float(r["anomaly_score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert all(float(r["anomaly_score"]) >= 0.5 for r in rows if r["alarm"] == "1")
