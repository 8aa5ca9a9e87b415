"""Request guards run before any view: text without NUL or lone surrogates, JSON bodies that are
declared, bounded in size (gzip too, decoded within the limit) and nesting, so bad input is a 4xx
naming the field, never a 500."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from service.fields import MAX_ID, UNSTORABLE

#: the deepest JSON nesting accepted (Firebreak's own documents nest at most about 6)
MAX_JSON_DEPTH = 32
#: the Content-Encoding values an API body may have besides none (`identity`)
GZIP = ("gzip", "x-gzip")
#: the decoded size limit when the app sets no MAX_CONTENT_LENGTH (create_app always does)
DECODED_LIMIT = 4 * 1024 * 1024
_View = TypeVar("_View", bound=Callable[..., Any])
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class BadInput(HTTPException):
    """A refusal naming the field; rendered as problem+json (API) or an HTML page (/ui)."""

    def __init__(
        self, status: int, message: str, *, location: str, field: str, **extra: Any
    ) -> None:
        super().__init__(description=message)
        self.code = status
        self.location = location
        self.field = field
        self.data = {
            "type": "validation" if status in (400, 422) else None,
            "message": f"{field}: {message}",
            "errors": [{"location": location, "field": field, "message": message}],
            "extra": extra,
        }


def too_large(limit: int, *, decoded: bool = False) -> BadInput:
    """The 413 of a body above the limit: names the field `body` and says the limit."""
    message = f"larger than {limit} bytes" + (" once decompressed" if decoded else "")
    return BadInput(413, message, location="json", field="body", limit_bytes=limit)


def repairs_text(view: _View) -> _View:
    """Mark a view that repairs the text of its JSON body itself (NUL removed, lone surrogates
    replaced, each reported) instead of the guard refusing it."""
    view._repairs_text = True  # type: ignore[attr-defined]
    return view


def bad_text(value: str) -> str | None:
    """Why a text cannot be stored (NUL, a lone surrogate), or None if it can."""
    found = UNSTORABLE.search(value)
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
    limit = req.max_content_length
    try:
        raw = req.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise too_large(limit or 0) from exc
    except (OSError, ValueError) as exc:  # a broken or truncated stream
        raise BadInput(400, f"unreadable body ({exc})", location="json", field="body") from exc
    # werkzeug stops a chunked body at the limit without saying so: is there more?
    if limit is not None and len(raw) >= limit and req.environ["wsgi.input"].read(1):
        raise too_large(limit)
    return raw


def _encoding(req: Request) -> str:
    """The body's Content-Encoding: '' (none, or identity) or gzip; any other is a 415."""
    encoding = req.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return ""
    if encoding in GZIP:
        return "gzip"
    raise BadInput(
        415,
        f"{encoding!r} is not supported: send gzip, or no Content-Encoding",
        location="headers",
        field="Content-Encoding",
    )


def gunzip(data: bytes, *, limit: int) -> bytes:
    """A gzip body decoded (members in turn), never more than `limit` bytes: a bomb is a 413
    once its output passes the limit, having held at most `limit` + 1 bytes."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=31)  # gzip header and trailer
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise BadInput(400, f"invalid gzip ({exc})", location="json", field="body") from exc
        if len(out) > limit:
            raise too_large(limit, decoded=True)
        if not inflater.eof:
            raise BadInput(400, "truncated gzip body", location="json", field="body")
        data = inflater.unused_data
    return bytes(out)


def _repairs_text(req: Request) -> bool:
    """Whether the request's view repairs its body's text itself (`repairs_text`)."""
    view = current_app.view_functions.get(req.endpoint or "")
    return bool(getattr(view, "_repairs_text", False))


def _has_body(req: Request) -> bool:
    chunked = "chunked" in req.headers.get("Transfer-Encoding", "").lower()
    return bool(req.content_length) or chunked


def check_json_body(req: Request) -> None:
    """An API body must say it is JSON (415), be plain or gzip (415), fit the limit, decoded
    too (413), parse, nest at most MAX_JSON_DEPTH deep (400) and hold only storable text
    (422, unless its view repairs the text)."""
    if req.method not in _BODY_METHODS or not _has_body(req):
        return
    mimetype = req.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        got = mimetype or "no Content-Type"
        raise BadInput(
            415, f"expected application/json, got {got}", location="headers", field="Content-Type"
        )
    encoding = _encoding(req)
    raw = _body(req)
    if encoding:
        raw = gunzip(raw, limit=req.max_content_length or DECODED_LIMIT)
        req._cached_data = raw  # what the view parses: the decoded body
    if not raw.strip():
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(400, "body is not UTF-8", location="json", field="body") from exc
    _check_document(text, storable=not _repairs_text(req))


def _check_document(text: str, *, storable: bool = True) -> None:
    """The body parses, is not too deep, and (if `storable`) its strings can be stored."""
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
    # raw NUL is invalid JSON and raw surrogates are not UTF-8: only escapes can hold them
    if not storable or not _SUSPECT_ESCAPE.search(text):
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
