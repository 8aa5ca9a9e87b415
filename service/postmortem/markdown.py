"""The Markdown post-mortem draft, rendered from the JSON export."""

from __future__ import annotations

from typing import Any

from service.postmortem.formats import LABELS, cell, duration, human_time
from service.postmortem.metrics import DURATIONS, parse_time
from service.postmortem.sentences import describe
from service.timeline.events import EventDataError, IncidentResolved


def _when(iso: str | None) -> str:
    return human_time(parse_time(iso)) or "?"


def _last(doc: dict[str, Any], kind: str, *, first: bool = False) -> dict[str, Any] | None:
    found = [e for e in doc["timeline"] if e["kind"] == kind]
    return (found[0] if first else found[-1]) if found else None


def resolution_note(event: dict[str, Any]) -> str:
    """The note of an exported resolution event ("" if none or if its payload does not decode)."""
    try:
        return IncidentResolved.from_data(event["data"]).note or ""
    except EventDataError:
        return ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(doc: dict[str, Any]) -> str:
    """What happened, in a few sentences: start, detection, paging, answer, statement, end."""
    inc, m = doc["incident"], doc["metrics"]
    origin = (
        f"opened by the detector on monitor {inc['monitor']}"
        if inc["source"] == "detector"
        else "declared by hand"
    )
    parts = [
        f"Incident #{inc['number']} ({inc['severity']}) was {origin} at {_when(inc['opened_at'])}."
    ]
    if m["time_to_detect"] is not None:
        parts.append(
            f"The firestorm began about {_when(m['onset_at'])} (onset); the detector called it "
            f"{duration(m['time_to_detect'])} later."
        )
    if m["time_to_page"] is not None:
        parts.append(f"The first page went out {duration(m['time_to_page'])} after opening.")
    ack = _last(doc, "incident.acknowledged", first=True)
    if ack is not None:
        parts.append(f"{ack['actor']} acknowledged after {duration(m['time_to_acknowledge'])}.")
    published = [p for s in doc["statements"] for p in s["publications"]]
    if published:
        first = min(published, key=lambda p: p["published_at"])
        parts.append(
            f"{_plural(len(published), 'statement')} published; the first, on {first['channel']}, "
            f"by {first['published_by']} at {_when(first['published_at'])}."
        )
    resolved = _last(doc, "incident.resolved")
    if resolved is not None and m["time_to_resolve"] is not None:
        note = resolution_note(resolved)
        parts.append(
            f"{resolved['actor']} resolved it after {duration(m['time_to_resolve'])}"
            + (f": “{note}”." if note else ".")
        )
    steps = m["steps"]
    total = sum(len(r["steps"]) for r in doc["playbooks"] if r["replaced_at"] is None)
    if total:
        done = total - steps.get("unfinished", 0)
        parts.append(
            f"Playbook steps: {done} of {total} done or skipped, {steps['late']} late"
            + (f"; {steps['unfinished']} left unfinished." if steps.get("unfinished") else ".")
        )
    parts.append(f"Status: {inc['status']}.")
    return " ".join(parts)


def _paged(doc: dict[str, Any]) -> list[str]:
    if not doc["pages"]:
        return ["Nobody was paged."]
    lines = [
        "| To | Why | Level | Sent (UTC) | Delivered (UTC) | Status |",
        "|---|---|---|---|---|---|",
    ]
    why = {"page": "page (must answer)", "notify": "notice (FYI)"}
    for p in sorted(doc["pages"], key=lambda p: p["sent_at"] or p["created_at"]):
        row = (
            p["to"],
            why.get(p["kind"], p["kind"]),
            p["level"],
            p["sent_at"],
            p["delivered_at"],
            p["status"],
        )
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return lines


def _metrics(doc: dict[str, Any]) -> list[str]:
    m = doc["metrics"]
    lines = ["| Metric | Value | Seconds |", "|---|---|---|"]
    for key in DURATIONS:
        secs = m[key]
        lines.append(f"| {LABELS[key]} | {duration(secs)} | {'' if secs is None else secs} |")
    s = m["steps"]
    lines.append(f"| Playbook steps on time / late | {s['on_time']} / {s['late']} | |")
    lines.append(f"| Playbook steps left unfinished | {s.get('unfinished', 0)} | |")
    return lines


def _timeline(doc: dict[str, Any]) -> list[str]:
    lines = ["| # | Time (UTC) | Actor | What happened |", "|---|---|---|---|"]
    for e in doc["timeline"]:
        what = describe(e["kind"], e["data"])
        lines.append(f"| {e['seq']} | {e['at']} | {cell(e['actor'])} | {cell(what)} |")
    chain = doc["chain"]
    verdict = (
        f"Hash chain verified: {chain['events']} events intact, head {chain['head_hash']}."
        if chain["intact"]
        else f"Hash chain BROKEN at event {chain['first_bad_seq']}: {chain['problem']}."
    )
    return [*lines, "", verdict]


def _evidence(doc: dict[str, Any]) -> list[str]:
    items = doc.get("evidence") or [e for s in doc["signals"][:1] for e in s["evidence"] or []]
    if not items:
        return ["No evidence mentions were recorded."]
    lines = ["| Posted (UTC) | Author | Reach | Sentiment | Mention |", "|---|---|---|---|---|"]
    for e in items:
        author = e.get("author") or e.get("user") or ""
        sentiment = e.get("sentiment")
        row = (
            _when(e.get("created_at")),
            author,
            e.get("reach"),
            f"{sentiment:+.2f}" if isinstance(sentiment, int | float) else "",
            e.get("text"),
        )
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return lines


def _statements(doc: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for st in doc["statements"]:
        for pub in st["publications"]:
            version = next(v for v in st["versions"] if v["number"] == pub["version"])
            approval = version["approval"] or {"decisions": []}
            approvers = ", ".join(
                f"{d['user']} ({d['role']}, {d['decided_at']})"
                for d in approval["decisions"]
                if d["decision"] == "approve"
            )
            lines += [
                f"### Statement {st['id']} v{pub['version']} ({st['purpose']}) on {pub['channel']}",
                "",
                f"Published {pub['published_at']} by {pub['published_by']}; "
                f"approved by {approvers or 'nobody'}; sha256 `{pub['sha256']}`.",
                "",
                *[f"> {line}" for line in version["text"].splitlines()],
                "",
            ]
    return lines or ["No statement was published."]


def punctuality(step: dict[str, Any], late_steps: list[str], *, ended: bool = False) -> str:
    """On time, late, late (unfinished), unfinished, not due yet, or no deadline."""
    due, finished = parse_time(step["due_at"]), parse_time(step["finished_at"])
    if finished is None and step["step_id"] in late_steps:
        return "late (unfinished)"
    if finished is None and ended:  # the incident is over and this step was never done
        return "unfinished"
    if due is None:
        return "no deadline"
    if finished is not None:
        return "on time" if finished <= due else "late"
    return "not due yet"


def ended(doc: dict[str, Any]) -> bool:
    """Whether the incident is over (resolved or closed)."""
    return doc.get("incident", {}).get("status") in ("resolved", "closed")


def _steps(doc: dict[str, Any]) -> list[str]:
    runs = [r for r in doc["playbooks"] if r["replaced_at"] is None]
    if not runs:
        return ["No playbook was attached."]
    late_steps = doc["metrics"]["steps"].get("late_steps") or []
    lines = ["| Step | Owner | State | Due | Finished | On time? |", "|---|---|---|---|---|---|"]
    for s in runs[0]["steps"]:
        verdict = punctuality(s, late_steps, ended=ended(doc))
        title = (runs[0].get("step_titles") or {}).get(s["step_id"]) or s["step_id"]
        row = (title, s["owner"], s["state"], s["due_at"], s["finished_at"], verdict)
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return [f"Playbook: {runs[0]['title']} (v{runs[0]['version']})", "", *lines]


def render(doc: dict[str, Any]) -> str:
    """The post-mortem draft of an exported incident."""
    inc = doc["incident"]
    parts = [
        f"# Post-mortem: #{inc['number']} {inc['title']}",
        "",
        "## Summary",
        "",
        summary(doc),
        "",
        "## Headline metrics",
        "",
        *_metrics(doc),
        "",
        "## Chart",
        "",
        f"![Mention volume and negative share around #{inc['number']}]"
        f"(incident-{inc['number']}-chart.svg)",
        "",
        "Mentions per minute (negative in red), the expected range shaded, and markers for the"
        " onset, signal, pages, acknowledgement, statements and resolution. The SVG file comes"
        f" with `firebreak export {inc['number']} --out FILE` or from the incident page.",
        "",
        "## Who was paged",
        "",
        *_paged(doc),
        "",
        "## Timeline",
        "",
        *_timeline(doc),
        "",
        "## Evidence",
        "",
        *_evidence(doc),
        "",
        "## Statements",
        "",
        *_statements(doc),
        "",
        "## Playbook steps",
        "",
        *_steps(doc),
        "",
    ]
    for title in (
        "Root cause",
        "What went well",
        "What went wrong",
        "Lessons learned / action items",
    ):
        parts += [f"## {title}", "", "_To be written._", ""]
    return "\n".join(parts)
