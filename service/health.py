"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from service.extensions import db, redis

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Any:
    """The process is alive."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> Any:
    """Database and Redis are reachable (503 otherwise)."""
    checks: dict[str, str] = {}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report any failure as not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        redis.client.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def require_dependencies() -> None:
    """Raise the connection error if the database or Redis is unreachable (start-up checks)."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    redis.client.ping()
