"""Activity budget, facility budget and key figures of a facility-year (domain §4.3-4.5),
as pure functions: facts in, figures out.

- present days: move-in to move-out, both inclusive;
- funded days: present days plus the run-off: after a move-out the stay stays funded to the
  end of the month `runoff_months` after the move-out month ("the current month plus one
  month"), at the level or special tariff in force on the move-out day, whatever the kind of
  move-out;
- the service rate of a day is the rate of its level in the schedule of that day's year with
  the latest revision effective on or before the day, or the special tariff's own rate; a day
  of a year without a schedule counts 0.00 and is named in `warnings`;
- activity(month) = sum of the service rates of the funded days; facility budget = monthly
  frame + activity;
- occupancy % = present days / capacity days × 100 (1 decimal); staff hours = activity /
  hourly rate (2 decimals); FTE = staff hours / (1924 / 12) for a month, / 1924 for a year.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterator

from domain.citizen import Condition
from domain.values import ZERO, round_money
from projections.frame import basistakst, frame_total, monthly_frames
from projections.periods import RateOf, service_rate

ANNUAL_HOURS = Decimal(1924)


@dataclass(frozen=True)
class StayFacts:
    """What the budget needs of one stay: its days and its conditions by date."""

    citizen_ref: str
    move_in: date
    move_out: date | None
    conditions: tuple[tuple[date, Condition], ...]
    runoff_months: int = 1

    def condition_on(self, day: date) -> Condition:
        return [c for start, c in self.conditions if start <= day][-1]

    @property
    def funded_until(self) -> date | None:
        """The last funded day: None while the stay is open."""
        if self.move_out is None:
            return None
        month_index = self.move_out.year * 12 + self.move_out.month - 1 + self.runoff_months
        year, month = divmod(month_index, 12)
        return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


@dataclass
class MonthFigures:
    month: int
    frame: Decimal = ZERO
    activity: Decimal = ZERO
    present_days: int = 0
    funded_days: int = 0
    capacity_days: int = 0
    citizens_by_level: Counter = field(default_factory=Counter)

    @property
    def total(self) -> Decimal:
        return self.frame + self.activity


@dataclass
class YearFigures:
    year: int
    months: list[MonthFigures]
    basistakst: Decimal
    hourly_rate: Decimal | None
    warnings: list[str]

    def totals(self) -> MonthFigures:
        total = MonthFigures(month=0)
        for m in self.months:
            total.frame += m.frame
            total.activity += m.activity
            total.present_days += m.present_days
            total.funded_days += m.funded_days
            total.capacity_days += m.capacity_days
        total.citizens_by_level = self.months[-1].citizens_by_level
        return total


def occupancy_pct(present_days: int, capacity_days: int) -> Decimal:
    if capacity_days == 0:
        return Decimal("0.0")
    return (Decimal(present_days) * 100 / capacity_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def staff_hours(activity: Decimal, hourly_rate: Decimal | None) -> Decimal:
    if not hourly_rate:
        return ZERO
    return round_money(activity / hourly_rate)


def fte(hours: Decimal, months: int = 1) -> Decimal:
    """FTE funded: staff hours / (1924 / 12) per month, / 1924 for a year."""
    return round_money(hours / (ANNUAL_HOURS * months / 12))


def level_key(condition: Condition) -> str:
    return condition.special_tariff or str(condition.level)


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def facility_year(
    year: int,
    frame: dict | None,
    places_on: Callable[[date], int],
    stays: list[StayFacts],
    rate_of: RateOf,
    hourly_rate: Decimal | None,
) -> YearFigures:
    """The twelve months of a facility's budget in `year`."""
    warnings: set[str] = set()
    months = [MonthFigures(month=m) for m in range(1, 13)]
    if frame is None:
        warnings.add(f"no frame budget for {year}: frame and basistakst are 0.00")
        rate = ZERO
    else:
        total = frame_total(frame["lines"])
        for month, amount in zip(months, monthly_frames(total)):
            month.frame = amount
        rate = basistakst(total, frame["budgeted_places"], frame["planned_occupancy_pct"], year)
    if hourly_rate is None:
        warnings.add(f"no tariff schedule for {year}: its days count 0.00")
    first, last = date(year, 1, 1), date(year, 12, 31)
    for day in _days(first, last):
        months[day.month - 1].capacity_days += places_on(day)
    for stay in stays:
        end = stay.funded_until or last
        for day in _days(max(stay.move_in, first), min(end, last)):
            figures = months[day.month - 1]
            present = stay.move_out is None or day <= stay.move_out
            condition = stay.condition_on(min(day, stay.move_out) if stay.move_out else day)
            daily = service_rate(condition, day, rate_of)
            if daily is None:
                warnings.add(f"no tariff schedule for {day.year}: its days count 0.00")
                daily = ZERO
            figures.activity += daily
            figures.funded_days += 1
            figures.present_days += int(present)
        for figures in months:
            month_end = date(year, figures.month, calendar.monthrange(year, figures.month)[1])
            if stay.move_in <= month_end and (stay.move_out is None or month_end <= stay.move_out):
                figures.citizens_by_level[level_key(stay.condition_on(month_end))] += 1
    return YearFigures(year, months, rate, hourly_rate, sorted(warnings))
