"""One launcher of the whole stack on this machine, for the demo and the benchmarks.

A gunicorn web process and `firebreak` commands (RQ workers, the reconciler) as child
processes sharing one set of settings, started once the database is migrated and ready once
/readyz answers; stopped with SIGTERM (killed if they linger) when the `with` block ends, also
when the launching script itself gets SIGTERM:

    stack = Stack({"FIREBREAK_DATABASE_URL": ..., "FIREBREAK_REDIS_URL": ...}, log=path)
    stack.prepare()                       # flush the Redis db, migrate the database
    token = stack.create_user("Ada", "admin", token_name="demo").token
    with stack:                           # started and ready
        requests.get(f"{stack.base}/api/v1/monitors", ...)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


class StackError(SystemExit):
    """The stack could not be set up or started: the script stops with this message."""


@dataclass(frozen=True)
class User:
    """A user made with `firebreak users create`, and their token if one was issued."""

    id: int
    token: str | None


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exit_143(*_: Any) -> None:
    sys.exit(143)


def exit_on_sigterm() -> Any:
    """Make SIGTERM (kill, pkill) stop the script like Ctrl-C stops it.

    SystemExit(143) unwinds the `with` and `finally` blocks, so the child processes are stopped
    too. Returns the previous handler (None off the main thread, where none can be set).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _exit_143)


class Stack:
    """gunicorn and `firebreak` commands (default: one RQ worker) with the given settings."""

    def __init__(
        self,
        settings: Mapping[str, str],
        *,
        log: Path,
        port: int = 0,
        commands: Sequence[Sequence[str]] = (("worker",),),
        append_log: bool = True,
        ready_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        #: the processes' environment: this one's, the public URL, then the settings
        self.env = {**os.environ, "FIREBREAK_PUBLIC_URL": self.base, **settings}
        self.log_path = log
        self.commands = [list(c) for c in commands]
        self.append_log = append_log
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.procs: list[subprocess.Popen] = []
        self._log: IO[str] | None = None
        self._previous_sigterm: Any = None

    def cli(self, *args: str) -> str:
        """Run the firebreak CLI with the stack's settings; its output."""
        out = subprocess.run(
            [str(BIN / "firebreak"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise StackError(f"firebreak {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def prepare(self) -> None:
        """Flush the Redis db and migrate the database (the caller empties it first if need be)."""
        import redis

        redis.Redis.from_url(self.env["FIREBREAK_REDIS_URL"]).flushdb()
        self.cli("db", "upgrade")

    def create_user(
        self, name: str, roles: str, *, token_name: str | None = None, phone: str | None = None
    ) -> User:
        """A user with these roles, a token if token_name is given, and a verified phone."""
        args = ["users", "create", "--name", name, "--roles", roles]
        if token_name:
            args += ["--token-name", token_name]
        if phone:
            args += ["--phone", phone, "--phone-verified"]
        out = self.cli(*args)
        token = out.strip().splitlines()[-1].split(": ")[-1] if token_name else None
        return User(int(out.split()[1].rstrip(":")), token)

    def start(self) -> None:
        """Start gunicorn and the commands; return once the web answers /readyz."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a" if self.append_log else "w")
        web = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
        for command in (
            [*web, "--bind", f"127.0.0.1:{self.port}"],
            *([str(BIN / "firebreak"), *c] for c in self.commands),
        ):
            self.procs.append(
                subprocess.Popen(
                    command, env=self.env, cwd=ROOT, stdout=self._log, stderr=self._log
                )
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        """Poll /readyz until it answers 200, for at most ready_timeout seconds."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise StackError(f"web did not become ready; see {self.log_path}")

    def stop(self) -> None:
        """Stop the processes gracefully (SIGTERM), killing those still up after stop_timeout."""
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Stack:
        self._previous_sigterm = exit_on_sigterm()
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None
