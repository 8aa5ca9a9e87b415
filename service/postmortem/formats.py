"""How post-mortem figures read: labels, durations, exact UTC times, Markdown cells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

LABELS = {
    "time_to_detect": "Time to detect (onset → signal)",
    "time_to_page": "Time to page (open → first page sent)",
    "time_to_acknowledge": "Time to acknowledge",
    "time_to_first_approved_statement": "Time to first approved statement",
    "time_to_resolve": "Time to resolve",
}


def human_time(at: datetime | None) -> str:
    """Exact UTC for people: 2026-11-23 14:06:08.733131 UTC (empty when None)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC") if at else ""


def duration(seconds: float | None) -> str:
    """Seconds as '1 h 02 min 03.5 s' (or 'did not happen')."""
    if seconds is None:
        return "—"
    sign, seconds = ("-" if seconds < 0 else ""), round(abs(seconds), 1)  # never "60.0 s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{int(hours)} h {int(minutes):02d} min {secs:04.1f} s"
    if minutes:
        return f"{sign}{int(minutes)} min {secs:04.1f} s"
    return f"{sign}{secs:.1f} s"


def cell(value: Any) -> str:
    """A value safe inside a Markdown table cell."""
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ").strip()
