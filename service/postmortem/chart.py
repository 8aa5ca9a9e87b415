"""The incident chart: mention volume and negative share, baseline shaded, events marked (SVG).

Rendered on the server from the buckets kept with the incident, so it appears the same in the
page, in the HTML export and as a file next to the Markdown draft, with or without JavaScript.
Presentation attributes only (no style attributes), so a strict Content-Security-Policy holds.

chart_layout and strip_layout compute what goes where (pure geometry); the Jinja templates in
templates/postmortem draw it, escaping every text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader
from jinja2.ext import Extension

from service.postmortem.chart_layout import (
    COLORS,
    GAP,
    HEIGHT,
    LABELS,
    LEFT,
    MAX_BARS,
    RIGHT,
    SHARE_H,
    TOP,
    VOLUME_H,
    WIDTH,
    Baseline,
    Marker,
    Point,
    chart_view,
)
from service.postmortem.metrics import parse_time
from service.postmortem.strip_layout import STRIP_H, strip_view

__all__ = [
    "COLORS",
    "GAP",
    "HEIGHT",
    "LABELS",
    "LEFT",
    "MAX_BARS",
    "RIGHT",
    "SHARE_H",
    "STRIP_H",
    "TOP",
    "VOLUME_H",
    "WIDTH",
    "Baseline",
    "Marker",
    "Point",
    "baseline_from",
    "incident_chart",
    "markers_from",
    "render",
    "response_strip",
    "window",
]

#: the chart shows this much before the onset (or the opening) and after the resolution
BEFORE = timedelta(minutes=60)
AFTER = timedelta(minutes=15)
#: the calm band of the detector's count model: expected * exp(+-CALM_Z * log_scale)
CALM_Z = 2.0


class _OneLine(Extension):
    """The templates' line breaks and indentation are for reading only: the SVG is one line.

    A template line that starts with neither "<" nor "{" continues the previous one (more
    attributes of a tag, more words of a text) and is joined to it with one space.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        out = ""
        for line in source.splitlines():
            line = line.strip()
            if line and out and not line.startswith(("<", "{")):
                out += " "
            out += line
        return out


_templates = Environment(
    loader=PackageLoader("service.postmortem", "templates"),
    autoescape=True,
    extensions=[_OneLine],
)
_templates.filters["f1"] = lambda value: f"{value:.1f}"  # a coordinate, to a tenth
_templates.globals["colors"] = COLORS


def render(
    points: Sequence[Point],
    *,
    markers: Sequence[Marker] = (),
    baseline: Baseline | None = None,
    title: str = "Mentions around the incident",
) -> str:
    """The chart as a standalone SVG document fragment (an <svg> element)."""
    view = chart_view(points, markers, baseline, title)
    return _templates.get_template("postmortem/chart.svg.j2").render(chart=view)


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


def response_strip(markers: Sequence[Marker], *, title: str = "The response, zoomed in") -> str:
    """The markers alone on their own time scale (opening to resolution), labelled one by one."""
    view = strip_view(markers, title)
    if view is None:
        return ""
    return _templates.get_template("postmortem/response_strip.svg.j2").render(strip=view)
