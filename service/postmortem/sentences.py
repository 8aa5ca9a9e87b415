"""Timeline events in words, for people reading a post-mortem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.timeline.models import EventKind

Data = dict[str, Any]


def _signal(d: Data) -> str:
    ratio = f" ({d['ratio']}x expected)" if d.get("ratio") is not None else ""
    share = d.get("negative_share")
    neg = f", {share:.0%} negative" if isinstance(share, int | float) else ""
    observed = d.get("observed")
    count = f"{observed:.0f}" if isinstance(observed, int | float) else observed
    severity = d.get("severity")
    return f"Detector saw {count} mentions in the last minute{ratio}{neg}; severity {severity}"


def _statement(verb: str) -> Callable[[Data], str]:
    def say(d: Data) -> str:
        text = f"Statement {d.get('statement_id')} v{d.get('version')} {verb}"
        if d.get("role"):
            text += f" as {d['role']}"
        if d.get("status") == "approved":
            text += " (approval complete)"
        elif d.get("waiting_for"):
            text += f" (waiting for {', '.join(d['waiting_for'])})"
        if d.get("channel"):
            text += f" on {d['channel']}"
        return text

    return say


def _escalated(d: Data) -> str:
    paged = ", ".join(d.get("paged") or []) or "nobody"
    level = d.get("level")
    if isinstance(level, int) and level > 1:
        return f"Not acknowledged in time: escalated to level {level}, paged {paged}"
    return f"Escalation level {level} paged {paged}"


SENTENCES: dict[str, Callable[[Data], str]] = {
    EventKind.DECLARED: lambda d: "Incident declared",
    EventKind.OPENED: lambda d: "Incident opened by the detector",
    EventKind.SIGNAL: _signal,
    EventKind.SIGNAL_UPDATED: lambda d: "The spike grew: " + _signal(d),
    EventKind.ACKNOWLEDGED: lambda d: "Incident acknowledged",
    EventKind.RESOLVED: lambda d: "Incident resolved",
    EventKind.CLOSED: lambda d: "Incident closed",
    EventKind.REOPENED: lambda d: "Incident reopened",
    EventKind.SEVERITY_CHANGED: lambda d: f"Severity changed from {d.get('from')} to {d.get('to')}",
    EventKind.DETAILS_CHANGED: lambda d: "Details changed: " + ", ".join(sorted(d)),
    EventKind.ROLE_ASSIGNED: lambda d: f"{d.get('user')} assigned as {d.get('role')}",
    EventKind.NOTE: lambda d: f"Note: {d.get('text', '')}",
    EventKind.PAGE_QUEUED: lambda d: f"Page queued for {d.get('to', 'a responder')}",
    EventKind.PAGE_SENT: lambda d: f"Page sent to {d.get('to', 'a responder')}",
    EventKind.PAGE_STATUS: lambda d: f"Page {d.get('page_id')} is {d.get('status', 'updated')}",
    EventKind.PAGE_FAILED: lambda d: f"Page {d.get('page_id')} failed",
    EventKind.PAGE_SKIPPED: lambda d: f"Page skipped for {d.get('to', 'a responder')}",
    EventKind.ESCALATED: _escalated,
    EventKind.ESCALATION_STOPPED: lambda d: "Escalation stopped",
    EventKind.ESCALATION_EXHAUSTED: lambda d: "Escalation exhausted: nobody answered",
    EventKind.SMS_REPLY: lambda d: "SMS reply received",
    EventKind.PLAYBOOK_ATTACHED: lambda d: f"Playbook {d.get('playbook_id', '')} attached",
    EventKind.STEP_CHANGED: lambda d: f"Step {d.get('step')} moved {d.get('from')} → {d.get('to')}",
    EventKind.STEP_REMINDER: lambda d: f"Reminder sent for step {d.get('step')}",
    EventKind.STATEMENT: lambda d: "Statement event",
    EventKind.STATEMENT_DRAFTED: _statement("drafted"),
    EventKind.STATEMENT_SUBMITTED: _statement("submitted for approval"),
    EventKind.STATEMENT_APPROVED: _statement("approved"),
    EventKind.STATEMENT_REJECTED: _statement("rejected"),
    EventKind.STATEMENT_PUBLISHED: _statement("published"),
    EventKind.STATEMENT_REMINDER: lambda d: "Approvers reminded of a pending statement",
    EventKind.STATEMENT_ESCALATED: lambda d: "Pending statement approval escalated",
}


def describe(kind: str, data: Data) -> str:
    """One readable sentence for an event (its kind if unknown)."""
    say = SENTENCES.get(kind)
    try:
        return say(data) if say else kind
    except (KeyError, TypeError, ValueError):
        return kind
