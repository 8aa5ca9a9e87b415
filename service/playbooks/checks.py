"""Schema and semantic checks of parsed playbook data, and building the typed Playbook."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from service.playbooks.model import (
    ROLES,
    SEVERITIES,
    ChecklistItem,
    Due,
    Playbook,
    StatementPolicy,
    Step,
    Trigger,
    ValidationIssue,
    parse_duration,
)
from service.playbooks.safe_yaml import LineMap, Path, pointer

SCHEMA_FILE = "playbook.schema.json"
MAX_STEPS = 100  # as the schema's steps.maxItems
_RULE_KEY = "x-firebreak-rule"
_KEYWORD_RULES = {
    "required": "missing-key",
    "additionalProperties": "unknown-key",
    "type": "wrong-type",
    "enum": "bad-value",
    "pattern": "bad-value",
    "minItems": "too-few-items",
    "maxItems": "too-many-items",
    "minProperties": "empty-mapping",
    "minLength": "empty-text",
    "maxLength": "text-too-long",
    "minimum": "out-of-range",
    "uniqueItems": "duplicate-item",
}


@cache
def schema() -> dict[str, Any]:
    """The shipped JSON Schema (draft 2020-12) for playbooks."""
    text = resources.files("service.playbooks").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def _where(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _rule_message(rule: str, error: ValidationError) -> str | None:
    value = error.instance
    if error.validator not in ("type", "pattern", "enum", "maxLength"):
        return None
    if rule == "bad-duration":
        try:
            parse_duration(value)  # type: ignore[arg-type]
        except ValueError as exc:
            return str(exc)
    if rule == "unknown-role":
        return f"{_short(value)} is not a role; known roles: {', '.join(ROLES)}"
    if rule == "unknown-severity":
        return f"{_short(value)} is not a severity; use one of {', '.join(SEVERITIES)}"
    if rule in ("bad-id", "bad-tag"):
        return f"{_short(value)} is not a valid id: lower-case letters and digits, joined by - or _"
    if rule == "bad-due-anchor":
        return f"{_short(value)}: due.from must be 'opened' or 'ready'"
    return None


def _keyword_message(error: ValidationError) -> str:
    value, limit = error.instance, error.validator_value
    size = len(value) if isinstance(value, str | list | dict) else 0
    messages = {
        "type": f"{_short(value)} is not of type {limit!r}",
        "minItems": f"needs at least {limit} item(s)",
        "maxItems": f"has {size} items; at most {limit} allowed",
        "minLength": "must not be empty",
        "maxLength": f"is {size} characters long; at most {limit} allowed",
        "minProperties": "must not be empty",
        "minimum": f"{_short(value)} is less than {limit}",
        "uniqueItems": f"{_short(value)} has repeated items",
        "enum": f"{_short(value)} is not one of {limit!r}",
    }
    return messages.get(str(error.validator), error.message)


def schema_issues(data: Any, lines: LineMap, name: str) -> list[ValidationIssue]:
    """Every JSON Schema violation, with its line and a rule name."""
    issues = []
    for error in _validator().iter_errors(data):
        path: Path = tuple(error.absolute_path)
        rule = error.schema.get(_RULE_KEY) if isinstance(error.schema, dict) else None
        rule = rule or _KEYWORD_RULES.get(str(error.validator), f"schema-{error.validator}")
        message = _rule_message(rule, error) or _keyword_message(error)
        line = lines.line(path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            extras = [key for key in error.instance if key not in allowed]
            if extras:
                path = (*path, extras[0])
                line = lines.line(path, key=True)
                message = f"unknown key {extras[0]!r}; allowed: {', '.join(allowed)}"
        if len(message) > 300:
            message = message[:297] + "..."
        where = _where(path)
        issues.append(
            ValidationIssue(
                name, line, rule, f"{where}: {message}" if where else message, pointer(path)
            )
        )
    return issues


def _steps(data: Any) -> list[tuple[int, dict[str, Any]]]:
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        return []
    return [(i, s) for i, s in enumerate(steps) if isinstance(s, dict)]


def _deps(step: dict[str, Any]) -> list[tuple[int, str]]:
    deps = step.get("depends_on")
    if not isinstance(deps, list):
        return []
    return [(j, d) for j, d in enumerate(deps) if isinstance(d, str)]


def _cycle_issues(
    steps: list[tuple[int, dict[str, Any]]], index: dict[str, int], lines: LineMap, name: str
) -> list[ValidationIssue]:
    by_index = dict(steps)
    graph = {sid: [(j, d) for j, d in _deps(by_index[i]) if d in index] for sid, i in index.items()}
    issues: list[ValidationIssue] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(sid: str) -> None:
        state[sid] = 1
        stack.append(sid)
        for j, dep in graph[sid]:
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    path: Path = ("steps", index[sid], "depends_on", j)
                    chain = " -> ".join(cycle)
                    issues.append(
                        ValidationIssue(
                            name,
                            lines.line(path),
                            "dependency-cycle",
                            f"{_where(path)}: dependency cycle {chain} (each depends on the next)",
                            pointer(path),
                        )
                    )
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[sid] = 2

    for sid in index:
        if sid not in state:
            visit(sid)
    return issues


def _duration_issue(value: Any, path: Path, lines: LineMap, name: str) -> list[ValidationIssue]:
    if not isinstance(value, str):
        return []
    try:
        parse_duration(value)
    except ValueError as exc:
        return [
            ValidationIssue(
                name, lines.line(path), "bad-duration", f"{_where(path)}: {exc}", pointer(path)
            )
        ]
    return []


@dataclass
class _Issues:
    """The semantic issues of one file, collected in order."""

    name: str
    lines: LineMap
    found: list[ValidationIssue] = field(default_factory=list)

    def add(self, path: Path, rule: str, message: str, *, key: bool = False) -> None:
        """One issue at `path`."""
        line = self.lines.line(path, key=key)
        self.found.append(
            ValidationIssue(self.name, line, rule, f"{_where(path)}: {message}", pointer(path))
        )

    def duration(self, value: Any, path: Path) -> None:
        """A duration that does not parse."""
        self.found += _duration_issue(value, path, self.lines, self.name)


def _step_ids(steps: list[tuple[int, dict]], out: _Issues) -> dict[str, int]:
    """Each step id's position; a repeated id is an issue."""
    index: dict[str, int] = {}
    for i, step in steps:
        sid = step.get("id")
        if not isinstance(sid, str):
            continue
        if sid in index:
            where = out.lines.line(("steps", index[sid]))
            out.add(
                ("steps", i, "id"),
                "duplicate-id",
                f"step id {sid!r} is already used on line {where}",
            )
        else:
            index[sid] = i
    return index


def _step_issues(
    data: dict, steps: list[tuple[int, dict]], index: dict[str, int], out: _Issues
) -> None:
    """Unknown dependencies, bad due times, statement steps without a statement policy."""
    for i, step in steps:
        for j, dep in _deps(step):
            if dep not in index:
                out.add(
                    ("steps", i, "depends_on", j),
                    "unknown-dependency",
                    f"depends on {dep!r}, which is not a step of this playbook",
                )
        due = step.get("due")
        if isinstance(due, dict):
            out.duration(due.get("after"), ("steps", i, "due", "after"))
        else:
            out.duration(due, ("steps", i, "due"))
        if step.get("needs_approved_statement") is True and "statements" not in data:
            out.add(
                ("steps", i, "needs_approved_statement"),
                "missing-statement-policy",
                "needs an approved statement, but the playbook has no 'statements' section",
                key=True,
            )


def _statement_issues(statements: dict, out: _Issues) -> None:
    """The approval due time and unique checklist ids."""
    out.duration(statements.get("approval_due"), ("statements", "approval_due"))
    checklist = statements.get("checklist")
    seen: set[str] = set()
    for k, item in enumerate(checklist if isinstance(checklist, list) else []):
        cid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in seen:
            out.add(
                ("statements", "checklist", k, "id"),
                "duplicate-id",
                f"checklist item id {cid!r} is already used",
            )
        seen.add(cid)


def semantic_issues(data: Any, lines: LineMap, name: str) -> list[ValidationIssue]:
    """Checks the schema cannot express: ids, dependencies, cycles, durations, statements."""
    if not isinstance(data, dict):
        return []
    out = _Issues(name, lines)
    steps = _steps(data)
    index = _step_ids(steps, out)
    _step_issues(data, steps, index, out)
    if len(index) <= MAX_STEPS:  # more steps is a schema error; keeps the search shallow
        out.found += _cycle_issues(steps, index, lines, name)
    statements = data.get("statements")
    if isinstance(statements, dict):
        _statement_issues(statements, out)
    if data.get("triggers") == [] and data.get("default") is not True:
        out.add(
            ("triggers",),
            "no-trigger",
            "a playbook that is not the default needs a trigger, or it is never chosen",
        )
    return out.found


def check(data: Any, lines: LineMap, name: str) -> list[ValidationIssue]:
    """All schema and semantic issues, one per (path, rule), ordered by line."""
    found: dict[tuple[str, str], ValidationIssue] = {}
    for issue in schema_issues(data, lines, name) + semantic_issues(data, lines, name):
        found.setdefault((issue.path, issue.rule), issue)
    return sorted(found.values(), key=lambda issue: (issue.line, issue.rule))


def content_hash(data: Any) -> str:
    """sha256 hex of the canonical JSON of the parsed content (comments/layout don't count)."""
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _due(value: Any) -> Due:
    if isinstance(value, str):
        return Due(parse_duration(value), "opened")
    return Due(parse_duration(value["after"]), value.get("from", "opened"))


def build(data: dict[str, Any], lines: LineMap, name: str, text: str) -> Playbook:
    """The typed Playbook for data that passed `check`."""
    triggers = tuple(
        Trigger(
            t.get("severity_at_least"),
            tuple(t.get("monitors", ())),
            tuple(t.get("tags", ())),
            lines.line(("triggers", k)),
        )
        for k, t in enumerate(data["triggers"])
    )
    steps = tuple(
        Step(
            id=s["id"],
            title=s["title"],
            instructions=s["instructions"],
            owner=s["owner"],
            due=_due(s["due"]),
            depends_on=tuple(s.get("depends_on", ())),
            optional=s.get("optional", False),
            needs_approved_statement=s.get("needs_approved_statement", False),
            notify=s.get("notify", False),
            line=lines.line(("steps", i)),
        )
        for i, s in enumerate(data["steps"])
    )
    policy = None
    if "statements" in data:
        st = data["statements"]
        policy = StatementPolicy(
            approvals=tuple(st["approvals"]),
            checklist=tuple(ChecklistItem(c["id"], c["text"]) for c in st["checklist"]),
            approval_due=parse_duration(st["approval_due"]) if "approval_due" in st else None,
        )
    return Playbook(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        description=data["description"],
        triggers=triggers,
        page=tuple(data["page"]),
        steps=steps,
        default=data.get("default", False),
        statements=policy,
        source=name,
        source_text=text,
        content_hash=content_hash(data),
    )
