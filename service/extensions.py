"""Extensions, created unbound here and bound to the app in the factory."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from service.config import SETTINGS_KEY
from service.db import Database


class RedisClient:
    """A Redis client per app, bound in the factory; nothing connects at import."""

    def init_app(self, app: Flask) -> None:
        """Create the app's (lazily connecting) client from FIREBREAK_REDIS_URL."""
        app.extensions["firebreak.redis"] = Redis.from_url(
            app.extensions[SETTINGS_KEY].redis_url,
            socket_timeout=5,
            socket_connect_timeout=3,
            health_check_interval=30,
        )

    @property
    def client(self) -> Redis:
        """The current app's client."""
        return current_app.extensions["firebreak.redis"]


db = Database()
redis = RedisClient()
