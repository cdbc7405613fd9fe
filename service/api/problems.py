"""Errors as `application/problem+json` (RFC 9457), mapped explicitly from their causes.

422 invalid input (with `errors: [{field, message}]`), 401 no valid token, 403 a role that
may not (or a scope it may not read: `service.access.Forbidden`), 404 unknown resource or
route, 405 a method the route does not take, 409 a domain conflict, 413 a body too large, 429
too many failed token attempts, 503 a store that is unavailable or busy. A failure of the
service itself is a 500 that is logged, never hidden.

Every problem names its `rule`, and its `type` is `urn:ledger:problem:<rule>` (never
`about:blank`): the code's own refusals name a specific rule (`ApiProblem`, the domain's
errors); what FastAPI and Starlette raise themselves (an unknown route, a wrong method) gets
the rule of its status (`RULES`). Input errors name their fields in `errors`; a refusal of
input that names no field is reported against the field `request`.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import sqlalchemy.exc
from asgi_correlation_id import correlation_id
from eventsourcing import persistence
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from domain.errors import DomainError, InvalidValue, NotFound, RuleViolation
from service.access import Forbidden
from service.ledger import NotAllowed
from service.projection import ProjectionLagging, ReadModelsOutdated

log = logging.getLogger("ledger.api")
STORE_UNAVAILABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError, persistence.OperationalError,
                     psycopg.OperationalError)
"""The store refused a connection, timed out or is locked: 503 with Retry-After, not a 500."""
PROBLEM = "application/problem+json"
NO_STORE = "no-store"
"""Every answer of the API, problems included, is kept by no browser or proxy cache."""
TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Request body too large", 415: "Unsupported media type", 422: "Invalid input",
    429: "Too many requests", 500: "Internal error", 503: "Service unavailable",
}


RULES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type",
    422: "invalid_input", 429: "too_many_requests", 500: "internal_error", 503: "service_unavailable",
}
"""The rule of a problem raised without one (by FastAPI or Starlette themselves), by status."""
TYPE_PREFIX = "urn:ledger:problem:"
REQUEST_FIELD = "request"
"""The field an input refusal is reported against when it names none."""


class ApiProblem(HTTPException):
    """A refusal of the HTTP layer with its rule and, for input, the field it concerns."""

    def __init__(self, status: int, detail: str, *, rule: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers=headers)
        self.rule, self.field = rule, field


def rule_of(status: int) -> str:
    return RULES.get(status, "client_error" if status < 500 else "server_error")


def problem(status: int, detail: str, *, rule: str | None = None, errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    rule = rule or rule_of(status)
    if status == 422 and not errors:
        errors = [{"field": REQUEST_FIELD, "message": detail}]
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + rule,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "rule": rule,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM,
                        headers={"Cache-Control": NO_STORE, **(headers or {})})


def _field_of(location: tuple[Any, ...]) -> str:
    """A pydantic location as the domain names fields: `lines[0].amount`."""
    name = ""
    for part in location[1:] if location and location[0] in ("body", "query", "path", "header") else location:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method that some route takes at the request's path (Starlette's own 405 names
    only those of the first route that matches the path)."""
    return [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)]


def domain_problem(error: DomainError) -> JSONResponse:
    errors = [{"field": error.field, "message": error.message}] if error.field else None
    if isinstance(error, InvalidValue):
        return problem(422, error.message, rule=error.rule, errors=errors)
    if isinstance(error, NotFound):
        return problem(404, error.message, rule=error.rule, errors=errors)
    if isinstance(error, RuleViolation):
        return problem(409, error.message, rule=error.rule, errors=errors)
    return problem(409, error.message, rule=error.rule, errors=errors)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            message = e.get("msg", "invalid")
            if e.get("type") == "extra_forbidden":
                message = "unknown field: not part of this request"
            elif e.get("type") == "json_invalid":
                errors.append({"field": "body", "message": "the body is not valid JSON"})
                continue
            errors.append({"field": _field_of(tuple(e.get("loc", ()))), "message": message})
        return problem(422, "the request has invalid fields; see errors", rule="invalid_input", errors=errors)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(NotAllowed)
    async def _not_allowed(_: Request, exc: NotAllowed) -> JSONResponse:
        return problem(403, str(exc), rule="role_not_allowed")

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return problem(403, exc.message, rule=exc.rule)

    @app.exception_handler(ReadModelsOutdated)
    async def _outdated(_: Request, exc: ReadModelsOutdated) -> JSONResponse:
        return problem(503, str(exc), rule="read_models_outdated")

    @app.exception_handler(ProjectionLagging)
    async def _lagging(_: Request, exc: ProjectionLagging) -> JSONResponse:
        return problem(503, str(exc), rule="projection_lagging", headers={"Retry-After": "1"})

    async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("the store is unavailable or busy (%s) on %s", type(exc).__name__,
                    getattr(request.scope.get("route"), "path", "unmatched"))
        return problem(503, "the store is unavailable or busy; try again shortly (a command with the same "
                       "Idempotency-Key is recorded at most once)", rule="store_unavailable",
                       headers={"Retry-After": "1"})

    for unavailable in STORE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _store_unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        field = getattr(exc, "field", None)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request.scope))}
        return problem(exc.status_code, detail, rule=getattr(exc, "rule", None),
                       errors=[{"field": field, "message": detail}] if field else None, headers=headers)

    @app.exception_handler(Exception)
    async def _failure(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the template: a path may hold a citizen ref
        log.exception("unhandled failure on %s %s", request.method, route)
        request_id = correlation_id.get()  # answered outside the request-id middleware: name it here
        return problem(500, "the service failed to handle this request; it has been logged",
                       headers={"X-Request-ID": request_id} if request_id else None)
