"""Statement test helpers: a crew with tokens, an incident, drafting and deciding via the API."""

from __future__ import annotations

from typing import Any

import pytest

from service.auth.roles import Role
from service.statements import approval as approvals
from service.statements.models import content_hash

BASE = "/api/v1/incidents/{n}/statements"
HOLDING = "We are aware of the video and are looking into it. More within the hour."


@pytest.fixture
def crew(people) -> dict[str, dict]:
    """A Wolf, comms, two legal counsel, a reviewer and a responder, each with a token."""
    return {
        "wolf": people.make(Role.WOLF, name="Winston Wolf"),
        "comms": people.make(Role.COMMS, name="Cora Comms"),
        "legal": people.make(Role.LEGAL, name="Lena Legal"),
        "legal2": people.make(Role.LEGAL, name="Luis Legal"),
        "reviewer": people.make(Role.REVIEWER, name="Rita Reviewer"),
        "responder": people.make(Role.RESPONDER, name="Ray Responder"),
    }


def use_policy(monkeypatch: pytest.MonkeyPatch, **rule: Any) -> None:
    """Make every submission snapshot this rule (as an attached playbook would give)."""
    full = {**approvals.DEFAULT_POLICY, **rule}
    monkeypatch.setattr(approvals, "policy_for", lambda _session, *, incident_id: dict(full))


def declare(client, who: dict, *, wolf_id: int | None = None) -> int:
    """Declare a sev1 incident; its number."""
    body = {"title": "Exploding kettle video", "severity": "sev1", "wolf_id": wolf_id}
    resp = client.post("/api/v1/incidents", json=body, headers=who["headers"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["number"]


def draft(client, who: dict, number: int, text: str = HOLDING, **extra: Any) -> dict:
    """Draft a holding statement; the statement."""
    body = {"purpose": "holding", "channel": "twitter", "text": text, **extra}
    resp = client.post(BASE.format(n=number), json=body, headers=who["headers"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def url(number: int, statement_id: int, suffix: str = "") -> str:
    """The URL of a statement (and a path below it)."""
    return f"{BASE.format(n=number)}/{statement_id}{suffix}"


def submit(client, who: dict, number: int, sid: int, version: int = 1):
    """Submit a version for approval (the response)."""
    return client.post(url(number, sid, f"/versions/{version}/submit"), headers=who["headers"])


def decide(client, who: dict, number: int, sid: int, version: int, text: str, **body: Any):
    """Approve (or, with action='reject', reject) the given text; the response."""
    action = body.pop("action", "approve")
    payload = {"hash": content_hash(text), "comment": "ok", **body}
    return client.post(
        url(number, sid, f"/versions/{version}/{action}"), json=payload, headers=who["headers"]
    )


def publish(client, who: dict, number: int, sid: int, version: int, text: str, **body: Any):
    """Mark the given text published; the response."""
    payload = {"hash": content_hash(text), **body}
    return client.post(
        url(number, sid, f"/versions/{version}/publish"), json=payload, headers=who["headers"]
    )


def kinds(client, who: dict, number: int) -> list[str]:
    """The kinds of an incident's timeline events, in order."""
    resp = client.get(f"/api/v1/incidents/{number}/timeline", headers=who["headers"])
    return [e["kind"] for e in resp.get_json()["events"]]


def events(client, who: dict, number: int, prefix: str = "statement.") -> list[dict]:
    """An incident's statement events."""
    resp = client.get(f"/api/v1/incidents/{number}/timeline", headers=who["headers"])
    return [e for e in resp.get_json()["events"] if e["kind"].startswith(prefix)]
