"""Spreadsheet downloads, for the API's exports and the web UI's alike: the limits of an
export and the file answer (docs/adr/0021).

- Concurrency: each actor (the token's name) renders at most `LEDGER_EXPORT_CONCURRENCY_PER_CLIENT`
  exports at a time (`ExportSlots`); one more is refused at once (`ExportBusy`: the API answers
  429 with `Retry-After`, the UI a Danish page), so that one client's exports cannot hold the
  worker threads and the CPU that every other client's reads need.
- Size: an export of more than `LEDGER_EXPORT_MAX_ROWS` rows is refused before it is rendered
  (InvalidValue `export_too_large`); the JSON read of the same figures answers.
- Rendering: in worker processes (service/export_pool.py), so that a workbook being written
  does not hold the interpreter lock that every other request needs.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from starlette.responses import Response

from domain.errors import InvalidValue
from service import export, export_pool
from service.settings import Settings

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


def rendered(settings: Settings, view: str, fmt: str, body: dict[str, Any]) -> bytes:
    """The file of a view's body, unless it holds more rows than an export may."""
    limit = settings.export_max_rows
    rows = export.row_count(view, body)
    if rows > limit:
        raise InvalidValue("export_too_large", f"this export would hold {rows} rows, more than {limit}; read the "
                           "figures as JSON, or export a shorter period", "format")
    return export_pool.render(view, fmt, body, settings.export_processes)


def download(content: bytes, filename: str, fmt: str) -> Response:
    """The file with its media type and a Content-Disposition naming it; never cached (a
    statement names citizens)."""
    return Response(content, media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": export.content_disposition(filename), "Cache-Control": "no-store"})
