"""The pages' Content-Security-Policy nonce, one per request."""

from __future__ import annotations

import secrets

from flask import Flask, g


def install(app: Flask) -> None:
    """Templates call ``csp_nonce()`` for the nonce of their style and script tags."""
    app.jinja_env.globals["csp_nonce"] = nonce  # every render, render_template or not


def nonce() -> str:
    """This request's nonce, made on first use: a page refused by a request guard, before its
    blueprint's own hooks ran, carries the same nonce in its tags as in its header."""
    value = g.get("csp_nonce")
    if not value:
        value = g.csp_nonce = secrets.token_urlsafe(16)
    return value
