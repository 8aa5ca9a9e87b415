"""NAB (Numenta Anomaly Benchmark) scoring, written from NAB's published rules.

Rules (see ../shared/data/nab/README.md):

* the first ``min(floor(0.15 n), 750)`` rows are probationary and not scored;
* a detection is a row whose score is >= the threshold;
* inside a window only the earliest detection counts, worth ``tp * A(x) / A(-1)`` with
  ``A(x) = 2 / (1 + exp(5x)) - 1`` and ``x = -(end - i + 1) / width``; a window without a
  detection costs ``-fn``;
* every detection outside a window costs ``fp * A(x)`` with
  ``x = |i - end_prev| / (width_prev - 1)`` (``A = -1`` when ``x >= 3`` or before any window);
* normalised score ``100 (raw - null) / (perfect - null)`` with ``null = -fn W`` and
  ``perfect = tp W`` for W scored windows;
* NAB's threshold is the single value maximising the summed raw score over the scored files.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


@dataclass(frozen=True)
class Profile:
    """Cost weights of one NAB scoring profile."""

    name: str
    tp: float
    fp: float
    fn: float


@dataclass(frozen=True)
class ScoredRow:
    """One scorable row: its detector score, its NAB weight and its window (None outside)."""

    score: float
    unweighted: float
    window: int | None


@dataclass(frozen=True)
class FileScore:
    """A file prepared for scoring: rows past probation and the window count."""

    name: str
    rows: list[ScoredRow]
    windows: int


def scaled_sigmoid(x: float) -> float:
    """NAB's A(x) = 2/(1+e^{5x}) - 1, clamped to -1 for x >= 3."""
    if x >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def probation_length(n_rows: int) -> int:
    """Number of leading rows that are not scored."""
    return int(min(math.floor(0.15 * n_rows), 0.15 * 5000))


def load_profiles(path: Path) -> dict[str, Profile]:
    """Read config/profiles.json into Profile objects."""
    raw = json.loads(path.read_text())
    out = {}
    for name, body in raw.items():
        cm = body["CostMatrix"]
        out[name] = Profile(name, cm["tpWeight"], cm["fpWeight"], cm["fnWeight"])
    return out


def read_scores(path: Path, column: str = "anomaly_score") -> tuple[list[str], list[float]]:
    """Read timestamps and one numeric column from a CSV."""
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        ts, vals = [], []
        for row in reader:
            ts.append(row["timestamp"])
            vals.append(float(row[column]))
    return ts, vals


def _norm_ts(ts: str) -> str:
    """Drop fractional seconds so label and data timestamps compare."""
    return ts.split(".")[0]


def prepare(
    name: str, timestamps: Sequence[str], scores: Sequence[float], windows: Iterable[Sequence[str]]
) -> FileScore:
    """Attach NAB's per-row weight (unweighted A value) and window id to every scored row."""
    index = {_norm_ts(t): i for i, t in enumerate(timestamps)}
    spans = sorted((index[_norm_ts(a)], index[_norm_ts(b)]) for a, b in windows)
    in_window: list[int | None] = [None] * len(timestamps)
    for w, (a, b) in enumerate(spans):
        for i in range(a, b + 1):
            in_window[i] = w
    probation = probation_length(len(timestamps))
    rows: list[ScoredRow] = []
    prev_end: int | None = None
    prev_width = 0
    for i, s in enumerate(scores):
        w = in_window[i]
        if w is not None:
            a, b = spans[w]
            width = b - a + 1
            val = scaled_sigmoid(-(b - i + 1) / width) / scaled_sigmoid(-1.0)
            if i == b:
                prev_end, prev_width = b, width
        elif prev_end is None:
            val = -1.0
        else:
            val = scaled_sigmoid(abs(i - prev_end) / (prev_width - 1))
        if i >= probation:
            rows.append(ScoredRow(s, val, w))
    scored_windows = {r.window for r in rows if r.window is not None}
    return FileScore(name, rows, len(scored_windows))


def raw_score(fs: FileScore, threshold: float, profile: Profile) -> float:
    """Raw NAB score of one file at a threshold."""
    best: dict[int, float] = {}
    fp = 0.0
    for r in fs.rows:
        if r.score < threshold:
            continue
        if r.window is None:
            fp += r.unweighted * profile.fp
        else:
            best[r.window] = max(best.get(r.window, -math.inf), r.unweighted * profile.tp)
    tp = sum(max(v, -profile.fn) for v in best.values())
    missed = fs.windows - len(best)
    return tp + fp - missed * profile.fn


def normalise(raw: float, windows: int, profile: Profile) -> float:
    """NAB's 0..100 normalisation (null detector 0, perfect detector 100)."""
    null = -profile.fn * windows
    perfect = profile.tp * windows
    return 100.0 * (raw - null) / (perfect - null)


def sweep(files: Sequence[FileScore], profile: Profile) -> tuple[float, float]:
    """NAB's oracle threshold sweep over pooled files: return (best threshold, best raw)."""
    points = sorted(
        ((r.score, k, r) for k, fs in enumerate(files) for r in fs.rows),
        key=lambda t: t[0],
        reverse=True,
    )
    best_tp: dict[tuple[int, int], float] = {}
    total_windows = sum(fs.windows for fs in files)
    fp = 0.0
    tp_sum = -profile.fn * total_windows  # every window starts as a miss
    best = (1.1, tp_sum)
    i = 0
    while i < len(points):
        thr = points[i][0]
        while i < len(points) and points[i][0] == thr:
            _, k, r = points[i]
            if r.window is None:
                fp += r.unweighted * profile.fp
            else:
                key = (k, r.window)
                old = best_tp.get(key, -profile.fn)
                new = max(old, r.unweighted * profile.tp)
                tp_sum += new - old
                best_tp[key] = new
            i += 1
        raw = tp_sum + fp
        if raw > best[1]:
            best = (thr, raw)
    return best


def load_corpus(
    data_dir: Path, result_paths: dict[str, Path], column: str = "anomaly_score"
) -> list[FileScore]:
    """Prepare every series: result_paths maps 'realTweets/X.csv' to a detector output CSV."""
    windows = json.loads((data_dir / "labels" / "combined_windows.json").read_text())
    out = []
    for key, path in sorted(result_paths.items()):
        ts, scores = read_scores(path, column)
        out.append(prepare(key, ts, scores, windows[key]))
    return out


def published_results(data_dir: Path, detector: str) -> dict[str, Path]:
    """Map each realTweets key to a published detector result CSV."""
    folder = data_dir / "results" / detector / "realTweets"
    out = {}
    for p in sorted(folder.glob(f"{detector}_*.csv")):
        out[f"realTweets/{p.name[len(detector) + 1 :]}"] = p
    return out


def score_corpus(
    files: Sequence[FileScore], profiles: dict[str, Profile], threshold: float | None = None
) -> dict[str, dict[str, float]]:
    """Normalised scores per profile at a fixed threshold, or NAB's swept one if None."""
    windows = sum(fs.windows for fs in files)
    out = {}
    for name in PROFILES:
        prof = profiles[name]
        if threshold is None:
            thr, raw = sweep(files, prof)
        else:
            thr, raw = threshold, sum(raw_score(fs, threshold, prof) for fs in files)
        out[name] = {"threshold": thr, "raw": raw, "score": normalise(raw, windows, prof)}
    return out


def main() -> None:
    """Score the published detectors on realTweets with NAB's sweep and print a table."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nab",
    )
    args = ap.parse_args()
    profiles = load_profiles(args.data / "config" / "profiles.json")
    dets = sorted(p.name for p in (args.data / "results").iterdir() if p.is_dir())
    print(f"{'detector':18} {'standard':>9} {'low_FP':>9} {'low_FN':>9}")
    for det in dets:
        files = load_corpus(args.data, published_results(args.data, det))
        res = score_corpus(files, profiles)
        print(f"{det:18} " + " ".join(f"{res[p]['score']:9.2f}" for p in PROFILES))


if __name__ == "__main__":
    main()
