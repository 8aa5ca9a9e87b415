"""Load, validate and choose playbooks: the public API of the playbook format.

Loading is safe (see `safe_yaml`), validation is the shipped JSON Schema plus semantic
checks (see `checks`), and every problem is a `ValidationIssue` naming file, line and rule.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from service.playbooks.checks import build, check, schema
from service.playbooks.model import (
    DUE_ANCHORS,
    ROLES,
    SEVERITIES,
    ChecklistItem,
    Due,
    Playbook,
    PlaybookError,
    StatementPolicy,
    Step,
    Trigger,
    ValidationIssue,
    format_duration,
    parse_duration,
    severity_rank,
)
from service.playbooks.safe_yaml import MAX_BYTES, LineMap, load_yaml

__all__ = [
    "DUE_ANCHORS",
    "MAX_BYTES",
    "ROLES",
    "SEVERITIES",
    "ChecklistItem",
    "Due",
    "Playbook",
    "PlaybookError",
    "PlaybookRegistry",
    "StatementPolicy",
    "Step",
    "Trigger",
    "ValidationIssue",
    "choose_playbook",
    "format_duration",
    "load_playbook",
    "load_playbook_text",
    "parse_duration",
    "playbook_files",
    "schema",
    "validate_folder",
]

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class _Loaded:
    playbook: Playbook
    id_line: int
    default_line: int


def _load_text(text: str, name: str) -> _Loaded:
    data, lines = load_yaml(text, name)
    issues = check(data, lines, name)
    if issues:
        raise PlaybookError(issues)
    return _Loaded(build(data, lines, name, text), lines.line(("id",)), _line(lines, "default"))


def _line(lines: LineMap, key: str) -> int:
    return lines.line((key,), key=True)


def _read(path: Path) -> str:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            issue = ValidationIssue(name, 1, "file-too-large", f"{size} bytes; limit {MAX_BYTES}")
            raise PlaybookError([issue])
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PlaybookError(
            [ValidationIssue(name, 1, "unreadable", exc.strerror or str(exc))]
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PlaybookError([ValidationIssue(name, line, "bad-encoding", "not UTF-8")]) from None


def _load_path(path: Path) -> _Loaded:
    return _load_text(_read(path), str(path))


def load_playbook_text(text: str, name: str = "<string>") -> Playbook:
    """Validate YAML text and return its Playbook; raise PlaybookError listing every issue."""
    return _load_text(text, name).playbook


def load_playbook(path: str | Path) -> Playbook:
    """Load and validate one playbook file; raise PlaybookError listing every issue."""
    return _load_path(Path(path)).playbook


def playbook_files(folder: str | Path) -> list[Path]:
    """The playbook files (*.yaml, *.yml, not hidden) directly in `folder`, sorted by name."""
    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def _resolve(
    candidates: Iterable[_Loaded], incumbents: dict[str, Playbook]
) -> tuple[list[_Loaded], list[ValidationIssue]]:
    """Accept candidates whose id and default flag don't clash; earlier holders win."""

    def rank(item: _Loaded) -> tuple[bool, bool, str]:
        old = incumbents.get(item.playbook.source)
        return (old is None or old.id != item.playbook.id, old is None, item.playbook.source)

    accepted: list[_Loaded] = []
    issues: list[ValidationIssue] = []
    owners: dict[str, str] = {}
    default: str | None = None
    for item in sorted(candidates, key=rank):
        pb = item.playbook
        if pb.id in owners:
            issues.append(
                ValidationIssue(
                    pb.source,
                    item.id_line,
                    "duplicate-id",
                    f"id: playbook id {pb.id!r} is already used by {owners[pb.id]}",
                    "/id",
                )
            )
        elif pb.default and default is not None:
            issues.append(
                ValidationIssue(
                    pb.source,
                    item.default_line,
                    "multiple-defaults",
                    f"default: {default} is already the default playbook",
                    "/default",
                )
            )
        else:
            accepted.append(item)
            owners[pb.id] = pb.source
            default = pb.source if pb.default else default
    return accepted, issues


def _no_default(folder: Path, accepted: list[_Loaded]) -> list[ValidationIssue]:
    if accepted and not any(item.playbook.default for item in accepted):
        return [
            ValidationIssue(
                str(folder), 0, "no-default", "no playbook in the folder has 'default: true'"
            )
        ]
    return []


def _scan(folder: Path) -> tuple[dict[str, _Loaded], list[ValidationIssue]]:
    if not folder.is_dir():
        return {}, [ValidationIssue(str(folder), 0, "not-found", "not a folder")]
    loaded: dict[str, _Loaded] = {}
    issues: list[ValidationIssue] = []
    for path in playbook_files(folder):
        try:
            loaded[str(path)] = _load_path(path)
        except PlaybookError as exc:
            issues.extend(exc.issues)
    return loaded, issues


def validate_folder(folder: str | Path) -> tuple[tuple[Playbook, ...], tuple[ValidationIssue, ...]]:
    """Validate every playbook file in `folder`: (valid playbooks, all issues)."""
    folder = Path(folder)
    loaded, issues = _scan(folder)
    accepted, conflicts = _resolve(loaded.values(), {})
    issues += conflicts + _no_default(folder, accepted)
    playbooks = tuple(sorted((item.playbook for item in accepted), key=lambda p: p.id))
    return playbooks, tuple(issues)


def choose_playbook(
    playbooks: Iterable[Playbook],
    *,
    severity: str | None,
    monitor_key: str | None = None,
    tags: Iterable[str] = (),
) -> Playbook | None:
    """Pick the playbook for an incident; precedence is documented in docs/playbooks.md.

    Among playbooks with a matching trigger the most specific wins: a trigger naming the
    incident's monitor, then more matching tags, then the stricter severity threshold, then
    the smaller playbook id. With no match: the default playbook, else None.
    """
    if severity is not None:
        severity_rank(severity)
    wanted = frozenset(tag.lower() for tag in tags)
    pool = sorted(playbooks, key=lambda p: p.id)
    best: tuple[tuple[int, int, int], Playbook] | None = None
    for pb in pool:
        score = pb.match_score(severity, monitor_key, wanted)
        if score is not None and (best is None or score > best[0]):
            best = (score, pb)
    if best is not None:
        return best[1]
    return next((pb for pb in pool if pb.default), None)


class PlaybookRegistry:
    """The playbooks of one folder; `reload()` never replaces a valid playbook by an invalid one."""

    def __init__(self, folder: str | Path, *, load: bool = True) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._loaded: dict[str, _Loaded] = {}
        self._issues: tuple[ValidationIssue, ...] = ()
        self._stale: tuple[str, ...] = ()
        if load:
            self.reload()

    def reload(self) -> tuple[ValidationIssue, ...]:
        """Re-read the folder; keep the last valid version of any file that is now invalid."""
        with self._lock:
            previous = self._loaded
            fresh, issues = _scan(self.folder)
            for n, item in fresh.items():  # unchanged text: keep the very same object
                old = previous.get(n)
                if old is not None and old.playbook.source_text == item.playbook.source_text:
                    fresh[n] = old
            present = set(playbook_files(self.folder)) if self.folder.is_dir() else set()
            names = {str(p) for p in present}
            candidates = {n: fresh.get(n) or previous.get(n) for n in names}
            candidates = {n: item for n, item in candidates.items() if item is not None}
            incumbents = {n: item.playbook for n, item in previous.items()}
            conflicts: list[ValidationIssue] = []
            while True:
                accepted, found = _resolve(list(candidates.values()), incumbents)  # type: ignore[arg-type]
                conflicts += [issue for issue in found if issue not in conflicts]
                taken = {item.playbook.source for item in accepted}
                retry = [
                    n
                    for n in candidates
                    if n not in taken and n in previous and candidates[n] is not previous[n]
                ]
                if not retry:
                    break
                for n in retry:
                    candidates[n] = previous[n]
            issues += conflicts + _no_default(self.folder, accepted)
            self._loaded = {item.playbook.source: item for item in accepted}
            self._stale = tuple(
                sorted(n for n, item in self._loaded.items() if fresh.get(n) is not item)
            )
            self._issues = tuple(issues)
            return self._issues

    @property
    def issues(self) -> tuple[ValidationIssue, ...]:
        """The issues found by the last reload."""
        return self._issues

    @property
    def stale(self) -> tuple[str, ...]:
        """Files served from an earlier valid version because the current one is invalid."""
        return self._stale

    @property
    def playbooks(self) -> tuple[Playbook, ...]:
        """The loaded playbooks, sorted by id."""
        return tuple(sorted((i.playbook for i in self._loaded.values()), key=lambda p: p.id))

    def get(self, playbook_id: str) -> Playbook:
        """The loaded playbook with this id; KeyError if none."""
        for pb in self.playbooks:
            if pb.id == playbook_id:
                return pb
        raise KeyError(playbook_id)

    @property
    def default(self) -> Playbook | None:
        """The default playbook, if one is loaded."""
        return next((pb for pb in self.playbooks if pb.default), None)

    def choose(
        self, *, severity: str | None, monitor_key: str | None = None, tags: Iterable[str] = ()
    ) -> Playbook | None:
        """choose_playbook over the loaded playbooks."""
        return choose_playbook(
            self.playbooks, severity=severity, monitor_key=monitor_key, tags=tags
        )
