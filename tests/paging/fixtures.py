"""Paging fixtures: the Twilio stand-in, an app using the real SDK against it, contacts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.auth import service as auth
from service.auth.roles import Role
from service.db import utcnow
from service.extensions import db
from service.paging.models import EscalationPolicy, Page
from tests.conftest import PUBLIC_URL, TEST_DATABASE_URL, TEST_REDIS_URL, settings_for_tests
from tests.support.twilio_standin import TwilioStandIn, signed_webhook_headers

ROOT = Path(__file__).resolve().parents[2]
FROM_NUMBER = "+15005550006"


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    """A local Twilio-compatible API that records every request."""
    with TwilioStandIn() as s:
        yield s


def twilio_settings(standin: TwilioStandIn, **extra: Any) -> dict[str, Any]:
    """Settings of an app that pages through the real twilio SDK at the stand-in."""
    return settings_for_tests(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=standin.account_sid,
        TWILIO_AUTH_TOKEN=standin.auth_token,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_BASE_URL=standin.url,
        TWILIO_TIMEOUT_SECONDS=2,
        SMS_THROTTLE_SECONDS=0,
        **extra,
    )


@pytest.fixture
def tw_app(app: Flask, standin: TwilioStandIn) -> Flask:
    """The app (same database and Redis as `app`, which the suite cleans) paging via Twilio."""
    return create_app(twilio_settings(standin))


@pytest.fixture
def tw_jobs(tw_app: Flask):
    """Run queued jobs (not scheduled ones) with an in-process worker bound to tw_app."""
    from workers.runtime import make_worker

    def run() -> int:
        worker = make_worker(tw_app, simple=True)
        worker.work(burst=True, logging_level="WARNING")
        return worker.successful_job_count

    return run


def contact(app: Flask, name: str, roles: set[Role], phone: str, *, verified: bool = True) -> dict:
    """A user with a (verified) phone and a token."""
    with app.app_context(), db.transaction() as session:
        user = auth.create_user(session, name=name, roles=roles, phone=phone)
        if verified:
            user.phone_verified_at = utcnow()
        _t, secret = auth.issue_token(session, user=user, name="t")
        info = {"id": user.id, "name": name, "phone": phone, "token": secret}
    info["headers"] = {"Authorization": f"Bearer {secret}"}
    return info


def policy(
    app: Flask,
    levels: list[dict],
    *,
    notify: list[dict] | None = None,
    repeat: int = 0,
    key: str = "test",
    notify_resolved: bool = True,
) -> None:
    """A default escalation policy (written directly, so tests may use second-long delays)."""
    with app.app_context(), db.transaction() as session:
        session.add(
            EscalationPolicy(
                key=key,
                name=key,
                levels=levels,
                notify=notify or [],
                repeat=repeat,
                notify_resolved=notify_resolved,
                is_default=True,
            )
        )


def sms_webhook(client, body: str, from_: str, *, token: str, sign_url: str | None = None):
    """POST an inbound SMS as Twilio would, signed for the public URL (or `sign_url`)."""
    params = {
        "AccountSid": "AC" + "0" * 31 + "1",
        "From": from_,
        "To": FROM_NUMBER,
        "Body": body,
        "MessageSid": "SM" + str(time.time_ns()),
    }
    url = sign_url or f"{PUBLIC_URL}/webhooks/twilio/sms"
    return client.post(
        "/webhooks/twilio/sms", data=params, headers=signed_webhook_headers(token, url, params)
    )


def status_webhook(client, sid: str, status: str, *, token: str, error_code: str | None = None):
    """POST a delivery status callback as Twilio would (a call's, CA..., names CallSid and
    CallStatus)."""
    call = sid.startswith("CA")
    params = {
        "AccountSid": "AC" + "0" * 31 + "1",
        "CallSid" if call else "MessageSid": sid,
        "CallStatus" if call else "MessageStatus": status,
    }
    if error_code:
        params["ErrorCode"] = error_code
    url = f"{PUBLIC_URL}/webhooks/twilio/status"
    return client.post(
        "/webhooks/twilio/status", data=params, headers=signed_webhook_headers(token, url, params)
    )


def _children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


class WorkerProcess:
    """A real `firebreak worker` process (forking, with the RQ scheduler)."""

    def __init__(self, standin: TwilioStandIn, **extra_env: str) -> None:
        env = {
            **os.environ,
            "FIREBREAK_DATABASE_URL": TEST_DATABASE_URL,
            "FIREBREAK_REDIS_URL": TEST_REDIS_URL,
            "FIREBREAK_PUBLIC_URL": PUBLIC_URL,
            "FIREBREAK_SECRET_KEY": "test-secret",
            "FIREBREAK_SMS_BACKEND": "twilio",
            "FIREBREAK_TWILIO_ACCOUNT_SID": standin.account_sid,
            "FIREBREAK_TWILIO_AUTH_TOKEN": standin.auth_token,
            "FIREBREAK_TWILIO_FROM_NUMBER": FROM_NUMBER,
            "FIREBREAK_TWILIO_API_BASE_URL": standin.url,
            "FIREBREAK_TWILIO_TIMEOUT_SECONDS": "2",
            "FIREBREAK_SMS_THROTTLE_SECONDS": "0",
            "FIREBREAK_LOG_LEVEL": "warning",
            **extra_env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli_entry", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("FIREBREAK_TEST_WORKER_LOG", os.devnull), "a"),  # noqa: SIM115
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until this worker has registered with Redis and is idle."""
        import redis as _redis
        from rq import Worker

        conn = _redis.Redis.from_url(TEST_REDIS_URL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for w in Worker.all(connection=conn):
                if w.pid == self.proc.pid and w.get_state() == "idle":
                    return
            time.sleep(0.05)
        raise AssertionError(f"worker {self.proc.pid} did not start within {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (warm shutdown), or SIGKILL to the worker and its work horse at once."""
        if self.proc.poll() is None:
            if kill:  # the work horse first (RQ puts it in a session of its own), then the worker
                for child in _children(self.proc.pid):
                    os.kill(child, signal.SIGKILL)
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def worker_process(standin: TwilioStandIn) -> Iterator[Any]:
    """Start real worker processes on demand; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        w = WorkerProcess(standin, **env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy; return it (or fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


# --- a team, incidents, and what happened to them ------------------------------------------

WOLF, BACKUP, LEGAL = "+14155550101", "+14155550102", "+14155550103"


def team(app):
    wolf, backup = two_wolves(app)
    legal = contact(app, "Lena Legal", {Role.LEGAL}, LEGAL)
    return wolf, backup, legal


def two_wolves(app):
    """The Wolf and the backup, and no legal or comms: the shipped playbook's `page` roles
    then add no notices to a test about escalation alone."""
    wolf = contact(app, "Winston Wolf", {Role.WOLF}, WOLF)
    backup = contact(app, "Bea Backup", {Role.WOLF}, BACKUP)
    return wolf, backup


def declare(client, who, title="Exploding kettle video", severity="sev1"):
    resp = client.post(
        "/api/v1/incidents", json={"title": title, "severity": severity}, headers=who["headers"]
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["number"]


def pages(app, number=None):
    with app.app_context():
        query = select(Page).order_by(Page.id)
        if number is not None:
            query = query.where(Page.incident_id == number)
        return [
            (p.user.name, p.kind, p.channel, p.status, p.level) for p in db.session.scalars(query)
        ]


def kinds(client, who, number=1):
    events = client.get(f"/api/v1/incidents/{number}/timeline", headers=who["headers"]).get_json()
    return [e["kind"] for e in events["events"]]
