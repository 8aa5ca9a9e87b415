"""Run Firebreak's detector (one fixed default configuration) on NAB realTweets and score it.

No per-series tuning and no threshold sweep: a detection is a row where ``alarm == 1``, i.e.
exactly where an incident would open. ARTime's figures are shown with NAB's oracle sweep.

    python benchmarks/nab_benchmark.py [--data ../shared/data/nab] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nab_score import (  # noqa: E402
    PROFILES,
    load_corpus,
    load_profiles,
    published_results,
    score_corpus,
)

from service.detection.backtest import backtest_files  # noqa: E402
from service.detection.engine import DetectorConfig  # noqa: E402

REFERENCE = "ARTime"


# Neighbouring settings, reported to show how sensitive the default is.
SENSITIVITY: list[dict[str, Any]] = [
    {"z_threshold": 3.0},
    {"z_threshold": 4.5},
    {"rearm_seconds": 3600},
    {"rearm_seconds": 6 * 3600},
    {"novelty_seconds": 86_400},
    {"novelty_seconds": 3 * 86_400},
    {"seasonal_days": 0},
]


def _one(args: tuple[Path, Path, dict[str, Any]]) -> Path:
    """Backtest one file (worker entry point)."""
    path, out, overrides = args
    return backtest_files([path], out, DetectorConfig(**overrides))[0]


def run(
    data: Path, out: Path, overrides: dict[str, Any] | None = None, workers: int = 6
) -> dict[str, dict[str, float]]:
    """Backtest every realTweets series and score the alarms with NAB's rules."""
    series = sorted((data / "data" / "realTweets").glob("*.csv"))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        written = list(pool.map(_one, [(p, out, overrides or {}) for p in series]))
    results = {f"realTweets/{p.name}": p for p in written}
    profiles = load_profiles(data / "config" / "profiles.json")
    files = load_corpus(data, results, column="alarm")
    return score_corpus(files, profiles, threshold=0.5)


def alarm_counts(data: Path, out: Path) -> tuple[int, int, int]:
    """(windows hit, windows total, alarms outside windows) over scored rows."""
    files = load_corpus(
        data, {f"realTweets/{p.name}": p for p in sorted(out.glob("*.csv"))}, column="alarm"
    )
    hit = sum(
        len({r.window for r in f.rows if r.score >= 0.5 and r.window is not None}) for f in files
    )
    fps = sum(1 for f in files for r in f.rows if r.score >= 0.5 and r.window is None)
    return hit, sum(f.windows for f in files), fps


def markdown(ours: dict, ref: dict, counts: tuple[int, int, int]) -> str:
    """Markdown table fragment comparing our fixed default with the reference's sweep."""
    cfg = DetectorConfig()
    lines = [
        "| detector | standard | reward_low_FP | reward_low_FN |",
        "| --- | --- | --- | --- |",
        "| Firebreak (fixed default, alarm = incident opens) | "
        + " | ".join(f"{ours[p]['score']:.2f}" for p in PROFILES)
        + " |",
        f"| {REFERENCE} (NAB threshold swept on these series) | "
        + " | ".join(f"{ref[p]['score']:.2f}" for p in PROFILES)
        + " |",
        "",
        f"Firebreak: {counts[0]}/{counts[1]} windows detected, {counts[2]} alarms outside "
        f"windows (after probation). Defaults: z >= {cfg.z_threshold}, ratio >= "
        f"{cfg.min_ratio}, volume >= {cfg.min_volume_per_minute}/min, re-arm after "
        f"{cfg.rearm_seconds // 3600} h calm.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "nab")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "nab.md")
    ap.add_argument("--sensitivity", action="store_true", help="also report neighbouring settings")
    args = ap.parse_args()
    t0 = time.monotonic()
    ours = run(args.data, args.out)
    counts = alarm_counts(args.data, args.out)
    profiles = load_profiles(args.data / "config" / "profiles.json")
    ref = score_corpus(load_corpus(args.data, published_results(args.data, REFERENCE)), profiles)
    print(f"{'detector':34} {'standard':>9} {'low_FP':>9} {'low_FN':>9}")
    print(
        f"{'Firebreak (fixed default)':34} "
        + " ".join(f"{ours[p]['score']:9.2f}" for p in PROFILES)
    )
    print(
        f"{REFERENCE + ' (swept threshold)':34} "
        + " ".join(f"{ref[p]['score']:9.2f}" for p in PROFILES)
    )
    print(
        f"windows hit {counts[0]}/{counts[1]}, alarms outside windows {counts[2]}, "
        f"{time.monotonic() - t0:.1f} s"
    )
    text = markdown(ours, ref, counts)
    if args.sensitivity:
        lines = [
            "| setting changed from default | standard | reward_low_FP | reward_low_FN |",
            "| --- | --- | --- | --- |",
        ]
        for overrides in SENSITIVITY:
            with tempfile.TemporaryDirectory() as tmp:
                res = run(args.data, Path(tmp), overrides)
            label = ", ".join(f"{k}={v}" for k, v in overrides.items())
            row = " | ".join(f"{res[p]['score']:.2f}" for p in PROFILES)
            print(f"{label:34} {row}")
            lines.append(f"| {label} | {row} |")
        text += "\nSensitivity to neighbouring settings (one change each from the default):\n\n"
        text += "\n".join(lines) + "\n"
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)


if __name__ == "__main__":
    main()
