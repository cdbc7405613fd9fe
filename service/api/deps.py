"""Typed dependencies of the HTTP API: the ledger, the authenticated actor and its role,
the Idempotency-Key of a write, and the `as_of` point of a read."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Awaitable, Callable

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from domain.cpr import looks_like_cpr
from service.access import READERS, may
from service.api.problems import ApiProblem
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.queries.positions import position_as_of, wait_for_store_async
from service.store import Idempotency, request_fingerprint
from service.throttle import authenticate_throttled

bearer = HTTPBearer(auto_error=False, description="A token from `ledger token create`")


async def get_ledger(request: Request) -> BudgetLedger:
    """A coroutine, as every dependency that does no I/O: FastAPI runs a plain function in the
    thread pool, a hop that costs every request a worker thread for nothing."""
    return request.app.state.ledger


Ledger = Annotated[BudgetLedger, Depends(get_ledger)]


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The actor of the request's bearer token: 401 `token_required` without a bearer token,
    401 `token_invalid` for an unknown, malformed or revoked one, 429 when throttled. A write
    under /v1/ has had its token checked by the middleware before its body was read
    (service/api/limits.py): that check's actor is the request's, with no second look-up and
    no worker thread. Any other request's token is looked up in the thread pool."""
    if "authorization" not in request.headers:  # no attempt: not counted by the throttle
        raise ApiProblem(401, "a bearer token is required", rule="token_required", headers=CHALLENGE)
    token = credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else None
    checked = getattr(request.state, "bearer", None)  # a write's token, checked before its body was read
    if checked is not None and token is not None and checked[0] == token:
        return checked[1]
    actor = await run_in_threadpool(authenticate_throttled, request, token)  # 429 when throttled (adr/0011)
    if actor is None:
        if token is None:
            raise ApiProblem(401, "a bearer token is required", rule="token_required", headers=CHALLENGE)
        raise ApiProblem(401, "the token is unknown, malformed or revoked", rule="token_invalid", headers=CHALLENGE)
    return actor


CHALLENGE = {"WWW-Authenticate": "Bearer"}


def allow(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that admits the given roles (and admin, who does all); a coroutine, since it
    does no I/O (see `get_ledger`)."""

    async def check(actor: Annotated[Actor, Depends(authenticated)]) -> Actor:
        if not may(actor, roles):
            raise ApiProblem(403, f"the role {actor.role} may not do this; allowed: {', '.join(('admin', *roles))}",
                             rule="role_not_allowed")
        return actor

    return check


FinanceWriter = Annotated[Actor, Depends(allow("finance"))]
FacilityWriter = Annotated[Actor, Depends(allow("finance"))]
CaseWriter = Annotated[Actor, Depends(allow("caseworker"))]
Reader = Annotated[Actor, Depends(allow(*READERS))]


async def idempotency(request: Request, actor: Annotated[Actor, Depends(authenticated)]) -> Idempotency | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise ApiProblem(422, "Idempotency-Key must be 1-200 characters", rule="invalid_idempotency_key",
                         field="Idempotency-Key")
    if looks_like_cpr(key):
        raise ApiProblem(422, "the Idempotency-Key holds a value shaped like a CPR number; choose a key without "
                         "personal data (e.g. a UUID)", rule="cpr_number_refused", field="Idempotency-Key")
    fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
    return Idempotency(principal=actor.name, key=key, fingerprint=fingerprint)


IdempotencyKey = Annotated[Idempotency | None, Depends(idempotency)]


def _written_as_a_time(value: Any) -> Any:
    """An instant in a query is written as a date and time (RFC 3339), never as a number:
    pydantic's lax parsing would read `1701011234` as a Unix time."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("must be an instant in RFC 3339 with an offset, e.g. 2026-03-01T00:00:00+01:00, not a number")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
Instant = Annotated[datetime, BeforeValidator(_written_as_a_time)]
"""An instant of a query parameter (`as_of`, `from`, `to`); its bounds are `checked_instant`'s."""
AsOfInstant = Annotated[Instant | None, Query(description="Read as recorded at this instant (RFC 3339 with an offset, "
                                                           "from 2000-01-01 up to now)")]
AsOfPositionQuery = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Read as of this store position")]


async def as_of_position_async(request: Request, as_of: AsOfInstant = None,
                               as_of_position: AsOfPositionQuery = None) -> int | None:
    """The store position a read is as of (None: the latest state; service/queries/positions.py
    `position_as_of`): a position not recorded yet is waited for on the event loop (the store's
    position is polled once for every waiter, service/polling.py), so waiting requests hold no
    worker thread (docs/adr/0021)."""
    timeline = Timeline(request.app.state.ledger.engine)
    if as_of is None and as_of_position is None:
        return None
    if as_of is not None:
        return await run_in_threadpool(position_as_of, timeline, as_of, as_of_position, 0)
    await wait_for_store_async(timeline, as_of_position, request.app.state.settings.future_position_wait_seconds)
    return as_of_position


AsOf = Annotated[int | None, Depends(as_of_position_async)]


async def read_position_async(request: Request, position: AsOf) -> int:
    """The position a read of the read models is as of (the latest when none is named), once
    the projections have reached it (service/queries/positions.py `consistent_position`); the
    wait for the projections holds no worker thread."""
    if position is None:  # the latest: read after the request came, so that it includes every write before it
        position = await run_in_threadpool(Timeline(request.app.state.ledger.engine).max_position)
    # the projections' answer: `position`, or the last consistent position when they stopped before it
    return await request.app.state.projections.wait_async(position, request.app.state.settings.read_wait_seconds)


ReadAt = Annotated[int, Depends(read_position_async)]


async def projection_status(request: Request) -> ProjectionStatus:
    return request.app.state.projections


ProjectionStatusDep = Annotated[ProjectionStatus, Depends(projection_status)]
