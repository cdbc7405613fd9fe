"""The capacity rule: a month is over capacity when its present days exceed its capacity days."""

from __future__ import annotations

from projections.budget import BudgetMonth, MonthFigures
from projections.capacity import OverCapacity, capacity_warnings, over_capacity


def month(number: int, present: int, capacity: int) -> MonthFigures:
    return MonthFigures(month=number, capacity_days=capacity, stays=BudgetMonth(present_days=present))


def test_only_months_with_more_present_days_than_capacity_days_are_over():
    months = [month(2, 56, 56), month(3, 93, 62), month(4, 0, 60), month(5, 1, 0)]
    assert over_capacity(months) == [OverCapacity(3, 93, 62), OverCapacity(5, 1, 0)]
    assert capacity_warnings(2026, months) == [
        "2026-03: 93 present days exceed 62 capacity days (more citizens than places)",
        "2026-05: 1 present days exceed 0 capacity days (more citizens than places)"]
