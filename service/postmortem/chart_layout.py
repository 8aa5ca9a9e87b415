"""The chart's geometry: from buckets, markers and a baseline to what is drawn where.

Pure computation, no markup: `chart_view` returns a small view-model that the SVG template
templates/postmortem/chart.svg.j2 draws (see chart.py). Coordinates are in SVG user units.
The response strip's geometry is in strip_layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

WIDTH, HEIGHT = 960, 400
LEFT, RIGHT, TOP = 64, 24, 58
VOLUME_H, GAP, SHARE_H = 200, 34, 70
PLOT_W = WIDTH - LEFT - RIGHT
#: at most this many bars: longer windows are summed into wider bars
MAX_BARS = 240

COLORS = {
    "volume": "#9aa5b1",
    "negative": "#c0392b",
    "baseline": "#d6e9f8",
    "baseline_line": "#2b7bb9",
    "share": "#c0392b",
    "signal": "#e67e22",
    "page": "#8e44ad",
    "acknowledged": "#27ae60",
    "statement": "#2980b9",
    "resolved": "#2c3e50",
    "onset": "#7f8c8d",
}
LABELS = {
    "onset": "onset",
    "signal": "signal",
    "page": "page",
    "acknowledged": "ack",
    "statement": "statement",
    "resolved": "resolved",
}


# -- what goes in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One bucket of mentions."""

    start: datetime
    seconds: int
    count: int
    negative: int


@dataclass(frozen=True)
class Marker:
    """Something that happened, drawn as a vertical line."""

    at: datetime
    kind: str  # a key of LABELS
    label: str


@dataclass(frozen=True)
class Baseline:
    """What the detector expected per bucket, and the usual negative share."""

    expected: float
    low: float
    high: float
    negative_share: float | None


# -- what comes out: the chart -----------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """The fixed layout of the chart: its size and where the plot and its two panels are."""

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = LEFT + PLOT_W  # where the plot ends
    plot_width: int = PLOT_W
    top: int = TOP
    volume_bottom: int = TOP + VOLUME_H
    share_top: int = TOP + VOLUME_H + GAP
    share_bottom: int = TOP + VOLUME_H + GAP + SHARE_H


FRAME = Frame()


@dataclass(frozen=True)
class GridLine:
    """A horizontal grid line and its value on the axis."""

    y: float
    label: str


@dataclass(frozen=True)
class Span:
    """The top and the height of a bar."""

    y: float
    height: float


@dataclass(frozen=True)
class Column:
    """One (possibly summed) bucket: its mentions, their negative part, and a tooltip."""

    x: float
    width: float
    tip: str
    volume: Span | None
    negative: Span | None


@dataclass(frozen=True)
class Band:
    """The detector's expected range (shaded) and expected level (dashed)."""

    y: float
    height: float
    expected_y: float
    tip: str


@dataclass(frozen=True)
class Level:
    """A dashed horizontal line with a tooltip (the usual negative share)."""

    y: float
    tip: str


@dataclass(frozen=True)
class Tick:
    """A tick on the time axis."""

    x: float
    label: str


@dataclass(frozen=True)
class MarkerLine:
    """A marker's vertical line."""

    x: float
    kind: str
    color: str
    tip: str


@dataclass(frozen=True)
class Label:
    """A text at a point: a marker label (stacked when markers are close together)."""

    x: float
    y: float
    anchor: str
    color: str
    text: str


@dataclass(frozen=True)
class ChartView:
    """Everything the chart template draws; `empty` when there is no mention data."""

    title: str
    desc: str
    frame: Frame = FRAME
    empty: bool = True
    unit: str = ""
    volume_grid: Sequence[GridLine] = ()
    band: Band | None = None
    columns: Sequence[Column] = ()
    share_grid: Sequence[GridLine] = ()
    share_level: Level | None = None
    share_line: Sequence[tuple[float, float]] = ()
    ticks: Sequence[Tick] = ()
    date: str = ""
    markers: Sequence[MarkerLine] = ()
    labels: Sequence[Label] = ()


# -- the chart's geometry ----------------------------------------------------------------------


def hhmm(at: datetime) -> str:
    """Hours and minutes in UTC."""
    return at.astimezone(UTC).strftime("%H:%M")


def _downsample(points: Sequence[Point]) -> tuple[list[Point], int]:
    """Sum consecutive buckets so there are at most MAX_BARS; returns them and the factor."""
    factor = max(1, math.ceil(len(points) / MAX_BARS))
    if factor == 1:
        return list(points), 1
    out = []
    for i in range(0, len(points), factor):
        group = points[i : i + factor]
        out.append(
            Point(
                start=group[0].start,
                seconds=sum(p.seconds for p in group),
                count=sum(p.count for p in group),
                negative=sum(p.negative for p in group),
            )
        )
    return out, factor


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _ticks(t0: datetime, t1: datetime) -> list[datetime]:
    span = (t1 - t0).total_seconds()
    for minutes in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440):
        if span / (minutes * 60) <= 8:
            break
    step = minutes * 60
    first = math.ceil(t0.timestamp() / step) * step
    return [
        datetime.fromtimestamp(s, UTC) for s in range(int(first), int(t1.timestamp()) + 1, step)
    ]


@dataclass(frozen=True)
class _Scale:
    """Time to x, and values to y in the two panels, for one set of bars."""

    t0: datetime
    t1: datetime
    y_max: float

    def x(self, at: datetime) -> float:
        span = max((self.t1 - self.t0).total_seconds(), 1.0)
        return LEFT + (at - self.t0).total_seconds() / span * PLOT_W

    def vy(self, value: float) -> float:
        return FRAME.volume_bottom - value / self.y_max * VOLUME_H

    def sy(self, share: float) -> float:
        return FRAME.share_bottom - share * SHARE_H


def describe(points: Sequence[Point], baseline: Baseline | None) -> str:
    """A sentence for screen readers and for tests: the peak and the usual level."""
    if not points:
        return "No mention data."
    peak = max(points, key=lambda p: p.count)
    text = (
        f"{sum(p.count for p in points)} mentions from {hhmm(points[0].start)} to "
        f"{hhmm(points[-1].start + timedelta(seconds=points[-1].seconds))} UTC; peak "
        f"{peak.count} per bucket at {hhmm(peak.start)}"
    )
    if peak.count:
        text += f" ({peak.negative / peak.count:.0%} negative)"
    if baseline is not None:
        text += f"; expected about {baseline.expected:.1f} per bucket"
    return text + "."


def chart_view(
    points: Sequence[Point], markers: Sequence[Marker], baseline: Baseline | None, title: str
) -> ChartView:
    """Where the bars, the expected range, the share line, the ticks and the markers go."""
    desc = describe(points, baseline)
    if not points:
        return ChartView(title=title, desc=desc)
    bars, factor = _downsample(points)
    t1 = bars[-1].start + timedelta(seconds=bars[-1].seconds)
    top_value: float = max(b.count for b in bars)
    if baseline is not None:
        top_value = max(top_value, baseline.high * factor)
    scale = _Scale(bars[0].start, t1, _nice_max(top_value))
    bucket_minutes = bars[0].seconds / 60
    unit = "min" if bucket_minutes == 1 else f"{bucket_minutes:g} min"
    bar_w = max(PLOT_W / len(bars) - 0.5, 0.8)
    lines, labels = _markers(markers, scale)
    return ChartView(
        title=title,
        desc=desc,
        empty=False,
        unit=unit,
        volume_grid=[
            GridLine(scale.vy(scale.y_max * f), f"{scale.y_max * f:g}")
            for f in (0, 0.25, 0.5, 0.75, 1)
        ],
        band=_band(baseline, factor, unit, scale),
        columns=[_column(b, bar_w, scale) for b in bars],
        share_grid=[GridLine(scale.sy(f), f"{f:.0%}") for f in (0, 0.5, 1)],
        share_level=_share_level(baseline, scale),
        share_line=[
            (scale.x(b.start) + bar_w / 2, scale.sy(b.negative / b.count)) for b in bars if b.count
        ],
        ticks=[Tick(scale.x(t), hhmm(t)) for t in _ticks(scale.t0, scale.t1)],
        date=f"{scale.t0:%Y-%m-%d}",
        markers=lines,
        labels=labels,
    )


def _band(baseline: Baseline | None, factor: int, unit: str, scale: _Scale) -> Band | None:
    """The expected range, scaled to the (possibly summed) bars."""
    if baseline is None:
        return None
    lo, hi = scale.vy(baseline.low * factor), scale.vy(min(baseline.high * factor, scale.y_max))
    return Band(
        y=hi,
        height=max(lo - hi, 1),
        expected_y=scale.vy(baseline.expected * factor),
        tip=f"expected {baseline.expected * factor:.1f} per {unit} "
        f"(range {baseline.low * factor:.1f}–{baseline.high * factor:.1f})",
    )


def _column(bar: Point, width: float, scale: _Scale) -> Column:
    """A bar for the mentions with the negative ones over it."""
    tip = f"{hhmm(bar.start)} UTC: {bar.count} mentions, {bar.negative} negative" + (
        f" ({bar.negative / bar.count:.0%})" if bar.count else ""
    )

    def span(value: int) -> Span | None:
        if not value:
            return None
        return Span(scale.vy(value), FRAME.volume_bottom - scale.vy(value))

    return Column(scale.x(bar.start), width, tip, span(bar.count), span(bar.negative))


def _share_level(baseline: Baseline | None, scale: _Scale) -> Level | None:
    if baseline is None or baseline.negative_share is None:
        return None
    share = baseline.negative_share
    return Level(scale.sy(share), f"usual negative share {share:.0%}")


def _markers(markers: Sequence[Marker], scale: _Scale) -> tuple[list[MarkerLine], list[Label]]:
    """A line per marker in the window; labels of markers close together stacked in a column."""
    shown = sorted((m for m in markers if scale.t0 <= m.at <= scale.t1), key=lambda m: m.at)
    lines = [MarkerLine(scale.x(m.at), m.kind, COLORS.get(m.kind, "#333"), m.label) for m in shown]
    clusters: list[list[Marker]] = []
    for m in shown:
        if clusters and scale.x(m.at) - scale.x(clusters[-1][0].at) < 70:
            clusters[-1].append(m)
        else:
            clusters.append([m])
    return lines, [label for c in clusters for label in _cluster_labels(c, scale)]


def _cluster_labels(cluster: Sequence[Marker], scale: _Scale) -> list[Label]:
    """One row per kind ("page ×2"), beside the cluster's first line."""
    kinds: dict[str, int] = {}
    for m in cluster:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    lx, anchor = scale.x(cluster[0].at) + 3, "start"
    if lx > WIDTH - RIGHT - 80:  # near the right edge: label to the left of the line
        lx, anchor = lx - 6, "end"
    return [
        Label(
            lx,
            TOP + 12 + row * 13,
            anchor,
            COLORS.get(kind, "#333"),
            LABELS.get(kind, kind) + (f" ×{n}" if n > 1 else ""),
        )
        for row, (kind, n) in enumerate(kinds.items())
    ]
