"""The playbook-steps table of the Markdown draft says which steps were on time or late."""

from __future__ import annotations

import pytest

from service.postmortem.markdown import _steps, punctuality

pytestmark = pytest.mark.smoke

DUE = "2026-11-23T09:10:00.000000Z"


def step(step_id: str, due_at: str | None, finished_at: str | None, state: str) -> dict:
    # `on_time` as the export computes it today; the verdict must not depend on it
    return {
        "step_id": step_id,
        "owner": "comms",
        "state": state,
        "due_at": due_at,
        "finished_at": finished_at,
        "on_time": None,
    }


STEPS = [
    step("holding", DUE, "2026-11-23T09:10:00.000000Z", "done"),  # exactly at due: on time
    step("legal", DUE, "2026-11-23T09:10:00.000001Z", "done"),  # a microsecond late
    step("press", DUE, None, "in_progress"),  # unfinished past due
    step("later", "2026-11-23T23:00:00.000000Z", None, "ready"),  # not due yet
    step("undated", None, None, "pending"),
]


def test_verdicts():
    late = ["legal", "press"]
    assert [punctuality(s, late) for s in STEPS] == [
        "on time",
        "late",
        "late (unfinished)",
        "not due yet",
        "no deadline",
    ]


def test_the_table_shows_an_unfinished_step_past_due_as_late():
    doc = {
        "playbooks": [
            {"replaced_at": None, "title": "Product safety", "version": 2, "steps": STEPS}
        ],
        "metrics": {
            "steps": {"on_time": 1, "late": 2, "pending": 1, "late_steps": ["legal", "press"]}
        },
    }
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in _steps(doc)[4:]}
    assert rows["press"].endswith(
        "| in_progress | 2026-11-23T09:10:00.000000Z |  | late (unfinished) |"
    )
    assert rows["legal"].endswith("| late |") and rows["holding"].endswith("| on time |")
