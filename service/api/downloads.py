"""Spreadsheet downloads over HTTP: the `format` query parameter and the file response."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import Response

from service import export

ExportFormat = Annotated[Literal["xlsx", "csv"], Query(
    alias="format",
    description="xlsx: an Excel workbook; csv: one table in Danish Excel's convention (`;`, decimal comma, UTF-8 "
                "with BOM)")]
DOWNLOAD_RESPONSES: dict[int | str, dict] = {
    200: {"description": "The spreadsheet, as an attachment",
          "content": {export.XLSX: {"schema": {"type": "string", "format": "binary"}},
                      "text/csv": {"schema": {"type": "string", "format": "binary"}}}},
}


def download(content: bytes, filename: str, fmt: str) -> Response:
    """The file with its media type and a Content-Disposition naming it; never cached (a
    statement names citizens)."""
    return Response(content, media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": export.content_disposition(filename), "Cache-Control": "no-store"})
