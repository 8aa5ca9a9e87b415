"""Settings read from the environment, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "FIREBREAK_"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


def _int(name: str, lo: int, hi: int):
    def parse(raw: Any) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{ENV_PREFIX}{name}: expected an integer, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ConfigError(f"{ENV_PREFIX}{name}: must be between {lo} and {hi}, got {value}")
        return value

    return parse


def _choice(name: str, *choices: str):
    def parse(raw: Any) -> str:
        value = str(raw).strip().lower()
        if value not in choices:
            raise ConfigError(
                f"{ENV_PREFIX}{name}: must be one of {', '.join(choices)}, got {raw!r}"
            )
        return value

    return parse


def _bool(name: str):
    def parse(raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{ENV_PREFIX}{name}: expected true/false, got {raw!r}")

    return parse


def _database_url(raw: Any) -> str:
    try:
        url = make_url(str(raw))
    except ArgumentError:
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL: not a database URL: {raw!r}") from None
    backend = url.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise ConfigError(
            f"{ENV_PREFIX}DATABASE_URL: only postgresql and sqlite are supported, got {backend!r}"
        )
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _redis_url(raw: Any) -> str:
    value = str(raw)
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix") or (
        parts.scheme != "unix" and not parts.hostname
    ):
        raise ConfigError(
            f"{ENV_PREFIX}REDIS_URL: expected redis://host:port/db, rediss:// or unix://, "
            f"got {value!r}"
        )
    return value


def _public_url(raw: Any) -> str:
    value = str(raw).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"{ENV_PREFIX}PUBLIC_URL: expected an absolute http(s) URL such as "
            f"https://firebreak.example.com, got {raw!r}"
        )
    return value


def _optional_str(raw: Any) -> str | None:
    value = None if raw is None else str(raw).strip()
    return value or None


# name -> (default, parser). Defaults that depend on the instance folder are filled in load().
SETTINGS: dict[str, tuple[Any, Any]] = {
    "DATABASE_URL": (None, _database_url),
    "REDIS_URL": ("redis://127.0.0.1:6379/0", _redis_url),
    "PUBLIC_URL": ("http://127.0.0.1:8000", _public_url),
    "TRUSTED_PROXIES": (0, _int("TRUSTED_PROXIES", 0, 5)),
    "SECRET_KEY": (None, _optional_str),
    "ENV": ("production", _choice("ENV", "production", "development")),
    "MAX_BODY_BYTES": (4 * 1024 * 1024, _int("MAX_BODY_BYTES", 1024, 64 * 1024 * 1024)),
    "LOG_LEVEL": ("info", _choice("LOG_LEVEL", "debug", "info", "warning", "error")),
    "DB_POOL_SIZE": (5, _int("DB_POOL_SIZE", 1, 100)),
    "SMS_BACKEND": ("console", _choice("SMS_BACKEND", "console", "twilio")),
    "TWILIO_ACCOUNT_SID": (None, _optional_str),
    "TWILIO_AUTH_TOKEN": (None, _optional_str),
    "TWILIO_MESSAGING_SERVICE_SID": (None, _optional_str),
    "TWILIO_FROM_NUMBER": (None, _optional_str),
    "TWILIO_API_BASE_URL": (None, _optional_str),
    "TWILIO_TIMEOUT_SECONDS": (10, _int("TWILIO_TIMEOUT_SECONDS", 1, 120)),
    "CONSOLE_OUTBOX_PATH": (None, _optional_str),
    "PAGE_VALIDITY_SECONDS": (600, _int("PAGE_VALIDITY_SECONDS", 60, 14400)),
    "SMS_THROTTLE_SECONDS": (30, _int("SMS_THROTTLE_SECONDS", 0, 3600)),
    "LINK_TTL_SECONDS": (43200, _int("LINK_TTL_SECONDS", 60, 43200)),
    "PLAYBOOKS_DIR": (str(PROJECT_ROOT / "playbooks"), str),
    "TOKEN_LAST_USED_RESOLUTION_SECONDS": (
        60,
        _int("TOKEN_LAST_USED_RESOLUTION_SECONDS", 0, 86400),
    ),
    "WORKER_FORK": (False, _bool("WORKER_FORK")),
    "TESTING": (False, _bool("TESTING")),
}

#: one line per setting, for `firebreak --help` (the README's table says the same at length)
SETTING_HELP: dict[str, str] = {
    "DATABASE_URL": "PostgreSQL URL in production; default: SQLite in instance/",
    "REDIS_URL": "Redis for queues, buckets, timers and rate limits",
    "PUBLIC_URL": "public base URL (links in SMS; the URL Twilio signs webhooks with)",
    "TRUSTED_PROXIES": "proxy hops whose X-Forwarded-For/-Proto are trusted (0: the peer address)",
    "SECRET_KEY": "signing key for phone-verification codes; required unless ENV=development",
    "ENV": "production (default) or development (allows running without SECRET_KEY)",
    "MAX_BODY_BYTES": "request body limit in bytes (413 above it)",
    "LOG_LEVEL": "debug, info, warning or error",
    "DB_POOL_SIZE": "PostgreSQL connections per process (overflow: twice as many)",
    "SMS_BACKEND": "twilio or console",
    "TWILIO_ACCOUNT_SID": "Twilio account",
    "TWILIO_AUTH_TOKEN": "Twilio auth token (also checks webhook signatures)",
    "TWILIO_MESSAGING_SERVICE_SID": "Twilio messaging service (or TWILIO_FROM_NUMBER)",
    "TWILIO_FROM_NUMBER": "sender number (or TWILIO_MESSAGING_SERVICE_SID)",
    "TWILIO_API_BASE_URL": "points the Twilio SDK at a stand-in",
    "TWILIO_TIMEOUT_SECONDS": "timeout of one Twilio API call",
    "CONSOLE_OUTBOX_PATH": "console backend: append each SMS as a JSON line to this file",
    "PAGE_VALIDITY_SECONDS": "a page not delivered within this is dropped and escalated",
    "SMS_THROTTLE_SECONDS": "spacing of notices and reminders to one phone (pages never wait)",
    "LINK_TTL_SECONDS": "how long an SMS link works (at most 12 h; ends when the incident closes)",
    "PLAYBOOKS_DIR": "where playbooks are loaded from",
    "TOKEN_LAST_USED_RESOLUTION_SECONDS": "how often a token's last-used time is written",
    "WORKER_FORK": "run each job in a forked work horse (default: in-process)",
    "TESTING": "test mode (the test suite sets it)",
}

SECRET_SETTINGS = frozenset({"SECRET_KEY", "TWILIO_AUTH_TOKEN"})
SETTINGS_KEY = "firebreak.settings"


@dataclass(frozen=True)
class Settings:
    """Every setting, parsed and validated, as typed attributes (FIREBREAK_<NAME UPPER>)."""

    database_url: str
    redis_url: str
    public_url: str
    trusted_proxies: int
    secret_key: str | None
    env: str
    max_body_bytes: int
    log_level: str
    db_pool_size: int
    sms_backend: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_messaging_service_sid: str | None
    twilio_from_number: str | None
    twilio_api_base_url: str | None
    twilio_timeout_seconds: int
    console_outbox_path: str | None
    page_validity_seconds: int
    sms_throttle_seconds: int
    link_ttl_seconds: int
    playbooks_dir: str
    token_last_used_resolution_seconds: int
    worker_fork: bool
    testing: bool

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Settings:
        """The typed view of `load()`'s values."""
        return cls(**{f.name: values[f.name.upper()] for f in fields(cls)})

    def __repr__(self) -> str:
        return f"Settings({describe(self.__dict__)})"


def current() -> Settings:
    """The current app's settings."""
    settings: Settings = current_app.extensions[SETTINGS_KEY]
    return settings


def load(overrides: Mapping[str, Any] | None = None, *, instance_path: str) -> dict[str, Any]:
    """Read every setting from the environment (FIREBREAK_*) and overrides, and validate."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(SETTINGS) - _FLASK_KEYS)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    settings: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        if name in overrides:
            raw = overrides[name]
        else:
            raw = os.environ.get(ENV_PREFIX + name, default)
        if name == "DATABASE_URL" and raw is None:
            raw = f"sqlite:///{Path(instance_path) / 'firebreak.db'}"
        settings[name] = raw if raw is None else parse(raw)
    for key in _FLASK_KEYS & set(overrides):
        settings[key] = overrides[key]
    _check_together(settings)
    return settings


def _check_together(settings: Mapping[str, Any]) -> None:
    """Settings that depend on each other: the secret key outside development, Twilio's."""
    if not settings["SECRET_KEY"] and settings["ENV"] == "production" and not settings["TESTING"]:
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY: required (or set {ENV_PREFIX}ENV=development to run without "
            "phone verification)"
        )
    if settings["SMS_BACKEND"] == "twilio":
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            if not settings[name]:
                raise ConfigError(f"{ENV_PREFIX}{name}: required when SMS_BACKEND is twilio")
        if not (settings["TWILIO_MESSAGING_SERVICE_SID"] or settings["TWILIO_FROM_NUMBER"]):
            raise ConfigError(
                f"{ENV_PREFIX}TWILIO_MESSAGING_SERVICE_SID or {ENV_PREFIX}TWILIO_FROM_NUMBER: "
                "one is required when SMS_BACKEND is twilio"
            )


def describe(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with secrets masked, safe to log."""
    shown = {}
    for name in SETTINGS:
        value = settings.get(name, settings.get(name.lower()))
        if name in SECRET_SETTINGS and value:
            value = "***"
        elif name == "DATABASE_URL" and value:
            value = make_url(value).render_as_string(hide_password=True)
        shown[name] = value
    return shown


_FLASK_KEYS = frozenset({"SERVER_NAME", "PREFERRED_URL_SCHEME", "PROPAGATE_EXCEPTIONS"})
