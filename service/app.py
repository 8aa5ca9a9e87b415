"""The application factory: settings, extensions, the API and pages, the domain joints."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service import config as settings
from service import csp, guards, health, limits, metrics, registry
from service.api import Api
from service.auth.views import blp as users_blp
from service.bus import install_reactions
from service.cli import register
from service.detection.views import blp as mentions_blp
from service.extensions import db, redis
from service.incidents.views import blp as incidents_blp
from service.jobs import install_routes
from service.monitors.views import blp as monitors_blp
from service.oncall.views import blp as oncall_blp
from service.paging.views import blp as paging_blp
from service.paging.webhooks import blp as webhooks_blp
from service.playbooks.views import blp as playbooks_blp
from service.postmortem.views import blp as postmortem_blp
from service.respond.views import blp as respond_blp
from service.statements.views import blp as statements_blp
from service.timeline.views import blp as timeline_blp
from service.web.views import blp as web_blp
from service.web.views import root as root_blp


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from FIREBREAK_* settings, with optional overrides."""
    app = Flask("service", instance_relative_config=True)
    guards.install(app)
    csp.install(app)
    values = settings.load(config, instance_path=app.instance_path)
    app.config.update(values)
    app.extensions[settings.SETTINGS_KEY] = settings.Settings.of(values)
    app.config["MAX_CONTENT_LENGTH"] = values["MAX_BODY_BYTES"]
    app.config["SECRET_KEY"] = values["SECRET_KEY"]
    app.config.update(
        API_TITLE="Firebreak",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    logging.basicConfig(level=values["LOG_LEVEL"].upper())
    _trust_proxies(app, values["TRUSTED_PROXIES"])
    if values["DATABASE_URL"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    redis.init_app(app)
    limits.init_app(app)
    install_reactions(app, registry.REACTIONS)
    install_routes(app, registry.JOB_ROUTES)
    api = Api()
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "Detects negative mention spikes, opens incidents, pages the "
                "Wolf and legal, walks responders through playbooks, and keeps an "
                "append-only timeline."
            }
        },
    )

    app.register_blueprint(health.blp)
    app.register_blueprint(metrics.blp)
    app.register_blueprint(webhooks_blp)
    app.register_blueprint(web_blp)
    app.register_blueprint(respond_blp)
    app.register_blueprint(root_blp)
    for blp in (
        users_blp,
        incidents_blp,
        timeline_blp,
        monitors_blp,
        mentions_blp,
        oncall_blp,
        paging_blp,
        postmortem_blp,
        statements_blp,
        playbooks_blp,
    ):
        api.register_blueprint(blp)

    register(app)
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` proxies, the client address and scheme are the ones the outermost trusted
    proxy saw (rate limits key on that address). X-Forwarded-Host, -Port and -Prefix are never
    trusted: links and webhook signatures use FIREBREAK_PUBLIC_URL, and the same-origin checks
    compare with the Host header the proxy passed on."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
