"""The read models' rows and facts decoded into what the budget rules read: a month row into
its figures, a facility as registered and a frame budget from their stored JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.facility import places_in_force
from projections.budget import BudgetMonth, capacity_days
from service.db import rm_budget_months


def _money(cents: int) -> Decimal:
    """Whole øre as kroner with two decimals (exact: only the exponent moves)."""
    return Decimal(cents).scaleb(-2)


def _levels(text: str) -> tuple[tuple[str, int], ...]:
    """Citizens by level as stored: JSON with its keys sorted (`service.projection.levels_json`),
    so the items come in the order of `BudgetMonth.citizens_by_level`. (Nearly every month
    row of a large store has its own counts: remembering them saved nothing.)"""
    return tuple(json.loads(text).items())


MONTH_COLUMNS = ("facility", "year", "month", "recorded_from", "recorded_to", "activity", "present_days",
                 "funded_days", "unpriced_days", "sold_days", "sold_service", "present_service", "support_hours",
                 "citizens_by_level")
assert tuple(rm_budget_months.c.keys()) == MONTH_COLUMNS, "budget_month unpacks a month row by position"


def budget_month(row: Any) -> BudgetMonth:
    """A month row (every column of `rm_budget_months`, in the table's order) as its figures.
    Unpacked by position rather than by name: a read of every facility decodes some 12 000
    rows a year."""
    (_, _, _, _, _, activity, present_days, funded_days, unpriced_days, sold_days, sold_service, present_service,
     support_hours, levels) = row
    return BudgetMonth(_money(activity), present_days, funded_days, unpriced_days, sold_days, _money(sold_service),
                       _money(present_service), _money(support_hours), _levels(levels))


@dataclass(frozen=True)
class FacilityFact:
    code: str
    name: str
    kind: str
    area: str
    registered_places: int
    capacity_changes: tuple[tuple[date, int], ...]

    @classmethod
    def of(cls, code: str, value: dict[str, Any]) -> "FacilityFact":
        changes = tuple((date.fromisoformat(d), places) for d, places in value["capacity_changes"])
        return cls(code, value["name"], value["kind"], value["area"], value["registered_places"], changes)

    def places_on(self, day: date) -> int:
        return places_in_force(self.registered_places, self.capacity_changes, day)

    def capacity_days(self, year: int) -> list[int]:
        return capacity_days(year, self.places_on, [d for d, _ in self.capacity_changes])


def frame_of(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A frame fact in the shape of the domain's frame budget."""
    if value is None:
        return None
    return {"budgeted_places": value["budgeted_places"],
            "planned_occupancy_pct": Decimal(value["planned_occupancy_pct"]),
            "lines": [{"category": line["category"], "amount": Decimal(line["amount"])} for line in value["lines"]]}
