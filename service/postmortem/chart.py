"""The incident chart: mention volume and negative share, baseline shaded, events marked (SVG).

Rendered on the server from the buckets kept with the incident, so it appears the same in the
page, in the HTML export and as a file next to the Markdown draft, with or without JavaScript.
Presentation attributes only (no style attributes), so a strict Content-Security-Policy holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from service.postmortem.metrics import parse_time

WIDTH, HEIGHT = 960, 400
LEFT, RIGHT, TOP = 64, 24, 58
VOLUME_H, GAP, SHARE_H = 200, 34, 70
#: at most this many bars: longer windows are summed into wider bars
MAX_BARS = 240
#: the chart shows this much before the onset (or the opening) and after the resolution
BEFORE = timedelta(minutes=60)
AFTER = timedelta(minutes=15)
#: the calm band of the detector's count model: expected * exp(+-CALM_Z * log_scale)
CALM_Z = 2.0

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


def _hhmm(at: datetime) -> str:
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


def render(
    points: Sequence[Point],
    *,
    markers: Sequence[Marker] = (),
    baseline: Baseline | None = None,
    title: str = "Mentions around the incident",
) -> str:
    """The chart as a standalone SVG document fragment (an <svg> element)."""
    plot_w = WIDTH - LEFT - RIGHT
    parts: list[str] = []
    add = parts.append
    desc = _describe(points, baseline)
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'font-family="system-ui, sans-serif" font-size="12" class="incident-chart">'
    )
    add(f'<title id="chart-title">{escape(title)}</title>')
    add(f'<desc id="chart-desc">{escape(desc)}</desc>')
    add(f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>')
    if not points:
        add(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#555">'
            "No mention data was kept for this incident (declared without a monitor, or "
            "opened before evidence retention).</text></svg>"
        )
        return "".join(parts)

    bars, factor = _downsample(points)
    t0 = bars[0].start
    t1 = bars[-1].start + timedelta(seconds=bars[-1].seconds)
    span = max((t1 - t0).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / span * plot_w

    bucket_minutes = bars[0].seconds / 60
    unit = "min" if bucket_minutes == 1 else f"{bucket_minutes:g} min"
    top_value = max(b.count for b in bars)
    if baseline is not None:
        top_value = max(top_value, baseline.high * factor)
    y_max = _nice_max(top_value)
    vol_bottom = TOP + VOLUME_H

    def vy(v: float) -> float:
        return vol_bottom - v / y_max * VOLUME_H

    # axes and grid
    add(f'<text x="{LEFT}" y="{TOP - 36}" font-size="14" font-weight="600">{escape(title)}</text>')
    add(
        f'<text x="{LEFT}" y="{TOP - 20}" fill="#555">Mentions per {unit} '
        f"(red: negative); shaded: expected range</text>"
    )
    for frac in (0, 0.25, 0.5, 0.75, 1):
        yv = vy(y_max * frac)
        add(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yv:.1f}" y2="{yv:.1f}" '
            'stroke="#eee" stroke-width="1"/>'
        )
        add(
            f'<text x="{LEFT - 6}" y="{yv + 4:.1f}" text-anchor="end" fill="#555">'
            f"{y_max * frac:g}</text>"
        )
    if baseline is not None:
        lo, hi = vy(baseline.low * factor), vy(min(baseline.high * factor, y_max))
        add(
            f'<rect class="baseline" x="{LEFT}" y="{hi:.1f}" width="{plot_w}" '
            f'height="{max(lo - hi, 1):.1f}" fill="{COLORS["baseline"]}" fill-opacity="0.8">'
            f"<title>expected {baseline.expected * factor:.1f} per {unit} "
            f"(range {baseline.low * factor:.1f}–{baseline.high * factor:.1f})</title></rect>"
        )
        ey = vy(baseline.expected * factor)
        add(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ey:.1f}" y2="{ey:.1f}" '
            f'stroke="{COLORS["baseline_line"]}" stroke-dasharray="4 3" stroke-width="1"/>'
        )
    bar_w = max(plot_w / len(bars) - 0.5, 0.8)
    for b in bars:
        bx = x(b.start)
        tip = f"{_hhmm(b.start)} UTC: {b.count} mentions, {b.negative} negative" + (
            f" ({b.negative / b.count:.0%})" if b.count else ""
        )
        add(f"<g><title>{escape(tip)}</title>")
        if b.count:
            add(
                f'<rect x="{bx:.1f}" y="{vy(b.count):.1f}" width="{bar_w:.1f}" '
                f'height="{vol_bottom - vy(b.count):.1f}" fill="{COLORS["volume"]}"/>'
            )
        if b.negative:
            add(
                f'<rect x="{bx:.1f}" y="{vy(b.negative):.1f}" width="{bar_w:.1f}" '
                f'height="{vol_bottom - vy(b.negative):.1f}" fill="{COLORS["negative"]}"/>'
            )
        add("</g>")
    add(
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{vol_bottom}" y2="{vol_bottom}" '
        'stroke="#333" stroke-width="1"/>'
    )

    # negative share panel
    share_top = vol_bottom + GAP
    share_bottom = share_top + SHARE_H

    def sy(share: float) -> float:
        return share_bottom - share * SHARE_H

    add(f'<text x="{LEFT}" y="{share_top - 6}" fill="#555">Negative share</text>')
    for frac in (0, 0.5, 1):
        add(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{sy(frac):.1f}" y2="{sy(frac):.1f}" '
            'stroke="#eee" stroke-width="1"/>'
        )
        add(
            f'<text x="{LEFT - 6}" y="{sy(frac) + 4:.1f}" text-anchor="end" fill="#555">'
            f"{frac:.0%}</text>"
        )
    if baseline is not None and baseline.negative_share is not None:
        by = sy(baseline.negative_share)
        add(
            f'<line class="share-baseline" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{by:.1f}" '
            f'y2="{by:.1f}" stroke="{COLORS["baseline_line"]}" stroke-dasharray="4 3">'
            f"<title>usual negative share {baseline.negative_share:.0%}</title></line>"
        )
    path = [f"{x(b.start) + bar_w / 2:.1f},{sy(b.negative / b.count):.1f}" for b in bars if b.count]
    if path:
        add(
            f'<polyline class="share" points="{" ".join(path)}" fill="none" '
            f'stroke="{COLORS["share"]}" stroke-width="1.5"/>'
        )

    # time axis
    for tick in _ticks(t0, t1):
        tx = x(tick)
        add(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{share_bottom}" y2="{share_bottom + 4}" '
            'stroke="#333"/>'
        )
        add(
            f'<text x="{tx:.1f}" y="{share_bottom + 16}" text-anchor="middle" fill="#555">'
            f"{_hhmm(tick)}</text>"
        )
    add(
        f'<text x="{LEFT + plot_w}" y="{share_bottom + 30}" text-anchor="end" fill="#555">'
        f"UTC, {t0:%Y-%m-%d}</text>"
    )

    # markers: a line each; labels of markers close together are stacked in one column
    shown = sorted((m for m in markers if t0 <= m.at <= t1), key=lambda m: m.at)
    clusters: list[list[Marker]] = []
    for m in shown:
        if clusters and x(m.at) - x(clusters[-1][0].at) < 70:
            clusters[-1].append(m)
        else:
            clusters.append([m])
    for m in shown:
        color = COLORS.get(m.kind, "#333")
        add(
            f'<line class="marker marker-{m.kind}" x1="{x(m.at):.1f}" x2="{x(m.at):.1f}" '
            f'y1="{TOP}" y2="{share_bottom}" stroke="{color}" stroke-width="1.5" '
            f'stroke-dasharray="2 2"><title>{escape(m.label)}</title></line>'
        )
    for cluster in clusters:
        kinds: dict[str, int] = {}
        for m in cluster:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        lx, anchor = x(cluster[0].at) + 3, "start"
        if lx > WIDTH - RIGHT - 80:  # near the right edge: label to the left of the line
            lx, anchor = lx - 6, "end"
        for row, (kind, n) in enumerate(kinds.items()):
            text = LABELS.get(kind, kind) + (f" ×{n}" if n > 1 else "")
            add(
                f'<text class="marker-label" x="{lx:.1f}" y="{TOP + 12 + row * 13}" '
                f'text-anchor="{anchor}" fill={quoteattr(COLORS.get(kind, "#333"))} font-size="11" '
                f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(text)}</text>'
            )
    add("</svg>")
    return "".join(parts)


def _describe(points: Sequence[Point], baseline: Baseline | None) -> str:
    """A sentence for screen readers and for tests: the peak and the usual level."""
    if not points:
        return "No mention data."
    peak = max(points, key=lambda p: p.count)
    text = (
        f"{sum(p.count for p in points)} mentions from {_hhmm(points[0].start)} to "
        f"{_hhmm(points[-1].start + timedelta(seconds=points[-1].seconds))} UTC; peak "
        f"{peak.count} per bucket at {_hhmm(peak.start)}"
    )
    if peak.count:
        text += f" ({peak.negative / peak.count:.0%} negative)"
    if baseline is not None:
        text += f"; expected about {baseline.expected:.1f} per bucket"
    return text + "."


def markers_from(doc: dict[str, Any]) -> list[Marker]:
    """The chart's markers from a JSON export: onset, signals, pages, ack, statements, resolve."""
    out: list[Marker] = []
    onset = parse_time(doc["metrics"].get("onset_at"))
    if onset is not None:
        out.append(Marker(onset, "onset", f"onset {onset:%H:%M:%S} UTC"))
    kinds = {
        "signal.detected": "signal",
        "signal.updated": "signal",
        "incident.acknowledged": "acknowledged",
        "statement.published": "statement",
        "incident.resolved": "resolved",
    }
    for e in doc["timeline"]:
        kind = kinds.get(e["kind"])
        if e["kind"] == "statement.approved" and e["data"].get("status") == "approved":
            kind = "statement"
        if kind is None:
            continue
        at = parse_time(e["at"])
        if at is not None:
            out.append(Marker(at, kind, f"{e['kind']} at {e['at']} by {e['actor']}"))
    for page in doc.get("pages", []):  # pages that ask for an answer; notices only inform
        at = parse_time(page.get("sent_at"))
        if page.get("kind") == "page" and at is not None:
            out.append(Marker(at, "page", f"page sent to {page['to']} at {page['sent_at']}"))
    return sorted(out, key=lambda m: m.at)


def baseline_from(doc: dict[str, Any]) -> Baseline | None:
    """The first signal's expectation and calm band, if the incident has a signal."""
    if not doc["signals"]:
        return None
    s = doc["signals"][0]
    details = s.get("details") or {}
    expected = float(s["expected"])
    scale = details.get("log_scale")
    spread = math.exp(CALM_Z * float(scale)) if isinstance(scale, int | float) else 1.0
    return Baseline(
        expected=expected,
        low=expected / spread,
        high=expected * spread,
        negative_share=s.get("negative_baseline"),
    )


def window(doc: dict[str, Any], *, now: datetime) -> tuple[datetime, datetime]:
    """The span the chart covers: before the onset (or opening) to after the resolution."""
    m, inc = doc["metrics"], doc["incident"]
    start = parse_time(m.get("onset_at")) or parse_time(inc["opened_at"]) or now
    end = parse_time(inc.get("resolved_at")) or now
    return start - BEFORE, min(end + AFTER, now)


def incident_chart(
    doc: dict[str, Any],
    points: Sequence[Point],
    *,
    now: datetime,
    markers: Sequence[Marker] | None = None,
) -> str:
    """The chart of an exported incident from its kept buckets (markers: from the export)."""
    start, end = window(doc, now=now)
    shown = [p for p in points if start <= p.start < end]
    inc = doc["incident"]
    return render(
        shown,
        markers=markers_from(doc) if markers is None else markers,
        baseline=baseline_from(doc),
        title=f"#{inc['number']}: mentions around the incident",
    )


STRIP_H = 150


def response_strip(markers: Sequence[Marker], *, title: str = "The response, zoomed in") -> str:
    """The markers alone on their own time scale (opening to resolution), labelled one by one."""
    shown = sorted((m for m in markers if m.kind != "onset"), key=lambda m: m.at)
    if len(shown) < 2:
        return ""
    t0, t1 = shown[0].at, shown[-1].at
    span = max((t1 - t0).total_seconds(), 1e-6)
    plot_w = WIDTH - LEFT - RIGHT - 120
    axis_y = 86

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / span * plot_w

    def offset(at: datetime) -> str:
        secs = (at - t0).total_seconds()
        if secs < 120:
            return f"+{secs:.1f} s"
        return f"+{int(secs // 60)} min {secs % 60:02.0f} s"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {STRIP_H}" width="{WIDTH}" '
        f'height="{STRIP_H}" role="img" aria-labelledby="strip-title" '
        'font-family="system-ui, sans-serif" font-size="12" class="response-strip">',
        f'<title id="strip-title">{escape(title)}</title>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{STRIP_H}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
        f'<text x="{LEFT}" y="34" fill="#555">from the first signal at {_hhmm(t0)}:'
        f"{t0:%S} UTC to the last event, {offset(t1)} later</text>",
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#333"/>',
    ]
    # same-kind markers a few pixels apart share one label ("page x2"); labels take the first
    # of four rows (two above the axis, two below) where they don't overlap the previous one
    groups: list[list[Marker]] = []
    for m in shown:
        if groups and groups[-1][0].kind == m.kind and x(m.at) - x(groups[-1][0].at) < 30:
            groups[-1].append(m)
        else:
            groups.append([m])
    rows = [(-22, "above"), (34, "below"), (-40, "above"), (52, "below")]
    last = [-1e9] * len(rows)
    for group in groups:
        m = group[0]
        mx, color = x(m.at), COLORS.get(m.kind, "#333")
        row = next((i for i in range(len(rows)) if mx - last[i] > 120), last.index(min(last)))
        last[row] = mx
        dy, side = rows[row]
        ly = axis_y + dy
        count = f" ×{len(group)}" if len(group) > 1 else ""
        text = f"{LABELS.get(m.kind, m.kind)}{count} {offset(m.at)}"
        tips = "; ".join(g.label for g in group)
        parts.append(
            f'<g class="strip-marker strip-{m.kind}"><title>{escape(tips)}</title>'
            + "".join(
                f'<circle cx="{x(g.at):.1f}" cy="{axis_y}" r="5" fill="{color}"/>' for g in group
            )
            + f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{axis_y}" '
            f'y2="{ly + (4 if side == "above" else -12)}" stroke="{color}" stroke-width="0.8"/>'
            f'<text x="{mx:.1f}" y="{ly}" text-anchor="middle" fill="{color}" stroke="#ffffff" '
            f'stroke-width="3" paint-order="stroke">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
