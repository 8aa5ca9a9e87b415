"""Statement fixtures, shared by the statement tests."""

import pytest

from tests.paging.fixtures import standin, tw_app, tw_jobs, worker_process  # noqa: F401
from tests.statements.statement_fixtures import crew, use_policy  # noqa: F401


@pytest.fixture(autouse=True)
def _default_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever playbook attaches on open, submissions use the built-in rule unless a test
    sets another (playbook integration is tested on its own)."""
    use_policy(monkeypatch)
