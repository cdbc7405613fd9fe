"""The what-if (domain §4.9): a year's revenue replayed with a draft schedule, per facility and
per paying municipality, as of a recorded position; it records nothing (the API, the UI's page
and `ledger export what-if` read it here). The draft is a schedule's publication whose special
tariffs may carry a draft daily rate (`WhatIfPut`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field

from domain.tariff_schedule import normalise_levels, normalise_special_tariffs
from domain.values import check_daily_rate, money
from service.commands.declarations import PublishSchedule
from service.commands.fields import DailyRate, SpecialTariffDef
from service.ledger import BudgetLedger
from service.queries.values import Money, ore
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


@dataclass(frozen=True)
class FacilityWhatIf:
    facility: str
    actual: Money
    what_if: Money
    difference: Money
    name: str | None


@dataclass(frozen=True)
class PayerWhatIf:
    paying_municipality: str
    actual: Money
    what_if: Money
    difference: Money
    paying_municipality_name: str | None
    """None for a code outside the register."""


@dataclass(frozen=True)
class WhatIfTotals:
    """The facilities summed (the paying municipalities sum to the same)."""

    actual: Money
    what_if: Money
    difference: Money


@dataclass(frozen=True)
class DraftLevel:
    level: int
    daily_rate: Money


@dataclass(frozen=True)
class DraftSpecialTariff:
    code: str
    name: str
    daily_rate: Money | None
    """None: each citizen keeps the rate granted."""


@dataclass(frozen=True)
class DraftRates:
    levels: tuple[DraftLevel, ...]
    special_tariffs: tuple[DraftSpecialTariff, ...]


@dataclass(frozen=True)
class WhatIf:
    """A year's revenue, charged and replayed with a draft schedule, as of a store position."""

    year: int
    as_of_position: int
    facilities: tuple[FacilityWhatIf, ...]
    paying_municipalities: tuple[PayerWhatIf, ...]
    totals: WhatIfTotals
    draft: DraftRates
    """The rates replayed."""


def draft_levels(body: WhatIfPut) -> list[dict[str, Any]]:
    """A draft's levels as a schedule's (`normalise_levels` checks them)."""
    return [{"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours), "daily_rate": l.daily_rate}
            for l in body.levels]


def what_if_body(ledger: BudgetLedger, year: int, position: int, levels: list[dict[str, Any]],
                 special_tariffs: list[dict[str, Any]]) -> WhatIf:
    """The what-if as of a recorded position: `levels` and `special_tariffs` as a schedule's (a
    special tariff may carry a `daily_rate`); each facility row names its facility (`name`);
    `totals` sums the facilities' exact amounts (the paying municipalities sum to the same);
    `draft` echoes the rates replayed."""
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
    facilities = tuple(FacilityWhatIf(**row, name=names.get(row["facility"])) for row in replayed["facilities"])
    payers = tuple(PayerWhatIf(**row) for row in replayed["paying_municipalities"])

    def total(name: str) -> Decimal:
        return ore(sum((getattr(row, name) for row in facilities), Decimal(0)))

    return WhatIf(year, position, facilities, payers, WhatIfTotals(total("actual"), total("what_if"), total("difference")),
                  DraftRates(tuple(DraftLevel(row["level"], row["daily_rate"]) for row in rows),
                             tuple(DraftSpecialTariff(s["code"], s["name"], special_rates.get(s["code"]))
                                   for s in special)))


def what_if_of_draft(ledger: BudgetLedger, year: int, position: int, draft: WhatIfPut) -> WhatIf:
    """`what_if_body` of a draft as sent (POST /v1/regulation/{year}/what-if, `ledger export what-if`)."""
    return what_if_body(ledger, year, position, draft_levels(draft), [s.model_dump() for s in draft.special_tariffs])
