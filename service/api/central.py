"""The central budget model (domain §4.6): every facility for a year or a month, with key
figures, sold places and, for a year with a baseline, the phase-in of the transition."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import Response

from domain.values import FIRST_YEAR, LAST_YEAR
from service import export
from service.api.downloads import DOWNLOAD_RESPONSES, ExportFormat, ExportSlot, download, render
from service.api.deps import Ledger, ReadAt, Reader
from service.api.routing import api_router
from service.queries.central import central_model
from service.queries.values import public

router = api_router(tags=["central"])
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


@router.get("/v1/central/{year}")
def get_central(year: Year, ledger: Ledger, actor: Reader, position: ReadAt,
                month: Annotated[int | None, Query(ge=1, le=12, description="A month of the year; the whole year without")] = None,
                ) -> dict[str, Any]:
    """Every facility for the year (or one month): frame, activity, total, days, occupancy,
    citizens by level at the period's last day, sold days and income, average support hours,
    and for a year with a baseline the model, the baseline, the difference and the phased budget.
    A facility's `warnings` and `over_capacity_months` name the period's months over capacity
    (more present days than capacity days); the top `warnings` repeat them with its code."""
    return public(central_model(ledger, year, month, position))


@router.get("/v1/central/{year}/export", response_class=Response, responses=DOWNLOAD_RESPONSES)
def export_central(request: Request, year: Year, ledger: Ledger, actor: Reader, _slot: ExportSlot, position: ReadAt,
                   fmt: ExportFormat = "xlsx",
                   month: Annotated[int | None, Query(ge=1, le=12, description="A month of the year; the whole "
                                                                              "year without")] = None,
                   ) -> Response:
    """The central model (as GET /v1/central/{year}) as a workbook (`xlsx`: budget, citizens
    by level, and what the figures are as of) or a CSV table in Danish Excel's convention."""
    body = public(central_model(ledger, year, month, position))
    return download(render(request, "central", fmt, body), export.central_filename(year, month, fmt), fmt)
