"""`firebreak playbooks validate PATH...`: check playbook files or folders, one line per issue."""

from __future__ import annotations

from pathlib import Path

import click

from service.playbooks.format import PlaybookError, load_playbook, validate_folder
from service.playbooks.model import Playbook, ValidationIssue


def check_paths(paths: list[Path]) -> tuple[list[Playbook], list[ValidationIssue]]:
    """Validate each file or folder; return the valid playbooks and every issue."""
    playbooks: list[Playbook] = []
    issues: list[ValidationIssue] = []
    for path in paths:
        if path.is_dir():
            found, problems = validate_folder(path)
            playbooks.extend(found)
            issues.extend(problems)
            continue
        try:
            playbooks.append(load_playbook(path))
        except PlaybookError as exc:
            issues.extend(exc.issues)
    return playbooks, issues


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate_command(paths: tuple[Path, ...]) -> None:
    """Validate playbook YAML files or folders; exit 1 if any issue is found."""
    playbooks, issues = check_paths(list(paths))
    for issue in issues:
        click.echo(str(issue))
    if issues:
        click.echo(f"{len(issues)} issue(s) found; {len(playbooks)} playbook(s) valid.", err=True)
        raise click.exceptions.Exit(1)
    names = ", ".join(
        f"{pb.id} v{pb.version}" + (" (default)" if pb.default else "") for pb in playbooks
    )
    click.echo(f"OK: {len(playbooks)} playbook(s) valid: {names}")


if __name__ == "__main__":
    validate_command(prog_name="python -m service.playbooks.validate_cli")
