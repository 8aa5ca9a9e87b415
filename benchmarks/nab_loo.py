"""(b) Leave one series out: settings chosen from data on five series, scored on the sixth.

The candidate grid spans the model's data-chosen settings (level memory, seasonality,
dispersion memory, calibration cap); the false-page budget stays at its product default. For
each held-out series the configuration with the best pooled standard score on the other five
is applied to it. The six held-out alarm sets are also pooled and scored together (comparable
with (a)).

    python benchmarks/nab_loo.py [--data ../shared/data/nab]
"""

from __future__ import annotations

import argparse
import itertools
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from detect_eval import DATA, ROOT, SERIES, counts, detect, fmt, load, score_files
from nab_score import PROFILES

GRID: dict[str, list[Any]] = {
    "level_halflife_seconds": [6 * 3600, 24 * 3600, 72 * 3600],
    "seasonality": ["none", "daily", "daily+weekly"],
    "dispersion_halflife_days": [3.0, 30.0],
    "calibration_cap": [0.0, 2.0],
}


def configs() -> list[dict[str, Any]]:
    """Every combination of the grid."""
    keys = list(GRID)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*GRID.values())]


def _run(args: tuple[Path, int]) -> list[list[float]]:
    """Alarms of every series under configuration number ``i`` (worker entry point)."""
    data_dir, i = args
    data = load(data_dir)
    return [detect(data[n], None, configs()[i]) for n in SERIES]


def main() -> None:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "loo.md")
    args = ap.parse_args()
    t0 = time.monotonic()
    data = load(args.data)
    cands = configs()
    with ProcessPoolExecutor(max_workers=2) as pool:
        alarms = list(pool.map(_run, [(args.data, i) for i in range(len(cands))]))
    lines = [
        "| held-out series | chosen on the other five | standard | low FP | low FN | windows |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    held_series, held_alarms = [], []
    for k, name in enumerate(SERIES):
        others = [j for j in range(len(SERIES)) if j != k]
        best = max(
            range(len(cands)),
            key=lambda i: score_files(
                [data[SERIES[j]] for j in others], [alarms[i][j] for j in others]
            )["standard"],
        )
        s, a = data[name], alarms[best][k]
        sc, (h, t, _) = score_files([s], [a]), counts([s], [a])
        label = ", ".join(f"{key}={v}" for key, v in cands[best].items())
        print(f"{name:5} {fmt(sc)}  {h}/{t}  chosen: {label}")
        lines.append(
            f"| {name} | {label} | "
            + " | ".join(f"{sc[p]:.2f}" for p in PROFILES)
            + f" | {h}/{t} |"
        )
        held_series.append(s)
        held_alarms.append(a)
    per = [score_files([s], [a]) for s, a in zip(held_series, held_alarms, strict=True)]
    mean = {p: sum(x[p] for x in per) / len(per) for p in PROFILES}
    pooled = score_files(held_series, held_alarms)
    h, t, f = counts(held_series, held_alarms)
    lines.append("| mean of the six | | " + " | ".join(f"{mean[p]:.2f}" for p in PROFILES) + " | |")
    lines.append(
        "| six held-out results pooled | | "
        + " | ".join(f"{pooled[p]:.2f}" for p in PROFILES)
        + f" | {h}/{t} |"
    )
    print(
        f"mean {fmt(mean)}; pooled {fmt(pooled)} {h}/{t}, outside {f}; "
        f"{time.monotonic() - t0:.0f} s"
    )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
