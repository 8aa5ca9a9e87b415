"""The OpenAPI document is the contract: schemathesis (every check, then its stateful phase)
against the app through WSGI, with a fixed seed and a bounded budget, finds nothing.

`positive_data_acceptance` included: every rule a request can break is in the document (lengths,
patterns — text never holds NUL —, ranges, enums, unique items, the detector's settings and the
lexicon's shape), so a schema-valid request is accepted, or refused only for the database's
state (404 for a named row that does not exist, 409 for one that cannot take part, or for a
time already past). A phone number is `format: phone` (libphonenumber's validity is no regex):
the generator learns that format here, drawing libphonenumber's own example numbers. Every other
check runs too: no 5xx, status codes, content types and bodies as documented (problem+json
included), headers, auth, negative data rejected, unsupported methods.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from service.auth import service as auth
from service.auth.roles import Role
from service.db import Base
from service.extensions import db, redis
from service.limits import limiter

EXAMPLES = int(os.environ.get("FIREBREAK_SCHEMATHESIS_EXAMPLES", "40"))
STEPS = int(os.environ.get("FIREBREAK_SCHEMATHESIS_STATEFUL", "40"))
EXCLUDED: list[Any] = []  # every check runs
#: regions whose example numbers the phone format draws from
PHONE_REGIONS = ("US", "GB", "DE", "FR", "NL", "IN", "BR", "JP", "AU", "ZA")


def _phone_numbers() -> st.SearchStrategy[str]:
    """Valid numbers per libphonenumber (its example fixed-line and mobile numbers), in E.164
    and international format."""
    numbers = [
        phonenumbers.example_number_for_type(region, kind)
        for region in PHONE_REGIONS
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    ]
    styles = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return st.sampled_from(
        [phonenumbers.format_number(n, style) for n in numbers if n for style in styles]
    )


schemathesis.openapi.format("phone", _phone_numbers())


def _instant(value: Any) -> datetime | None:
    """A generated date-time string as an aware datetime, or None if it is not one."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _one_budget(body: dict[str, Any]) -> dict[str, Any]:
    """A monitor's budget given at the top and in `detector` is one value."""
    detector = body.get("detector")
    if "false_pages_per_30_days" in body and isinstance(detector, dict):
        if "false_pages_per_30_days" in detector:
            detector = {**detector, "false_pages_per_30_days": body["false_pages_per_30_days"]}
            body = {**body, "detector": detector}
    return body


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """An override's `ends_at` follows its `starts_at`, and a monitor's budget given twice is one
    value (rules between two fields, which JSON Schema cannot state; the document says them in
    the fields' descriptions)."""
    operation = context.operation
    if operation is None or not isinstance(body, dict):
        return body
    if operation.path in ("/api/v1/monitors", "/api/v1/monitors/{key}"):
        return _one_budget(body)
    if not operation.path.endswith("/overrides"):
        return body
    start, end = _instant(body.get("starts_at")), _instant(body.get("ends_at"))
    if start is not None and end is not None and start.year < 9999:
        body = {**body, "ends_at": (start + timedelta(hours=1)).isoformat()}
    return body


def _settings(examples: int, *, shrink: bool = False) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,  # a fixed seed: the same requests every run
        deadline=None,
        phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if shrink else [])],
        suppress_health_check=list(HealthCheck),
        database=None,
        stateful_step_count=8,
    )


@pytest.fixture
def contract(app, people) -> tuple[Any, dict[str, str]]:
    """The app's own OpenAPI document and an admin's headers."""
    admin = people.make(Role.ADMIN, name="Schema Admin")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @schema.auth()
    class Bearer:
        """The admin's token on every call (the auth checks replace it with bad ones)."""

        def get(self, case: Any, ctx: Any) -> str:
            return admin["token"]

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema, admin["headers"]


def _exercise(app: Any, operation: Any, headers: dict[str, str]) -> str | None:
    """Run one operation's examples; the first failure as text, or None."""

    @given(case=operation.as_strategy())
    @_settings(EXAMPLES)
    def run(case: Any) -> None:
        # the auth check probes every answered case with an invalid token: past 30 a minute
        # they are a 429 (the limit), not the 401 it expects, so each case starts afresh
        with app.app_context():
            limiter.reset()
        case.call_and_validate(excluded_checks=EXCLUDED)

    try:
        run()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - collected, reported together below
        return f"{operation.method.upper()} {operation.path}: {exc}"
    return None


def test_every_operation_keeps_the_contract(app, contract) -> None:
    schema, headers = contract
    failures = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        failure = _exercise(app, result.ok(), headers)
        if failure:
            failures.append(failure)
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 240  # the budget stays bounded


def _fresh_state(app: Any, secret: str) -> None:
    """Empty tables and Redis, then the admin again with the same token: every sequence starts
    from the same state, so the same choices meet the same answers (Hypothesis checks that)."""
    with app.app_context():
        redis.client.flushdb()
        tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        with db.transaction() as session:
            user = auth.create_user(session, name="Schema Admin", roles={Role.ADMIN})
            token, _ = auth.issue_token(session, user=user, name="schemathesis")
            token.token_hash = auth.hash_token(secret)
            token.prefix = secret[: len(auth.TOKEN_PREFIX) + 6]


def test_stateful_sequences_keep_the_contract(app, contract) -> None:
    schema, headers = contract
    secret = headers["Authorization"].removeprefix("Bearer ")
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            _fresh_state(app, secret)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=EXCLUDED, transport_kwargs=kwargs)

    with app.app_context():
        limiter.reset()
    # no shrinking (here and above): calls depend on the database's state, so replaying them to
    # shrink is not deterministic; the first failure is reported as found
    Workflow.run(settings=_settings(STEPS))
