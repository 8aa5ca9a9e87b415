"""Assertions shared by API tests."""

from __future__ import annotations

from typing import Any


def assert_problem(resp: Any, status: int, *, field: str | None = None, contains: str = "") -> dict:
    """The response is an RFC 9457 problem with this status (and field, and detail text)."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["type"] and body["detail"]
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, fields
    if contains:
        assert contains.lower() in body["detail"].lower(), body["detail"]
    return body
