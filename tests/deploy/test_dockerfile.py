"""Static checks of the Dockerfile: a small hadolint-style rule set, parsed in Python.

No Docker daemon is needed. The parser understands comments, line continuations, parser
directives, JSON (exec) form and ARG defaults used in FROM lines.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

BUILD_TOOLS = {
    "build-essential",
    "gcc",
    "g++",
    "make",
    "cmake",
    "clang",
    "libc6-dev",
    "libpq-dev",
    "python3-dev",
    "pkg-config",
    "git",
}


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int

    def flags_and_rest(self) -> tuple[dict[str, str], str]:
        """Split leading --flag=value options (FROM --platform, COPY --from, RUN --mount)."""
        flags: dict[str, str] = {}
        rest = self.args
        while True:
            match = re.match(r"--([a-z-]+)(?:=(\S+))?\s+", rest)
            if not match:
                return flags, rest
            flags[match.group(1)] = match.group(2) or ""
            rest = rest[match.end() :]


@dataclass
class Stage:
    image: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_instructions(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped by Docker
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        logical = " ".join(part for part in buffer if part)
        buffer = []
        keyword, _, args = logical.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
    assert not buffer, "Dockerfile ends inside a line continuation"
    return instructions


def substitute(value: str, variables: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return variables.get(name, "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, value)


def parse_stages(instructions: list[Instruction]) -> tuple[dict[str, str], list[Stage]]:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "ARG" and not stages:
            name, _, default = ins.args.partition("=")
            global_args[name.strip()] = default.strip().strip('"')
        elif ins.keyword == "FROM":
            _, rest = ins.flags_and_rest()
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(substitute(parts[0], global_args), name, ins.line))
        elif stages:
            stages[-1].instructions.append(ins)
        else:
            pytest.fail(f"line {ins.line}: {ins.keyword} before the first FROM")
    return global_args, stages


def is_exec_form(args: str) -> bool:
    try:
        value = json.loads(args)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value) and bool(value)


def stage_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage.of("ENV"):
        for token in shlex.split(ins.args):
            if "=" in token:
                key, _, value = token.partition("=")
                env[key] = value
    return env


@pytest.fixture(scope="module")
def parsed() -> tuple[list[Instruction], dict[str, str], list[Stage]]:
    if not DOCKERFILE.is_file():
        pytest.skip("no Dockerfile")
    instructions = parse_instructions(DOCKERFILE.read_text(encoding="utf-8"))
    global_args, stages = parse_stages(instructions)
    return instructions, global_args, stages


@pytest.fixture(scope="module")
def stages(parsed) -> list[Stage]:
    return parsed[2]


@pytest.fixture(scope="module")
def final(stages) -> Stage:
    return stages[-1]


# ------------------------------------------------------------------------------------------
# the parser itself
# ------------------------------------------------------------------------------------------


def test_parser_handles_continuations_args_and_stages():
    text = (
        "# comment\n"
        "ARG V=3.11.9\n"
        "FROM python:${V}-slim AS a\n"
        "RUN echo one \\\n"
        "    # inline comment\n"
        "    && echo two\n"
        "FROM --platform=$BUILDPLATFORM python:$V-slim\n"
        'CMD ["python"]\n'
    )
    instructions = parse_instructions(text)
    assert [i.keyword for i in instructions] == ["ARG", "FROM", "RUN", "FROM", "CMD"]
    assert instructions[2].args == "echo one && echo two"
    global_args, parsed_stages = parse_stages(instructions)
    assert global_args == {"V": "3.11.9"}
    assert [(s.image, s.name) for s in parsed_stages] == [
        ("python:3.11.9-slim", "a"),
        ("python:3.11.9-slim", None),
    ]
    assert is_exec_form('["python"]') and not is_exec_form("python app.py")


# ------------------------------------------------------------------------------------------
# rules
# ------------------------------------------------------------------------------------------


def test_multi_stage_build(stages):
    assert len(stages) >= 2, "builder + runtime stages expected"
    assert stages[0].name, "the builder stage is named (FROM ... AS builder)"
    builder = stages[0]
    assert any("wheel" in ins.args for ins in builder.of("RUN")), "the builder builds wheels"
    final_stage = stages[-1]
    copies_from_builder = [
        ins
        for ins in final_stage.instructions
        if (ins.keyword == "COPY" and ins.flags_and_rest()[0].get("from") == builder.name)
        or (ins.keyword == "RUN" and f"from={builder.name}" in ins.args)
    ]
    assert copies_from_builder, "the final stage takes the builder's output"


def test_base_images_are_pinned_and_never_latest(stages):
    stage_names = {s.name for s in stages if s.name}
    for stage in stages:
        if stage.image in stage_names or stage.image == "scratch":
            continue
        if "@sha256:" in stage.image:
            continue
        image, _, tag = stage.image.rpartition(":")
        assert image and "/" not in tag, f"line {stage.line}: {stage.image} has no tag"
        assert tag != "latest", f"line {stage.line}: {stage.image} uses latest"
        # A full x.y.z version, not a floating "3.11" or "slim".
        assert re.match(r"^\d+\.\d+\.\d+", tag), f"line {stage.line}: {stage.image} is not pinned"


def test_final_stage_is_python_311_slim(final):
    image, _, tag = final.image.partition(":")
    assert image in ("python", "docker.io/library/python")
    assert tag.startswith("3.11.") and "-slim" in tag, final.image


def test_final_stage_runs_as_numeric_non_root_user(final):
    users = final.of("USER")
    assert users, "the final stage sets USER"
    user = users[-1].args.split(":")[0]
    assert user.isdigit(), f"USER should be numeric (runAsNonRoot checks need it): {user}"
    assert int(user) == 10001
    group = users[-1].args.partition(":")[2]
    assert not group or (group.isdigit() and int(group) != 0)
    # Nothing after USER switches back to root.
    last_user = final.instructions.index(users[-1])
    assert not any(i.keyword == "USER" for i in final.instructions[last_user + 1 :])


def test_no_build_tools_in_final_stage(final):
    for ins in final.of("RUN"):
        words = set(re.split(r"[\s;&|]+", ins.args))
        assert not ({"apt-get", "apt", "apk", "yum", "dnf"} & words and BUILD_TOOLS & words), (
            f"line {ins.line}: build tools installed in the final stage: {ins.args}"
        )
        assert not (BUILD_TOOLS & words and "install" in words), f"line {ins.line}: {ins.args}"


def test_apt_hygiene(stages):
    for stage in stages:
        for ins in stage.of("RUN"):
            if re.search(r"\bapt-get\b.*\binstall\b", ins.args):
                assert "--no-install-recommends" in ins.args, f"line {ins.line}"
                assert "rm -rf /var/lib/apt/lists" in ins.args, f"line {ins.line}"
            assert not re.search(r"\bapt-get\b.*\bupgrade\b", ins.args), f"line {ins.line}"


def test_pip_installs_use_no_cache_dir(stages):
    pip_runs = 0
    for stage in stages:
        for ins in stage.of("RUN"):
            for command in re.split(r"&&|;", ins.args):
                if re.search(r"\bpip3?\s+(install|wheel)\b", command):
                    pip_runs += 1
                    assert "--no-cache-dir" in command, f"line {ins.line}: {command.strip()}"
    assert pip_runs >= 2


def test_copy_not_add(parsed):
    instructions = parsed[0]
    adds = [ins for ins in instructions if ins.keyword == "ADD"]
    assert not adds, f"use COPY, not ADD (lines {[a.line for a in adds]})"


def test_exec_form_cmd_and_entrypoint(parsed):
    instructions = parsed[0]
    for ins in instructions:
        if ins.keyword in ("CMD", "ENTRYPOINT"):
            assert is_exec_form(ins.args), f"line {ins.line}: {ins.keyword} must be exec form"


def test_default_command_is_the_web_server(final):
    cmds = final.of("CMD")
    assert cmds
    assert json.loads(cmds[-1].args) == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    # No ENTRYPOINT, so `firebreak worker --with-scheduler` works as the container command.
    assert not final.of("ENTRYPOINT")


def test_runtime_environment(final):
    env = stage_env(final)
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("FIREBREAK_PLAYBOOKS_DIR") == "/app/playbooks"
    assert env.get("PORT") == "8000"
    # The only writable place in Kubernetes is the /tmp emptyDir.
    assert env.get("HOME") == "/tmp" and env.get("TMPDIR") == "/tmp"
    exposed = " ".join(ins.args for ins in final.of("EXPOSE")).split()
    assert exposed == ["8000"]
    workdirs = final.of("WORKDIR")
    assert workdirs and workdirs[-1].args == "/app"


def test_final_stage_ships_migrations_and_playbooks(final):
    copied = " ".join(ins.args for ins in final.of("COPY"))
    for path in ("alembic.ini", "migrations/", "playbooks/", "gunicorn.conf.py"):
        assert path in copied, f"{path} is not copied into the image"


def test_no_healthcheck_and_no_secrets(parsed):
    instructions = parsed[0]
    for ins in instructions:
        if ins.keyword in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|TOKEN|SECRET_KEY)\s*=\s*\S", ins.args, re.I), (
                f"line {ins.line}: credentials must not be baked into the image"
            )
    # Kubernetes probes /healthz and /readyz; a Docker HEALTHCHECK would only add noise.
    assert not [i for i in instructions if i.keyword == "HEALTHCHECK"]


def test_dockerignore_keeps_the_context_small():
    if not DOCKERIGNORE.is_file():
        pytest.fail(".dockerignore is missing")
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # An allow-list: exclude everything, then re-include what the Dockerfile copies.
    assert lines[0] == "*"
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert {"pyproject.toml", "service", "workers", "migrations", "playbooks"} <= included
    assert not included & {".git", ".venv", "tests", "helm"}
