"""The Markdown post-mortem draft, rendered from the JSON export."""

from __future__ import annotations

from typing import Any

from service.postmortem.export import LABELS, cell, duration
from service.postmortem.metrics import DURATIONS, parse_time
from service.postmortem.sentences import describe


def summary(doc: dict[str, Any]) -> str:
    """What happened, in a few sentences."""
    inc, m = doc["incident"], doc["metrics"]
    origin = (
        f"opened by the detector on monitor {inc['monitor']}"
        if inc["source"] == "detector"
        else "declared by hand"
    )
    text = f"Incident #{inc['number']} ({inc['severity']}) was {origin} at {inc['opened_at']}."
    if m["time_to_acknowledge"] is not None:
        text += f" It was acknowledged after {duration(m['time_to_acknowledge'])}"
        text += "" if m["time_to_resolve"] is None else ","
    if m["time_to_resolve"] is not None:
        text += f" and resolved after {duration(m['time_to_resolve'])}"
    text += "." if m["time_to_acknowledge"] is not None or m["time_to_resolve"] else ""
    published = sum(len(s["publications"]) for s in doc["statements"])
    text += f" {published} statement(s) were published. Its status is now {inc['status']}."
    return text


def _metrics(doc: dict[str, Any]) -> list[str]:
    m = doc["metrics"]
    lines = ["| Metric | Value | Seconds |", "|---|---|---|"]
    for key in DURATIONS:
        secs = m[key]
        lines.append(f"| {LABELS[key]} | {duration(secs)} | {'' if secs is None else secs} |")
    s = m["steps"]
    lines.append(f"| Playbook steps on time / late | {s['on_time']} / {s['late']} | |")
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
    items = [e for s in doc["signals"][:1] for e in s["evidence"] or []]
    if not items:
        return ["No evidence mentions were recorded."]
    lines = ["| Author | Reach | Mention |", "|---|---|---|"]
    for e in items:
        author = e.get("author") or e.get("user") or ""
        lines.append(f"| {cell(author)} | {cell(e.get('reach'))} | {cell(e.get('text'))} |")
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


def punctuality(step: dict[str, Any], late_steps: list[str]) -> str:
    """On time, late, late (unfinished), not due yet, or no deadline (as the metrics count it)."""
    due, finished = parse_time(step["due_at"]), parse_time(step["finished_at"])
    if due is None:
        return "no deadline"
    if finished is not None:
        return "on time" if finished <= due else "late"
    return "late (unfinished)" if step["step_id"] in late_steps else "not due yet"


def _steps(doc: dict[str, Any]) -> list[str]:
    runs = [r for r in doc["playbooks"] if r["replaced_at"] is None]
    if not runs:
        return ["No playbook was attached."]
    late_steps = doc["metrics"]["steps"].get("late_steps") or []
    lines = ["| Step | Owner | State | Due | Finished | On time? |", "|---|---|---|---|---|---|"]
    for s in runs[0]["steps"]:
        verdict = punctuality(s, late_steps)
        row = (s["step_id"], s["owner"], s["state"], s["due_at"], s["finished_at"], verdict)
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
