"""Benchmark harness: a real stack (gunicorn + RQ worker, PostgreSQL, Redis) on this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.stack import Stack as Launcher  # noqa: E402

BENCH_DB = os.environ.get(
    "FIREBREAK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/firebreak_bench"
)
BENCH_REDIS = os.environ.get("FIREBREAK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def empty_database() -> None:
    """Create the benchmark database if it is missing, and give it an empty public schema."""
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


class Stack(Launcher):
    """The whole stack (scripts/stack.py) on a fresh benchmark database and Redis db, with an
    admin, an ingest and a reviewer token, and every gunicorn worker process warmed up."""

    def __init__(
        self,
        *,
        web_workers: int = 2,
        threads: int = 4,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        settings = {
            "FIREBREAK_DATABASE_URL": BENCH_DB,
            "FIREBREAK_REDIS_URL": BENCH_REDIS,
            "FIREBREAK_SECRET_KEY": "bench",
            "FIREBREAK_LOG_LEVEL": "warning",
            "WEB_CONCURRENCY": str(web_workers),
            "GUNICORN_THREADS": str(threads),
            **(extra_env or {}),
        }
        super().__init__(
            settings,
            log=ROOT / "benchmarks" / "out" / "stack.log",
            commands=[["worker"]] * workers,
            stop_timeout=15,
        )
        self.tokens: dict[str, str] = {}

    def start(self) -> None:
        """A fresh, migrated database with the benchmark users; the processes, ready and warm."""
        empty_database()
        self.prepare()
        for role in ("admin", "ingest", "reviewer"):
            user = self.create_user(f"bench {role}", role, token_name="bench")
            self.tokens[role] = user.token or ""
        super().start()
        # warm every gunicorn worker process (imports, VADER lexicon)
        for _ in range(8):
            requests.get(f"{self.base}/api/v1/monitors", headers=self.headers("admin"), timeout=10)

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
