"""(a) Firebreak's detector with its one fixed default on NAB realTweets, scored by NAB's rules.

No per-series tuning and no threshold sweep: a detection is a row where ``alarm == 1``, i.e.
exactly where an incident would open. The only NAB-specific settings are the data's bucket
length (300 s) and ``volume_only`` (the series hold counts, no sentiment). ARTime's figures are
shown with NAB's oracle sweep. ``--budgets`` also reports the false-page budget, the one
sensitivity setting, at neighbouring values (an operating curve, not a tuning).

    python benchmarks/nab_benchmark.py [--data ../shared/data/nab] [--budgets]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from detect_eval import DATA, ROOT, SERIES, columns, counts, detect, fmt, load, score_files, swept
from nab_score import PROFILES, load_corpus, load_profiles, published_results, score_corpus

from service.detection.engine import DetectorConfig

REFERENCE = "ARTime"
BUDGETS = (0.5, 1.0, 2.0, 3.0, 5.0)


def main() -> None:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "nab.md")
    ap.add_argument("--budgets", action="store_true", help="also sweep false_pages_per_30_days")
    args = ap.parse_args()
    t0 = time.monotonic()
    data = load(args.data)
    series = [data[n] for n in SERIES]
    cols = [columns(s, None, {}) for s in series]
    alarms = [alarm for _, alarm in cols]
    ours = score_files(series, alarms, args.data)
    ours_swept = swept(series, [score for score, _ in cols], args.data)
    hit, total, fps = counts(series, alarms)
    profiles = load_profiles(args.data / "config" / "profiles.json")
    ref = score_corpus(load_corpus(args.data, published_results(args.data, REFERENCE)), profiles)
    cfg = DetectorConfig()
    lines = [
        "| detector | standard | reward_low_FP | reward_low_FN |",
        "| --- | --- | --- | --- |",
        "| Firebreak (fixed default, alarm = incident opens) | "
        + " | ".join(f"{ours[p]:.2f}" for p in PROFILES)
        + " |",
        "| Firebreak, NAB's procedure (threshold swept over anomaly_score per profile) | "
        + " | ".join(f"{ours_swept[p]:.2f}" for p in PROFILES)
        + " |",
        f"| {REFERENCE} (NAB threshold swept on these series) | "
        + " | ".join(f"{ref[p]['score']:.2f}" for p in PROFILES)
        + " |",
        "",
        f"Firebreak: {hit}/{total} windows detected, {fps} alarms outside windows (after "
        f"probation). Default budget {cfg.false_pages_per_30_days:g} false page per 30 days.",
        "",
        "| series | standard | low FP | low FN | windows | alarms outside |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    print(f"fixed default: {fmt(ours)}  windows {hit}/{total}, outside {fps}")
    print(f"anomaly_score swept (NAB's procedure): {fmt(ours_swept)}")
    for s, a in zip(series, alarms, strict=True):
        sc, (h, t, f) = score_files([s], [a], args.data), counts([s], [a])
        lines.append(
            f"| {s.key} | " + " | ".join(f"{sc[p]:.2f}" for p in PROFILES) + f" | {h}/{t} | {f} |"
        )
        print(f"  {s.key:40} {fmt(sc)}  {h}/{t}, outside {f}")
    print(f"{REFERENCE} swept: " + " / ".join(f"{ref[p]['score']:.2f}" for p in PROFILES))
    if args.budgets:
        lines += [
            "",
            "False-page budget (the one sensitivity setting) at other values:",
            "",
            "| false_pages_per_30_days | standard | low FP | low FN | windows | alarms outside |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for b in BUDGETS:
            al = [detect(s, None, {"false_pages_per_30_days": b}) for s in series]
            sc, (h, t, f) = score_files(series, al, args.data), counts(series, al)
            print(f"  budget {b:g}: {fmt(sc)}  {h}/{t}, outside {f}")
            lines.append(
                f"| {b:g} | " + " | ".join(f"{sc[p]:.2f}" for p in PROFILES) + f" | {h}/{t} | {f} |"
            )
    print(f"{time.monotonic() - t0:.1f} s")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
