"""Operations: a request id on every request, one JSON log line per request, and Prometheus
metrics of the app instance (docs/adr/0011).

- Request id: `X-Request-ID` is taken from the request when it is a UUID (32 hex digits, with or
  without dashes), else generated; it is returned on the response and carried by every log
  record written while the request is handled (asgi-correlation-id). Only a UUID is accepted
  so that nothing a client chooses, like a citizen's reference, reaches the log through it.
- Logs: JSON lines on stderr (python-json-logger). A request is logged once, by route template
  (`/v1/citizens/{ref}`), never by its path or query, and never with its body: no citizen
  reference reaches the log. Exceptions are logged with their type and frames but without
  their message, which may quote values of the request (database errors do).
- Metrics: a registry per app (tests build many apps): requests and latencies by route template
  (or `unmatched`) and method (one of METHODS, or `other`), so every label comes from a closed
  set whatever a client sends; commands by command and outcome, failed and throttled
  authentications, and, read from the store when scraped, its position, the events stored and
  the projections' position and lag.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.schemas import CommandPublic

access_log = logging.getLogger("ledger.access")
REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED = "unmatched"
"""The route label of a request that matched no route (its path is never a label)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
"""The method label of every request whose method is not one of METHODS: a client chooses the
method string, and a label per string would let it grow /metrics without bound."""
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTCOMES = {200: "replayed", 201: "recorded", 400: "invalid", 401: "denied", 403: "denied", 404: "not_found",
            409: "refused", 413: "invalid", 422: "invalid", 429: "denied", 503: "unavailable"}
"""A command's outcome by its status: recorded, replayed (the same Idempotency-Key), refused by
a rule (409), invalid, denied, not_found, unavailable, or failed (any other 5xx)."""


def route_template(scope: Scope) -> str:
    """The template of the route a request matched (`/v1/citizens/{ref}/move-in`), never its path."""
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED


def method_label(scope: Scope) -> str:
    """The request's method when it is one the API knows, else `other`: labels come from a closed set."""
    method = scope["method"]
    return method if method in METHODS else OTHER_METHOD


def is_command(route: Any) -> bool:
    return getattr(route, "response_model", None) is CommandPublic


class Metrics:
    """The Prometheus metrics of one app instance, in a registry of its own."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("ledger_http_requests", "HTTP requests answered, by route template, method and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("ledger_http_request_duration_seconds",
                                 "Time to answer an HTTP request, by route template and method",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_progress = Gauge("ledger_http_requests_in_progress", "HTTP requests being handled now",
                                 registry=self.registry)
        self.commands = Counter("ledger_commands", "Commands answered, by command and outcome (recorded, replayed, "
                                "refused, invalid, denied, not_found, unavailable, failed)",
                                ["command", "outcome"], registry=self.registry)
        self.registry.register(StoreCollector(app))

    def observe(self, scope: Scope, status: int, seconds: float) -> str:
        route = route_template(scope)
        method = method_label(scope)
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if is_command(scope.get("route")):
            outcome = OUTCOMES.get(status, "failed" if status >= 500 else "other")
            self.commands.labels(scope["route"].name, outcome).inc()
        return route

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class StoreCollector:
    """Read when scraped: the store's position and events, the projections' position and lag,
    failed and throttled authentications; `ledger_store_up 0` when the store does not answer."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        state = self.app.state
        throttle = getattr(state, "auth_throttle", None)
        if throttle is not None:
            yield _counter("ledger_auth_failures", "Requests that presented an unusable, unknown or revoked token",
                           throttle.failures)
            yield _counter("ledger_auth_throttled", "Requests refused with 429 after too many failed token attempts",
                           throttle.throttled)
        probe = getattr(state, "store_probe", None)
        if probe is None:
            return
        try:
            snapshot = probe.snapshot(count_events=True)
        except Exception:  # noqa: BLE001 - the store does not answer: say so, as a metric
            yield GaugeMetricFamily("ledger_store_up", "1 when the store answered this scrape", value=0)
            return
        yield GaugeMetricFamily("ledger_store_up", "1 when the store answered this scrape", value=1)
        yield GaugeMetricFamily("ledger_store_position", "The position of the last stored event",
                                value=snapshot.position)
        yield GaugeMetricFamily("ledger_events_stored", "Events in the store", value=snapshot.events or 0)
        yield GaugeMetricFamily("ledger_projection_position", "The store position the read models have reached",
                                value=snapshot.reached)
        yield GaugeMetricFamily("ledger_projection_lag", "Positions the read models are behind the store",
                                value=snapshot.lag)
        stopped = GaugeMetricFamily("ledger_projection_stopped", "1 while the projection is stopped at an event it "
                                    "cannot apply (its position and type as labels)", labels=["position", "event_type"])
        if snapshot.stop is not None:
            stopped.add_metric([str(snapshot.stop.position), snapshot.stop.event_type], 1)
        else:
            stopped.add_metric(["", ""], 0)
        yield stopped
        yield GaugeMetricFamily("ledger_projection_stopped_position", "The position of the event the projection "
                                "stopped at (0: it runs)", value=snapshot.stop.position if snapshot.stop else 0)
        embedded = getattr(state, "embedded", None)
        if embedded is not None:
            yield GaugeMetricFamily("ledger_projector_running", "1 while the service's own projector runs",
                                    value=1 if embedded.alive else 0)


def _counter(name: str, documentation: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


class RequestObservation:
    """Logs every request as one JSON line and counts it in the app's metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped the app

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.in_progress.dec()
            seconds = time.perf_counter() - started
            route = self.metrics.observe(scope, status, seconds)
            actor = (scope.get("state") or {}).get("actor")
            client = scope.get("client")
            access_log.info("request", extra={
                "method": method_label(scope), "route": route, "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "actor": getattr(actor, "name", None), "role": getattr(actor, "role", None),
                "client": client[0] if client else None,
            })


def install(app: FastAPI) -> Metrics:
    """Add the request log, the metrics and the request id to `app` (outermost last), and `/metrics`."""
    metrics = Metrics(app)
    app.state.metrics = metrics
    app.add_middleware(RequestObservation, metrics=metrics)
    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER)

    @app.get("/metrics", tags=["operations"], response_class=Response,
             responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
    def prometheus_metrics() -> Response:
        """Prometheus metrics of this service process; open like /health: no personal data (docs/adr/0011)."""
        return metrics.exposition()

    return metrics


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, request_id and the record's extras.
    An exception is written as its type and frames only: its message may quote request values."""

    def __init__(self) -> None:
        super().__init__("{levelname}{name}{message}", style="{", timestamp=True,
                         rename_fields={"levelname": "level", "name": "logger", "correlation_id": "request_id"},
                         reserved_attrs=[*RESERVED_ATTRS, "color_message"])  # uvicorn's message with colours

    def formatException(self, ei: Any) -> str:  # type: ignore[override]  # noqa: N802 - logging's name
        lines: list[str] = []
        error: traceback.TracebackException | None = traceback.TracebackException(*ei)
        while error is not None:
            lines.extend(line.rstrip("\n") for line in error.stack.format())
            kind = error.exc_type
            lines.append(f"{kind.__module__}.{kind.__qualname__}" if kind else "exception")
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        return "\n".join(lines)


class RepeatFilter(logging.Filter):
    """Lets a warning that clients can cause by the thousand (uvicorn's and asyncio's: a failed
    accept when the process is out of file descriptors, an invalid request) through once per
    `seconds` for each logger and message template; the next one let through carries
    `suppressed`, the count of those left out meanwhile. Other records pass untouched."""

    LOGGERS = ("asyncio", "uvicorn.error")

    def __init__(self, seconds: float = 10.0) -> None:
        super().__init__()
        self.seconds = seconds
        self.lock = threading.Lock()
        self.last: dict[tuple[str, str], float] = {}
        self.left_out: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(self.LOGGERS):
            return True
        key = (record.name, str(record.msg)[:80])
        now = time.monotonic()
        with self.lock:
            if now - self.last.get(key, -self.seconds) < self.seconds:
                self.left_out[key] = self.left_out.get(key, 0) + 1
                return False
            self.last[key] = now
            suppressed = self.left_out.pop(key, 0)
        if suppressed:
            record.suppressed = suppressed
        return True


def log_config(repeat_seconds: float = 10.0, level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` of `ledger serve` (handed to uvicorn): JSON lines on stderr
    for every logger, each record with the request id; uvicorn's own access log is off (it
    would write raw paths) and replaced by `ledger.access`; repeated warnings of the server
    thinned out (RepeatFilter)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "asgi_correlation_id.CorrelationIdFilter"},
                    "repeats": {"()": RepeatFilter, "seconds": repeat_seconds}},
        "formatters": {"json": {"()": JsonLogFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "json",
                                "filters": ["repeats", "request_id"]}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": level},
    }
