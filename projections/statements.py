"""Statements for the municipalities that buy places (domain §4.7), as pure functions.

For a paying municipality other than 707 and a month: one line per stay with present days in
the month paid by it, with the periods of level (or special tariff) and service rate, each
charged days × (basistakst + service rate). Buying municipalities pay for present days only:
the run-off after a move-out is an internal budget rule and is never on a statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Collection

from domain.values import NORDDJURS, ZERO
from projections.budget import StayFacts, level_key, stay_segments
from projections.periods import RateOf

StatementKey = tuple[str, int, int]
"""(paying municipality, year, month)"""


@dataclass(frozen=True)
class StatementPeriod:
    start: date
    end: date
    level: str
    service_rate: Decimal | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def amount(self, basistakst: Decimal) -> Decimal:
        """days × (basistakst + service rate); a day without a rate is charged basistakst only."""
        return self.days * (basistakst + (self.service_rate or ZERO))

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "level": self.level,
                "service_rate": None if self.service_rate is None else str(self.service_rate)}

    @classmethod
    def of(cls, value: dict[str, Any]) -> "StatementPeriod":
        rate = value["service_rate"]
        return cls(date.fromisoformat(value["from"]), date.fromisoformat(value["to"]), value["level"],
                   None if rate is None else Decimal(rate))


def statement_lines(
    stay: StayFacts, rate_of: RateOf, rate_changes: Collection[date] = (), until: date | None = None,
    since: date | None = None,
) -> dict[StatementKey, tuple[StatementPeriod, ...]]:
    """The stay's statement lines: its present days paid by another municipality, by month
    (with `since`, the first of a month, only the months from it on)."""
    lines: dict[StatementKey, list[StatementPeriod]] = {}
    for segment in stay_segments(stay, rate_of, rate_changes, until, since):
        payer = segment.condition.paying_municipality
        if not segment.present or payer == NORDDJURS:
            continue
        periods = lines.setdefault((payer, segment.start.year, segment.start.month), [])
        period = StatementPeriod(segment.start, segment.end, level_key(segment.condition), segment.rate)
        previous = periods[-1] if periods else None
        if previous and (previous.level, previous.service_rate) == (period.level, period.service_rate) \
                and previous.end + timedelta(days=1) == period.start:
            periods[-1] = StatementPeriod(previous.start, period.end, period.level, period.service_rate)
        else:
            periods.append(period)
    return {key: tuple(periods) for key, periods in lines.items()}


def year_of_lines(facility: str, periods: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """A stay's statement lines of one year for one paying municipality, as its read-model row
    holds them (docs/adr/0039): the facility and each month's periods (`StatementPeriod.as_dict`)
    under the month's two digits ("01" to "12"); a month without a line has no key."""
    return {"facility": facility, "months": {f"{month:02d}": found for month, found in sorted(periods.items())}}


def periods_of_month(value: dict[str, Any], month: int) -> list[dict[str, Any]]:
    """The periods of `month` in a year of statement lines (`year_of_lines`); [] for none."""
    return value["months"].get(f"{month:02d}", [])  # type: ignore[no-any-return]


def line_amount(periods: Collection[StatementPeriod], basistakst: Decimal) -> Decimal:
    return sum((p.amount(basistakst) for p in periods), ZERO)
