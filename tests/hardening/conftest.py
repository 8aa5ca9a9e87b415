"""Hardening fixtures: the paging ones (the Twilio stand-in and an app paging through it)."""

from tests.paging.fixtures import standin, tw_app, tw_jobs  # noqa: F401
