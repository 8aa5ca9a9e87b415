"""The console backend's messages arrive: each send reports `delivered` (a call `completed`)
through the status callback's own path, with the same timeline events as a Twilio delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.db import utcnow
from service.extensions import db
from service.paging import statuses
from service.paging.models import Page
from service.paging.reconcile import sweep
from tests.conftest import settings_for_tests
from tests.paging.fixtures import WOLF, declare, pages, policy, status_webhook, two_wolves

#: a delivered SMS page on the timeline, whichever backend sent it
DELIVERED_KINDS = ["page.queued", "page.sent", "page.status"]
TOKEN = "console-test-token"


@pytest.fixture
def console_app(app: Flask) -> Flask:
    """The app on the console backend (the default), taking signed webhooks too."""
    return create_app(settings_for_tests(SMS_BACKEND="console", TWILIO_AUTH_TOKEN=TOKEN))


def _jobs(app: Flask) -> None:
    from workers.runtime import make_worker

    make_worker(app, simple=True).work(burst=True, logging_level="WARNING")


def _page_events(client, who) -> list[dict]:
    """The incident's page events (kind and data)."""
    body = client.get("/api/v1/incidents/1/timeline", headers=who["headers"]).get_json()
    return [e for e in body["events"] if e["kind"].startswith("page.")]


def _opened(app: Flask, *, channel: str = "sms") -> tuple[dict, object]:
    """An incident paging the Wolf (its jobs run); the Wolf and a client."""
    wolf, _backup = two_wolves(app)
    policy(app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300, "channel": channel}])
    client = app.test_client()
    declare(client, wolf)
    _jobs(app)
    return wolf, client


def test_a_console_page_is_delivered_as_a_twilio_one_would_be(console_app):
    wolf, client = _opened(console_app)
    assert pages(console_app) == [("Winston Wolf", "page", "sms", "delivered", 0)]
    with console_app.app_context():
        page = db.session.scalars(select(Page)).one()
        assert page.provider_id.startswith("CONSOLE-") and page.delivered_at is not None
    events = _page_events(client, wolf)
    assert [e["kind"] for e in events] == DELIVERED_KINDS
    assert events[-1]["data"] == {
        "page_id": page.id,
        "from": "sent",
        "to": "delivered",
        "error_code": None,
    }
    assert events[-1]["actor"] == events[1]["actor"]  # the provider, as for Twilio's callback


def test_a_twilio_delivery_writes_the_same_kinds(tw_app, tw_jobs, standin):
    wolf, _backup = two_wolves(tw_app)
    policy(tw_app, [{"targets": [{"user_id": wolf["id"]}], "delay_seconds": 300}])
    client = tw_app.test_client()
    declare(client, wolf)
    tw_jobs()
    sid = standin.messages[0].sid
    assert status_webhook(client, sid, "delivered", token=standin.auth_token).status_code == 204
    assert pages(tw_app) == [("Winston Wolf", "page", "sms", "delivered", 0)]
    assert [e["kind"] for e in _page_events(client, wolf)] == DELIVERED_KINDS


def test_a_replayed_status_writes_nothing_twice(console_app):
    wolf, client = _opened(console_app)
    before = _page_events(client, wolf)
    with console_app.app_context():
        page = db.session.scalars(select(Page)).one()
        sid, delivered_at = page.provider_id, page.delivered_at
        assert statuses.record(provider_id=sid, status="delivered") == 1  # matched, no change
    for status in ("delivered", "sent", "undelivered"):  # the webhook: replays, late reports
        assert status_webhook(client, sid, status, token=TOKEN).status_code == 204
    assert _page_events(client, wolf) == before
    with console_app.app_context():
        page = db.session.scalars(select(Page)).one()
        assert (page.status, page.delivered_at) == ("delivered", delivered_at)


def test_a_delivered_console_page_never_expires_into_a_call(console_app):
    wolf, client = _opened(console_app)
    with console_app.app_context():
        done = sweep(now=utcnow() + timedelta(minutes=11))  # past the 10-minute validity
    assert done["expired"] == 0
    assert pages(console_app) == [("Winston Wolf", "page", "sms", "delivered", 0)]
    assert "page.failed" not in [e["kind"] for e in _page_events(client, wolf)]


def test_a_console_call_is_answered(console_app):
    wolf, client = _opened(console_app, channel="voice")
    assert pages(console_app) == [("Winston Wolf", "page", "voice", "delivered", 0)]
    events = _page_events(client, wolf)
    assert [e["kind"] for e in events] == DELIVERED_KINDS
    assert (events[-1]["data"]["from"], events[-1]["data"]["to"]) == ("queued", "delivered")
    sender = console_app.extensions["firebreak.sender"]
    assert [c["to"] for c in sender.calls] == [WOLF]
