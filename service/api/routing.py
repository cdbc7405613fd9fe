"""The routes of the API: strict JSON bodies and documented problems, in one place.

Every router of the API is made by `api_router`, whose routes (`LedgerRoute`)

- answer with `Cache-Control: no-store` (what the API answers names citizens or figures that
  a browser or proxy should not keep; its problems carry it too, `problems.problem`);
- refuse a JSON body that repeats a key in one object with 422 `duplicate_key`, naming the key,
  instead of taking the last value silently (the standard library's `json` parser keeps the
  last one; here it parses with an `object_pairs_hook` that sees every pair);
- declare in OpenAPI the problems they can answer (as `application/problem+json` with the
  `Problem` schema), from what the route takes: 422 when it has parameters or a body, 401, 403,
  409 and 429 when it needs a token, 404 when it names a resource (a path parameter or a body),
  413 when it takes a body, and 503 (the store unavailable, the projections lagging) always.
  Explicit `responses=` of a route keep their descriptions.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Coroutine

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import authenticated
from service.api.problems import NO_STORE, PROBLEM, ApiProblem

COMPONENTS = "#/components/schemas/"


class FieldError(BaseModel):
    field: str = Field(description="The field, as the request names it: `lines[0].amount`, `as_of`, "
                                   "`Idempotency-Key`; `request` when the refusal names none")
    message: str


class Problem(BaseModel):
    """An error (RFC 9457): `rule` names what was refused; `type` is `urn:ledger:problem:<rule>`."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(pattern=r"^urn:ledger:problem:[a-z0-9_]+$")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    rule: str = Field(pattern=r"^[a-z0-9_]+$")
    errors: list[FieldError] | None = Field(None, description="For invalid input: the fields and what is wrong")


DESCRIPTIONS = {
    401: "No token, or an unknown, malformed or revoked one (`token_required`, `token_invalid`)",
    403: "The role may not do this (`role_not_allowed`)",
    404: "Unknown resource",
    409: "A domain rule, a position not reached or a reused Idempotency-Key; the rule is named",
    413: "The body is larger than the limit (`body_too_large`)",
    422: "Invalid input; the fields are named",
    429: "Too many failed token attempts (`auth_throttled`), with Retry-After",
    503: "The store is unavailable or busy, or the projections lag; with Retry-After",
}


def problem_response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status],
            "content": {PROBLEM: {"schema": {"$ref": f"{COMPONENTS}Problem"}}}}


def _dependants(dependant: Dependant) -> list[Dependant]:
    """The route's dependant and those of all its dependencies."""
    return [dependant, *(inner for sub in dependant.dependencies for inner in _dependants(sub))]


def problem_statuses(route: APIRoute) -> list[int]:
    """The problems a route can answer, from the parameters, body and token it takes."""
    every = _dependants(route.dependant)
    body = route.body_field is not None
    statuses = {503}
    if body or any(d.path_params or d.query_params or d.header_params or d.cookie_params for d in every):
        statuses.add(422)
    if any(d.call is authenticated for d in every):
        statuses |= {401, 403, 409, 429}
    if body or any(d.path_params for d in every):
        statuses.add(404)
    if body:
        statuses.add(413)
    return sorted(statuses)


class StrictJsonRequest(Request):
    """A request whose JSON body is UTF-8, nests within the parser's depth and holds no number
    longer than the interpreter converts (422 otherwise, not FastAPI's 400), and may not repeat
    a key within one object."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                text = (await self.body()).decode("utf-8")
            except UnicodeDecodeError:
                raise ApiProblem(422, "the body is not UTF-8 text", rule="invalid_input", field="body") from None
            try:
                self._json = json.loads(text, object_pairs_hook=_unique_keys)
            except json.JSONDecodeError:
                raise  # FastAPI's own 422 naming where the body is not JSON
            except RecursionError:
                raise ApiProblem(422, "the body nests arrays or objects too deeply", rule="invalid_input",
                                 field="body") from None
            except ValueError:  # a number longer than the interpreter converts
                raise ApiProblem(422, "the body holds a number too long to read", rule="invalid_input",
                                 field="body") from None
        return self._json


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            name = key if len(key) <= 100 else key[:100] + "…"
            raise ApiProblem(422, f"the key {name!r} appears more than once in one object of the body",
                             rule="duplicate_key", field=name)
        seen[key] = value
    return seen


class LedgerRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        declared = self.responses
        self.responses = {status: problem_response(status) for status in problem_statuses(self)}
        for status, response in declared.items():
            self.responses[status] = {**self.responses.get(status, {}), **response}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strict(request: Request) -> Response:
            response = await handle(StrictJsonRequest(request.scope, request.receive))
            response.headers.setdefault("Cache-Control", NO_STORE)
            return response

        return strict


def api_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=LedgerRoute, **kwargs)


def document(app: FastAPI) -> None:
    """Add the `Problem` schema to the app's OpenAPI document (the routes refer to it)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            problem = Problem.model_json_schema(ref_template=COMPONENTS + "{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem.pop("$defs", {}))
            components["Problem"] = problem
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
