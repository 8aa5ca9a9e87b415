"""The incident chart as SVG: bars, baseline band, markers, downsampling, empty data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from service.postmortem import chart
from service.postmortem.chart import Baseline, Marker, Point

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def series(minutes: int, spike: range = range(0)) -> list[Point]:
    return [
        Point(T0 + timedelta(minutes=i), 60, 60 if i in spike else 6, 42 if i in spike else 1)
        for i in range(minutes)
    ]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


@pytest.mark.smoke
def test_bars_baseline_and_markers_are_drawn():
    svg = chart.render(
        series(120, spike=range(60, 80)),
        markers=[
            Marker(T0 + timedelta(minutes=58), "onset", "onset"),
            Marker(T0 + timedelta(minutes=61), "signal", "signal <b>"),
            Marker(T0 + timedelta(minutes=61, seconds=1), "page", "page"),
            Marker(T0 + timedelta(minutes=61, seconds=11), "page", "page"),
            Marker(T0 + timedelta(minutes=100), "resolved", "resolved"),
            Marker(T0 - timedelta(hours=1), "page", "before the window: not drawn"),
        ],
        baseline=Baseline(expected=6.0, low=3.0, high=12.0, negative_share=0.15),
    )
    root = parse(svg)
    rects = root.iter(f"{SVG}rect")
    fills = [r.get("fill") for r in rects]
    assert fills.count(chart.COLORS["volume"]) == 120  # one bar per minute
    assert fills.count(chart.COLORS["negative"]) == 120  # every minute has negatives
    assert len(re.findall(r'class="baseline"', svg)) == 1
    assert len(re.findall(r'class="marker marker-page"', svg)) == 2  # the early one is dropped
    assert "page ×2" in svg  # close markers share one label
    assert "signal &lt;b&gt;" in svg  # labels are escaped
    assert "style=" not in svg  # presentation attributes only: a strict CSP allows them
    desc = root.find(f"{SVG}desc").text
    assert "peak 60 per bucket at 10:00" in desc and "70% negative" in desc


def test_the_share_line_and_baseline_sit_at_the_right_height():
    svg = chart.render(
        series(10), baseline=Baseline(expected=6, low=3, high=12, negative_share=0.5)
    )
    share_top = chart.TOP + chart.VOLUME_H + chart.GAP
    mid = share_top + chart.SHARE_H / 2  # 50% is half way down the share panel
    line = re.search(r'class="share-baseline"[^>]*y1="([\d.]+)"', svg)
    assert float(line[1]) == pytest.approx(mid, abs=0.1)
    points = re.search(r'class="share" points="([^"]+)"', svg)[1].split()
    ys = [float(p.split(",")[1]) for p in points]
    bottom = share_top + chart.SHARE_H
    assert ys == [pytest.approx(bottom - chart.SHARE_H / 6, abs=0.1)] * 10  # 1 of 6 negative


def test_long_windows_are_summed_into_at_most_max_bars():
    points = series(24 * 60)
    svg = chart.render(points)
    bars = [r for r in parse(svg).iter(f"{SVG}rect") if r.get("fill") == chart.COLORS["volume"]]
    assert len(bars) <= chart.MAX_BARS
    assert "Mentions per 6 min" in svg  # 1,440 minutes / 240 bars


def test_no_data_says_so():
    svg = chart.render([])
    parse(svg)
    assert "No mention data was kept" in svg


def test_markers_and_baseline_from_an_export():
    doc = {
        "incident": {"number": 4, "opened_at": "2026-11-23T10:00:00.000000Z", "resolved_at": None},
        "metrics": {"onset_at": "2026-11-23T09:58:00.000000Z"},
        "signals": [
            {"expected": 5.0, "negative_baseline": 0.2, "details": {"log_scale": 0.5}},
        ],
        "timeline": [
            {
                "kind": "signal.detected",
                "at": "2026-11-23T10:00:00.000000Z",
                "actor": "d",
                "data": {},
            },
            {
                "kind": "statement.approved",
                "at": "2026-11-23T10:05:00.000000Z",
                "actor": "l",
                "data": {"status": "pending"},
            },
            {
                "kind": "statement.approved",
                "at": "2026-11-23T10:06:00.000000Z",
                "actor": "l",
                "data": {"status": "approved"},
            },
            {"kind": "note.added", "at": "2026-11-23T10:07:00.000000Z", "actor": "w", "data": {}},
        ],
    }
    kinds = [m.kind for m in chart.markers_from(doc)]
    assert kinds == ["onset", "signal", "statement"]  # one approver of two is not a statement
    base = chart.baseline_from(doc)
    assert base.low == pytest.approx(5.0 / 2.718281828, rel=1e-6)
    assert base.high == pytest.approx(5.0 * 2.718281828, rel=1e-6)
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    start, end = chart.window(doc, now=now)
    assert start == datetime(2026, 11, 23, 8, 58, tzinfo=UTC) and end == now


def test_labels_titles_and_tooltips_with_markup_characters_are_escaped():
    label = 'Tom & Jerry <script>alert("x")</script>'
    markers = [
        Marker(T0 + timedelta(minutes=3), "signal", label),
        Marker(T0 + timedelta(minutes=5), "page", label),
    ]
    svg = chart.render(series(10), markers=markers, title="<Acme> & co")
    strip = chart.response_strip(markers, title="a < b & c")
    for doc in (svg, strip):
        assert "<script>" not in doc and "Tom &amp; Jerry &lt;script&gt;" in doc
        parse(doc)  # still well-formed XML
    assert "&lt;Acme&gt; &amp; co" in svg and "a &lt; b &amp; c" in strip
    titles = [t.text for t in parse(svg).iter(f"{SVG}title")]
    assert label in titles and "<Acme> & co" in titles  # the reader gets the text back
    assert label in parse(strip).find(f"{SVG}g/{SVG}title").text
