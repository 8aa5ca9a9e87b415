"""On the embedded default (SQLite), concurrent writers to one incident's timeline serialise:
no note is lost to a UNIQUE(incident_id, seq) conflict."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from service import create_app
from service.auth import service as auth
from service.auth.roles import Role
from service.cli import upgrade_database
from service.extensions import db
from tests.conftest import settings_for_tests

WRITERS = 8
NOTES_EACH = 6


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a fresh SQLite file built by the migrations (whatever the suite's database)."""
    app = create_app(settings_for_tests(DATABASE_URL=f"sqlite:///{tmp_path / 'fb.db'}"))
    with app.app_context():
        upgrade_database(app)
    yield app
    with app.app_context():
        db.dispose()


def _admin(app: Flask) -> dict[str, str]:
    with app.app_context(), db.transaction() as session:
        user = auth.create_user(session, name="Ada", roles={Role.ADMIN})
        _token, secret = auth.issue_token(session, user=user, name="t")
    return {"Authorization": f"Bearer {secret}"}


def test_concurrent_notes_on_one_incident_all_land(sqlite_app: Flask) -> None:
    headers = _admin(sqlite_app)
    client = sqlite_app.test_client()
    resp = client.post(
        "/api/v1/incidents", json={"title": "Kettle", "severity": "sev2"}, headers=headers
    )
    assert resp.status_code == 201
    number = resp.get_json()["number"]
    statuses: list[int] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        own = sqlite_app.test_client()
        start.wait()
        for i in range(NOTES_EACH):
            r = own.post(
                f"/api/v1/incidents/{number}/notes",
                json={"text": f"note {n}.{i}"},
                headers=headers,
            )
            statuses.append(r.status_code)
            if n == 0 and i == 2:  # a status change races the notes too
                own.post(f"/api/v1/incidents/{number}/acknowledge", json={}, headers=headers)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * (WRITERS * NOTES_EACH) or sorted(set(statuses)) == [201], statuses
    events = client.get(f"/api/v1/incidents/{number}/timeline", headers=headers).get_json()
    notes = [e for e in events["events"] if e["kind"] == "note.added"]
    assert len(notes) == WRITERS * NOTES_EACH
    verify = client.get(f"/api/v1/incidents/{number}/timeline/verify", headers=headers).get_json()
    assert verify["intact"] is True
