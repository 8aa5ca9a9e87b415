"""Benchmark harness: a real stack (gunicorn + RQ worker, PostgreSQL, Redis) on this machine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get(
    "FIREBREAK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/firebreak_bench"
)
BENCH_REDIS = os.environ.get("FIREBREAK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def fresh_database() -> None:
    """Drop and re-create the benchmark schema, migrated, and flush the Redis db."""
    import redis
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(BENCH_DB)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("select 1 from pg_database where datname=:d"), {"d": url.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'create database "{url.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    engine.dispose()
    redis.Redis.from_url(BENCH_REDIS).flushdb()


class Stack:
    """gunicorn and RQ worker processes against the benchmark database and Redis."""

    def __init__(
        self,
        *,
        web_workers: int = 2,
        threads: int = 4,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FIREBREAK_DATABASE_URL": BENCH_DB,
            "FIREBREAK_REDIS_URL": BENCH_REDIS,
            "FIREBREAK_PUBLIC_URL": self.base,
            "FIREBREAK_SECRET_KEY": "bench",
            "FIREBREAK_LOG_LEVEL": "warning",
            "WEB_CONCURRENCY": str(web_workers),
            "GUNICORN_THREADS": str(threads),
            **(extra_env or {}),
        }
        self.workers = workers
        self.procs: list[subprocess.Popen] = []
        self.tokens: dict[str, str] = {}

    def cli(self, *args: str) -> str:
        """Run the firebreak CLI against the benchmark stack."""
        out = subprocess.run(
            [str(ROOT / ".venv/bin/firebreak"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def __enter__(self) -> Stack:
        fresh_database()
        self.cli("db", "upgrade")
        for role in ("admin", "ingest", "reviewer"):
            out = self.cli(
                "users",
                "create",
                "--name",
                f"bench {role}",
                "--roles",
                role,
                "--token-name",
                "bench",
            )
            self.tokens[role] = out.strip().splitlines()[-1].split(": ")[-1]
        (ROOT / "benchmarks" / "out").mkdir(exist_ok=True)
        log = open(ROOT / "benchmarks" / "out" / "stack.log", "a")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/gunicorn"),
                    "-c",
                    "gunicorn.conf.py",
                    "wsgi:app",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        )
        for _ in range(self.workers):
            self.procs.append(
                subprocess.Popen(
                    [str(ROOT / ".venv/bin/firebreak"), "worker"],
                    env=self.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("stack did not become ready")
        # warm every gunicorn worker process (imports, VADER lexicon)
        for _ in range(8):
            requests.get(f"{self.base}/api/v1/monitors", headers=self.headers("admin"), timeout=10)
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()

    def headers(self, role: str) -> dict[str, str]:
        """Authorization header for a role's token."""
        return {"Authorization": f"Bearer {self.tokens[role]}", "Content-Type": "application/json"}

    def create_monitor(self, key: str, **extra: Any) -> None:
        """Create a monitor."""
        resp = requests.post(
            f"{self.base}/api/v1/monitors",
            json={"key": key, "name": key, **extra},
            headers=self.headers("admin"),
            timeout=10,
        )
        resp.raise_for_status()


def load_texts() -> list[str]:
    """Tweet-like texts from the shared sentiment data set (for realistic VADER costs)."""
    path = ROOT.parent / "shared" / "data" / "sentiment" / "tweets_GroundTruth.txt"
    with path.open(encoding="utf-8") as fh:
        return [line.rstrip("\r\n").split("\t", 2)[2] for line in fh if line.strip()]
