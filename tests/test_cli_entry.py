"""The `firebreak` console script: its own commands and version, one line for a bad setting or
an unreachable dependency (a traceback only with --debug)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from service.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def firebreak(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `firebreak ARGS` (as `python -m service.cli_entry`) with extra environment."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("FIREBREAK_")}
    full.update({"PYTHONPATH": str(ROOT), "FIREBREAK_SECRET_KEY": "k", **env})
    return subprocess.run(
        [sys.executable, "-m", "service.cli_entry", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd="/tmp",
        timeout=60,
    )


def test_version_is_firebreaks() -> None:
    out = firebreak("--version")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert out.returncode == 0 and out.stdout.strip() == f"firebreak {version}"


def test_help_lists_firebreaks_commands_and_every_setting_even_with_a_bad_one() -> None:
    out = firebreak("--help", FIREBREAK_MAX_BODY_BYTES="lots")
    assert out.returncode == 0, out.stderr
    for command in ("db", "users", "timeline", "worker", "reconcile", "mentions", "export"):
        assert f"\n  {command} " in out.stdout, command
    for flask_only in ("routes", "shell", "run"):
        assert f"\n  {flask_only} " not in out.stdout
    for name in SETTINGS:
        assert f"FIREBREAK_{name}" in out.stdout, name
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("env", "needle", "code"),
    [
        ({"FIREBREAK_MAX_BODY_BYTES": "lots"}, "FIREBREAK_MAX_BODY_BYTES", 2),
        ({"FIREBREAK_SECRET_KEY": ""}, "FIREBREAK_SECRET_KEY", 2),
        (
            {"FIREBREAK_REDIS_URL": "redis://127.0.0.1:1/0", "FIREBREAK_DATABASE_URL": "sqlite://"},
            "Redis is unreachable (FIREBREAK_REDIS_URL=redis://127.0.0.1:1/0)",
            1,
        ),
        (
            {"FIREBREAK_DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/none"},
            "the database is unreachable (FIREBREAK_DATABASE_URL=postgresql://nobody:***@",
            1,
        ),
    ],
)
def test_a_bad_setting_or_dependency_is_one_line(env, needle, code) -> None:
    out = firebreak("worker", "--burst", **env)
    assert out.returncode == code
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "pw@" not in out.stderr


def test_debug_shows_the_traceback() -> None:
    out = firebreak("--debug", "worker", "--burst", FIREBREAK_MAX_BODY_BYTES="lots")
    assert out.returncode != 0 and "Traceback" in out.stderr and "ConfigError" in out.stderr
