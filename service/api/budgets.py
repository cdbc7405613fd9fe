"""Facility budgets for a year, as of any point, from the read models (domain §4.2-4.5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidValue
from domain.values import FIRST_YEAR, LAST_YEAR
from projections.budget import MonthFigures, fte, occupancy_pct, staff_hours
from projections.capacity import capacity_warnings, is_over_capacity
from service.api.common import Code, kr
from service.api.deps import (
    Instant, Ledger, ProjectionStatusDep, ReadAt, Reader, checked_instant, wait_for_store, wait_for_store_async,
)
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.explain import Explainer
from service.ledger import BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.read_models import BudgetReads

router = api_router(tags=["budgets"])
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


def month_row(figures: MonthFigures, hourly_rate: Decimal | None, months: int) -> dict[str, Any]:
    hours = staff_hours(figures.activity, hourly_rate)
    return {
        "frame": kr(figures.frame), "activity": kr(figures.activity), "total": kr(figures.total),
        "present_days": figures.present_days, "funded_days": figures.funded_days,
        "capacity_days": figures.capacity_days,
        "occupancy_pct": str(occupancy_pct(figures.present_days, figures.capacity_days)),
        "staff_hours": kr(hours), "fte": kr(fte(hours, months)),
        "citizens_by_level": figures.citizens_by_level,
    }


@router.get("/v1/budgets/{code}/{year}")
def get_budget(code: Code, year: Year, ledger: Ledger, actor: Reader, position: ReadAt) -> dict[str, Any]:
    """The twelve months and the year of a facility's budget: frame, activity, days,
    occupancy, staff hours and FTE, with `warnings` for a missing frame or schedule and for
    each month over capacity (more present days than capacity days: `over_capacity` on its row)."""
    figures = BudgetReads(ledger).facility_year(code, year, position)
    return {
        "facility": code, "year": year, "as_of_position": position,
        "basistakst": kr(figures.basistakst),
        "months": [{"month": m.month, **month_row(m, figures.hourly_rate, 1),
                    "over_capacity": is_over_capacity(m.present_days, m.capacity_days)} for m in figures.months],
        "totals": month_row(figures.totals(), figures.hourly_rate, 12),
        "warnings": figures.warnings + capacity_warnings(year, figures.months),
    }


@router.get("/v1/budgets/{code}/{year}/{month}/explain")
async def explain_budget(
    code: Code, year: Year, ledger: Ledger, actor: Reader,
    month: Annotated[str, Path(pattern=r"^(all|[1-9]|1[0-2])$", description="1..12, or `all` for the year")],
    status: ProjectionStatusDep,
    start: Annotated[Instant | None, Query(alias="from", description="From this instant (RFC 3339)")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="To this instant (RFC 3339)")] = None,
    from_position: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    to_position: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    """Why the facility budget of a month (or the year) changed between two points: every event
    recorded between them that changed it, in recording order, with its own delta, actor and
    reason; the deltas sum to `delta`. Without `from` it explains everything up to `to`;
    without `to`, up to now."""
    if end is None and to_position is not None:  # perhaps not recorded yet: waited for without a worker thread
        await wait_for_store_async(Timeline(ledger.engine), to_position, ledger.settings.future_position_wait_seconds)
        await status.wait_async(to_position, ledger.settings.read_wait_seconds)
    body = await run_in_threadpool(budget_explanation, code, year, ledger, month, status, start, end, from_position,
                                   to_position)
    await run_in_threadpool(log_citizen_reads, ledger, actor, f"/v1/budgets/{code}/{year}/{month}/explain",
                            [c["citizen_ref"] for c in body["changes"]])
    return body


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
