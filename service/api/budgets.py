"""Facility budgets for a year, as of any point, from the read models (domain §4.2-4.5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from starlette.concurrency import run_in_threadpool

from domain.values import FIRST_YEAR, LAST_YEAR
from service.api.common import Code
from service.api.deps import Instant, Ledger, ProjectionStatusDep, ReadAt, Reader
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.ledger import Timeline
from service.queries.budgets import facility_budget
from service.queries.explain import budget_explanation
from service.queries.positions import wait_for_store_async
from service.queries.values import public

router = api_router(tags=["budgets"])
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


@router.get("/v1/budgets/{code}/{year}")
def get_budget(code: Code, year: Year, ledger: Ledger, actor: Reader, position: ReadAt) -> dict[str, Any]:
    """The twelve months and the year of a facility's budget: frame, activity, days,
    occupancy, staff hours and FTE, with `warnings` for a missing frame or schedule and for
    each month over capacity (more present days than capacity days: `over_capacity` on its row)."""
    return public(facility_budget(ledger, code, year, position))


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
    explained = await run_in_threadpool(budget_explanation, code, year, ledger, month, status, start, end,
                                        from_position, to_position)
    await run_in_threadpool(log_citizen_reads, ledger, actor, f"/v1/budgets/{code}/{year}/{month}/explain",
                            explained.citizen_refs())
    return public(explained)
