"""Typed, immutable playbook objects, durations, severities and validation issues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from service.auth.roles import READERS
from service.incidents.models import Severity

#: the people's roles a playbook may name (the service account role `ingest` is not one)
ROLES: tuple[str, ...] = tuple(role.value for role in READERS)
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)  # most severe first
DUE_ANCHORS: tuple[str, ...] = ("opened", "ready")
MAX_DURATION = timedelta(days=30)

_COMPACT = re.compile(r"(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_ISO = re.compile(r"P(?=\d|T\d)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?)?")


def parse_duration(text: str) -> timedelta:
    """Parse `15m`, `2h`, `1h30m`, `1d` or ISO 8601 `PT15M`, `P1DT2H`; raise ValueError if bad."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration")
    match = _COMPACT.fullmatch(text) or _ISO.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: use 15m, 2h, 1h30m, 1d or ISO 8601 such as PT15M"
        )
    days, hours, minutes = (int(part or 0) for part in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} is zero: a duration must be longer than zero")
    if value > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than the 30 day maximum")
    return value


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the compact form, e.g. `1h30m`."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "")
    return text + (f"{minutes}m" if minutes or not text else "")


def severity_rank(severity: str) -> int:
    """1 for sev1 (most severe) .. 4 for sev4; ValueError for anything else."""
    try:
        return SEVERITIES.index(severity) + 1
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; expected one of {SEVERITIES}") from None


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in one playbook file: where (file, line, JSON pointer), which rule, why."""

    file: str
    line: int
    rule: str
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


class PlaybookError(ValueError):
    """A playbook could not be loaded; `issues` says every reason."""

    def __init__(self, issues: list[ValidationIssue] | tuple[ValidationIssue, ...]) -> None:
        self.issues: tuple[ValidationIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass(frozen=True, slots=True)
class Due:
    """A step's deadline: `after` this long from the incident opening or from the step's ready."""

    after: timedelta
    anchor: str = "opened"  # "opened": incident opened; "ready": all depends_on done/skipped


@dataclass(frozen=True, slots=True)
class Trigger:
    """Conditions that select a playbook; every condition given must hold."""

    severity_at_least: str | None = None
    monitors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    line: int = 0

    def match_score(
        self, severity: str | None, monitor_key: str | None, tags: frozenset[str]
    ) -> tuple[int, int, int] | None:
        """Specificity of a match (monitor named, tags matched, severity strictness) or None."""
        strictness = 0
        if self.severity_at_least is not None:
            if severity is None or severity_rank(severity) > severity_rank(self.severity_at_least):
                return None
            strictness = 5 - severity_rank(self.severity_at_least)
        if self.monitors and monitor_key not in self.monitors:
            return None
        matched = len(tags.intersection(self.tags))
        if self.tags and not matched:
            return None
        return (1 if self.monitors else 0, matched, strictness)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a playbook."""

    id: str
    title: str
    instructions: str
    owner: str
    due: Due
    depends_on: tuple[str, ...] = ()
    optional: bool = False
    needs_approved_statement: bool = False
    notify: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One question the approver of a statement ticks."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class StatementPolicy:
    """What a public statement needs before it may be published."""

    approvals: tuple[str, ...]
    checklist: tuple[ChecklistItem, ...]
    approval_due: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Playbook:
    """A validated playbook; `content_hash` is the sha256 of its canonical JSON content."""

    id: str
    version: int
    title: str
    description: str
    triggers: tuple[Trigger, ...]
    page: tuple[str, ...]
    steps: tuple[Step, ...]
    default: bool = False
    statements: StatementPolicy | None = None
    source: str = "<string>"
    source_text: str = field(default="", repr=False)
    content_hash: str = ""

    def step(self, step_id: str) -> Step:
        """The step with this id; KeyError if none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def ready_steps(self, finished: frozenset[str] | set[str]) -> tuple[Step, ...]:
        """Steps not in `finished` (done or skipped) whose dependencies are all finished."""
        return tuple(
            s for s in self.steps if s.id not in finished and set(s.depends_on) <= set(finished)
        )

    def match_score(
        self, severity: str | None, monitor_key: str | None, tags: frozenset[str]
    ) -> tuple[int, int, int] | None:
        """The best specificity among this playbook's triggers, or None if none matches."""
        scores = [t.match_score(severity, monitor_key, tags) for t in self.triggers]
        found = [score for score in scores if score is not None]
        return max(found) if found else None
