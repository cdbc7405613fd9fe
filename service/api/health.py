"""Health: live (the process answers) and ready (the store answers and the projections keep up).

- `GET /health/live`: 200 while the process serves HTTP; it touches nothing else.
- `GET /health/ready`: 200 when the store answered within `LEDGER_READY_TIMEOUT_SECONDS`, the
  service's own projector runs (LEDGER_PROJECTOR=embedded), the projection has not stopped at
  an event it cannot apply (service/projection_stops.py) and the projections are at most
  `LEDGER_READY_MAX_LAG` positions behind the store; 503 naming the `reasons` otherwise (a
  stop by its position, event and error, also under `projections.stopped`).
- `GET /health`: the same verdict with the same body (the contract of api.md), kept for the
  clients that know only it.

The endpoints are coroutines on the event loop and never use the thread pool that the other
requests share: a flood of slow or waiting requests that holds every worker thread does not
delay them (docs/adr/0021). The store is asked in a thread of its own with a deadline, so that
a store that hangs makes the probe answer 503 in time instead of hanging it; while one such
question is pending, the next probe waits on it rather than asking again.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from service.db import ledger_entries
from service.ledger import Timeline
from service.projection_stops import Stop

router = APIRouter(tags=["operations"])


@dataclass(frozen=True)
class Snapshot:
    position: int
    reached: int
    events: int | None = None
    stop: Stop | None = None
    """Where the projection stopped at an event it cannot apply (None: it runs)."""

    @property
    def lag(self) -> int:
        return max(self.position - self.reached, 0)


class StoreProbe:
    """Reads the store's and the projections' positions within a deadline."""

    def __init__(self, app: FastAPI, timeout: float) -> None:
        self.app, self.timeout = app, timeout
        self.lock = threading.Lock()
        self.pending: dict[bool, Future[Snapshot]] = {}

    def snapshot(self, count_events: bool = False) -> Snapshot:
        """The positions (and the number of stored events), or an exception: the store's own,
        or TimeoutError when it did not answer in time."""
        return self._question(count_events).result(timeout=self.timeout)

    async def snapshot_async(self, count_events: bool = False) -> Snapshot:
        """`snapshot` awaited on the event loop: no thread of the pool waits for the store."""
        future = self._question(count_events)
        done, _ = await asyncio.wait({asyncio.wrap_future(future)}, timeout=self.timeout)
        if not done:
            raise TimeoutError
        return future.result()

    def _question(self, count_events: bool) -> Future[Snapshot]:
        """The question pending for the store, or a new one asked in a thread of its own."""
        with self.lock:
            future = self.pending.get(count_events)
            if future is None or future.done():
                future = self.pending[count_events] = Future()
                threading.Thread(target=self._read, args=(future, count_events), name="store-probe",
                                 daemon=True).start()
        return future

    def _read(self, future: Future[Snapshot], count_events: bool) -> None:
        try:
            state = self.app.state
            position = Timeline(state.ledger.engine).max_position()
            reached = state.projections.reached()
            stop = state.projections.stopped()
            events = None
            if count_events:
                with state.ledger.engine.connect() as connection:
                    events = connection.execute(select(func.count()).select_from(ledger_entries)).scalar_one()
            future.set_result(Snapshot(position, reached, events, stop))
        except BaseException as error:  # noqa: BLE001 - handed to the waiting probe
            future.set_exception(error)


async def verdict(request: Request) -> tuple[dict[str, Any], bool]:
    """The readiness body and whether the service is ready."""
    app, settings = request.app, request.app.state.settings
    # read before the store: a projector records its stop before its thread ends
    embedded = getattr(app.state, "embedded", None)
    running = embedded is None or embedded.alive
    try:
        snapshot = await app.state.store_probe.snapshot_async()
    except Exception as error:  # noqa: BLE001 - the store is down or hangs: not ready, say why
        detail = "TimeoutError" if isinstance(error, TimeoutError) else type(error).__name__
        return {"status": "unavailable", "live": True, "ready": False, "detail": detail,
                "reasons": [f"the store did not answer ({detail})"]}, False
    reasons = []
    if not running:
        reasons.append("the service's projector is not running")
    if snapshot.stop is not None:
        reasons.append(f"{snapshot.stop.describe()}; the reads answer as of position {snapshot.reached}")
    if snapshot.lag > settings.ready_max_lag:
        reasons.append(f"the projections are {snapshot.lag} positions behind the store "
                       f"(at most {settings.ready_max_lag})")
    ready = not reasons
    body = {"status": "ok" if ready else "unavailable", "live": True, "ready": ready, "store": settings.store,
            "position": snapshot.position, "projections": {"position": snapshot.reached, "lag": snapshot.lag,
                                                           "mode": settings.projector, "running": running}}
    if snapshot.stop is not None:
        body["projections"]["stopped"] = {  # type: ignore[index]
            "position": snapshot.stop.position, "event_id": snapshot.stop.event_id,
            "event_type": snapshot.stop.event_type, "error": snapshot.stop.error,
            "stopped_at": snapshot.stop.stopped_at.isoformat()}
    if reasons:
        body["reasons"] = reasons
    return body, ready


async def _answer(request: Request) -> Any:
    body, ready = await verdict(request)
    return body if ready else JSONResponse(body, status_code=503)


UNAVAILABLE = {503: {"description": "not ready: the store does not answer, or the projections stopped or lag"}}


@router.get("/health", responses=UNAVAILABLE)
async def health(request: Request) -> Any:
    """Liveness and readiness in one answer: store position, projections' position and lag."""
    return await _answer(request)


@router.get("/health/ready", responses=UNAVAILABLE)
async def ready(request: Request) -> Any:
    """200 when the store answers and the projections keep up; 503 naming the reasons otherwise."""
    return await _answer(request)


@router.get("/health/live")
async def live() -> dict[str, Any]:
    """200 while the process serves HTTP."""
    return {"status": "ok", "live": True}


def install(app: FastAPI, timeout: float) -> None:
    app.state.store_probe = StoreProbe(app, timeout)
    app.include_router(router)
