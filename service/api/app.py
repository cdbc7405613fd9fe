"""The FastAPI application: routers, problem+json errors, body-size limit, health, auth throttling,
request logs and metrics."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import (
    audit, budgets, central, citizens, docs, facilities, health, observability, problems, regulation, retractions,
    routing, schedules, statements, throttle,
)
from service.ledger import BudgetLedger
from service.projection import EmbeddedProjector, ProjectionStatus
from service.settings import Settings
from service.ui import install as install_ui


class BodySizeLimit:
    """Refuse bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(scope, receive, send)
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(413, f"the body is larger than {self.max_bytes} bytes", rule="body_too_large")
        await response(scope, receive, send)


class _TooLarge(problems.ApiProblem):
    """Raised while a body is read: a problem, so that FastAPI's body parsing passes it on as it is
    (a chunked body over the limit is 413, not FastAPI's 400 "error parsing the body")."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the body is larger than {max_bytes} bytes", rule="body_too_large")


def create_app(settings: Settings | None = None, ledger: BudgetLedger | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = ledger is None
        app.state.ledger = ledger or BudgetLedger(settings)
        app.state.projections = ProjectionStatus(settings)
        embedded = app.state.embedded = None
        if settings.projector == "embedded":
            embedded = app.state.embedded = EmbeddedProjector(settings)
            app.state.ledger.after_write.append(embedded.nudge)
            embedded.start()
        yield
        if embedded is not None:
            app.state.ledger.after_write.remove(embedded.nudge)
            embedded.stop()
        app.state.projections.close()
        if owned:
            app.state.ledger.close()

    app = FastAPI(
        title="Budget ledger",
        description="Event-sourced ledger of the resource allocation model (ressourcetildelingsmodel) "
        "for residential care facilities for adults.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from bundled assets by docs.install
    )
    app.state.settings = settings
    if ledger is not None:
        app.state.ledger = ledger
    problems.install(app)
    routing.document(app)  # the Problem schema of every route's error responses
    docs.install(app)  # /docs and /redoc, offline (docs/adr/0023)
    for module in (facilities, schedules, citizens, retractions, budgets, central, statements, regulation, audit):
        app.include_router(module.router)
    install_ui(app)  # the web UI at /ui (docs/adr/0009)

    health.install(app, settings.ready_timeout_seconds)
    throttle.install(app, throttle.AuthThrottle(settings.auth_failure_limit, settings.auth_failure_window_seconds))

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    observability.install(app)  # outside the body limit: a 413 is logged and counted too
    return app
