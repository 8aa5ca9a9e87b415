"""Paging fixtures, shared by the paging tests."""

from tests.paging.fixtures import standin, tw_app, tw_jobs, worker_process  # noqa: F401
