"""Waiting on the event loop for a number to reach a target (the store's position, the position
the projections have reached), however many requests wait (docs/adr/0021).

A waiting request holds no worker thread and no timer of its own: it awaits a future that one
poller task (per number and event loop) resolves once the number has reached the request's
target; the request gives up at its own deadline. The number is read in the thread pool, once
per `pause` while anyone waits, whatever the number of waiters, and a look joins the read in
flight, if any. The first look of a wait is always a read that started after the wait began
(or the one in flight), so a read of a position just written does not wait.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import anyio


class SharedPoll:
    """Waiting until `read()` reaches a target; `read` is blocking (a query) and runs in the
    thread pool, one read at a time."""

    def __init__(self, read: Callable[[], int], pause: float = 0.05) -> None:
        self.read, self.pause = read, pause
        self.value = 0
        self.pending: asyncio.Future[int] | None = None
        self.waiters: list[tuple[int, asyncio.Future[int]]] = []
        self.poller: asyncio.Task[None] | None = None

    async def wait_for(self, target: int, timeout: float) -> int:
        """The number once it has reached `target`, or the last seen when `timeout` has passed."""
        value = await self._look()
        if value >= target:
            return value
        loop = asyncio.get_running_loop()
        reached: asyncio.Future[int] = loop.create_future()
        self.waiters.append((target, reached))
        if self.poller is None or self.poller.done() or self.poller.get_loop() is not loop:
            self.poller = loop.create_task(self._poll())
        try:
            return await asyncio.wait_for(reached, timeout)
        except asyncio.TimeoutError:
            return self.value
        finally:
            self.waiters = [(t, f) for t, f in self.waiters if f is not reached]

    async def _poll(self) -> None:
        """Read once per pause while anyone waits; resolve the waits whose target is reached."""
        while self.waiters:
            await asyncio.sleep(self.pause)
            try:
                value = await self._look()
            except Exception as error:  # noqa: BLE001 - the store failed: every waiter learns why
                for _, waiting in self.waiters:
                    if not waiting.done():
                        waiting.set_exception(error)
                continue
            for target, waiting in self.waiters:
                if value >= target and not waiting.done():
                    waiting.set_result(value)
            self.waiters = [(t, f) for t, f in self.waiters if not f.done()]

    async def _look(self) -> int:
        pending = self.pending
        if pending is None or pending.done() or pending.get_loop() is not asyncio.get_running_loop():
            pending = self.pending = asyncio.ensure_future(self._read())
        return await asyncio.shield(pending)

    async def _read(self) -> int:
        self.value = await anyio.to_thread.run_sync(self.read)
        return self.value
