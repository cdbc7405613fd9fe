"""Spreadsheet downloads over HTTP: the `format` query parameter, the file response, and the
limits of an export (docs/adr/0021).

- Concurrency: each actor (the token's name) renders at most `LEDGER_EXPORT_CONCURRENCY_PER_CLIENT`
  exports at a time; one more is refused at once with 429 problem+json (rule `export_busy`,
  `Retry-After`), so that one client's exports cannot hold the worker threads and the CPU that
  every other client's reads need.
- Size: an export of more than `LEDGER_EXPORT_MAX_ROWS` rows is refused before it is rendered
  with 422 problem+json (rule `export_too_large`); the JSON read of the same figures answers.
- Rendering: in worker processes (service/export_pool.py), so that a workbook being written
  does not hold the interpreter lock that every other request needs.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Annotated, Any, AsyncIterator, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response

from domain.errors import InvalidValue
from service import export, export_pool
from service.api import problems
from service.api.deps import authenticated
from service.ledger import Actor

ExportFormat = Annotated[Literal["xlsx", "csv"], Query(
    alias="format",
    description="xlsx: an Excel workbook; csv: one table in Danish Excel's convention (`;`, decimal comma, UTF-8 "
                "with BOM)")]
DOWNLOAD_RESPONSES: dict[int | str, dict] = {
    200: {"description": "The spreadsheet, as an attachment",
          "content": {export.XLSX: {"schema": {"type": "string", "format": "binary"}},
                      "text/csv": {"schema": {"type": "string", "format": "binary"}}}},
    429: {"description": "This client already renders as many exports as it may at once (rule export_busy)"},
}
RETRY_AFTER_SECONDS = 2


class ExportBusy(Exception):
    """The actor already renders as many exports as it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} export(s) at a time per client; this client's earlier exports are still "
                         "being made: try again when one has finished")


class ExportSlots:
    """How many exports each actor renders now, against a limit per actor."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self.lock = threading.Lock()
        self.running: Counter[str] = Counter()

    def take(self, actor: str) -> None:
        with self.lock:
            if self.running[actor] >= self.per_client:
                raise ExportBusy(self.per_client)
            self.running[actor] += 1

    def give_back(self, actor: str) -> None:
        with self.lock:
            self.running[actor] -= 1
            if self.running[actor] <= 0:
                del self.running[actor]


async def export_slot(request: Request, actor: Annotated[Actor, Depends(authenticated)]) -> AsyncIterator[None]:
    """Hold one of the actor's export slots while the export is read and rendered."""
    slots: ExportSlots = request.app.state.export_slots
    slots.take(actor.name)
    try:
        yield
    finally:
        slots.give_back(actor.name)


ExportSlot = Annotated[None, Depends(export_slot)]


def render(request: Request, view: str, fmt: str, body: dict[str, Any]) -> bytes:
    """The file of a view's body, unless it holds more rows than an export may."""
    limit = request.app.state.settings.export_max_rows
    rows = export.row_count(view, body)
    if rows > limit:
        raise InvalidValue("export_too_large", f"this export would hold {rows} rows, more than {limit}; read the "
                           "figures as JSON, or export a shorter period", "format")
    return export_pool.render(view, fmt, body, request.app.state.settings.export_processes)


def download(content: bytes, filename: str, fmt: str) -> Response:
    """The file with its media type and a Content-Disposition naming it; never cached (a
    statement names citizens)."""
    return Response(content, media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": export.content_disposition(filename), "Cache-Control": "no-store"})


def install(app: FastAPI, per_client: int) -> None:
    """The app's export slots and the 429 of a client over its limit."""
    app.state.export_slots = ExportSlots(per_client)

    @app.exception_handler(ExportBusy)
    async def _busy(_: Request, exc: ExportBusy) -> Response:
        return problems.problem(429, str(exc), rule="export_busy", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
