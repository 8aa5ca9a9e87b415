"""`firebreak playbooks validate`: one `file:line: rule: message` per issue, exit 1 on any."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from service.playbooks.validate_cli import validate_command

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FIXTURES = HERE / "fixtures"


def run(*paths: Path | str):
    return CliRunner().invoke(validate_command, [str(p) for p in paths])


def test_shipped_folder_is_valid() -> None:
    result = run(ROOT / "playbooks")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")
    assert "negative-firestorm v1 (default)" in result.output


def test_valid_files_pass_with_summary() -> None:
    result = run(FIXTURES / "valid" / "minimal.yaml", FIXTURES / "valid" / "with-statements.yaml")
    assert result.exit_code == 0
    assert result.output == "OK: 2 playbook(s) valid: minimal v1, with-statements v3 (default)\n"


def test_each_issue_is_printed_as_file_line_rule() -> None:
    bad = FIXTURES / "invalid" / "unknown-role.yaml"
    cycle = FIXTURES / "invalid" / "dependency-cycle.yaml"
    result = run(bad, FIXTURES / "valid" / "minimal.yaml", cycle)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{bad}:11: unknown-role: steps[0].owner: 'hr' is not a role")
    assert lines[1].startswith(f"{cycle}:19: dependency-cycle: ")
    assert len(lines) == 2
    assert "2 issue(s) found; 1 playbook(s) valid." in result.stderr


def test_folder_with_invalid_files_fails() -> None:
    result = run(FIXTURES / "unsafe")
    assert result.exit_code == 1
    rules = sorted(line.split(": ")[1] for line in result.stdout.splitlines())
    assert rules == ["duplicate-key", "merge-key", "too-many-aliases", "unsafe-tag"]


def test_missing_path_is_a_usage_error() -> None:
    assert run("does/not/exist.yaml").exit_code == 2
    assert run().exit_code == 2


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.playbooks.validate_cli",
            "playbooks",
            "tests/playbooks/fixtures/invalid/bad-duration.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == (
        "tests/playbooks/fixtures/invalid/bad-duration.yaml:12: bad-duration: steps[0].due: "
        "'15 minutes' is not a duration: use 15m, 2h, 1h30m, 1d or ISO 8601 such as PT15M\n"
    )
