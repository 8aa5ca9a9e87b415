"""Body encodings and the body limit: gzip is decoded within the limit (a bomb is a 413, never a
memory blow-up), any other Content-Encoding is a 415, and every 413 names the body and its
limit."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
import zlib

import pytest

from tests.hardening.test_bad_input import problem

INCIDENT = {"title": "Kettle", "severity": "sev2"}


def _zeros_gzip(size: int) -> bytes:
    """A gzip stream of `size` zero bytes, built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    out = [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*out, packer.flush()])


def _post(client, admin, body: bytes, **headers: str):
    return client.post(
        "/api/v1/incidents",
        data=body,
        headers={**admin["headers"], "Content-Type": "application/json", **headers},
    )


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "GZIP"])
def test_a_gzip_body_is_decoded(client, admin, encoding) -> None:
    body = gzip.compress(json.dumps(INCIDENT).encode())
    resp = _post(client, admin, body, **{"Content-Encoding": encoding})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["title"] == "Kettle"


def test_gzip_members_in_turn_and_identity(client, admin) -> None:
    raw = json.dumps(INCIDENT).encode()
    two = gzip.compress(raw[:10]) + gzip.compress(raw[10:])  # as `cat a.gz b.gz` makes
    assert _post(client, admin, two, **{"Content-Encoding": "gzip"}).status_code == 201
    assert _post(client, admin, raw, **{"Content-Encoding": "identity"}).status_code == 201


def test_a_gzip_bomb_is_413_naming_the_body_and_changes_nothing(app, client, admin, unchanged):
    limit = app.config["MAX_CONTENT_LENGTH"]
    bomb = _zeros_gzip(64 * 1024 * 1024)  # 64 MiB of zeros in about 64 KB
    assert len(bomb) < limit
    unchanged.mark()
    body = problem(_post(client, admin, bomb, **{"Content-Encoding": "gzip"}), 413, "body")
    assert body["limit_bytes"] == limit and "decompressed" in body["detail"]
    unchanged.check()


def test_decoding_holds_at_most_the_limit() -> None:
    from service.guards import BadInput, gunzip

    bomb = _zeros_gzip(256 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(BadInput) as err:
            gunzip(bomb, limit=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.code == 413 and err.value.data["extra"] == {"limit_bytes": 1024 * 1024}
    assert peak < 4 * 1024 * 1024  # the limit and a chunk, not 256 MiB


@pytest.mark.parametrize("encoding", ["br", "deflate", "gzip, br", "compress"])
def test_other_content_encodings_are_415(client, admin, unchanged, encoding) -> None:
    unchanged.mark()
    body = gzip.compress(json.dumps(INCIDENT).encode())
    resp = _post(client, admin, body, **{"Content-Encoding": encoding})
    assert encoding.lower() in problem(resp, 415, "Content-Encoding")["detail"]
    unchanged.check()


@pytest.mark.parametrize(
    "body", [b"\x1f\x8bnot gzip at all", gzip.compress(b'{"title": "K"}')[:-9]]
)
def test_broken_gzip_is_400(client, admin, unchanged, body) -> None:
    unchanged.mark()
    problem(_post(client, admin, body, **{"Content-Encoding": "gzip"}), 400, "body")
    unchanged.check()


def test_a_body_above_the_limit_is_413_naming_the_body_and_its_limit(app, client, admin) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    big = b'{"title": "' + b"x" * limit + b'"}'
    body = problem(_post(client, admin, big), 413, "body")
    assert body["limit_bytes"] == limit and str(limit) in body["detail"]
    chunked = client.post(
        "/api/v1/incidents",
        input_stream=io.BytesIO(big),
        headers={
            **admin["headers"],
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/json",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert problem(chunked, 413, "body")["limit_bytes"] == limit
