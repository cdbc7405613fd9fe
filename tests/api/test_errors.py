"""Every error is problem+json with a `rule` (its `type` `urn:ledger:problem:<rule>`, never
`about:blank`) and, for input, `errors[].field`: a walk of every route of the OpenAPI schema
with no token, a bad token, a role that may not, bad path and query parameters, a bad body and
a wrong method; and what FastAPI and Starlette raise themselves (unknown routes, 405, 413)."""

from __future__ import annotations

from typing import Any

from service.api.routing import Problem
from service.auth import ROLES
from tests.api.test_access import ENDPOINTS, PUBLIC, world  # noqa: F401 - the fixture of a small world
from tests.conftest import Api

METHODS = ("get", "post", "put", "patch", "delete")


def assert_problem(response: Any, status: int, rule: str | None = None, field: str | None = None) -> dict:
    """The response is a problem of `status` in the agreed shape (with `rule`, and for input the fields)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    Problem.model_validate(body)
    assert body["status"] == status and body["type"] == f"urn:ledger:problem:{body['rule']}", body
    assert body["type"] != "about:blank" and body["title"] and body["detail"], body
    if rule is not None:
        assert body["rule"] == rule, body
    if status == 422:
        assert body["errors"] and all(e["field"] and e["message"] for e in body["errors"]), body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def bad_value(schema: dict) -> str:
    """A value that the parameter's schema refuses."""
    schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)
    if schema.get("type") == "integer":
        return "x"
    if schema.get("format") in ("date", "date-time"):
        return "not-a-time"
    if "enum" in schema:
        return "zzz"
    return "~" * 200


def operations(api: Api) -> list[tuple[str, str, dict]]:
    schema = api.client.app.openapi()
    return [(method.upper(), path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items() if method in METHODS]


def concrete(template: str, params: dict[str, str]) -> str:
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_every_route_answers_bad_input_with_a_problem_naming_its_rule_and_fields(world):
    walked = 0
    for method, template, operation in operations(world):
        path, allowed, body = ENDPOINTS[method, template]
        if allowed is PUBLIC:
            continue
        send = {"json": body} if body is not None else {}
        assert_problem(world.as_(None, method, path, **send), 401, "token_required")
        assert_problem(world.as_("lt_bogus", method, path, **send), 401, "token_invalid")
        assert_problem(world.as_(None, method, path, headers={"Authorization": "Basic eDp5"}, **send), 401,
                       "token_required")
        for role in set(ROLES) - allowed:
            assert_problem(world.as_(role, method, path, **send), 403, "role_not_allowed")
        parameters = operation.get("parameters", [])
        given = dict(zip([p["name"] for p in parameters if p["in"] == "path"],
                         [part for part, tpl in zip(path.split("/"), template.split("/")) if tpl.startswith("{")]))
        for parameter in parameters:
            bad = bad_value(parameter["schema"])
            if parameter["in"] == "path":
                response = world.as_("admin", method, concrete(template, given | {parameter["name"]: bad}), **send)
            else:
                response = world.as_("admin", method, path, params={parameter["name"]: bad}, **send)
            assert_problem(response, 422, field=parameter["name"])
        if body is not None:
            assert_problem(world.as_("admin", method, path, content=b"{", headers={"content-type": "application/json"}),
                           422, "invalid_input", "body")
            assert_problem(world.as_("admin", method, path, content=b'{"reason": "\xff"}',
                                     headers={"content-type": "application/json"}), 422, "invalid_input", "body")
            assert_problem(world.as_("admin", method, path, content=b"[" * 100_000 + b"]" * 100_000,
                                     headers={"content-type": "application/json"}), 422, "invalid_input", "body")
            assert_problem(world.as_("admin", method, path, content=b'{"reason": ' + b"9" * 5000 + b"}",
                                     headers={"content-type": "application/json"}), 422, "invalid_input", "body")
            assert_problem(world.as_("admin", method, path, json=[]), 422, "invalid_input")
            assert_problem(world.as_("admin", method, path, json={**body, "unknown_field": 1}), 422, "invalid_input",
                           "unknown_field")
        if "201" in operation["responses"]:  # a command: it takes an Idempotency-Key
            assert_problem(world.as_("admin", method, path, json=body, headers={"Idempotency-Key": "k" * 201}), 422,
                           "invalid_idempotency_key", "Idempotency-Key")
        wrong = "DELETE" if method != "DELETE" else "PATCH"
        refused = assert_problem(world.as_("admin", wrong, path), 405, "method_not_allowed")
        assert method in world.as_("admin", wrong, path).headers["allow"], refused
        walked += 1
    assert walked >= 25


def test_a_read_as_of_a_future_instant_is_a_problem_naming_its_rule(world):
    for path in ("/v1/central/2026", "/v1/facilities", "/v1/citizens/A"):
        assert_problem(world.get(path, params={"as_of": "2999-01-01T00:00:00+00:00"}), 422)


def test_a_body_that_repeats_a_key_is_refused_naming_the_key_and_nothing_is_recorded(world):
    before = world.get("/v1/facilities").json()
    raw = (b'{"code": "TWICE", "name": "Twice", "kind": "botilbud", "area": "Nord", "places": 10, '
           b'"places": 99999}')
    refused = world.post("/v1/facilities", content=raw, headers={"content-type": "application/json"})
    assert_problem(refused, 422, "duplicate_key", "places")
    text = ('{"facility": "GRENAA-BO", "effective_date": "2026-10-01", "paying_municipality": "751", '
            '"assessment": {"hours_per_day": "3", "hours_per_day": "12"}}')
    once = text.replace('"hours_per_day": "3", ', "")
    assert world.post("/v1/citizens/C/move-in", content=once.encode(),
                      headers={"content-type": "application/json"}).status_code == 201  # the same body, keys once
    refused = world.post("/v1/citizens/B/move-in", content=text.encode(), headers={"content-type": "application/json"})
    assert_problem(refused, 422, "duplicate_key", "hours_per_day")
    assert world.get("/v1/facilities").json() == before
    assert_problem(world.get("/v1/citizens/B"), 404)
    assert_problem(world.get("/v1/facilities/TWICE"), 404)


def test_what_the_framework_raises_itself_is_a_problem_too(world, settings):
    for path in ("/v1/nothing-here", "/nothing", "/v1/facilities/GRENAA-BO/nothing"):
        assert_problem(world.get(path), 404, "not_found")
    assert_problem(world.get("/v1/facilities/NOSUCH"), 404)
    assert_problem(world.as_("admin", "PATCH", "/v1/facilities"), 405, "method_not_allowed")
    too_large = b"{" + b" " * settings.max_body_bytes + b"}"
    assert_problem(world.post("/v1/facilities", content=too_large, headers={"content-type": "application/json"}),
                   413, "body_too_large")

    def chunked():  # no Content-Length: the limit is found while the body is read
        for _ in range(settings.max_body_bytes // 1000 + 1):
            yield b" " * 1000

    sent = world.post("/v1/facilities", content=chunked(), headers={"content-type": "application/json"})
    assert "content-length" not in sent.request.headers
    assert_problem(sent, 413, "body_too_large")


def test_every_answer_of_the_api_is_not_stored_by_a_cache(world):
    for (method, _), (path, allowed, body) in ENDPOINTS.items():
        if allowed is PUBLIC:
            continue
        answer = world.as_("admin", method, path, json=body)
        assert answer.headers.get("cache-control") == "no-store", (method, path, answer.status_code)
        refused = world.as_(None, method, path, json=body)
        assert refused.status_code == 401 and refused.headers.get("cache-control") == "no-store", (method, path)
    assert world.get("/v1/nothing-here").headers.get("cache-control") == "no-store"
