"""Shared fixtures: a real PostgreSQL (or SQLite for the smoke run) and a real Redis."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from service import create_app
from service.auth import service as auth
from service.auth.roles import Role
from service.cli import upgrade_database
from service.db import Base
from service.extensions import db, redis
from service.models import import_all

TEST_DATABASE_URL = os.environ.get(
    "FIREBREAK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("FIREBREAK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PUBLIC_URL = "https://firebreak.test"
IS_SQLITE = TEST_DATABASE_URL.startswith("sqlite")
# the suite runs as production does: with a secret key (apps and processes it starts inherit it)
os.environ.setdefault("FIREBREAK_SECRET_KEY", "test-secret")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """On the SQLite smoke run, keep only tests marked smoke."""
    if IS_SQLITE:
        items[:] = [i for i in items if i.get_closest_marker("smoke")]


def settings_for_tests(**extra: Any) -> dict[str, Any]:
    """Settings every test app uses."""
    return {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "PUBLIC_URL": PUBLIC_URL,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "TOKEN_LAST_USED_RESOLUTION_SECONDS": 0,
        **extra,
    }


@pytest.fixture(scope="session")
def _schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh schema built by the migrations, once per run."""
    import_all()
    settings = settings_for_tests()
    template = None
    if IS_SQLITE:
        workdir = tmp_path_factory.mktemp("sqlite")
        template = workdir / "template.db"
        settings["DATABASE_URL"] = f"sqlite:///{workdir / 'test.db'}"
    app = create_app(settings)
    with app.app_context():
        if IS_SQLITE:
            Path(settings["DATABASE_URL"].removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade_database(app)
        db.engine.dispose()
    if template is not None:
        shutil.copy(settings["DATABASE_URL"].removeprefix("sqlite:///"), template)
    yield {"settings": settings, "template": template}


@pytest.fixture(scope="session")
def app(_schema: dict[str, Any]) -> Flask:
    """The application under test."""
    return create_app(_schema["settings"])


def _tables() -> list[str]:
    return [t.name for t in reversed(Base.metadata.sorted_tables)]


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table and the Redis test db before each test that uses the app."""
    if "app" not in request.fixturenames:
        yield
        return
    _schema = request.getfixturevalue("_schema")
    app: Flask = request.getfixturevalue("app")
    # a fresh console outbox: it answers a repeated idempotency key ("pages-3") from its
    # memory, and page ids start again at 1 in every test
    app.extensions.pop("firebreak.sender", None)
    with app.app_context():
        redis.client.flushdb()
        if IS_SQLITE:
            db.engine.dispose()
            shutil.copy(_schema["template"], app.config["DATABASE_URL"].removeprefix("sqlite:///"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(_tables())} RESTART IDENTITY CASCADE"))
    yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client for the app."""
    return app.test_client()


class People:
    """Makes users with tokens and builds auth headers."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def make(self, *roles: Role, name: str | None = None, phone: str | None = None) -> dict:
        """A user with the roles and a token; returns id, name, token, headers."""
        with self.app.app_context(), db.transaction() as session:
            user = auth.create_user(
                session,
                name=name or "-".join(r.value for r in roles).title() or "Nobody",
                roles=set(roles),
                phone=phone,
            )
            _token, secret = auth.issue_token(session, user=user, name="test")
            info = {"id": user.id, "name": user.name, "token": secret}
        info["headers"] = {"Authorization": f"Bearer {secret}"}
        return info


@pytest.fixture
def people(app: Flask) -> People:
    """Factory of users with tokens."""
    return People(app)


@pytest.fixture
def admin(people: People) -> dict:
    """An admin user with a token."""
    return people.make(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def wolf(people: People) -> dict:
    """A Wolf (incident lead) with a token."""
    return people.make(Role.WOLF, name="Winston Wolf")


@pytest.fixture
def reviewer(people: People) -> dict:
    """A reviewer (read-only) with a token."""
    return people.make(Role.REVIEWER, name="Rita Reviewer")


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refused request changed nothing."""
    with app.app_context():
        out = {}
        with db.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                # a refused request may still note that its token was used
                cols = [c for c in table.columns if c.name != "last_used_at"]
                rows = conn.execute(select(*cols).order_by(*table.primary_key.columns))
                out[table.name] = [tuple(r) for r in rows]
        return out


@pytest.fixture
def unchanged(app: Flask) -> Iterator[Any]:
    """Call to record the state; the test then asserts `unchanged.check()` after bad requests."""

    class Guard:
        before: dict | None = None

        def mark(self) -> None:
            self.before = snapshot(app)

        def check(self) -> None:
            assert self.before is not None, "call mark() first"
            assert snapshot(app) == self.before

    yield Guard()


def tempdir() -> str:
    """A fresh temporary directory."""
    return tempfile.mkdtemp(prefix="firebreak-test-")


@pytest.fixture(autouse=True)
def _drains_do_not_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process drains stop as soon as no monitor is due (a deployed drain waits a moment
    for more); worker processes keep the deployed behaviour."""
    from service.detection import service as detection

    monkeypatch.setattr(detection, "DRAIN_LINGER_SECONDS", 0.0)


@pytest.fixture
def run_jobs(app: Flask):
    """Run every queued RQ job through a real (in-process) worker until the queues are empty."""
    from workers.runtime import make_worker

    def run() -> int:
        """Run until the queues are empty; how many jobs succeeded."""
        worker = make_worker(app, simple=True)
        succeeded = 0
        handle = worker.handle_job_success

        def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal succeeded
            succeeded += 1
            return handle(*args, **kwargs)

        worker.handle_job_success = counting  # type: ignore[method-assign]
        worker.work(burst=True, logging_level="WARNING")
        return succeeded

    return run


class FakeClock:
    """A settable clock for replays: every utcnow() in the service reads it."""

    def __init__(self, start: Any) -> None:
        self.now = start

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> Any:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    """Freeze the service clock at a minute boundary; advance it explicitly."""
    from datetime import UTC, datetime

    from service.db import set_clock

    start = datetime.now(UTC).replace(second=0, microsecond=0)
    fake = FakeClock(start)
    set_clock(fake)
    yield fake
    set_clock(None)
