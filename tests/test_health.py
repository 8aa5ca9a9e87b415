"""Liveness and readiness."""

from __future__ import annotations

import pytest

from service import create_app
from tests.conftest import settings_for_tests


@pytest.mark.smoke
def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_unreachable(app):
    broken = create_app(settings_for_tests(REDIS_URL="redis://127.0.0.1:1/0"))
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["redis"].startswith("unreachable")
    assert resp.get_json()["checks"]["database"] == "ok"


def test_readyz_is_503_when_database_is_unreachable(app):
    broken = create_app(settings_for_tests(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"].startswith("unreachable")
