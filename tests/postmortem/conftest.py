"""A test app with the post-mortem blueprint, until create_app registers it itself."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app


@pytest.fixture(scope="session")
def pm_app(_schema: dict[str, Any]) -> Flask:
    """The app, with the post-mortem API registered if create_app does not yet do it."""
    app = create_app(_schema["settings"])
    if "postmortem" not in app.blueprints:
        from service.postmortem.views import blp

        api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
        api.register_blueprint(blp)
    if "export" not in app.cli.commands:
        from service.postmortem.cli import register

        register(app)
    return app


@pytest.fixture
def pm_client(app: Flask, pm_app: Flask) -> FlaskClient:
    """A client of that app (depending on `app` so each test starts from clean tables)."""
    return pm_app.test_client()
