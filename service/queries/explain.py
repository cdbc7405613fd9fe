"""Why a facility's budget for a month (or the year) changed between two points (domain §4.8):
every event recorded between them that changed it, in recording order, with its own delta,
actor and reason; the deltas sum to `delta` (service/explain.py computes them). The API's
explain endpoint and the UI's "Hvorfor ændrede det sig?" read it here; whoever shows the
changes logs their citizens as read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import InvalidValue
from service.explain import Explainer
from service.ledger import BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.queries.positions import checked_instant, wait_for_store
from service.queries.values import kr


def budget_explanation(code: str, year: int, ledger: BudgetLedger, month: str, status: ProjectionStatus,
                       start: datetime | None = None, end: datetime | None = None, from_position: int | None = None,
                       to_position: int | None = None) -> dict[str, Any]:
    """The body of the explain endpoint; whoever shows its changes logs their citizens as read."""
    timeline = Timeline(ledger.engine)
    latest = timeline.max_position()
    first = point(timeline, "from", start, from_position, default=0)
    last = point(timeline, "to", end, to_position, default=latest)
    if first > last:
        raise InvalidValue("from_after_to", f"from ({first}) must not be after to ({last})", "from")
    wait_for_store(timeline, last, ledger.settings.future_position_wait_seconds)
    last = status.wait(last, ledger.settings.read_wait_seconds)  # earlier when the projections stopped before it
    first = min(first, last)
    explained = Explainer(ledger).explain(code, year, None if month == "all" else int(month), min(first, last), last)
    return {
        "facility": code, "year": year, "month": month, "from_position": min(first, last), "to_position": last,
        "before": kr(explained["before"]), "after": kr(explained["after"]), "delta": kr(explained["delta"]),
        "changes": [{**c, "delta": kr(c["delta"])} for c in explained["changes"]],
    }


def point(timeline: Timeline, name: str, instant: datetime | None, position: int | None, default: int) -> int:
    """The position of one end of an explanation: an instant within the bounds of domain.md §3
    (`checked_instant`), a position, or the default."""
    if instant is not None and position is not None:
        raise InvalidValue("one_point_only", f"give {name} or {name}_position, not both", name)
    if instant is not None:
        return timeline.position_at(checked_instant(name, instant))
    return default if position is None else position
