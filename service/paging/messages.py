"""SMS texts: a page, a bundle of pages, a legal notice; at most two segments (GSM-7 aware)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twilio.twiml.voice_response import Gather, VoiceResponse

from service.detection.language import sentiment_note
from service.paging.segments import count_segments, fit_to_segments, fit_with_suffix

MAX_SEGMENTS = 2
HELP = (
    "Firebreak: reply ACK 42 (or 1A) to acknowledge, RES 42 (1R) to resolve, ESC 42 (1E) to "
    "escalate, DONE 42 3 when step 3 is done, NOTE 42 text, STATUS, STOP to opt out."
)


def _numbers(signal: dict[str, Any] | None) -> str:
    if not signal:
        return ""
    parts = []
    if signal.get("observed") is not None and signal.get("expected"):
        parts.append(
            f"{signal['observed']:.0f} mentions ({signal['observed'] / signal['expected']:.1f}x)"
        )
    if signal.get("sentiment_unknown"):
        parts.append(sentiment_note(signal.get("unread_languages")))
    elif signal.get("negative_share") is not None:
        parts.append(f"{signal['negative_share']:.0%} neg")
    return ", ".join(parts)


def page_text(
    *,
    incident: Any,
    monitor_name: str | None,
    signal: dict[str, Any] | None,
    code: int,
    link: str,
) -> str:
    """The page for one incident: severity, number, monitor, numbers, link, reply commands."""
    head = f"FIREBREAK {incident.severity.upper()} #{incident.id}"
    what = monitor_name or incident.title
    numbers = _numbers(signal)
    body = f"{head} {what}" + (f": {numbers}" if numbers else "")
    tail = f" {link} Reply {code}A ack, {code}R resolve, {code}E escalate"
    return (
        fit_to_segments(body + "." + tail, MAX_SEGMENTS)
        if len(body) < 200
        else fit_to_segments(body[:150] + "." + tail, MAX_SEGMENTS)
    )


def _codes(codes: Sequence[int]) -> str:
    """'4A', '4A or 5A', '4A, 5A or 6A'."""
    names = [f"{c}A" for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _bundle(items: Sequence[tuple[Any, int, str]]) -> str:
    parts = [f"#{i.id} {i.severity.upper()} {code}A {link}" for i, code, link in items]
    codes = [code for _i, code, _link in items]
    return (
        f"FIREBREAK {len(items)} pages: "
        + "; ".join(parts)
        + f". Reply {_codes(codes)} to ack (R resolve, E escalate)."
    )


def bundle_size(items: Sequence[tuple[Any, int, str]]) -> int:
    """How many of these pages (in order) one bundle holds whole, without cutting any."""
    n = 1
    while n < len(items) and count_segments(_bundle(items[: n + 1])) <= MAX_SEGMENTS:
        n += 1
    return n


def bundle_text(*, items: Sequence[tuple[Any, int, str]]) -> str:
    """Several pages for one phone in one SMS: each incident with its own reply code and link,
    and a footer naming those codes (notices are never bundled; see `bundle_size`)."""
    return fit_to_segments(_bundle(items), MAX_SEGMENTS)


def resolved_text(*, incident: Any, by: str | None) -> str:
    """One short SMS to everyone paged: the incident resolved, nothing more to do."""
    who = f" by {by}" if by else ""
    return fit_to_segments(
        f"FIREBREAK #{incident.id} resolved{who}. No action needed. Thank you.", MAX_SEGMENTS
    )


def notice_text(*, incident: Any, monitor_name: str | None, link: str) -> str:
    """The legal notice at incident open (no acknowledgement expected)."""
    what = monitor_name or incident.title
    return fit_to_segments(
        f"FIREBREAK legal notice: {incident.severity.upper()} #{incident.id} {what}. "
        f"Statements will need your approval in Firebreak: {link}",
        MAX_SEGMENTS,
    )


def with_link(text: str, *, link: str, reply: str = "") -> str:
    """A notice or reminder about an incident (a playbook step's): its text, cut if need be,
    then the person's link and the reply hint, both whole, in at most MAX_SEGMENTS."""
    return fit_with_suffix(text, f" {link}" + (f" {reply}" if reply else ""), MAX_SEGMENTS)


def role_notice_text(
    *, incident: Any, monitor_name: str | None, role: str, playbook: str, link: str
) -> str:
    """The notice at incident open to a role its playbook pages (`page: [comms]`)."""
    what = monitor_name or incident.title
    return with_link(
        f"FIREBREAK {incident.severity.upper()} #{incident.id} {what}: you are called in as "
        f"{role} (playbook {playbook}).",
        link=link,
    )


def voice_twiml(*, incident: Any, monitor_name: str | None, gather_url: str) -> str:
    """A spoken summary with a keypad menu: 1 acknowledge, 2 escalate."""

    what = monitor_name or incident.title
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=gather_url, method="POST", timeout=10)
    gather.say(
        f"Firebreak alert. Severity {incident.severity[-1]} incident {incident.id}, {what}. "
        "Press 1 to acknowledge. Press 2 to escalate."
    )
    response.append(gather)
    response.say("No input received. Goodbye.")
    return str(response)
