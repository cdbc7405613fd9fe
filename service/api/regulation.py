"""Regulation of closed years (efterregulering) and the what-if replay of a year with a draft
schedule (domain §4.9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Path

from domain.tariff_schedule import normalise_levels, normalise_special_tariffs
from domain.values import FIRST_YEAR, LAST_YEAR
from service.api.common import kr
from service.api.deps import FINANCE_READERS, Ledger, ReadAt, allow
from service.api.schemas import SchedulePut
from service.api.routing import api_router
from service.ledger import Actor
from service.regulation import RegulationReads, what_if

router = api_router(tags=["regulation"])
FinanceReader = Annotated[Actor, Depends(allow(*FINANCE_READERS))]
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]
MONEY = ("revenue", "cost_basis", "actual_costs", "result", "carry_over", "to_tariff", "regulation_line",
         "post_closing_adjustments", "result_at_closing", "applied_line")


def regulation_public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: kr(v) if k in MONEY else v for k, v in row.items()}


@router.get("/v1/regulation/{year}")
def get_regulation(year: Year, ledger: Ledger, actor: FinanceReader, position: ReadAt) -> dict[str, Any]:
    """Per facility with closed accounts for the year: revenue, cost basis, actual costs,
    result, carry-over (± the limit % of the cost basis), what goes to the tariff of the target
    year, post-closing adjustments since the accounts, and whether the target year's frame
    budget carries the regulation line."""
    reads = RegulationReads(ledger)
    return {"year": year, "as_of_position": position, "limit_pct": str(reads.limit_pct),
            "years_to_tariff": reads.years, "facilities": [regulation_public(r) for r in reads.year(year, position)]}


@router.post("/v1/regulation/{year}/what-if")
def post_what_if(year: Year, body: SchedulePut, ledger: Ledger, actor: FinanceReader, position: ReadAt
                 ) -> dict[str, Any]:
    """The year's revenue replayed with a draft schedule: the draft's rates replace the year's
    rates and revisions, levels stay as assessed; per facility and per paying municipality,
    what was charged, what would have been, and the difference. Records nothing."""
    levels = normalise_levels([{"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours),
                                "daily_rate": l.daily_rate} for l in body.levels])
    normalise_special_tariffs([s.model_dump() for s in body.special_tariffs])
    draft = {row["level"]: Decimal(row["daily_rate"]) for row in levels}
    replayed = what_if(ledger, year, position, draft)
    money = ("actual", "what_if", "difference")
    return {"year": year, "as_of_position": position,
            **{part: [{k: kr(v) if k in money else v for k, v in row.items()} for row in rows]
               for part, rows in replayed.items()}}
