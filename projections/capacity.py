"""Capacity warnings: a facility-month in which the present days exceed the capacity days,
i.e. more citizens were present than the facility has places (occupancy above 100 %).

The rule reads only what the budget figures already hold per month (present days and
capacity days), so the budget read, the central read, the UI, the exports and the import's
dry run all flag the same months. A month with no places at all and someone present is over
capacity too (its occupancy reads 0.0 %, since it has no capacity to divide by).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from projections.budget import MonthFigures


@dataclass(frozen=True)
class OverCapacity:
    """A month over capacity: its number (1-12) and the two figures compared."""

    month: int
    present_days: int
    capacity_days: int

    def warning(self, year: int) -> str:
        return (f"{year}-{self.month:02d}: {self.present_days} present days exceed {self.capacity_days} capacity "
                "days (more citizens than places)")


def is_over_capacity(present_days: int, capacity_days: int) -> bool:
    return present_days > capacity_days


def over_capacity(months: Iterable[MonthFigures]) -> list[OverCapacity]:
    """The months (in the order given) whose present days exceed their capacity days."""
    return [OverCapacity(m.month, m.present_days, m.capacity_days) for m in months
            if is_over_capacity(m.present_days, m.capacity_days)]


def capacity_warnings(year: int, months: Iterable[MonthFigures]) -> list[str]:
    """The warning of every month over capacity, as the reads' `warnings` carry it."""
    return [over.warning(year) for over in over_capacity(months)]
