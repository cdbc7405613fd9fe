"""Where a projection stopped (docs/adr/0034): the position, the event and the error of an
event it could not apply, kept in the store so that every process of the service sees it.

A projection that cannot apply an event stops at it instead of retrying: the batch is rolled
back whole, the rows before that event are written, and the stop is recorded. The reads answer
from the position the read models have reached (service/projection.py `ProjectionStatus`),
`/health/ready` answers 503 naming the stop and `/metrics` shows it. A later start of the
projection (a restart, `ledger project`) tries the event again and clears the stop once the
read models are past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from service.db import projection_stops, utc

ERROR_CHARS = 2000
"""An error's text is kept to this many characters."""


@dataclass(frozen=True)
class Stop:
    """The event a projection could not apply, and why."""

    position: int
    event_id: str
    event_type: str
    error: str
    stopped_at: datetime

    def describe(self) -> str:
        return (f"the projection stopped at position {self.position} (event {self.event_type} {self.event_id}): "
                f"{self.error}")


def event_stop(position: int, event: Any, error: BaseException) -> Stop:
    """The stop at `event`, which failed with `error`."""
    kind = type(event)
    return Stop(position, str(getattr(event, "originator_id", "")), f"{kind.__module__}.{kind.__qualname__}",
                f"{type(error).__name__}: {error}"[:ERROR_CHARS], datetime.now(timezone.utc))


def record_stop(engine: Engine, application: str, stop: Stop) -> None:
    with engine.begin() as connection:
        connection.execute(delete(projection_stops).where(projection_stops.c.application_name == application))
        connection.execute(insert(projection_stops).values(
            application_name=application, position=stop.position, event_id=stop.event_id,
            event_type=stop.event_type, error=stop.error, stopped_at=stop.stopped_at))


def clear_stop(engine: Engine, application: str, reached: int) -> None:
    """Forget the stop once the read models have reached past its position."""
    with engine.begin() as connection:
        connection.execute(delete(projection_stops).where(projection_stops.c.application_name == application,
                                                          projection_stops.c.position <= reached))


def read_stop(engine: Engine, application: str) -> Stop | None:
    with engine.connect() as connection:
        row = connection.execute(select(projection_stops).where(
            projection_stops.c.application_name == application)).first()
    if row is None:
        return None
    return Stop(row.position, row.event_id, row.event_type, row.error, utc(row.stopped_at))


class ProjectionStopped(Exception):
    """The projection cannot apply the event at `stop.position`; it stopped there."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.describe())
        self.stop = stop
