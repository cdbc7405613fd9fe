"""The baselines: what the raw `eventsourcing` library does on the same kind of store, in the
same run, with none of the ledger's work (rules, index, hash chain, projections, HTTP).

- append loop: an `Application` with a small aggregate (a placement: moved in, reassessed,
  moved out), one load and one save per command, in 1 or N threads; the counterpart of a
  command through the service;
- batched appends: new aggregates saved 1 000 events per transaction; the counterpart of
  `ledger import`;
- read and decode: every stored event of the product's store read from the application
  recorder's notification log in pages and turned into domain events by the product's own
  mapper (its transcodings, its cipher when set); the counterpart of `ledger rebuild`, and
  the naive way to answer any question "as of" a point: replay everything.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Iterator

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from bench.load import Load, drive


class Placement(Aggregate):
    """A small aggregate: a citizen's placement at a facility, a stream per reference."""

    @staticmethod
    def create_id(ref: str, **_: Any) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, ref)

    @event("MovedIn")
    def __init__(self, ref: str, facility: str, hours: str) -> None:
        self.ref, self.facility, self.hours, self.moved_out = ref, facility, hours, False

    @event("Reassessed")
    def reassess(self, hours: str) -> None:
        self.hours = hours

    @event("MovedOut")
    def move_out(self) -> None:
        self.moved_out = True


class RawLedger(Application):
    name = "RawLedger"


class RawClient:
    """One thread of the append loop: for each fresh placement, a move-in, a reassessment
    and a move-out, each as load (or find it missing) + decide + save."""

    def __init__(self, app: RawLedger, prefix: str) -> None:
        self.app, self.prefix = app, prefix
        self.number, self.phase = 0, 0

    def step(self) -> None:
        if self.phase == 0:
            self.number += 1
        ref = f"{self.prefix}-{self.number}"
        originator = Placement.create_id(ref)
        try:
            placement: Placement | None = self.app.repository.get(originator)
        except AggregateNotFoundError:
            placement = None
        if self.phase == 0:
            if placement is not None:
                raise RuntimeError(f"{ref} exists already")
            placement = Placement(ref=ref, facility="F", hours="5.5")
        elif placement is None:
            raise RuntimeError(f"{ref} is missing")
        elif self.phase == 1:
            placement.reassess("7.5")
        else:
            placement.move_out()
        self.app.save(placement)
        self.phase = (self.phase + 1) % 3

    def close(self) -> None:
        pass


def append_loop(env: dict[str, str], clients: int, seconds: float, prefix: str,
                on_start: Callable[[], None] | None = None) -> Load:
    app = RawLedger(env=env)
    try:
        return drive([RawClient(app, f"{prefix}-{i}") for i in range(clients)], seconds=seconds, warmup=3,
                     on_start=on_start)
    finally:
        app.close()


def batched_appends(env: dict[str, str], events: int, batch: int = 1000) -> tuple[int, float]:
    """Save `events` new one-event aggregates, `batch` per transaction: (events, seconds)."""
    app = RawLedger(env=env)
    try:
        done = 0
        began = time.perf_counter()
        while done < events:
            size = min(batch, events - done)
            app.save(*[Placement(ref=f"B-{done + i}", facility="F", hours="5.5") for i in range(size)])
            done += size
        return done, time.perf_counter() - began
    finally:
        app.close()


def read_and_decode(settings: Any, page: int = 2000) -> tuple[int, float]:
    """Read every stored event of the product's store and decode it with the product's own
    application (its recorder, transcoder and mapper): (events, seconds)."""
    from service.ledger import BudgetLedger

    app = BudgetLedger(settings)
    try:
        began = time.perf_counter()
        count = sum(len(events) for events in decoded_pages(app, page))
        return count, time.perf_counter() - began
    finally:
        app.close()


def decoded_pages(app: Any, page: int = 2000, seconds: dict[str, float] | None = None) -> Iterator[list[Any]]:
    """Every stored event of `app`'s store as domain events, a page of the notification log at a
    time; with `seconds`, the time of reading ("read") and of decoding ("decode") added up."""
    start = 1
    while True:
        began = time.perf_counter()
        notifications = app.recorder.select_notifications(start=start, limit=page)
        read = time.perf_counter()
        if not notifications:
            return
        events = [app.mapper.to_domain_event(n) for n in notifications]
        if seconds is not None:
            seconds["read"] += read - began
            seconds["decode"] += time.perf_counter() - read
        start = notifications[-1].id + 1
        yield events
