"""Running the service under uvicorn (`ledger serve`, `ledger demo`), docs/adr/0011.

- Logs: JSON lines on stderr with the request id (service/api/observability.py); uvicorn's own
  access log, which writes raw paths and so citizen references, is off.
- Graceful shutdown: on SIGTERM (or Ctrl-C) uvicorn stops listening, so new connections are
  refused, lets the requests in flight finish and be answered for up to
  `LEDGER_SHUTDOWN_TIMEOUT_SECONDS`, then stops the projections and closes the store. A SIGTERM
  is a requested stop: the process then exits 0 (uvicorn would re-raise the signal and end by it).
"""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn

from service.api.app import create_app
from service.api.observability import log_config
from service.settings import Settings


def _stopped(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(settings: Settings, host: str, port: int) -> None:
    signal.signal(signal.SIGTERM, _stopped)  # what uvicorn re-raises once it has drained: exit 0
    uvicorn.run(create_app(settings), host=host, port=port, log_config=log_config(), access_log=False,
                timeout_graceful_shutdown=settings.shutdown_timeout_seconds)  # type: ignore[arg-type]
