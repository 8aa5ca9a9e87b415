"""The README and docs link only to files that exist inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_and_docs_link_only_inside_the_repository() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
            assert path.exists(), f"{doc.name} links to a missing file: {target}"


def test_readme_configuration_table_lists_every_setting() -> None:
    from service.config import SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") : readme.index("## Running it yourself")]
    rows = [line for line in table.splitlines() if line.startswith("| `FIREBREAK_")]
    listed = set()
    for row in rows:
        first = row.split("|")[1]
        names = re.findall(r"`(FIREBREAK_[A-Z_]+|_[A-Z_]+)`", first)
        listed.update(n if n.startswith("FIREBREAK_") else "FIREBREAK_TWILIO" + n for n in names)
    missing = sorted(f"FIREBREAK_{n}" for n in SETTINGS if f"FIREBREAK_{n}" not in listed)
    assert not missing, f"README configuration table misses {missing}"


def test_deploy_doc_agrees_with_the_worker_command() -> None:
    from service.cli import worker_command

    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    scheduler = next(p for p in worker_command.params if p.name == "with_scheduler")
    assert scheduler.default is True
    assert "firebreak worker` does by default" in deploy
