"""Running the service under uvicorn (`ledger serve`, `ledger demo`), docs/adr/0011, 0021 and 0029.

- Event loop and HTTP parser: asyncio's loop and httptools, named here rather than taken from
  whatever is installed: httptools costs every request less CPU than h11; uvloop, which would
  save a little more, closes connections at once when the open files run out instead of
  leaving them queued until the header timeout frees descriptors (docs/adr/0029).
- Logs: JSON lines on stderr with the request id (service/api/observability.py); uvicorn's own
  access log, which writes raw paths and so citizen references, is off. Warnings that a client
  can cause by the thousand (a failed accept, an invalid request) are written at most once per
  `LEDGER_LOG_REPEAT_SECONDS` each, with the count of those left out.
- Slow clients: a connection must complete a request's headers within
  `LEDGER_HEADER_TIMEOUT_SECONDS` of being opened (or of the first byte after its previous
  response), else it is closed; uvicorn has no such timeout of its own (its keep-alive timeout stops at the first byte
  of a request), so the HTTP protocol is uvicorn's own with that one timer added. Idle
  keep-alive connections are closed after `LEDGER_KEEP_ALIVE_TIMEOUT_SECONDS`; a body's own
  time limit is the application's (service/api/limits.py).
- Open files: the process raises its soft limit of open files to the hard limit when it
  starts, so that a flood of connections meets the header timeout before it meets the limit.
- Graceful shutdown: on SIGTERM (or Ctrl-C) uvicorn stops listening, so new connections are
  refused, lets the requests in flight finish and be answered for up to
  `LEDGER_SHUTDOWN_TIMEOUT_SECONDS`, then stops the projections and closes the store. A SIGTERM
  is a requested stop: the process then exits 0 (uvicorn would re-raise the signal and end by it).
"""

from __future__ import annotations

import asyncio
import resource
import signal
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service import export_pool
from service.api.app import create_app
from service.api.observability import log_config
from service.settings import Settings


def _stopped(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


LOOP = "asyncio"
"""uvicorn's event loop for the service (docs/adr/0029)."""
PARSER: type[asyncio.Protocol] = HttpToolsProtocol
"""uvicorn's HTTP protocol under the header timeout (docs/adr/0029)."""


def header_timeout_protocol(seconds: float, base: type[asyncio.Protocol] = PARSER) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools; h11 works the same) with a header timeout: a
    timer armed when the connection opens and when bytes arrive after a response (an idle
    keep-alive connection is uvicorn's keep-alive timeout's), disarmed when a request's headers
    are complete (both protocols then start the request's cycle), and on expiry the connection
    is closed without a word: nothing is logged per connection."""

    class HeaderTimeoutProtocol(base):  # type: ignore[valid-type,misc]
        header_timeout = seconds
        _header_timer: asyncio.TimerHandle | None = None

        @property
        def cycle(self) -> Any:
            return self.__dict__.get("_cycle")

        @cycle.setter
        def cycle(self, value: Any) -> None:
            self.__dict__["_cycle"] = value
            if value is not None:  # a request's headers are complete
                self._disarm_header_timer()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_header_timer()

        def data_received(self, data: bytes) -> None:
            cycle = self.cycle
            if self._header_timer is None and (cycle is None or cycle.response_complete):
                self._arm_header_timer()  # the first bytes after a response: the next request begins
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            self._disarm_header_timer()
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timed_out(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


def run(settings: Settings, host: str, port: int, loop: str = LOOP, parser: type[asyncio.Protocol] = PARSER) -> None:
    """Serve until SIGTERM; `loop` and `parser` are the choice of docs/adr/0029 (the benchmark
    of that choice, bench/server_stack.py, runs the others through here too)."""
    signal.signal(signal.SIGTERM, _stopped)  # what uvicorn re-raises once it has drained: exit 0
    raise_open_files_limit()
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=log_config(settings.log_repeat_seconds),
                    access_log=False, loop=loop, http=header_timeout_protocol(settings.header_timeout_seconds, parser),
                    timeout_keep_alive=settings.keep_alive_timeout_seconds,
                    timeout_graceful_shutdown=settings.shutdown_timeout_seconds)  # type: ignore[arg-type]
    finally:
        export_pool.shutdown()  # the spreadsheet workers, if an export started them
