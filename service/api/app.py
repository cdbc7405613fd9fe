"""The FastAPI application: routers, problem+json errors, authentication before a body is read,
body size and time limits (service/api/limits.py), health, auth throttling, request logs and
metrics."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from anyio import CapacityLimiter
from fastapi import FastAPI

from service.api import (
    audit, budgets, buyers, central, citizens, docs, downloads, facilities, health, limits, observability,
    problems, commands, regulation, routing, schedules, statements, throttle,
)
from service.ledger import BudgetLedger
from service.projection import EmbeddedProjector, ProjectionStatus
from service.settings import Settings
from service.ui import install as install_ui


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
    app.state.command_limiter = CapacityLimiter(settings.commands_at_once)  # service/api/commands.py
    if ledger is not None:
        app.state.ledger = ledger
    problems.install(app)
    routing.document(app)  # the Problem schema of every route's error responses
    docs.install(app)  # /docs and /redoc, offline (docs/adr/0023)
    for module in (commands, facilities, schedules, citizens, budgets, central, statements, regulation, audit,
                   buyers):
        app.include_router(module.router)
    install_ui(app)  # the web UI at /ui (docs/adr/0009)

    health.install(app, settings.ready_timeout_seconds)
    downloads.install(app, settings.export_concurrency_per_client)
    throttle.install(app, throttle.AuthThrottle(settings.auth_failure_limit, settings.auth_failure_window_seconds))

    app.add_middleware(limits.BodyLimits, max_bytes=settings.max_body_bytes,
                       timeout_seconds=settings.body_timeout_seconds)
    app.add_middleware(limits.AuthenticateBeforeBody)  # outside the body limits: no token, no body read
    app.add_middleware(limits.InFlightPerClient, limit=settings.requests_in_flight_per_client)  # before the token
    observability.install(app)  # outside both: a 401, 408 or 413 is logged and counted too
    return app
