"""Playbook format: safe loading, every validation rule, selection and the registry."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from service.playbooks.format import (
    MAX_BYTES,
    Playbook,
    PlaybookError,
    PlaybookRegistry,
    Trigger,
    choose_playbook,
    load_playbook,
    load_playbook_text,
    parse_duration,
    schema,
    validate_folder,
)

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SHIPPED = HERE.parent.parent / "playbooks"
MINIMAL = (FIXTURES / "valid" / "minimal.yaml").read_text()


def expected_line(path: Path) -> int:
    """The line a fixture marks with `# expect`."""
    lines = path.read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if "# expect" in text)


def issues_of(path: Path | str, text: str | None = None) -> list:
    """The issues raised for a file (or for text under that name)."""
    with pytest.raises(PlaybookError) as caught:
        if text is None:
            load_playbook(path)
        else:
            load_playbook_text(text, str(path))
    assert str(caught.value)  # the message lists the issues
    return list(caught.value.issues)


def only_issue(path: Path | str, text: str | None = None):
    found = issues_of(path, text)
    assert len(found) == 1, found
    return found[0]


RULE_FIXTURES = sorted((FIXTURES / "invalid").glob("*.yaml")) + sorted(
    (FIXTURES / "unsafe").glob("*.yaml")
)


@pytest.mark.parametrize("path", RULE_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_rule_names_file_line_and_rule(path: Path) -> None:
    issue = only_issue(path)
    assert (issue.file, issue.line, issue.rule) == (str(path), expected_line(path), path.stem)
    assert str(issue).startswith(f"{path}:{expected_line(path)}: {path.stem}: ")


def test_issue_paths_are_json_pointers() -> None:
    assert only_issue(FIXTURES / "invalid" / "unknown-role.yaml").path == "/steps/0/owner"
    assert only_issue(FIXTURES / "invalid" / "dependency-cycle.yaml").path == (
        "/steps/1/depends_on/0"
    )


def test_cycle_message_shows_the_chain() -> None:
    issue = only_issue(FIXTURES / "invalid" / "dependency-cycle.yaml")
    assert "a -> c -> b -> a" in issue.message


def test_self_dependency_is_a_cycle() -> None:
    text = MINIMAL.replace("depends_on: [first]", "depends_on: [second]")
    issue = only_issue("self.yaml", text)
    assert (issue.rule, issue.line) == ("dependency-cycle", 20)


def test_several_issues_are_all_reported_in_line_order() -> None:
    text = MINIMAL.replace("owner: wolf", "owner: hr").replace("[first]", "[nope]")
    text = text.replace("due: 5m", "due: 0m")
    found = issues_of("many.yaml", text)
    assert [(i.line, i.rule) for i in found] == [
        (12, "unknown-role"),
        (13, "bad-duration"),
        (20, "unknown-dependency"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("PT15M", timedelta(minutes=15)),
        ("PT1H30M", timedelta(minutes=90)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P30D", timedelta(days=30)),
    ],
)
def test_durations_accepted(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15",
        "15 m",
        "15M",
        "pt15m",
        "PT",
        "P",
        "P1DT",
        "1m30h",
        "0m",
        "PT0M",
        "31d",
        "1.5h",
        "-5m",
        "15s",
    ],
)
def test_bad_durations_rejected_by_parser_and_file(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
    issue = only_issue("d.yaml", MINIMAL.replace("due: 5m", f"due: '{text}'"))
    assert (issue.line, issue.rule) == (13, "bad-duration")


def test_bad_approval_due_and_duplicate_checklist_id() -> None:
    text = (FIXTURES / "valid" / "with-statements.yaml").read_text()
    text = text.replace("approval_due: 45m", "approval_due: 0h")
    dup = "    - id: same\n      text: A?\n    - id: same\n"
    text = text.replace("    - id: front-page\n", dup)
    found = issues_of("s.yaml", text)
    assert [(i.line, i.rule) for i in found] == [(13, "bad-duration"), (17, "duplicate-id")]


def test_unknown_role_in_page_and_approvals() -> None:
    text = MINIMAL.replace("page: [wolf]", "page: [wolf, support]")
    issue = only_issue("p.yaml", text)
    assert (issue.line, issue.rule, issue.path) == (8, "unknown-role", "/page/1")
    text = (FIXTURES / "valid" / "with-statements.yaml").read_text()
    issue = only_issue("s.yaml", text.replace("approvals: [legal, comms]", "approvals: [hr]"))
    assert (issue.line, issue.rule, issue.path) == (12, "unknown-role", "/statements/approvals/0")


# --- unsafe YAML ------------------------------------------------------------------------


def test_oversized_file_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(MINIMAL + "#" * MAX_BYTES + "\n")
    issue = only_issue(big)
    assert (issue.file, issue.line, issue.rule) == (str(big), 1, "file-too-large")
    assert only_issue("big.yaml", big.read_text()).rule == "file-too-large"


@pytest.mark.parametrize(
    ("text", "rule", "line"),
    [
        ("id: x\ntitle: !include other.yaml\n", "unsafe-tag", 2),
        ("id: x\nsteps: !!set {a, b}\n", "unsafe-tag", 2),
        ("id: x\nversion: !!str 1\n", "unsafe-tag", 2),
        ("a: &a [*a]\n", "too-many-nodes", 1),
        ("a: &a [" + "1, " * 1100 + "]\nb: [" + "*a, " * 20 + "]\n", "too-many-nodes", 2),
        ("a: " + "[" * 200 + "]" * 200 + "\n", "too-deep", 1),
        ("a: [1, 2\nb: 3\n", "yaml-syntax", 2),
        ("a: 1\n---\nb: 2\n", "yaml-syntax", 2),
        ("", "empty-file", 1),
        ("1: x\n", "non-string-key", 1),
        ("yes: x\n", "non-string-key", 1),
        ("? [a, b]\n: x\n", "non-string-key", 1),
        ("id: x\nsteps:\n  - id: a\n    id: b\n", "duplicate-key", 4),
    ],
)
def test_unsafe_or_broken_yaml_refused(text: str, rule: str, line: int) -> None:
    issue = only_issue("u.yaml", text)
    assert (issue.rule, issue.line) == (rule, line), issue


def test_alias_bomb_refused_quickly() -> None:
    issue = only_issue(FIXTURES / "unsafe" / "too-many-aliases.yaml")
    assert "alias" in issue.message


def test_non_utf8_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"id: x\ntitle: caf\xe9\n")
    assert (only_issue(path).rule, only_issue(path).line) == ("bad-encoding", 2)


def test_a_few_anchors_are_fine() -> None:
    text = MINIMAL.replace("instructions: Do the first thing.", "instructions: &same Same.")
    text = text.replace("instructions: |\n      Then do **this**.\n", "instructions: *same\n")
    playbook = load_playbook_text(text)
    assert [s.instructions for s in playbook.steps] == ["Same.", "Same."]


# --- the typed result ----------------------------------------------------------------------


def test_loaded_playbook_is_typed_and_immutable() -> None:
    pb = load_playbook(FIXTURES / "valid" / "with-statements.yaml")
    assert (pb.id, pb.version, pb.default, pb.page) == (
        "with-statements",
        3,
        True,
        ("wolf", "legal"),
    )
    assert pb.triggers == (Trigger("sev3", ("acme-main",), ("firestorm",), line=7),)
    draft, extra = pb.steps
    assert draft.due.after == timedelta(hours=1) and draft.due.anchor == "opened"
    assert draft.needs_approved_statement and not draft.optional and draft.line == 18
    assert extra.optional and extra.depends_on == ("draft",) and extra.due.anchor == "opened"
    assert pb.statements is not None
    assert pb.statements.approvals == ("legal", "comms")
    assert pb.statements.approval_due == timedelta(minutes=45)
    assert pb.statements.checklist[0].id == "front-page"
    assert pb.step("extra") is extra and pb.ready_steps({"draft"}) == (extra,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pb.title = "changed"  # type: ignore[misc]
    minimal = load_playbook_text(MINIMAL, "m.yaml")
    assert minimal.statements is None and minimal.default is False
    assert minimal.steps[1].due.anchor == "ready" and minimal.steps[0].notify
    assert minimal.source == "m.yaml" and minimal.source_text == MINIMAL


def test_content_hash_ignores_layout_but_not_content() -> None:
    base = load_playbook_text(MINIMAL).content_hash
    assert len(base) == 64
    relaid = "# another comment\n" + MINIMAL.replace("page: [wolf]", "page:\n  - wolf")
    assert load_playbook_text(relaid).content_hash == base
    assert load_playbook_text(MINIMAL.replace("version: 1", "version: 2")).content_hash != base


def test_schema_is_valid_draft_2020_12_and_validates_shipped_yaml() -> None:
    Draft202012Validator.check_schema(schema())
    on_disk = json.loads((SHIPPED.parent / "service/playbooks/playbook.schema.json").read_text())
    assert on_disk == schema()


# --- shipped playbooks ------------------------------------------------------------------------


def test_shipped_playbooks_all_validate() -> None:
    playbooks, issues = validate_folder(SHIPPED)
    assert issues == ()
    assert len(playbooks) >= 3
    assert [pb.id for pb in playbooks if pb.default] == ["negative-firestorm"]
    for pb in playbooks:
        assert "wolf" in pb.page and len(pb.steps) >= 8
        assert pb.statements and "front-page" in {c.id for c in pb.statements.checklist}
        assert any(s.needs_approved_statement for s in pb.steps)
        assert any(s.notify for s in pb.steps)


def test_shipped_selection() -> None:
    playbooks, _ = validate_folder(SHIPPED)

    def pick(**kw: object) -> str:
        chosen = choose_playbook(playbooks, **kw)  # type: ignore[arg-type]
        assert chosen is not None
        return chosen.id

    assert pick(severity="sev1") == "negative-firestorm"
    assert pick(severity="sev4") == "negative-firestorm"  # the default
    assert pick(severity="sev1", tags=["Complaints"]) == "customer-service-surge"
    assert pick(severity="sev3", tags=["executive"]) == "executive-post"


# --- choose_playbook precedence ----------------------------------------------------------------


def pb(pid: str, *triggers: Trigger, default: bool = False) -> Playbook:
    return Playbook(pid, 1, pid, pid, triggers, ("wolf",), (), default=default)


def test_choose_precedence_monitor_then_tags_then_severity_then_id() -> None:
    by_sev = pb("by-sev", Trigger(severity_at_least="sev2"))
    by_sev_strict = pb("by-sev-strict", Trigger(severity_at_least="sev1"))
    by_tag = pb("by-tag", Trigger(tags=("outage",)))
    by_two_tags = pb("by-two-tags", Trigger(tags=("outage", "billing")))
    by_monitor = pb("by-monitor", Trigger(monitors=("acme",)))
    fallback = pb("zz-default", Trigger(tags=("never",)), default=True)
    pool = [fallback, by_sev, by_sev_strict, by_tag, by_two_tags, by_monitor]

    def pick(**kw: object) -> str | None:
        chosen = choose_playbook(pool, **kw)  # type: ignore[arg-type]
        return chosen.id if chosen else None

    assert pick(severity="sev1", monitor_key="acme", tags=["outage", "billing"]) == "by-monitor"
    assert pick(severity="sev1", tags=["outage", "billing"]) == "by-two-tags"
    assert pick(severity="sev1", tags=["outage"]) in {"by-tag", "by-two-tags"}
    assert pick(severity="sev4", tags=["outage"]) == "by-tag"  # tie on score: smaller id
    assert pick(severity="sev1") == "by-sev-strict"
    assert pick(severity="sev2") == "by-sev"
    assert pick(severity="sev3") == "zz-default"
    assert pick(severity=None, monitor_key="other") == "zz-default"
    assert choose_playbook([by_sev], severity="sev4") is None


def test_trigger_conditions_are_all_required() -> None:
    both = pb("both", Trigger(severity_at_least="sev2", monitors=("acme",)))
    assert choose_playbook([both], severity="sev1", monitor_key="acme") is both
    assert choose_playbook([both], severity="sev3", monitor_key="acme") is None
    assert choose_playbook([both], severity="sev1", monitor_key="other") is None


def test_choose_rejects_unknown_severity() -> None:
    with pytest.raises(ValueError, match="unknown severity"):
        choose_playbook([], severity="critical")


# --- folders and the registry ----------------------------------------------------------------


def variant(pid: str, *, version: int = 1, default: bool = False) -> str:
    """The minimal playbook under another id/version, optionally the default."""
    text = MINIMAL.replace("id: minimal", f"id: {pid}").replace("version: 1", f"version: {version}")
    return text + ("default: true\n" if default else "")


def test_validate_folder_reports_duplicate_ids_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(variant("one", default=True))
    (tmp_path / "b.yaml").write_text(variant("one"))
    (tmp_path / "c.yml").write_text(variant("three", default=True))
    (tmp_path / "d.yaml").write_text("id: [broken\n")
    (tmp_path / "notes.txt").write_text("not a playbook")
    playbooks, issues = validate_folder(tmp_path)
    assert [pb.id for pb in playbooks] == ["one"]
    assert [(Path(i.file).name, i.line, i.rule) for i in issues] == [
        ("d.yaml", 2, "yaml-syntax"),
        ("b.yaml", 2, "duplicate-id"),
        ("c.yml", 23, "multiple-defaults"),
    ]
    assert "a.yaml" in issues[1].message


def test_validate_folder_needs_a_default(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(variant("one"))
    playbooks, issues = validate_folder(tmp_path)
    assert len(playbooks) == 1
    assert [(i.file, i.line, i.rule) for i in issues] == [(str(tmp_path), 0, "no-default")]
    assert validate_folder(tmp_path / "missing")[1][0].rule == "not-found"


def test_registry_keeps_last_valid_version(tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    path.write_text(variant("main", default=True))
    registry = PlaybookRegistry(tmp_path)
    assert registry.issues == () and registry.stale == ()
    first = registry.get("main")

    path.write_text(variant("main", version=2, default=True).replace("owner: wolf", "owner: hr"))
    issues = registry.reload()
    assert [(i.file, i.line, i.rule) for i in issues] == [(str(path), 12, "unknown-role")]
    assert registry.get("main") is first and registry.stale == (str(path),)
    assert registry.choose(severity="sev1") is first

    path.write_text(variant("main", version=3, default=True))
    assert registry.reload() == ()
    assert registry.get("main").version == 3 and registry.stale == ()
    assert registry.get("main").content_hash != first.content_hash

    path.unlink()
    registry.reload()
    assert registry.playbooks == () and registry.default is None
    with pytest.raises(KeyError):
        registry.get("main")


def test_registry_never_loads_a_file_that_was_never_valid(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(variant("ok", default=True))
    (tmp_path / "bad.yaml").write_text(variant("bad").replace("due: 5m", "due: soon"))
    registry = PlaybookRegistry(tmp_path)
    assert [pb.id for pb in registry.playbooks] == ["ok"]
    assert [(Path(i.file).name, i.rule) for i in registry.issues] == [("bad.yaml", "bad-duration")]


def test_registry_prefers_the_incumbent_on_conflicts(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(variant("shared", default=True))
    (tmp_path / "n.yaml").write_text(variant("other"))
    registry = PlaybookRegistry(tmp_path)
    incumbent = registry.get("shared")
    # a newcomer sorting first may not take the id; an existing file may not take the default
    (tmp_path / "a.yaml").write_text(variant("shared", version=9))
    (tmp_path / "n.yaml").write_text(variant("other", version=2, default=True))
    issues = registry.reload()
    assert registry.get("shared") is incumbent
    assert registry.get("other").version == 1 and registry.default is incumbent
    assert sorted((Path(i.file).name, i.rule) for i in issues) == [
        ("a.yaml", "duplicate-id"),
        ("n.yaml", "multiple-defaults"),
    ]


def test_documented_example_validates() -> None:
    doc = (SHIPPED.parent / "docs" / "playbooks.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    pb = load_playbook_text(example, "docs/playbooks.md")
    assert pb.id == "product-recall" and pb.steps[1].due.anchor == "ready"
