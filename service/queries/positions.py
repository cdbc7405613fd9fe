"""The point a read is as of (domain.md §3): an instant or a store position, resolved to a
recorded store position, the same way for the API, the web UI and `ledger export`.

- An instant has an offset and lies from 2000-01-01 up to now (`checked_instant`; the
  `FUTURE_TOLERANCE` allows for clock skew); it reads the last position recorded by then.
- A position the store has not reached yet is waited for briefly (a write elsewhere may be
  landing), then refused (`PositionNotReached`): a read as of it could still change.
- A read of the read models is answered once the projections have reached its position
  (`consistent_position`), or from their last consistent position when they stopped before it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any
from weakref import WeakKeyDictionary

from domain.errors import InvalidValue, RuleViolation
from service.ledger import BudgetLedger, Timeline
from service.polling import SharedPoll
from service.projection import ProjectionStatus

FUTURE_TOLERANCE = timedelta(seconds=2)
"""Clock skew allowed between a client's `as_of` and the server."""
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""No instant a read names lies before this (domain.md §3): the ledger records nothing earlier."""


class PositionNotReached(RuleViolation):
    def __init__(self, position: int, latest: int) -> None:
        super().__init__("position_not_reached", f"the store has reached position {latest}, not {position}; "
                         "read as of a recorded position", "as_of_position")


def position_as_of(timeline: Timeline, as_of: datetime | None, as_of_position: int | None,
                   wait_seconds: float) -> int | None:
    """The store position of `as_of` or `as_of_position` (None: neither, the latest): an
    instant within `checked_instant`'s bounds; a position not recorded yet is waited for up to
    `wait_seconds`, then refused (PositionNotReached)."""
    if as_of is not None and as_of_position is not None:
        raise InvalidValue("one_point_only", "give as_of or as_of_position, not both", "as_of")
    if as_of is not None:
        return timeline.position_at(checked_instant("as_of", as_of))
    if as_of_position is not None:
        wait_for_store(timeline, as_of_position, wait_seconds)
    return as_of_position


def checked_instant(field: str, instant: datetime) -> datetime:
    """An instant a read names, within the bounds of domain.md §3, else InvalidValue naming the
    field: it has an offset, is not before 2000-01-01 (UTC) and not in the future. Compared as
    instants, never converted: year 1 at +14:00 cannot be converted to UTC."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidValue("instant_without_offset", f"{field} must be an instant with an offset, "
                           "e.g. 2026-04-01T12:00:00+02:00", field)
    if instant < EARLIEST_INSTANT:
        raise InvalidValue("instant_out_of_range", f"{field} lies before 2000-01-01T00:00:00Z; the ledger "
                           "holds nothing earlier", field)
    if instant > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
        raise InvalidValue("instant_in_future", f"{field} lies in the future: a read as of a time not yet passed "
                           "could change later; give an instant up to now", field)
    return instant


def wait_for_store(timeline: Timeline, position: int, seconds: float) -> None:
    """A read as of a position the store has not reached yet waits briefly for it (a write
    elsewhere may be landing), then is refused: answering it with today's state could change."""
    deadline = time.monotonic() + seconds
    while (latest := timeline.max_position()) < position:
        if time.monotonic() >= deadline:
            raise PositionNotReached(position, latest)
        time.sleep(0.05)


async def wait_for_store_async(timeline: Timeline, position: int, seconds: float) -> None:
    """`wait_for_store` on the event loop: no worker thread is held while waiting, and every
    waiter of a store shares its reads of the store's position (service/polling.py)."""
    poll = _store_polls.get(timeline.engine)
    if poll is None:
        poll = _store_polls[timeline.engine] = SharedPoll(timeline.max_position)
    if (latest := await poll.wait_for(position, seconds)) < position:
        raise PositionNotReached(position, latest)


_store_polls: WeakKeyDictionary[Any, SharedPoll] = WeakKeyDictionary()
"""The shared poll of each store's position, by its engine."""


def consistent_position(ledger: BudgetLedger, status: ProjectionStatus, position: int | None,
                        wait_seconds: float) -> int:
    """The position a read of the read models is as of (the latest when none is named), once
    the projections have reached it: a read is consistent with every write it names. Waits in
    this thread up to `wait_seconds`; the projections' answer is `position`, or their last
    consistent position when they stopped before it (ProjectionLagging when they lag)."""
    target = Timeline(ledger.engine).max_position() if position is None else position
    return status.wait(target, wait_seconds)
