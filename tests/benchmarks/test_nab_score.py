"""NAB scorer: unit cases and reproduction of NAB's published numbers."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import nab_score as ns  # noqa: E402

NAB = ROOT / ".." / "shared" / "data" / "nab"
needs_nab = pytest.mark.skipif(not NAB.is_dir(), reason="NAB data not present")
STD = ns.Profile("standard", 1.0, 0.11, 1.0)


def test_scaled_sigmoid_and_probation() -> None:
    assert ns.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert ns.scaled_sigmoid(0.0) == 0.0
    assert ns.scaled_sigmoid(3.0) == -1.0
    assert ns.probation_length(15902) == 750
    assert ns.probation_length(1000) == 150


def _toy(detect: list[int]) -> ns.FileScore:
    ts = [f"2015-01-01 00:{m:02d}:00" for m in range(60)]
    scores = [1.0 if i in detect else 0.0 for i in range(60)]
    return ns.prepare("toy", ts, scores, [[ts[30], ts[39]]])


def test_toy_file_scores() -> None:
    # probation = floor(0.15 * 60) = 9 rows; window rows 30..39 (width 10)
    assert ns.raw_score(_toy([]), 0.5, STD) == -1.0
    assert ns.raw_score(_toy([30]), 0.5, STD) == pytest.approx(1.0)
    assert ns.raw_score(_toy([30, 35]), 0.5, STD) == pytest.approx(1.0)
    edge = ns.scaled_sigmoid(-0.1) / ns.scaled_sigmoid(-1.0)
    assert ns.raw_score(_toy([39]), 0.5, STD) == pytest.approx(edge)
    assert ns.raw_score(_toy([20, 30]), 0.5, STD) == pytest.approx(1.0 - 0.11)
    assert ns.raw_score(_toy([5, 30]), 0.5, STD) == pytest.approx(1.0)  # probation
    after = ns.scaled_sigmoid(5 / 9) * 0.11
    assert ns.raw_score(_toy([30, 44]), 0.5, STD) == pytest.approx(1.0 + after)
    assert ns.normalise(1.0, 1, STD) == 100.0 and ns.normalise(-1.0, 1, STD) == 0.0


@needs_nab
def test_reproduces_published_per_file_raw_scores() -> None:
    profiles = ns.load_profiles(NAB / "config" / "profiles.json")
    files = {f.name: f for f in ns.load_corpus(NAB, ns.published_results(NAB, "ARTime"))}
    checked = 0
    for prof in ns.PROFILES:
        with (NAB / "results" / "ARTime" / f"ARTime_{prof}_scores.csv").open() as fh:
            for row in csv.DictReader(fh):
                if row["File"] in files:
                    got = ns.raw_score(files[row["File"]], float(row["Threshold"]), profiles[prof])
                    assert got == pytest.approx(float(row["Score"]), abs=1e-9)
                    checked += 1
    assert checked >= 18


@needs_nab
@pytest.mark.parametrize(("detector", "expected"), [("ARTime", (82.85, 76.93, 88.57))])
def test_reproduces_readme_swept_table(detector: str, expected: tuple[float, ...]) -> None:
    profiles = ns.load_profiles(NAB / "config" / "profiles.json")
    files = ns.load_corpus(NAB, ns.published_results(NAB, detector))
    res = ns.score_corpus(files, profiles)
    got = tuple(round(res[p]["score"], 2) for p in ns.PROFILES)
    assert got == expected
