"""Every post-mortem metric, from hand-built events with hand-computed expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from service.postmortem.metrics import (
    StepTiming,
    compute,
    onset_of,
    resolved_at,
    seconds_between,
    step_punctuality,
)
from service.postmortem.report import aggregate

T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


@dataclass
class Ev:
    at: datetime
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


STORY = [
    Ev(at(0), "signal.detected"),
    Ev(at(0.5), "incident.opened"),
    Ev(at(2.25), "page.queued"),
    Ev(at(3.5), "page.sent"),
    Ev(at(9), "page.sent"),
    Ev(at(95), "incident.acknowledged"),
    Ev(at(300), "statement.approved", {"status": "pending", "waiting_for": ["comms"]}),
    Ev(at(420.75), "statement.approved", {"status": "approved", "waiting_for": []}),
    Ev(at(500), "statement.approved", {"status": "approved", "waiting_for": []}),
    Ev(at(3600.5), "incident.resolved"),
]


def metrics(events=STORY, **kw: Any) -> dict[str, Any]:
    args = {
        "opened_at": at(0.5),
        "onset": at(-240),
        "detected_at": None,
        "steps": [],
        "now": at(4000),
    }
    return compute(events=events, **{**args, **kw})


def test_time_to_detect_is_onset_to_first_signal():
    assert metrics()["time_to_detect"] == 240.0


def test_time_to_detect_falls_back_to_the_signal_row_and_is_none_without_onset():
    assert metrics(events=[], detected_at=at(60))["time_to_detect"] == 300.0
    assert metrics(onset=None)["time_to_detect"] is None


def test_time_to_page_is_open_to_first_page_sent_not_queued():
    assert metrics()["time_to_page"] == 3.0


def test_time_to_acknowledge():
    assert metrics()["time_to_acknowledge"] == 94.5


def test_first_approved_statement_needs_a_completed_approval():
    assert metrics()["time_to_first_approved_statement"] == 420.25


def test_time_to_resolve():
    assert metrics()["time_to_resolve"] == 3600.0


def test_what_did_not_happen_is_none():
    m = metrics(events=[Ev(at(0.5), "incident.declared")], onset=None)
    for key in (
        "time_to_detect",
        "time_to_page",
        "time_to_acknowledge",
        "time_to_first_approved_statement",
        "time_to_resolve",
    ):
        assert m[key] is None, key


def test_resolve_counts_the_last_resolution_and_none_while_reopened():
    events = [Ev(at(10), "incident.resolved"), Ev(at(20), "incident.reopened")]
    assert resolved_at(events) is None
    assert resolved_at([*events, Ev(at(70), "incident.resolved")]) == at(70)


def test_steps_on_time_and_late():
    steps = [
        StepTiming("holding", due_at=at(600), finished_at=at(600)),  # exactly on due: on time
        StepTiming("legal", due_at=at(600), finished_at=at(600.000001)),  # a microsecond late
        StepTiming("press", due_at=at(900), finished_at=None),  # unfinished, past due at now
        StepTiming("later", due_at=at(5000), finished_at=None),  # not due yet
        StepTiming("undated", due_at=None, finished_at=at(10)),  # no deadline: not counted
    ]
    assert step_punctuality(steps, now=at(1000)) == {
        "on_time": 1,
        "late": 2,
        "pending": 1,
        "late_steps": ["legal", "press"],
        "unfinished": 2,  # done or skipped or not: due time does not matter
        "unfinished_steps": ["press", "later"],
    }
    assert metrics(steps=steps)["steps"]["late"] == 2


def test_onset_prefers_episode_then_bucket_then_window():
    window = at(-300)
    assert onset_of({"bucket_start": "2026-11-23T08:56:00.000000Z"}, window) == at(-240)
    both = {"episode_start": "2026-11-23T08:50:00.000000Z", "bucket_start": "x"}
    assert onset_of(both, window) == at(-600)
    assert onset_of({}, window) == window
    assert onset_of({"bucket_start": "garbage"}, None) is None


def test_seconds_between_is_float_and_none_safe():
    assert seconds_between(at(0), at(1.5)) == 1.5
    assert seconds_between(None, at(1)) is None


def test_aggregate_counts_mtta_mttr_by_monitor_and_severity():
    rows = [
        {
            "status": "resolved",
            "severity": "sev1",
            "monitor": "acme",
            "time_to_acknowledge": 60.0,
            "time_to_resolve": 600.0,
        },
        {
            "status": "resolved",
            "severity": "sev2",
            "monitor": "acme",
            "time_to_acknowledge": 120.0,
            "time_to_resolve": 1800.0,
        },
        {
            "status": "triggered",
            "severity": "sev1",
            "monitor": None,
            "time_to_acknowledge": None,
            "time_to_resolve": None,
        },
    ]
    report = aggregate(rows)
    assert report["count"] == 3
    assert report["by_status"] == {"resolved": 2, "triggered": 1}
    assert report["mtta_seconds"] == 90.0 and report["mttr_seconds"] == 1200.0
    assert report["by_monitor"]["acme"]["count"] == 2
    assert report["by_monitor"]["(declared)"]["mtta_seconds"] is None
    assert report["by_severity"]["sev1"]["mtta_seconds"] == 60.0
    assert report["by_severity"]["sev2"]["mttr_seconds"] == 1800.0
