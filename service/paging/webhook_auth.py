"""Twilio webhook signature checks, built on the SDK's RequestValidator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def verify_twilio_request(
    *, auth_token: str, url: str, params: Mapping[str, Any] | None, signature: str | None
) -> bool:
    """Return True only if `signature` is Twilio's HMAC-SHA1 of `url` + sorted form `params`."""
    if not auth_token or not signature or not url:
        return False
    return bool(RequestValidator(auth_token).validate(url, params or {}, signature))


def sign_twilio_request(auth_token: str, url: str, params: Mapping[str, Any] | None) -> str:
    """Compute the X-Twilio-Signature value Twilio would send (for tests and the stand-in)."""
    return RequestValidator(auth_token).compute_signature(url, params or {})


def public_request_url(public_url: str, path: str, query: str | bytes = "") -> str:
    """Rebuild the URL Twilio signed from our configured public base URL, never the Host header.

    `public_url` is the externally visible base (scheme, host, optional port and mount prefix),
    e.g. "https://firebreak.example.com" or "https://example.com/firebreak"; `path` is the
    path as routed inside the app (Flask's `request.path`); `query` is the raw query string
    (`request.query_string`), appended verbatim because Twilio signs it byte-for-byte.
    """
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"public URL must be an absolute http(s) URL, got {public_url!r}")
    if parts.query or parts.fragment:
        raise ValueError("public URL must not contain a query string or fragment")
    if isinstance(query, bytes):
        query = query.decode("utf-8")
    url = public_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url
