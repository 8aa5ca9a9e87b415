"""Detection fixtures: the Twilio stand-in and real worker processes (from paging)."""

from tests.paging.fixtures import standin, worker_process  # noqa: F401
