"""Respond fixtures: the Twilio stand-in and an app paging through it."""

import pytest

from tests.paging.fixtures import standin, tw_app, tw_jobs, worker_process  # noqa: F401
from tests.statements.statement_fixtures import use_policy


@pytest.fixture(autouse=True)
def _default_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Submissions use the built-in approval rule (legal), whatever playbook attaches."""
    use_policy(monkeypatch)
