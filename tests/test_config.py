"""Settings: defaults, environment, and start-up failures that name the setting."""

from __future__ import annotations

import pytest

from service import create_app
from service.config import ConfigError, describe, load


@pytest.mark.smoke
def test_defaults_use_embedded_sqlite(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "PUBLIC_URL"):
        monkeypatch.delenv(f"FIREBREAK_{name}", raising=False)
    settings = load(None, instance_path=str(tmp_path))
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'firebreak.db'}"
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6379/0"


def test_environment_is_read_and_postgres_driver_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("FIREBREAK_DATABASE_URL", "postgresql://u:p@db:5432/fb")
    monkeypatch.setenv("FIREBREAK_PUBLIC_URL", "https://fb.example.com/")
    settings = load(None, instance_path=str(tmp_path))
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u:p@db:5432/fb"
    assert settings["PUBLIC_URL"] == "https://fb.example.com"


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("DATABASE_URL", "mysql://x/y", "FIREBREAK_DATABASE_URL"),
        ("DATABASE_URL", "not a url", "FIREBREAK_DATABASE_URL"),
        ("REDIS_URL", "http://localhost", "FIREBREAK_REDIS_URL"),
        ("PUBLIC_URL", "firebreak.example.com", "FIREBREAK_PUBLIC_URL"),
        ("MAX_BODY_BYTES", "lots", "FIREBREAK_MAX_BODY_BYTES"),
        ("MAX_BODY_BYTES", "10", "FIREBREAK_MAX_BODY_BYTES"),
        ("SMS_BACKEND", "pigeon", "FIREBREAK_SMS_BACKEND"),
    ],
)
def test_invalid_setting_fails_at_start_naming_it(monkeypatch, name, value, needle):
    monkeypatch.setenv(f"FIREBREAK_{name}", value)
    with pytest.raises(ConfigError, match=needle):
        create_app()


def test_twilio_backend_requires_credentials(tmp_path):
    with pytest.raises(ConfigError, match="FIREBREAK_TWILIO_ACCOUNT_SID"):
        load({"SMS_BACKEND": "twilio"}, instance_path=str(tmp_path))


def test_unknown_override_refused(tmp_path):
    with pytest.raises(ConfigError, match="NOPE"):
        load({"NOPE": 1}, instance_path=str(tmp_path))


def test_describe_masks_secrets(tmp_path):
    settings = load(
        {
            "DATABASE_URL": "postgresql://u:hunter2@db/fb",
            "SECRET_KEY": "s3cret",
            "TWILIO_AUTH_TOKEN": "tok",
        },
        instance_path=str(tmp_path),
    )
    shown = repr(describe(settings))
    assert "hunter2" not in shown and "s3cret" not in shown and "tok'" not in shown


def test_nothing_connects_at_import_or_factory(monkeypatch):
    """The factory binds extensions lazily: an unreachable Redis/DB does not stop it."""
    app = create_app(
        {
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    assert app.config["REDIS_URL"].endswith(":1/0")
