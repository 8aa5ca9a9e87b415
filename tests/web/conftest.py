"""Fixtures for the pages: a firestorm story and signing in through the form."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.web.story import Story, firestorm


@pytest.fixture
def story(app, client, people, admin, clock, run_jobs, monkeypatch) -> Story:
    """A detector-opened, paged, acknowledged, stated and resolved incident."""
    return firestorm(app, client, people, admin, clock, run_jobs, monkeypatch)


def sign_in(client: FlaskClient, token: str, next_: str = "/ui/incidents"):
    """Post the sign-in form; the response."""
    return client.post("/ui/sign-in", data={"token": token, "next": next_})
