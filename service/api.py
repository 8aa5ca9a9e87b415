"""The flask-smorest Api rendering RFC 9457 problems, and the Blueprint with role checks."""

from __future__ import annotations

import http
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, NoReturn

import flask_smorest
import flask_smorest.pagination
import marshmallow as ma
from apispec import APISpec, BasePlugin
from flask import Flask, Response, g, json, request
from flask_smorest.utils import prepare_response
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from service import config, limits
from service.auth.models import User
from service.auth.roles import Role
from service.auth.service import find_token
from service.db import utcnow
from service.errors import Conflict, DomainError
from service.extensions import db
from service.fields import TEXT, Distinct, MultipleOf, QueryId, Repaired

log = logging.getLogger(__name__)

#: the highest page number a list accepts (an offset beyond is an empty page anyway)
MAX_PAGE = 100_000


def _pagination_schema(first: int, size: int, max_size: int) -> type[ma.Schema]:
    """flask-smorest's pagination parameters, bounded and ASCII-only (no '²', no 10**30)."""

    class PaginationParametersSchema(ma.Schema):
        class Meta:
            unknown = ma.EXCLUDE

        page = QueryId(
            load_default=first,
            validate=ma.validate.Range(min=1, max=MAX_PAGE),
            metadata={"description": f"1-based page number, at most {MAX_PAGE}"},
        )
        page_size = QueryId(
            load_default=size,
            validate=ma.validate.Range(min=1, max=max_size),
            metadata={"description": f"items per page, at most {max_size}"},
        )

        @ma.post_load
        def make_paginator(self, data: dict[str, Any], **_kwargs: Any) -> Any:
            return flask_smorest.pagination.PaginationParameters(**data)

    return PaginationParametersSchema


# flask-smorest builds its pagination schema through this module function; bound it.
flask_smorest.pagination._pagination_parameters_schema_factory = _pagination_schema

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:firebreak:problem:"


class FieldErrorSchema(ma.Schema):
    """One invalid field: where it was, which field, why."""

    location = ma.fields.String(metadata={"description": "json, query, path or headers"})
    field = ma.fields.String(metadata={"description": "dotted path of the field"})
    message = ma.fields.String()


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document; a problem may add members (a 409 names the current
    status, a 429 when to retry), as RFC 9457 allows."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: extension members

    type = ma.fields.String(metadata={"example": "urn:firebreak:problem:validation"})
    title = ma.fields.String(metadata={"example": "Unprocessable Content"})
    status = ma.fields.Integer(metadata={"example": 422})
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))
    status_now = ma.fields.String(
        metadata={"description": "a refused status change (409): the incident's status now"}
    )


def abort(
    status: int,
    detail: str,
    *,
    type: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> NoReturn:
    """Stop the request with a problem+json answer (the only way a view fails)."""
    data: dict[str, Any] = {"message": detail, "extra": extra}
    if type:
        data["type"] = type
    if field:
        data["errors"] = [{"location": "json", "field": field, "message": detail}]
    if headers:
        data["headers"] = headers
    flask_smorest.abort(status, **data)
    raise AssertionError("unreachable")  # pragma: no cover


def _flatten(messages: Any, location: str, prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_flatten(value, location, name))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out.extend({"location": location, "field": prefix, "message": m} for m in messages)
        else:
            for item in messages:
                out.extend(_flatten(item, location, prefix))
    else:
        out.append({"location": location, "field": prefix, "message": str(messages)})
    return out


def field_errors(messages: dict[str, Any]) -> list[dict[str, str]]:
    """webargs' nested {location: {field: [msg]}} as a flat list of field errors."""
    out: list[dict[str, str]] = []
    for location, fields in messages.items():
        out.extend(_flatten(fields, location))
    return out


def openapi_rules(**rules: Any) -> Callable[[type[ma.Schema]], type[ma.Schema]]:
    """Declare JSON Schema rules a marshmallow schema enforces in code (e.g. minProperties=1)."""

    def mark(cls: type[ma.Schema]) -> type[ma.Schema]:
        cls._openapi_rules = rules  # type: ignore[attr-defined]
        return cls

    return mark


class _ContractPlugin(BasePlugin):
    """apispec plugin: schemas carry their declared rules; a body whose schema requires
    nothing (an optional note) is documented as optional, as the API treats it."""

    def init_spec(self, spec: APISpec) -> None:
        """Keep the spec to look up the components."""
        self.spec = spec

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        """The rules declared with `openapi_rules`."""
        schema = kwargs.get("schema")
        cls = schema if isinstance(schema, type) else type(schema)
        return dict(getattr(cls, "_openapi_rules", {})) or None

    def operation_helper(self, path: str | None = None, operations: Any = None, **_: Any) -> None:
        """Optional bodies: required false when their schema requires no field."""
        schemas = self.spec.components.schemas
        for operation in (operations or {}).values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "") if isinstance(media, dict) else ""
                component = schemas.get(ref.rsplit("/", 1)[-1]) if ref else None
                needs = ("required", "minProperties", "anyOf", "oneOf")
                if component is not None and not any(component.get(k) for k in needs):
                    body["required"] = False


#: the component any JSON value a request may carry is (no NUL in a string or a key, at any depth)
JSON_VALUE = "JsonValue"
JSON_VALUE_REF = {"$ref": f"#/components/schemas/{JSON_VALUE}"}


def _json_value() -> dict[str, Any]:
    """Any JSON value without NUL characters (the request guard refuses them everywhere)."""
    return {
        "description": "any JSON value; no string or key holds a NUL character",
        "anyOf": [
            {"type": "string", "pattern": TEXT},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": JSON_VALUE_REF},
            {
                "type": "object",
                "propertyNames": {"pattern": TEXT},
                "additionalProperties": JSON_VALUE_REF,
            },
        ],
    }


def _is_string(prop: dict[str, Any]) -> bool:
    kind = prop.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def _validator_rules(field: ma.fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    """Exclusive `Range` bounds (apispec drops the exclusion), `MultipleOf`, `Distinct`."""
    rules: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            for bound, inclusive, name in (
                (validator.min, validator.min_inclusive, "Minimum"),
                (validator.max, validator.max_inclusive, "Maximum"),
            ):
                if bound is not None and not inclusive:
                    ret.pop(name.lower(), None)
                    rules["exclusive" + name] = bound
        elif isinstance(validator, MultipleOf):
            rules["multipleOf"] = validator.multiple
        elif isinstance(validator, Distinct):
            rules["uniqueItems"] = True
    return rules


def _dict_rules(converter: Any, field: ma.fields.Dict, ret: dict[str, Any]) -> dict[str, Any]:
    """A `Length` of a dict counts its keys; its key field says what a key may be."""
    rules: dict[str, Any] = {}
    for name in ("min", "max"):
        if f"{name}Length" in ret:
            rules[f"{name}Properties"] = ret.pop(f"{name}Length")
    if field.key_field is not None:
        rules["propertyNames"] = converter.field2property(field.key_field)
    return rules


def contract_rules(converter: Any, field: ma.fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    """apispec attribute function: the rules apispec leaves out, and the request guard's (no
    NUL in any string, keys included) on every free string and every object's keys."""
    rules = _validator_rules(field, ret)
    if isinstance(field, ma.fields.Dict):
        rules.update(_dict_rules(converter, field, ret))
    free = not isinstance(field, Repaired)  # a repaired string may hold NUL: it is removed
    if free and _is_string(ret) and not {"pattern", "format", "enum", "const"} & set(ret):
        rules["pattern"] = TEXT
    if "additionalProperties" in ret and "propertyNames" not in {**ret, **rules}:
        rules["propertyNames"] = {"pattern": TEXT}
    return rules


class Api(flask_smorest.Api):
    """flask-smorest Api whose every error is application/problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Render any HTTP error as an RFC 9457 problem."""
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        title = (
            http.HTTPStatus(status).phrase
            if status in http.HTTPStatus._value2member_map_
            else error.name
        )
        body: dict[str, Any] = {
            "type": data.get("type") and PROBLEM_TYPE_PREFIX + data["type"] or "about:blank",
            "title": title,
            "status": status,
            "detail": data.get("message") or error.description or title,
        }
        errors = data.get("errors")
        if errors is None and "messages" in data:
            errors = field_errors(data["messages"])
            body["type"] = PROBLEM_TYPE_PREFIX + "validation"
            body["detail"] = "; ".join(
                f"{e['field'] or e['location']}: {e['message']}" for e in errors[:5]
            )
        if errors:
            body["errors"] = errors
        body.update(data.get("extra") or {})
        if status >= 500:
            log.error("request failed: %s %s -> %s", request.method, request.path, status)
        headers = dict(data.get("headers") or {})
        if hasattr(error, "get_headers"):
            for key, value in error.get_headers():
                if key.lower() not in ("content-type", "content-length"):
                    headers.setdefault(key, value)
        return Response(json.dumps(body), status=status, headers=headers, mimetype=PROBLEM_MIMETYPE)

    def _register_responses(self) -> None:
        """flask-smorest's shared error responses, as application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        """Bind to the app, declare bearer auth, render every error as a problem."""
        extra = [*(spec_kwargs or {}).get("extra_plugins", ()), _ContractPlugin()]
        super().init_app(app, spec_kwargs={**(spec_kwargs or {}), "extra_plugins": extra})
        self.ma_plugin.converter.add_attribute_function(contract_rules)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "API token"}
        )
        self.spec.components.schema(JSON_VALUE, _json_value())
        app.register_error_handler(Exception, self._handle_unexpected)
        app.after_request(_api_headers)

    def _handle_unexpected(self, error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return self.handle_http_exception(error)
        if isinstance(error, DomainError):
            return self._handle_domain_error(error)
        if isinstance(error, StaleDataError):  # optimistic versioning lost a race (SQLite)
            return self._handle_domain_error(
                Conflict("the incident changed at the same moment; nothing was changed, retry")
            )
        log.exception("unhandled error on %s %s", request.method, request.path)
        return self.handle_http_exception(_InternalError())

    def _handle_domain_error(self, error: DomainError) -> Response:
        try:
            abort(
                error.status,
                error.detail,
                type=error.type,
                field=error.field,
                headers=error.headers,
                **error.extra,
            )
        except HTTPException as http_error:
            return self.handle_http_exception(http_error)
        raise AssertionError("unreachable")  # pragma: no cover


def _api_headers(response: Response) -> Response:
    """API answers are private and typed: never cached (tokens, phone numbers), never sniffed."""
    if request.path.startswith(("/api/", "/webhooks/")):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class _InternalError(HTTPException):
    code = 500
    description = "An unexpected error occurred; it has been logged."


def problem_responses(*codes: int) -> dict[int, str]:
    """Descriptions of the problems an endpoint may answer with."""
    return {code: _DESCRIPTIONS[code] for code in codes}


_DESCRIPTIONS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing, invalid, expired or revoked API token",
    403: "The token's user lacks a role this endpoint allows",
    404: "Not found",
    409: "Conflicts with the current state (nothing changed)",
    413: "Request body larger than the limit",
    415: "Body is not application/json, or its Content-Encoding is not gzip (or none)",
    422: "Invalid input: the fields and why are listed",
    429: "Too many requests: retry after Retry-After seconds",
}


def authenticate_request() -> User:
    """The user behind the request's bearer token; 401 if there is none or it is not valid."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="firebreak"'}
    if not header:
        abort(401, "missing Authorization: Bearer token", type="unauthorized", headers=challenge)
    if scheme.lower() != "bearer" or not secret.strip():
        abort(401, "Authorization must be 'Bearer <token>'", type="unauthorized", headers=challenge)
    session = db.session
    now = utcnow()
    token = find_token(session, secret=secret.strip(), now=now)
    if token is None:
        # only invalid tokens are limited: a valid one authenticates whatever its address sent
        if not limits.bad_token_allowed():
            abort(
                429,
                "too many invalid tokens from this address",
                type="rate-limited",
                headers={"Retry-After": "60"},
            )
        limits.bad_token_seen()
        abort(
            401,
            "token is invalid, expired or revoked",
            type="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="firebreak", error="invalid_token"'},
        )
    resolution = config.current().token_last_used_resolution_seconds
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= resolution:
        token.last_used_at = now
        session.commit()
    return token.user


class Blueprint(flask_smorest.Blueprint):
    """A domain's blueprint: every view declares the roles it allows."""

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        """X-Pagination is a header, so a string: JSON with the fields below."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "JSON: total, total_pages, first_page, last_page, page, "
            "previous_page, next_page",
            "schema": {"type": "string", "example": '{"total": 42, "total_pages": 5, "page": 1}'},
        }

    def roles(self, *allowed: Role, errors: Iterable[int] = ()) -> Callable:
        """Require a bearer token whose user holds one of `allowed` (all roles if none given)."""
        wanted = frozenset(allowed) or frozenset(Role)
        names = ", ".join(sorted(r.value for r in wanted))

        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                user = authenticate_request()
                if not (user.role_set & wanted):
                    abort(403, f"this action needs one of the roles: {names}", type="forbidden")
                g.current_user = user
                return func(*args, **kwargs)

            _summary, _, rest = (func.__doc__ or "").strip().partition("\n")
            about = " ".join(rest.split())
            wrapper = self.doc(
                security=[{"bearerAuth": []}],
                description=(about + "\n\n" if about else "") + f"Roles allowed: {names}.",
                **{"x-roles": sorted(r.value for r in wanted)},
            )(wrapper)
            codes = [401, 403, 429, *errors]
            if request_has_body(func):
                codes += [400, 413, 415]
            for code in sorted(set(codes)):
                wrapper = self.alt_response(
                    code,
                    schema=ProblemSchema,
                    description=_DESCRIPTIONS[code],
                    content_type=PROBLEM_MIMETYPE,
                )(wrapper)
            wrapper._firebreak_roles = wanted  # type: ignore[attr-defined]
            return wrapper

        return decorator


def request_has_body(func: Callable) -> bool:
    """Whether a view takes a JSON body (flask-smorest's arguments with location json)."""
    params = getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") in ("json", "form", "files") for p in params)


def page_of(session: Any, query: Any, pagination_parameters: Any) -> list[Any]:
    """One page of a select, counting the total for flask-smorest's X-Pagination header."""
    pagination_parameters.item_count = session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(session.scalars(query.offset((page - 1) * size).limit(size)))
