"""Rendering spreadsheets in worker processes of their own (docs/adr/0021).

Rendering a workbook is pure Python work (openpyxl) that holds the interpreter lock for as long
as it runs: in the service's process, two exports being rendered slowed every other request,
even `/health/live`, several times over. Here the rendering runs in a pool of worker processes
(`LEDGER_EXPORT_PROCESSES`, started with `spawn`: the service's threads are not forked), and the
request's thread waits for the file without holding the lock. The figures are still read in
the service's process, as of the position the request names; a worker gets the body and gives
back the bytes. A rule a renderer refuses to break (an amount too large for a spreadsheet)
comes back as the same DomainError. A worker ends when the service's process has ended.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from domain import errors
from service import export

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def render(view: str, fmt: str, body: dict[str, Any], processes: int) -> bytes:
    """The file of a view's body, rendered in a worker process (the pool is started on first use)."""
    try:
        outcome = _executor(processes).submit(_render, view, fmt, body).result()
    except BrokenProcessPool:  # a worker died (killed, out of memory): start a new pool, try once more
        _discard()
        outcome = _executor(processes).submit(_render, view, fmt, body).result()
    if isinstance(outcome, bytes):
        return outcome
    kind, rule, message, field = outcome
    raise getattr(errors, kind, errors.DomainError)(rule, message, field)


def _render(view: str, fmt: str, body: dict[str, Any]) -> bytes | tuple[str, str, str, str | None]:
    """In the worker: the bytes, or a refusal as plain values (a DomainError does not pickle)."""
    try:
        return export.RENDERERS[view, fmt](body)
    except errors.DomainError as refused:
        return type(refused).__name__, refused.rule, refused.message, refused.field


def _executor(processes: int) -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_follow_parent, initargs=(os.getpid(),))
        return _pool


def _follow_parent(parent: int) -> None:
    """In a worker: end when the service's process has ended, however it ended (a SIGKILL too,
    which leaves no chance to stop the pool)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _discard() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def shutdown() -> None:
    """Stop the worker processes (the end of `ledger serve`); a later export starts them again."""
    _discard()
