"""Periods of a stay: the spans over which level (or special tariff), payer and service rate
stay the same (domain §4.1, §4.3).

A new period starts when a condition changes (reassessment, special tariff, payer), on
1 January (the new year's schedule applies to the same level number), and on the effective
date of a rate revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Callable, Iterable

from domain.citizen import Condition


@dataclass(frozen=True)
class Period:
    start: date
    end: date | None
    condition: Condition
    service_rate: Decimal | None
    """None: no tariff schedule covers the period's year."""


RateOf = Callable[[int, date], Decimal | None]


def service_rate(condition: Condition, day: date, rate_of: RateOf) -> Decimal | None:
    """The daily service rate on `day`: the special tariff's rate, else the level's rate."""
    if condition.special_tariff is not None:
        return condition.special_rate
    if condition.level is None:
        return None
    return rate_of(condition.level, day)


def stay_periods(
    conditions: list[tuple[date, Condition]], end: date | None, until: date, rate_of: RateOf,
    rate_changes: Iterable[date] = (),
) -> list[Period]:
    """Periods from the first condition to `end` (inclusive), or, for an open stay, to
    `until` with the last period left open (`end` None)."""
    if not conditions:
        return []
    last_day = end or until
    starts = {start for start, _ in conditions}
    first = conditions[0][0]
    starts |= {date(y, 1, 1) for y in range(first.year + 1, last_day.year + 1)}
    starts |= {d for d in rate_changes if first < d <= last_day}
    boundaries = sorted(d for d in starts if d <= last_day)
    periods: list[Period] = []
    for i, start in enumerate(boundaries):
        condition = [c for s, c in conditions if s <= start][-1]
        rate = service_rate(condition, start, rate_of)
        stop = boundaries[i + 1] - timedelta(days=1) if i + 1 < len(boundaries) else end
        if periods and periods[-1].condition == condition and periods[-1].service_rate == rate:
            periods[-1] = Period(periods[-1].start, stop, condition, rate)
        else:
            periods.append(Period(start, stop, condition, rate))
    return periods
