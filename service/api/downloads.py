"""Spreadsheet downloads over HTTP: the `format` query parameter, the export slot a request
holds, the file response, and the 429 of a client over its limit (the limits themselves are
service/downloads.py's, docs/adr/0021)."""

from __future__ import annotations

from typing import Annotated, Any, AsyncIterator, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response

from service import export
from service.api import problems
from service.api.deps import authenticated
from service.downloads import RETRY_AFTER_SECONDS, ExportBusy, ExportSlots, download, rendered
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
    return rendered(request.app.state.settings, view, fmt, body)


def install(app: FastAPI, per_client: int) -> None:
    """The app's export slots and the 429 of a client over its limit."""
    app.state.export_slots = ExportSlots(per_client)

    @app.exception_handler(ExportBusy)
    async def _busy(_: Request, exc: ExportBusy) -> Response:
        return problems.problem(429, str(exc), rule="export_busy", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


__all__ = ["DOWNLOAD_RESPONSES", "ExportFormat", "ExportSlot", "download", "export_slot", "install", "render"]
