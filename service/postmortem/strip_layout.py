"""The response strip's geometry: the markers alone on their own time scale, labelled one by one.

Pure computation, no markup: `strip_view` returns a small view-model that the SVG template
templates/postmortem/response_strip.svg.j2 draws (see chart.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from service.postmortem.chart_layout import (
    COLORS,
    LABELS,
    LEFT,
    PLOT_W,
    RIGHT,
    WIDTH,
    Label,
    Marker,
    hhmm,
)

#: the height of the response strip, and the level of its time axis
STRIP_H, STRIP_AXIS = 150, 86


@dataclass(frozen=True)
class StripMarker:
    """Markers of one kind a few pixels apart: their dots, one label and a leader line to it."""

    kind: str
    color: str
    tip: str
    dots: Sequence[float]
    label: Label
    leader_end: float  # the y where the line from the axis to the label stops


@dataclass(frozen=True)
class StripView:
    """Everything the response strip template draws."""

    title: str
    subtitle: str
    groups: Sequence[StripMarker]
    width: int = WIDTH
    height: int = STRIP_H
    left: int = LEFT
    right: int = WIDTH - RIGHT - 120
    axis_y: int = STRIP_AXIS


#: the rows for labels on the strip: offsets from the axis, two above and two below
_STRIP_ROWS = [(-22, "above"), (34, "below"), (-40, "above"), (52, "below")]


def _offset(secs: float) -> str:
    if secs < 120:
        return f"+{secs:.1f} s"
    return f"+{int(secs // 60)} min {secs % 60:02.0f} s"


def strip_view(markers: Sequence[Marker], title: str) -> StripView | None:
    """The markers alone (no onset) on their own time scale; None with fewer than two."""
    shown = sorted((m for m in markers if m.kind != "onset"), key=lambda m: m.at)
    if len(shown) < 2:
        return None
    t0, t1 = shown[0].at, shown[-1].at
    span = max((t1 - t0).total_seconds(), 1e-6)
    plot_w = PLOT_W - 120

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / span * plot_w

    # same-kind markers a few pixels apart share one label ("page x2")
    groups: list[list[Marker]] = []
    for m in shown:
        if groups and groups[-1][0].kind == m.kind and x(m.at) - x(groups[-1][0].at) < 30:
            groups[-1].append(m)
        else:
            groups.append([m])
    subtitle = (
        f"from the first signal at {hhmm(t0)}:{t0:%S} UTC to the last event, "
        f"{_offset((t1 - t0).total_seconds())} later"
    )
    return StripView(title, subtitle, _strip_markers(groups, x, t0))


def _strip_markers(
    groups: Sequence[Sequence[Marker]], x: Callable[[datetime], float], t0: datetime
) -> list[StripMarker]:
    """Labels take the first of four rows where they don't overlap the previous one."""
    last = [-1e9] * len(_STRIP_ROWS)
    out = []
    for group in groups:
        m = group[0]
        mx, color = x(m.at), COLORS.get(m.kind, "#333")
        row = next((i for i in range(len(last)) if mx - last[i] > 120), last.index(min(last)))
        last[row] = mx
        dy, side = _STRIP_ROWS[row]
        ly = STRIP_AXIS + dy
        count = f" ×{len(group)}" if len(group) > 1 else ""
        text = f"{LABELS.get(m.kind, m.kind)}{count} {_offset((m.at - t0).total_seconds())}"
        out.append(
            StripMarker(
                kind=m.kind,
                color=color,
                tip="; ".join(g.label for g in group),
                dots=[x(g.at) for g in group],
                label=Label(mx, ly, "middle", color, text),
                leader_end=ly + (4 if side == "above" else -12),
            )
        )
    return out
