"""Phone verification codes never rest in the database: the SMS sent through the real twilio SDK
(at the stand-in) carries the code, no table holds it, the code verifies, and a retried or
re-sent SMS carries the same code."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service.auth.roles import Role
from service.db import utcnow
from service.extensions import db, redis
from service.paging import delivery, verification
from service.paging.models import Page, PageStatus
from service.paging.reconcile import sweep
from service.paging.sms import TransientSendError
from tests.conftest import snapshot
from tests.paging.fixtures import contact

PHONE = "+14155550177"


@pytest.fixture
def pat(tw_app):
    return contact(tw_app, "Pat Phone", {Role.WOLF}, PHONE, verified=False)


def _request_code(tw_app, who) -> None:
    resp = tw_app.test_client().post(
        f"/api/v1/users/{who['id']}/phone/verification", headers=who["headers"]
    )
    assert resp.status_code == 202, resp.get_json()


def _verify(tw_app, who, code: str):
    return tw_app.test_client().post(
        f"/api/v1/users/{who['id']}/phone/verify", json={"code": code}, headers=who["headers"]
    )


def _sent_codes(standin) -> list[str]:
    """The code in every SMS request the provider received (replays and failures included)."""
    sms = [r for r in standin.requests if r.path.endswith("/Messages.json")]
    bodies = [r.params.get("Body", "") for r in sms]
    return [m.group(1) if (m := re.search(r"code: (\d{6})\.", b)) else b for b in bodies]


def _cells_holding(tables: dict[str, list[tuple]], code: str) -> list[tuple[str, object]]:
    """Every database cell (of any table, from `snapshot`) whose text contains the code."""
    found = []
    for table, rows in tables.items():
        for row in rows:
            for cell in row:
                text = cell if isinstance(cell, str) else repr(cell)
                if code in text and cell != PHONE:
                    found.append((table, cell))
    return found


def test_the_code_reaches_the_phone_but_never_the_database_or_the_logs(
    tw_app, tw_jobs, standin, pat, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    _request_code(tw_app, pat)
    before_send = snapshot(tw_app)
    tw_jobs()
    [code] = _sent_codes(standin)
    assert len(standin.messages) == 1
    with tw_app.app_context():
        page = db.session.scalars(select(Page).where(Page.kind == "verify")).one()
        assert page.body == verification.MASKED and page.status == PageStatus.QUEUED.value
    assert _cells_holding(before_send, code) == []
    assert _cells_holding(snapshot(tw_app), code) == []
    with tw_app.app_context():  # Redis keeps which page is pending, not the code
        values = [redis.client.dump(k) or b"" for k in redis.client.keys("fb:verify:*")]
    assert values and not any(code.encode() in v for v in values)

    resp = _verify(tw_app, pat, code)
    assert resp.status_code == 200 and resp.get_json()["verified"] is True
    assert _cells_holding(snapshot(tw_app), code) == []
    assert code not in caplog.text
    assert not any(code in r.getMessage() for r in caplog.records)


def test_a_retried_send_sends_the_same_code(tw_app, standin, pat) -> None:
    _request_code(tw_app, pat)
    with tw_app.app_context():
        page_id = db.session.scalars(select(Page.id).where(Page.kind == "verify")).one()
    standin.fail_next("500")
    with tw_app.app_context(), pytest.raises(TransientSendError):
        delivery.deliver(user_id=pat["id"], now=utcnow())  # RQ retries the job with backoff
    with tw_app.app_context():
        assert db.session.get(Page, page_id).status == PageStatus.PENDING.value
        assert delivery.deliver(user_id=pat["id"], now=utcnow()).startswith("sent")
    first, again = _sent_codes(standin)
    assert first == again and len(standin.messages) == 1
    assert _verify(tw_app, pat, again).status_code == 200


def test_an_interrupted_send_is_resent_by_the_sweep_with_its_code(tw_app, standin, pat) -> None:
    _request_code(tw_app, pat)
    with tw_app.app_context(), db.transaction() as session:  # claimed, then the worker died
        page = session.scalars(select(Page).where(Page.kind == "verify")).one()
        page.status, page.send_key, page.sending_at = "sending", f"pages-{page.id}", utcnow()
    with tw_app.app_context():
        assert sweep(now=utcnow() + timedelta(seconds=61))["resent"] == 1
    [code] = _sent_codes(standin)
    assert _cells_holding(snapshot(tw_app), code) == []
    assert _verify(tw_app, pat, code).status_code == 200


def test_a_new_code_supersedes_one_not_sent_yet(tw_app, tw_jobs, standin, pat) -> None:
    _request_code(tw_app, pat)
    _request_code(tw_app, pat)
    tw_jobs()
    with tw_app.app_context():
        statuses = db.session.scalars(select(Page.status).order_by(Page.id)).all()
    assert statuses == [PageStatus.CANCELLED.value, PageStatus.QUEUED.value]
    [code] = _sent_codes(standin)
    assert _verify(tw_app, pat, code).status_code == 200


def test_a_code_that_could_not_be_sent_asks_for_a_new_one(tw_app, standin, pat) -> None:
    _request_code(tw_app, pat)
    with tw_app.app_context(), db.transaction() as session:
        session.execute(update(Page).values(status=PageStatus.FAILED.value))
    resp = _verify(tw_app, pat, "123456")
    assert resp.status_code == 409
    assert "request a new one" in resp.get_json()["detail"]
