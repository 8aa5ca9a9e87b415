"""Firebreak: crisis escalation and incident workflow for brands on social media."""

from service.app import create_app

__all__ = ["create_app"]
