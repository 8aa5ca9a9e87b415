"""Timeline events in words, for people reading a post-mortem."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from service.detection.language import sentiment_note
from service.timeline import events as ev
from service.timeline.events import EventData, EventDataError, decode


def _minutes(window: tuple[str, ...]) -> str:
    try:
        start, end = (datetime.fromisoformat(w.replace("Z", "+00:00")) for w in window)
    except ValueError:
        return "the last minutes"
    minutes = round((end - start).total_seconds() / 60)
    return "the last minute" if minutes <= 1 else f"the last {minutes} minutes"


def _signal(e: ev.SignalDetected | ev.SignalUpdated) -> str:
    ratio = f" ({e.ratio}x expected)" if e.ratio is not None else ""
    mood = (
        sentiment_note(e.unread_languages)
        if e.sentiment_unknown
        else f"{e.negative_share:.0%} negative"
    )
    return (
        f"Detector saw {e.observed:.0f} mentions in {_minutes(e.window)}{ratio}, "
        f"{mood}; severity {e.severity}"
    )


def _signal_updated(e: ev.SignalUpdated) -> str:
    return "The spike grew: " + _signal(e)


def _statement(
    e: Any,
    verb: str,
    *,
    role: str = "",
    status: str = "",
    waiting_for: tuple[str, ...] = (),
    channel: str = "",
) -> str:
    text = f"Statement {e.statement_id} v{e.version} {verb}"
    if role:
        text += f" as {role}"
    if status == "approved":
        text += " (approval complete)"
    elif waiting_for:
        text += f" (waiting for {', '.join(waiting_for)})"
    if channel:
        text += f" on {channel}"
    return text


def _drafted(e: ev.StatementDrafted) -> str:
    return _statement(e, "drafted", channel=e.channel)


def _submitted(e: ev.StatementSubmitted) -> str:
    return _statement(e, "submitted for approval")


def _decided(verb: str) -> Callable[[ev.StatementDecided], str]:
    def say(e: ev.StatementDecided) -> str:
        return _statement(e, verb, role=e.role, status=e.status, waiting_for=e.waiting_for)

    return say


def _published(e: ev.StatementPublished) -> str:
    return _statement(e, "published", channel=e.channel)


def _escalated(e: ev.Escalated) -> str:
    paged = ", ".join(e.paged) or "nobody"
    if e.level > 1:
        return f"Not acknowledged in time: escalated to level {e.level}, paged {paged}"
    via = f" (policy {e.policy})" if e.policy else ""
    return f"Escalation level {e.level} paged {paged}{via}"


def _details(e: ev.DetailsChanged) -> str:
    changed = [name for name in ("description", "title") if getattr(e, name) is not None]
    return "Details changed: " + ", ".join(changed)


def _step_changed(e: ev.StepChanged) -> str:
    return f"Step {e.step} moved {e.from_} → {e.to}"


def _page_status(e: ev.PageStatusChanged) -> str:
    # as worded before typed events, which read a "status" key this payload never had
    return f"Page {e.page_id} is updated"


def _page_skipped(e: ev.PageSkipped) -> str:
    # as worded before typed events, which read a "to" key this payload never had
    return "Page skipped for a responder"


#: one sentence per payload class
SENTENCES: dict[type[EventData], Callable[[Any], str]] = {
    ev.IncidentDeclared: lambda e: "Incident declared",
    ev.IncidentOpened: lambda e: "Incident opened by the detector",
    ev.SignalDetected: _signal,
    ev.SignalUpdated: _signal_updated,
    ev.IncidentAcknowledged: lambda e: "Incident acknowledged",
    ev.IncidentResolved: lambda e: "Incident resolved",
    ev.IncidentClosed: lambda e: "Incident closed",
    ev.IncidentReopened: lambda e: "Incident reopened",
    ev.SeverityChanged: lambda e: f"Severity changed from {e.from_} to {e.to}",
    ev.DetailsChanged: _details,
    ev.RoleAssigned: lambda e: f"{e.user} assigned as {e.role}",
    ev.NoteAdded: lambda e: f"Note: {e.text}",
    ev.PageQueued: lambda e: f"Page queued for {e.to}",
    ev.PageSent: lambda e: f"Page sent to {e.to}",
    ev.PageStatusChanged: _page_status,
    ev.PageFailed: lambda e: f"Page {e.page_id} failed",
    ev.PageSkipped: _page_skipped,
    ev.PageDropped: lambda e: f"Message to {e.to} dropped: {e.reason}",
    ev.Escalated: _escalated,
    ev.EscalationStopped: lambda e: "Escalation stopped",
    ev.EscalationExhausted: lambda e: "Escalation exhausted: nobody answered",
    ev.EscalationFellBack: lambda e: (
        f"Policy {e.policy} paged nobody: falling back to the {e.fallback} chain"
    ),
    ev.SmsReplied: lambda e: "SMS reply received",
    ev.PlaybookAttached: lambda e: f"Playbook {e.playbook_id} attached",
    ev.StepChanged: _step_changed,
    ev.StepReminded: lambda e: f"Reminder sent for step {e.step}",
    ev.StatementDrafted: _drafted,
    ev.StatementSubmitted: _submitted,
    ev.StatementApproved: _decided("approved"),
    ev.StatementRejected: _decided("rejected"),
    ev.StatementPublished: _published,
    ev.StatementReminded: lambda e: "Approvers reminded of a pending statement",
    ev.StatementEscalated: lambda e: "Pending statement approval escalated",
}


def sentence(event: EventData) -> str:
    """One readable sentence for a typed event."""
    return SENTENCES[type(event)](event)


def describe(kind: str, data: Any) -> str:
    """One readable sentence for a stored event (its kind if the payload does not decode)."""
    try:
        return sentence(decode(kind, data))
    except EventDataError:
        return kind
