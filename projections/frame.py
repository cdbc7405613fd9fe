"""Frame budget rules (rammebudget and basistakst, domain §4.2), as pure functions.

- frame budget(year) = sum of its lines (the `regulation` line may be negative);
- basistakst(year) = round(frame / (budgeted_places × days in year × planned_occupancy_pct / 100));
- monthly frame = round(annual / 12) for January..November; December gets the remainder, so
  the twelve months sum to the annual frame exactly.
"""

from __future__ import annotations

import calendar
from decimal import Decimal
from typing import Any, Iterable

from domain.values import ZERO, round_money


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def frame_total(lines: Iterable[dict[str, Any]]) -> Decimal:
    return sum((Decimal(line["amount"]) for line in lines), ZERO)


def basistakst(total: Decimal, budgeted_places: int, planned_occupancy_pct: Decimal, year: int) -> Decimal:
    planned_days = Decimal(budgeted_places) * days_in_year(year) * Decimal(planned_occupancy_pct) / 100
    return round_money(total / planned_days)


def monthly_frames(total: Decimal) -> list[Decimal]:
    month = round_money(total / 12)
    return [month] * 11 + [total - month * 11]
