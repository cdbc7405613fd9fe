"""Operations through HTTP, in process, on both stores (docs/adr/0011): throttling of failed
authentications, live and ready, Prometheus metrics of each app, request ids, and errors logged
with their request id but without the request's values."""

from __future__ import annotations

import io
import json
import logging
import re
import time

from asgi_correlation_id import CorrelationIdFilter
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from service.api.app import create_app
from service.api.observability import JsonLogFormatter
from service.auth import create_token
from service.db import make_engine, migrate
from service.projection import Projector
from tests.conftest import POSTGRES_URL, Api, make_settings
from tests.factories import facility_body, move_in_body, schedule_body
from tests.proxy import LoopbackProxy

SECRET_REF = "ZETA-4711-QX"
"""A citizen reference that must never reach a log line or a metric label."""


def client_for(settings, ledger, tokens, address: str = "testclient", **overrides):  # type: ignore[no-untyped-def]
    return TestClient(create_app(settings.model_copy(update=overrides), ledger), raise_server_exceptions=False,
                      client=(address, 50000))


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_failed_authentications_are_throttled_per_client_address(settings, ledger, tokens):
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    bad = {"Authorization": "Bearer lt_0123456789abcdef0123456789abcdef_guessguessguessguess"}
    with client_for(settings, ledger, tokens, "10.0.0.1", auth_failure_limit=3, auth_failure_window_seconds=1) as a:
        app = a.app
        assert [a.get("/v1/facilities", headers=bad).status_code for _ in range(3)] == [401, 401, 401]
        refused = a.get("/v1/facilities", headers=bad)
        assert refused.status_code == 429 and refused.json()["rule"] == "auth_throttled"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        assert a.get("/v1/facilities", headers=admin).status_code == 429  # a good token from there too
        assert a.get("/v1/facilities").status_code == 401  # no token is no attempt: 401 as always
        other = TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 50000))  # the same app, running
        assert other.get("/v1/facilities", headers=admin).status_code == 200
        assert other.get("/v1/facilities", headers=bad).status_code == 401
        metrics = samples(a.get("/metrics").text)
        assert metrics[("ledger_auth_failures_total", ())] == 4
        assert metrics[("ledger_auth_throttled_total", ())] == 2
        time.sleep(1.1)  # the window moves past the failures
        assert a.get("/v1/facilities", headers=admin).status_code == 200
    with client_for(settings, ledger, tokens, auth_failure_limit=1, auth_failure_window_seconds=600) as c:
        c.get("/v1/facilities", headers={"Authorization": "Basic x"})
        assert 590 <= int(c.get("/v1/facilities", headers=admin).headers["retry-after"]) <= 600


def test_metrics_count_commands_and_latencies_by_route_template_per_app(settings, ledger, tokens):
    with client_for(settings, ledger, tokens) as client:
        api = Api(client, tokens)
        api.post("/v1/facilities", facility_body("GRENAA-BO"))
        api.put("/v1/tariff-schedules/2026", schedule_body())
        headers = {"Idempotency-Key": "move-in-1"}
        assert api.post(f"/v1/citizens/{SECRET_REF}/move-in", move_in_body("GRENAA-BO"), headers=headers,
                        role="caseworker").status_code == 201
        assert api.post(f"/v1/citizens/{SECRET_REF}/move-in", move_in_body("GRENAA-BO"), headers=headers,
                        role="caseworker").status_code == 200
        assert api.post(f"/v1/citizens/{SECRET_REF}/move-in", move_in_body("GRENAA-BO", day="2026-04-01"),
                        role="caseworker").status_code == 409
        assert api.post(f"/v1/citizens/{SECRET_REF}/move-in", {"facility": "GRENAA-BO"}).status_code == 422
        assert api.post(f"/v1/citizens/{SECRET_REF}/move-in", move_in_body("GRENAA-BO"),
                        role="auditor").status_code == 403
        assert api.get(f"/v1/citizens/{SECRET_REF}").status_code == 200
        assert api.get(f"/v1/nowhere/{SECRET_REF}").status_code == 404
        api.get("/v1/budgets/GRENAA-BO/2026")  # waits for the projections to reach the store
        scraped = api.as_(None, "GET", "/metrics")
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        assert SECRET_REF not in scraped.text
        metrics = samples(scraped.text)
        command = ("ledger_commands_total", "move_in")
        outcomes = {dict(k[1])["outcome"]: v for k, v in metrics.items() if (k[0], dict(k[1]).get("command")) == command}
        assert outcomes == {"recorded": 1, "replayed": 1, "refused": 1, "invalid": 1, "denied": 1}
        assert metrics[("ledger_commands_total", (("command", "publish_schedule"), ("outcome", "recorded")))] == 1
        latency = ("ledger_http_request_duration_seconds_count",
                   (("method", "POST"), ("route", "/v1/citizens/{ref}/move-in")))
        assert metrics[latency] == 5
        unmatched = ("ledger_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))
        assert metrics[unmatched] == 1
        routes = {dict(labels).get("route") for (_, labels) in metrics} - {None}
        assert all(route == "unmatched" or route.startswith(("/v1/", "/health", "/metrics")) for route in routes)
        assert metrics[("ledger_events_stored", ())] == 3 and metrics[("ledger_store_position", ())] == 3
        assert metrics[("ledger_projection_position", ())] == 3 and metrics[("ledger_projection_lag", ())] == 0
        assert metrics[("ledger_store_up", ())] == 1 and metrics[("ledger_projector_running", ())] == 1
    with client_for(settings, ledger, tokens) as fresh:  # another app instance: a registry of its own
        assert not any(k[0] == "ledger_commands_total" for k in samples(fresh.get("/metrics").text))


def test_a_request_id_is_taken_when_well_formed_and_returned(api):
    generated = api.get("/health/live").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    given = "7f1c2a0e9b8d4c6fa1b2c3d4e5f60718"
    assert api.get("/v1/facilities", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    replaced = api.get("/v1/facilities", headers={"X-Request-ID": SECRET_REF}).headers["x-request-id"]
    assert replaced != SECRET_REF and re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_an_error_is_logged_with_its_request_id_but_not_the_values_of_the_request(settings, ledger, tokens):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(CorrelationIdFilter())
    handler.addFilter(lambda record: not record.name.startswith("httpx"))  # the test's own client
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        app = create_app(settings, ledger)

        @app.get("/v1/failing/{ref}", include_in_schema=False)
        def failing(ref: str) -> None:
            raise ValueError(f"cannot handle citizen {ref}")  # a failure whose message quotes the request

        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get(f"/v1/failing/{SECRET_REF}?citizen={SECRET_REF}")
            client.get("/health/live")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    request_id = response.headers["x-request-id"]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert SECRET_REF not in out.getvalue()
    failure = next(line for line in lines if line["logger"] == "ledger.api")
    assert failure["request_id"] == request_id and failure["level"] == "ERROR"
    assert failure["message"] == "unhandled failure on GET /v1/failing/{ref}"
    assert failure["exc_info"].endswith("builtins.ValueError") and "failing" in failure["exc_info"]
    access = next(line for line in lines if line["logger"] == "ledger.access" and line["status"] == 500)
    assert access["request_id"] == request_id and access["route"] == "/v1/failing/{ref}"


def test_ready_says_503_while_the_projections_lag_and_200_once_they_caught_up(settings, ledger, tokens):
    with client_for(settings, ledger, tokens, projector="external", ready_max_lag=1) as client:
        api = Api(client, tokens)
        assert api.get("/health/ready").status_code == 200
        api.post("/v1/facilities", facility_body("GRENAA-BO"))
        assert api.get("/health/ready").status_code == 200  # one behind: within the lag allowed
        api.put("/v1/tariff-schedules/2026", schedule_body())
        for path in ("/health/ready", "/health"):
            lagging = api.get(path)
            assert lagging.status_code == 503, path
            body = lagging.json()
            assert body["ready"] is False and body["live"] is True and body["projections"]["lag"] == 2
            assert "2 positions behind" in body["reasons"][0]
        assert api.get("/health/live").status_code == 200
        projector = Projector(settings)
        projector.catch_up()
        projector.close()
        ready = api.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["projections"] == {
            "position": 2, "lag": 0, "mode": "external", "running": True}


def test_ready_says_503_while_postgresql_is_unreachable_and_200_when_it_is_back(tmp_path):
    schema = make_settings("postgresql", tmp_path)  # a schema of its own, dropped at the end
    settings = next(schema)
    migrate(settings)
    engine = make_engine(settings)
    reader = {"Authorization": f"Bearer {create_token(engine, 'auditor', 'reader')}"}
    engine.dispose()
    target = make_url(POSTGRES_URL)
    proxy = LoopbackProxy((target.host or "127.0.0.1", target.port or 5432))
    through = settings.model_copy(update={"database_url": str(target.set(port=proxy.port)),
                                          "ready_timeout_seconds": 1.0})
    try:
        with TestClient(create_app(through), raise_server_exceptions=False) as client:
            assert client.get("/health/ready").status_code == 200
            proxy.cut()
            started = time.monotonic()
            down = client.get("/health/ready")
            assert down.status_code == 503 and down.json()["ready"] is False, down.text
            assert "the store did not answer" in down.json()["reasons"][0]
            assert client.get("/health").status_code == 503
            assert client.get("/health/live").status_code == 200
            refused = client.get("/v1/facilities", headers=reader)  # a request, not only the probes: 503, no 500
            assert refused.status_code == 503 and refused.json()["rule"] == "store_unavailable", refused.text
            assert refused.headers["retry-after"] == "1"
            assert samples(client.get("/metrics").text)[("ledger_store_up", ())] == 0
            assert time.monotonic() - started < 10
            proxy.open()
            deadline = time.monotonic() + 30
            while client.get("/health/ready").status_code != 200:
                assert time.monotonic() < deadline, "ready did not come back with the store"
                time.sleep(0.2)
    finally:
        proxy.cut()
        next(schema, None)
