"""The validation CLI names file, line and rule for every rule, unsafe YAML included."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from service.playbooks.safe_yaml import MAX_BYTES
from service.playbooks.validate_cli import validate_command

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted((FIXTURES / "invalid").glob("*.yaml")) + sorted((FIXTURES / "unsafe").glob("*.yaml"))
RULES = {
    "unknown-dependency": "unknown-dependency",
    "dependency-cycle": "dependency-cycle",
    "duplicate-id": "duplicate-id",
    "bad-duration": "bad-duration",
    "unknown-role": "unknown-role",
    "unsafe-tag": "unsafe-tag",
    "too-many-aliases": "alias",
}


def run(*paths: Path | str):
    return CliRunner().invoke(validate_command, [str(p) for p in paths])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_cli_reports_file_line_rule_for_each_fixture(path: Path) -> None:
    result = run(path)
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    name, line, rule, _message = first.split(":", 3)
    assert name == str(path) and int(line) >= 1 and rule.strip()
    if path.stem in RULES:
        assert RULES[path.stem] in rule


def test_cli_refuses_a_huge_file(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("id: x\n" + "# padding\n" * (MAX_BYTES // 10 + 10))
    result = run(huge)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{huge}:1: file-too-large:")
