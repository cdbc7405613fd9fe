"""Regulation of closed years (efterregulering) and the what-if replay of a year with a draft
schedule (domain §4.9)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import Response

from domain.values import FIRST_YEAR, LAST_YEAR
from service import export
from service.access import FINANCE_READERS
from service.api.deps import Ledger, ReadAt, allow
from service.api.downloads import DOWNLOAD_RESPONSES, ExportFormat, ExportSlot, download, render
from service.api.routing import api_router
from service.ledger import Actor
from service.queries.regulation import regulation_body
from service.queries.values import public
from service.queries.what_if import WhatIfPut, what_if_of_draft

router = api_router(tags=["regulation"])
FinanceReader = Annotated[Actor, Depends(allow(*FINANCE_READERS))]
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


@router.get("/v1/regulation/{year}")
def get_regulation(year: Year, ledger: Ledger, actor: FinanceReader, position: ReadAt) -> dict[str, Any]:
    """Per facility with closed accounts for the year: revenue, cost basis, actual costs,
    result, carry-over (± the limit % of the cost basis), what goes to the tariff of the target
    year, post-closing adjustments since the accounts, and whether the target year's frame
    budget carries the regulation line; `totals` sums the amounts over the facilities."""
    return public(regulation_body(ledger, year, position))


@router.get("/v1/regulation/{year}/export", response_class=Response, responses=DOWNLOAD_RESPONSES)
def export_regulation(request: Request, year: Year, ledger: Ledger, actor: FinanceReader, _slot: ExportSlot,
                      position: ReadAt, fmt: ExportFormat = "xlsx") -> Response:
    """The regulation (as GET /v1/regulation/{year}) as a workbook (`xlsx`: a row per facility
    and a totals row, and what the figures are as of) or a CSV table in Danish Excel's convention."""
    body = public(regulation_body(ledger, year, position))
    return download(render(request, "regulation", fmt, body), export.regulation_filename(year, fmt), fmt)


@router.post("/v1/regulation/{year}/what-if")
def post_what_if(year: Year, body: WhatIfPut, ledger: Ledger, actor: FinanceReader, position: ReadAt
                 ) -> dict[str, Any]:
    """The year's revenue replayed with a draft schedule: the draft's rates replace the year's
    rates and revisions, levels stay as assessed (a special tariff keeps each citizen's granted
    rate, unless the draft gives it a `daily_rate`); per facility and per paying municipality,
    what was charged, what would have been, and the difference, and their `totals`. Records
    nothing."""
    return public(what_if_of_draft(ledger, year, position, body))


@router.post("/v1/regulation/{year}/what-if/export", response_class=Response, responses=DOWNLOAD_RESPONSES)
def export_what_if(request: Request, year: Year, body: WhatIfPut, ledger: Ledger, actor: FinanceReader,
                   _slot: ExportSlot, position: ReadAt, fmt: ExportFormat = "xlsx") -> Response:
    """The what-if (as POST /v1/regulation/{year}/what-if, the same body) as a workbook (`xlsx`:
    "Tilbud" and "Betalingskommuner" with totals rows, and the draft's rates) or one CSV table
    in Danish Excel's convention. Records nothing."""
    replayed = public(what_if_of_draft(ledger, year, position, body))
    return download(render(request, "what_if", fmt, replayed), export.what_if_filename(year, fmt), fmt)
