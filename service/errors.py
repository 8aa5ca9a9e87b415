"""Domain errors raised by services; the API renders them as problems."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with an HTTP status, a problem type and a human detail."""

    status = 400
    type = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    """The thing named does not exist."""

    status = 404
    type = "not-found"


class Forbidden(DomainError):
    """Authenticated, but this person may not do this to this thing (four eyes, wrong role)."""

    status = 403
    type = "forbidden"


class Conflict(DomainError):
    """The request conflicts with the current state; nothing changed."""

    status = 409
    type = "conflict"


class InvalidTransition(Conflict):
    """A status change not allowed from the current status."""

    type = "invalid-transition"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the next is accepted."""

    status = 429
    type = "rate-limited"

    def __init__(self, detail: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class Invalid(DomainError):
    """Semantically invalid input that the schema could not catch."""

    status = 422
    type = "validation"
