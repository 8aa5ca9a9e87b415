"""Request guards run before any view: text without NUL or lone surrogates, JSON bodies that are
declared, bounded in size and nesting, so bad input is a 4xx naming the field, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, Request, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from service.fields import MAX_ID

#: the deepest JSON nesting accepted (Firebreak's own documents nest at most about 6)
MAX_JSON_DEPTH = 32
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class BadInput(HTTPException):
    """A refusal naming the field; rendered as problem+json (API) or an HTML page (/ui)."""

    def __init__(self, status: int, message: str, *, location: str, field: str) -> None:
        super().__init__(description=message)
        self.code = status
        self.location = location
        self.field = field
        self.data = {
            "type": "validation" if status in (400, 422) else None,
            "message": f"{field}: {message}",
            "errors": [{"location": location, "field": field, "message": message}],
        }


def bad_text(value: str) -> str | None:
    """Why a text cannot be stored (NUL, a lone surrogate), or None if it can."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "must not contain lone surrogates (invalid Unicode)"


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string (keys included) of a JSON document with its dotted path, iteratively."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            yield where, node
        elif isinstance(node, dict):
            for key, item in node.items():
                name = f"{where}.{key}" if where else str(key)
                yield name, str(key)
                stack.append((item, name))
        elif isinstance(node, list):
            stack.extend((item, f"{where}.{i}" if where else str(i)) for i, item in enumerate(node))


def _too_deep(document: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON document nests arrays/objects deeper than `limit` (iteratively)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        items = node.values() if isinstance(node, dict) else node
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return False


#: JSON escapes that may decode to text the database cannot store (NUL, surrogates)
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def check_text(values: Any, location: str) -> None:
    """Refuse (422) the first key or value of a multi-dict holding NUL or a lone surrogate."""
    for key, value in values.items(multi=True):
        for text in (key, value):
            problem = bad_text(text) if isinstance(text, str) else None
            if problem:
                raise BadInput(422, problem, location=location, field=key)


def check_url(req: Request) -> None:
    """The path and the query string: no NUL or lone surrogates."""
    problem = bad_text(req.path)
    if problem:
        raise BadInput(404, problem, location="path", field="path")
    check_text(req.args, "query")


def _body(req: Request) -> bytes:
    """The raw body, read within the size limit (a chunked body has no Content-Length)."""
    try:
        raw = req.get_data(cache=True)
    except RequestEntityTooLarge:
        raise
    except (OSError, ValueError) as exc:  # a broken or truncated stream
        raise BadInput(400, f"unreadable body ({exc})", location="json", field="body") from exc
    limit = req.max_content_length
    # werkzeug stops a chunked body at the limit without saying so: is there more?
    if limit is not None and len(raw) >= limit and req.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge(f"body larger than {limit} bytes")
    return raw


def _has_body(req: Request) -> bool:
    chunked = "chunked" in req.headers.get("Transfer-Encoding", "").lower()
    return bool(req.content_length) or chunked


def check_json_body(req: Request) -> None:
    """An API body must say it is JSON (415), fit the limit (413), parse, nest at most
    MAX_JSON_DEPTH deep (400) and hold only storable text (422)."""
    if req.method not in _BODY_METHODS or not _has_body(req):
        return
    mimetype = req.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        got = mimetype or "no Content-Type"
        raise BadInput(
            415, f"expected application/json, got {got}", location="headers", field="Content-Type"
        )
    raw = _body(req)
    if not raw.strip():
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(400, "body is not UTF-8", location="json", field="body") from exc
    _check_document(text)


def _check_document(text: str) -> None:
    """The body parses, is not too deep, and its strings can be stored."""
    too_deep = BadInput(
        400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels", location="json", field="body"
    )
    try:
        document = json.loads(text, parse_constant=_no_constants)
    except RecursionError as exc:
        raise too_deep from exc
    except ValueError as exc:
        raise BadInput(400, f"invalid JSON: {exc}", location="json", field="body") from exc
    if isinstance(document, dict | list) and _too_deep(document):
        raise too_deep
    if not _SUSPECT_ESCAPE.search(text):  # raw NUL is invalid JSON; raw surrogates are not UTF-8
        return
    for where, value in _strings(document, ""):
        problem = bad_text(value)
        if problem:
            raise BadInput(422, problem, location="json", field=where or "body")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_form(req: Request) -> None:
    """Form fields (sign-in, webhooks): no NUL or lone surrogates."""
    if req.method in _BODY_METHODS and req.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        check_text(req.form, "form")


def guard_request() -> None:
    """Every request: the URL; API bodies as JSON; form bodies."""
    check_url(request)
    if request.path.startswith("/api/"):
        check_json_body(request)
    else:
        check_form(request)


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits only (no '٤٢'); the bound is checked per field."""

    regex = r"[0-9]{1,100}"


def check_path_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A path id above the database's INTEGER range names its field (404: it cannot exist)."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise BadInput(
                404, f"no such {name}: ids run from 1 to {MAX_ID}", location="path", field=name
            )


def install(app: Flask) -> None:
    """Install the id converter (before any route is added) and the request guards."""
    app.url_map.converters["int"] = IdConverter
    app.url_value_preprocessor(check_path_ids)
    app.before_request(guard_request)
