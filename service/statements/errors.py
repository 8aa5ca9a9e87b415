"""Refusals specific to statements."""

from __future__ import annotations

from service.errors import DomainError


class Forbidden(DomainError):
    """The user is authenticated but may not do this to this statement (four eyes, wrong role)."""

    status = 403
    type = "forbidden"
