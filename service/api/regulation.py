"""Regulation of closed years (efterregulering) and the what-if replay of a year with a draft
schedule (domain §4.9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from pydantic import Field

from domain.tariff_schedule import normalise_levels, normalise_special_tariffs
from domain.values import FIRST_YEAR, LAST_YEAR, check_daily_rate, money
from service import export
from service.api.common import kr
from service.api.deps import FINANCE_READERS, Ledger, ReadAt, allow
from service.api.downloads import DOWNLOAD_RESPONSES, ExportFormat, ExportSlot, download, render
from service.commands.declarations import PublishSchedule
from service.commands.fields import DailyRate, SpecialTariffDef
from service.api.routing import api_router
from service.ledger import Actor, BudgetLedger
from service.regulation import RegulationReads, what_if

DraftSchedule = PublishSchedule.body_model()
"""A what-if's draft: the body of a tariff schedule's publication."""


class SpecialTariffDraft(SpecialTariffDef):
    daily_rate: DailyRate | None = Field(
        None, description="What-if only: the draft's daily rate for every day on this special tariff (omitted: each "
                          "citizen keeps the rate granted)")


class WhatIfPut(DraftSchedule):  # type: ignore[misc, valid-type]
    """A draft schedule for the what-if: a schedule (as PUT tariff-schedules), whose special
    tariffs may carry a draft daily rate."""

    special_tariffs: list[SpecialTariffDraft] = []

router = api_router(tags=["regulation"])
FinanceReader = Annotated[Actor, Depends(allow(*FINANCE_READERS))]
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]
MONEY = ("revenue", "cost_basis", "actual_costs", "result", "carry_over", "to_tariff", "regulation_line",
         "post_closing_adjustments", "result_at_closing", "applied_line")


TOTALLED = ("revenue", "cost_basis", "actual_costs", "result", "carry_over", "to_tariff", "post_closing_adjustments")
"""The amounts that add up across facilities (the `totals` row)."""


def regulation_public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: kr(v) if k in MONEY else v for k, v in row.items()}


def regulation_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums of the facilities' amounts, and how many facilities' target-year frame budgets
    carry their regulation line (`applied` of `facilities`)."""
    totals: dict[str, Any] = {k: kr(sum((Decimal(r[k]) for r in rows), Decimal(0))) for k in TOTALLED}
    return {**totals, "facilities": len(rows), "applied": sum(1 for r in rows if r["applied"])}


def regulation_body(ledger: BudgetLedger, year: int, position: int) -> dict[str, Any]:
    """The regulation's body as of a recorded position (the API, the UI and the exports share
    it); each row names its facility (`name`) beside the code."""
    reads = RegulationReads(ledger)
    names = {code: fact["name"] for code, fact in reads.budgets.facts(position, "facility", 0).items()}
    rows = [{**regulation_public(r), "name": names.get(r["facility"])} for r in reads.year(year, position)]
    return {"year": year, "as_of_position": position, "limit_pct": str(reads.limit_pct),
            "years_to_tariff": reads.years, "facilities": rows, "totals": regulation_totals(rows)}


@router.get("/v1/regulation/{year}")
def get_regulation(year: Year, ledger: Ledger, actor: FinanceReader, position: ReadAt) -> dict[str, Any]:
    """Per facility with closed accounts for the year: revenue, cost basis, actual costs,
    result, carry-over (± the limit % of the cost basis), what goes to the tariff of the target
    year, post-closing adjustments since the accounts, and whether the target year's frame
    budget carries the regulation line; `totals` sums the amounts over the facilities."""
    return regulation_body(ledger, year, position)


@router.get("/v1/regulation/{year}/export", response_class=Response, responses=DOWNLOAD_RESPONSES)
def export_regulation(request: Request, year: Year, ledger: Ledger, actor: FinanceReader, _slot: ExportSlot,
                      position: ReadAt, fmt: ExportFormat = "xlsx") -> Response:
    """The regulation (as GET /v1/regulation/{year}) as a workbook (`xlsx`: a row per facility
    and a totals row, and what the figures are as of) or a CSV table in Danish Excel's convention."""
    body = regulation_body(ledger, year, position)
    return download(render(request, "regulation", fmt, body), export.regulation_filename(year, fmt), fmt)


WHAT_IF_MONEY = ("actual", "what_if", "difference")


def draft_levels(body: WhatIfPut) -> list[dict[str, Any]]:
    """A draft's levels as a schedule's (`normalise_levels` checks them)."""
    return [{"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours), "daily_rate": l.daily_rate}
            for l in body.levels]


def what_if_body(ledger: BudgetLedger, year: int, position: int, levels: list[dict[str, Any]],
                 special_tariffs: list[dict[str, Any]]) -> dict[str, Any]:
    """The what-if's body as of a recorded position (the API, the UI and the exports share it):
    `levels` and `special_tariffs` as a schedule's (a special tariff may carry a `daily_rate`);
    each facility row names its facility (`name`); `totals` sums the facilities (the paying
    municipalities sum to the same); `draft` echoes the rates replayed."""
    rows = normalise_levels(levels)
    special = normalise_special_tariffs([{"code": s.get("code"), "name": s.get("name")} for s in special_tariffs])
    special_rates: dict[str, Decimal] = {}
    for index, item in enumerate(special_tariffs):
        if item.get("daily_rate") is not None:
            field = f"special_tariffs[{index}].daily_rate"
            special_rates[item["code"]] = check_daily_rate(money(item["daily_rate"], field), field)
    draft = {row["level"]: row["daily_rate"] for row in rows}
    replayed = what_if(ledger, year, position, draft, special_rates)
    names = {code: fact["name"] for code, fact in RegulationReads(ledger).budgets.facts(position, "facility", 0).items()}
    facilities = [{**row, "name": names.get(row["facility"])} for row in replayed["facilities"]]
    totals = {k: kr(sum((row[k] for row in facilities), Decimal(0))) for k in WHAT_IF_MONEY}

    def public(row: dict[str, Any]) -> dict[str, Any]:
        return {k: kr(v) if k in WHAT_IF_MONEY else v for k, v in row.items()}

    return {"year": year, "as_of_position": position, "facilities": [public(row) for row in facilities],
            "paying_municipalities": [public(row) for row in replayed["paying_municipalities"]], "totals": totals,
            "draft": {"levels": [{"level": row["level"], "daily_rate": kr(row["daily_rate"])} for row in rows],
                      "special_tariffs": [{**s, "daily_rate": kr(special_rates[s["code"]])
                                           if s["code"] in special_rates else None} for s in special]}}


@router.post("/v1/regulation/{year}/what-if")
def post_what_if(year: Year, body: WhatIfPut, ledger: Ledger, actor: FinanceReader, position: ReadAt
                 ) -> dict[str, Any]:
    """The year's revenue replayed with a draft schedule: the draft's rates replace the year's
    rates and revisions, levels stay as assessed (a special tariff keeps each citizen's granted
    rate, unless the draft gives it a `daily_rate`); per facility and per paying municipality,
    what was charged, what would have been, and the difference, and their `totals`. Records
    nothing."""
    return what_if_body(ledger, year, position, draft_levels(body), [s.model_dump() for s in body.special_tariffs])


@router.post("/v1/regulation/{year}/what-if/export", response_class=Response, responses=DOWNLOAD_RESPONSES)
def export_what_if(request: Request, year: Year, body: WhatIfPut, ledger: Ledger, actor: FinanceReader,
                   _slot: ExportSlot, position: ReadAt, fmt: ExportFormat = "xlsx") -> Response:
    """The what-if (as POST /v1/regulation/{year}/what-if, the same body) as a workbook (`xlsx`:
    "Tilbud" and "Betalingskommuner" with totals rows, and the draft's rates) or one CSV table
    in Danish Excel's convention. Records nothing."""
    replayed = what_if_body(ledger, year, position, draft_levels(body), [s.model_dump() for s in body.special_tariffs])
    return download(render(request, "what_if", fmt, replayed), export.what_if_filename(year, fmt), fmt)
