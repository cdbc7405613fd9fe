"""Why a facility's budget for a month (or the year) changed between two points (domain §4.8):
every event recorded between them that changed it, in recording order, with its own delta,
actor and reason; the deltas sum to `delta` (service/explain.py computes them). The API's
explain endpoint and the UI's "Hvorfor ændrede det sig?" read it here; whoever shows the
changes logs their citizens as read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from domain.errors import InvalidValue
from service.explain import Explainer
from service.ledger import BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.queries.positions import checked_instant, wait_for_store
from service.queries.values import Money


class ExplainedChange(BaseModel):
    """One event that moved the figure: the audit trail's fields of it and its own delta; the
    event a retraction took back is named (`retracted_event_id`) only on a retraction."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    position: int
    type: str
    citizen_ref: str | None
    facility: str | None
    effective_date: str | None
    recorded_at: str | None
    actor: str | None
    reason: str | None
    case_ref: str | None
    delta: Money
    retracted_event_id: str | None = None

    @model_serializer(mode="wrap")
    def _without_absent_retraction(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        written = handler(self)
        if self.retracted_event_id is None:
            written.pop("retracted_event_id", None)
        return written


@dataclass(frozen=True)
class Explanation:
    """Why a facility's figure of a month (`month` 1..12, or `all` for the year) changed between
    two store positions; the changes' deltas sum to `delta`."""

    facility: str
    year: int
    month: str
    from_position: int
    to_position: int
    before: Money
    after: Money
    delta: Money
    changes: tuple[ExplainedChange, ...]

    def citizen_refs(self) -> list[str | None]:
        return [change.citizen_ref for change in self.changes]


def budget_explanation(code: str, year: int, ledger: BudgetLedger, month: str, status: ProjectionStatus,
                       start: datetime | None = None, end: datetime | None = None, from_position: int | None = None,
                       to_position: int | None = None) -> Explanation:
    """The explanation between `from`/`from_position` (default: the start) and `to`/`to_position`
    (default: now); whoever shows its changes logs their citizens as read."""
    timeline = Timeline(ledger.engine)
    latest = timeline.max_position()
    first = point(timeline, "from", start, from_position, default=0)
    last = point(timeline, "to", end, to_position, default=latest)
    if first > last:
        raise InvalidValue("from_after_to", f"from ({first}) must not be after to ({last})", "from")
    wait_for_store(timeline, last, ledger.settings.future_position_wait_seconds)
    last = status.wait(last, ledger.settings.read_wait_seconds)  # earlier when the projections stopped before it
    first = min(first, last)
    explained = Explainer(ledger).explain(code, year, None if month == "all" else int(month), first, last)
    return Explanation(code, year, month, first, last, explained["before"], explained["after"], explained["delta"],
                       tuple(ExplainedChange(**change) for change in explained["changes"]))


def point(timeline: Timeline, name: str, instant: datetime | None, position: int | None, default: int) -> int:
    """The position of one end of an explanation: an instant within the bounds of domain.md §3
    (`checked_instant`), a position, or the default."""
    if instant is not None and position is not None:
        raise InvalidValue("one_point_only", f"give {name} or {name}_position, not both", name)
    if instant is not None:
        return timeline.position_at(checked_instant(name, instant))
    return default if position is None else position
