"""Playbook run fixtures: the Twilio stand-in, worker processes, a drill playbook folder."""

from tests.paging.fixtures import standin, worker_process  # noqa: F401
