"""Typed dependencies of the HTTP API: the ledger, the authenticated actor and its role,
the Idempotency-Key of a write, and the `as_of` point of a read."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Callable, Iterable
from weakref import WeakKeyDictionary

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from domain.cpr import looks_like_cpr
from domain.errors import InvalidValue, RuleViolation
from service.api.problems import ApiProblem
from service.api.throttle import authenticate_throttled
from service.ledger import Actor, BudgetLedger, Timeline
from service.polling import SharedPoll
from service.projection import ProjectionStatus
from service.store import Idempotency, request_fingerprint

bearer = HTTPBearer(auto_error=False, description="A token from `ledger token create`")


async def get_ledger(request: Request) -> BudgetLedger:
    """A coroutine, as every dependency that does no I/O: FastAPI runs a plain function in the
    thread pool, a hop that costs every request a worker thread for nothing."""
    return request.app.state.ledger


Ledger = Annotated[BudgetLedger, Depends(get_ledger)]


def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The actor of the request's bearer token: 401 `token_required` without a bearer token,
    401 `token_invalid` for an unknown, malformed or revoked one, 429 when throttled. A write
    under /v1/ has had its token checked by the middleware before its body was read
    (service/api/limits.py): that check's actor is the request's, with no second look-up."""
    if "authorization" not in request.headers:  # no attempt: not counted by the throttle
        raise ApiProblem(401, "a bearer token is required", rule="token_required", headers=CHALLENGE)
    token = credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else None
    checked = getattr(request.state, "bearer", None)  # a write's token, checked before its body was read
    if checked is not None and token is not None and checked[0] == token:
        return checked[1]
    actor = authenticate_throttled(request, token)  # 429 after too many failures (docs/adr/0011)
    if actor is None:
        if token is None:
            raise ApiProblem(401, "a bearer token is required", rule="token_required", headers=CHALLENGE)
        raise ApiProblem(401, "the token is unknown, malformed or revoked", rule="token_invalid", headers=CHALLENGE)
    return actor


CHALLENGE = {"WWW-Authenticate": "Bearer"}


def may(actor: Actor, roles: Iterable[str]) -> bool:
    """Whether the actor's role is one of `roles`; admin does all (the API's and the UI's rule)."""
    return actor.role == "admin" or actor.role in roles


def allow(*roles: str) -> Callable[[Actor], Actor]:
    """A dependency that admits the given roles (and admin, who does all)."""

    def check(actor: Annotated[Actor, Depends(authenticated)]) -> Actor:
        if not may(actor, roles):
            raise ApiProblem(403, f"the role {actor.role} may not do this; allowed: {', '.join(('admin', *roles))}",
                             rule="role_not_allowed")
        return actor

    return check


READERS = ("finance", "auditor", "caseworker")
FINANCE_READERS = ("finance", "auditor")
"""Who reads statements and the regulation (and sees them in the UI)."""
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


def as_of_position(request: Request, as_of: AsOfInstant = None, as_of_position: AsOfPositionQuery = None) -> int | None:
    """The store position a read is as of (None: the latest state), waiting in this thread for
    a position not recorded yet (the web UI's pages, which run in threads, use it)."""
    return position_as_of(Timeline(request.app.state.ledger.engine), as_of, as_of_position,
                          request.app.state.settings.future_position_wait_seconds)


async def as_of_position_async(request: Request, as_of: AsOfInstant = None,
                               as_of_position: AsOfPositionQuery = None) -> int | None:
    """`as_of_position` for the API: a position not recorded yet is waited for on the event
    loop (the store's position is polled once for every waiter, service/polling.py), so
    waiting requests hold no worker thread (docs/adr/0021)."""
    timeline = Timeline(request.app.state.ledger.engine)
    if as_of is None and as_of_position is None:
        return None
    if as_of is not None:
        return await run_in_threadpool(position_as_of, timeline, as_of, as_of_position, 0)
    await wait_for_store_async(timeline, as_of_position, request.app.state.settings.future_position_wait_seconds)
    return as_of_position


def position_as_of(timeline: Timeline, as_of: datetime | None, as_of_position: int | None,
                   wait_seconds: float) -> int | None:
    """`as_of_position` without a request (`ledger export` reads by it too): an instant needs
    an offset and must lie between 2000-01-01 and now (domain.md §3); a position not recorded
    yet is waited for briefly, then refused (PositionNotReached)."""
    if as_of is not None and as_of_position is not None:
        raise InvalidValue("one_point_only", "give as_of or as_of_position, not both", "as_of")
    if as_of is not None:
        return timeline.position_at(checked_instant("as_of", as_of))
    if as_of_position is not None:
        wait_for_store(timeline, as_of_position, wait_seconds)
    return as_of_position


FUTURE_TOLERANCE = timedelta(seconds=2)
"""Clock skew allowed between a client's `as_of` and the server."""
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""No instant a read names lies before this (domain.md §3): the ledger records nothing earlier."""


def checked_instant(field: str, instant: datetime) -> datetime:
    """An instant a read names, within the bounds of domain.md §3, else InvalidValue naming the
    field: it has an offset, is not before 2000-01-01 (UTC) and not in the future. Compared as
    instants, never converted: year 1 at +14:00 cannot be converted to UTC."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidValue("instant_without_offset", f"{field} must be an instant with an offset, "
                           "e.g. 2026-04-01T12:00:00+02:00", field)
    if instant < EARLIEST_INSTANT:
        raise InvalidValue("instant_out_of_range", f"{field} lies before 2000-01-01T00:00:00Z; the ledger "
                           "holds nothing earlier", field)
    if instant > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
        raise InvalidValue("instant_in_future", f"{field} lies in the future: a read as of a time not yet passed "
                           "could change later; give an instant up to now", field)
    return instant


def wait_for_store(timeline: Timeline, position: int, seconds: float) -> None:
    """A read as of a position the store has not reached yet waits briefly for it (a write
    elsewhere may be landing), then is refused: answering it with today's state could change."""
    deadline = time.monotonic() + seconds
    while (latest := timeline.max_position()) < position:
        if time.monotonic() >= deadline:
            raise PositionNotReached(position, latest)
        time.sleep(0.05)


async def wait_for_store_async(timeline: Timeline, position: int, seconds: float) -> None:
    """`wait_for_store` on the event loop: no worker thread is held while waiting, and every
    waiter of a store shares its reads of the store's position (service/polling.py)."""
    poll = _store_polls.get(timeline.engine)
    if poll is None:
        poll = _store_polls[timeline.engine] = SharedPoll(timeline.max_position)
    if (latest := await poll.wait_for(position, seconds)) < position:
        raise PositionNotReached(position, latest)


_store_polls: WeakKeyDictionary[Any, SharedPoll] = WeakKeyDictionary()
"""The shared poll of each store's position, by its engine."""


class PositionNotReached(RuleViolation):
    def __init__(self, position: int, latest: int) -> None:
        super().__init__("position_not_reached", f"the store has reached position {latest}, not {position}; "
                         "read as of a recorded position", "as_of_position")


AsOf = Annotated[int | None, Depends(as_of_position_async)]


def read_position(request: Request, position: Annotated[int | None, Depends(as_of_position)]) -> int:
    """The position a read of the read models is as of (the latest when none is named), once
    the projections have reached it: a read is consistent with every write it names. Waits in
    this thread (the web UI's pages); the API's reads use `read_position_async`."""
    target = Timeline(request.app.state.ledger.engine).max_position() if position is None else position
    # the projections' answer: `target`, or the last consistent position when they stopped before it
    return request.app.state.projections.wait(target, request.app.state.settings.read_wait_seconds)


async def read_position_async(request: Request, position: AsOf) -> int:
    """`read_position` for the API: the wait for the projections holds no worker thread."""
    if position is None:  # the latest: read after the request came, so that it includes every write before it
        position = await run_in_threadpool(Timeline(request.app.state.ledger.engine).max_position)
    # the projections' answer: `position`, or the last consistent position when they stopped before it
    return await request.app.state.projections.wait_async(position, request.app.state.settings.read_wait_seconds)


ReadAt = Annotated[int, Depends(read_position_async)]


async def projection_status(request: Request) -> ProjectionStatus:
    return request.app.state.projections


ProjectionStatusDep = Annotated[ProjectionStatus, Depends(projection_status)]
