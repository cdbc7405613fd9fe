"""The what-if (domain §4.9): a year's revenue replayed with a draft schedule, per facility and
per paying municipality, as of a recorded position; it records nothing (the API, the UI's page
and `ledger export what-if` read it here). The draft is a schedule's publication whose special
tariffs may carry a draft daily rate (`WhatIfPut`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field

from domain.tariff_schedule import normalise_levels, normalise_special_tariffs
from domain.values import check_daily_rate, money
from service.commands.declarations import PublishSchedule
from service.commands.fields import DailyRate, SpecialTariffDef
from service.ledger import BudgetLedger
from service.queries.values import kr
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


WHAT_IF_MONEY = ("actual", "what_if", "difference")


def draft_levels(body: WhatIfPut) -> list[dict[str, Any]]:
    """A draft's levels as a schedule's (`normalise_levels` checks them)."""
    return [{"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours), "daily_rate": l.daily_rate}
            for l in body.levels]


def what_if_body(ledger: BudgetLedger, year: int, position: int, levels: list[dict[str, Any]],
                 special_tariffs: list[dict[str, Any]]) -> dict[str, Any]:
    """The what-if's body as of a recorded position: `levels` and `special_tariffs` as a schedule's (a special tariff may carry a `daily_rate`);
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


def what_if_of_draft(ledger: BudgetLedger, year: int, position: int, draft: WhatIfPut) -> dict[str, Any]:
    """`what_if_body` of a draft as sent (POST /v1/regulation/{year}/what-if, `ledger export what-if`)."""
    return what_if_body(ledger, year, position, draft_levels(draft), [s.model_dump() for s in draft.special_tariffs])
