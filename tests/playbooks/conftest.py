"""Playbook run fixtures: the Twilio stand-in, an app paging through it, worker processes, a
drill playbook folder."""

from tests.paging.fixtures import standin, tw_app, tw_jobs, worker_process  # noqa: F401
