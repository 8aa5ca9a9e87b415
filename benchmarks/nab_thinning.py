"""(c) Volume robustness: the six series thinned to 1/10 and 1/30 of their counts, 5 seeds each.

Each mention is kept with probability 1/10 (or 1/30) by binomial sampling with a fixed seed
(seeds 0-4), so a brand with 50 mentions per 5 minutes becomes one with 5 (or 1.7). The one
fixed default runs on each thinned corpus; the six series are scored together per seed.

    python benchmarks/nab_thinning.py [--data ../shared/data/nab]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from detect_eval import DATA, ROOT, SERIES, columns, counts, load, score_files, swept, thin
from nab_score import PROFILES

FRACTIONS = (10, 30)
SEEDS = (0, 1, 2, 3, 4)


Result = tuple[int, int, dict[str, float], tuple[int, int, int], dict[str, float]]


def _run(args: tuple[Path, int, int]) -> Result:
    """Score the corpus thinned to 1/``div`` with ``seed`` (worker entry point): the alarms at
    the fixed default, and NAB's own procedure (a threshold swept over anomaly_score)."""
    data_dir, div, seed = args
    data = load(data_dir)
    series = [data[n] for n in SERIES]
    cols = [
        columns(s, thin(s.values, 1.0 / div, seed + 1000 * k), {}) for k, s in enumerate(series)
    ]
    alarms = [alarm for _, alarm in cols]
    return (
        div,
        seed,
        score_files(series, alarms, data_dir),
        counts(series, alarms),
        swept(series, [score for score, _ in cols], data_dir),
    )


def main() -> None:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "thinning.md")
    args = ap.parse_args()
    t0 = time.monotonic()
    jobs = [(args.data, d, s) for d in FRACTIONS for s in SEEDS]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_run, jobs))
    lines = [
        "| volume | seed | standard | low FP | low FN | windows | alarms outside |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for div, seed, sc, (h, t, f), _ in results:
        lines.append(
            f"| 1/{div} | {seed} | "
            + " | ".join(f"{sc[p]:.2f}" for p in PROFILES)
            + f" | {h}/{t} | {f} |"
        )
    swept_rows = [
        "",
        "NAB's own procedure (a threshold swept over anomaly_score per profile), mean of seeds:",
        "",
        "| volume | standard | low FP | low FN |",
        "| --- | --- | --- | --- |",
    ]
    for div in FRACTIONS:
        rows = [r for r in results if r[0] == div]
        mean = {p: sum(r[2][p] for r in rows) / len(rows) for p in PROFILES}
        lo = min(r[2]["standard"] for r in rows)
        hits = sum(r[3][0] for r in rows) / len(rows)
        fps = sum(r[3][2] for r in rows) / len(rows)
        text = " / ".join(f"{mean[p]:.2f}" for p in PROFILES)
        sw = {p: sum(r[4][p] for r in rows) / len(rows) for p in PROFILES}
        swept_text = " / ".join(f"{sw[p]:.2f}" for p in PROFILES)
        print(
            f"1/{div}: mean {text} (worst seed standard {lo:.2f}); "
            f"{hits:.1f}/18 windows, {fps:.1f} outside; anomaly_score swept {swept_text}"
        )
        lines.append(
            f"| **1/{div} mean** | 0-4 | "
            + " | ".join(f"**{mean[p]:.2f}**" for p in PROFILES)
            + f" | {hits:.1f}/18 | {fps:.1f} |"
        )
        swept_rows.append(f"| 1/{div} | " + " | ".join(f"{sw[p]:.2f}" for p in PROFILES) + " |")
    print(f"{time.monotonic() - t0:.0f} s")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(lines + swept_rows) + "\n")


if __name__ == "__main__":
    main()
