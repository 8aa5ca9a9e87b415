"""Rate limits (Flask-Limiter on Redis): sign-in, token creation, phone verification, and
failed bearer tokens; a breach is a 429 with Retry-After."""

from __future__ import annotations

import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

from service.config import SETTINGS_KEY

#: failed browser sign-ins per client address (a sign-in that opens a session is not counted)
SIGN_IN = "10 per minute;50 per hour"
#: API tokens created, per user they are for and per client
TOKENS_PER_USER = "10 per hour"
TOKENS_PER_CLIENT = "30 per hour"
#: verification codes sent, per user and per client (tries are counted per user in the domain)
CODES_PER_USER = "3 per hour"
CODES_PER_CLIENT = "10 per hour"
VERIFY_PER_CLIENT = "30 per hour"
#: requests with an invalid bearer token, per client
BAD_TOKENS = parse("30 per minute")

limiter = Limiter(
    key_func=get_remote_address,
    key_prefix="fb:limits",
    headers_enabled=True,
    strategy="fixed-window",
    swallow_errors=True,  # Redis down: limits are skipped (and logged), requests are not 500s
)


def path_user() -> str:
    """The user a request is about (the `user_id` in its path)."""
    return f"user:{(request.view_args or {}).get('user_id')}"


def init_app(app: Flask) -> None:
    """Bind the limiter to the app's Redis."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.extensions[SETTINGS_KEY].redis_url)
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 2, "socket_connect_timeout": 2}
    )
    limiter.init_app(app)


def bad_token_allowed() -> bool:
    """Whether this client may still try a bearer token (not too many invalid ones lately)."""
    return bool(limiter.limiter.test(BAD_TOKENS, "bad-token", get_remote_address()))


def bad_token_seen() -> int:
    """Count an invalid bearer token against the client; seconds until it may try again."""
    limiter.limiter.hit(BAD_TOKENS, "bad-token", get_remote_address())
    reset = limiter.limiter.get_window_stats(BAD_TOKENS, "bad-token", get_remote_address())
    return max(1, int(reset.reset_time - time.time()))
