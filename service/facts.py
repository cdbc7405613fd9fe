"""The read models' rows and facts as what the budget rules read: a facility-year's figures
as its year row and back, a year's statement lines as their row, a facility as registered and a frame budget from their stored JSON.

A year row's figure columns (one per month and figure), how they are written and how they are
read all follow the one declaration of the summed figures (`projections.budget.StayFigures`,
docs/adr/0036, 0039): an amount or hours with two decimals is stored as whole hundredths, a
count as it is, and the citizens by level as JSON with its keys sorted. Rows are read by the
names of their columns, through positions found once per result (`YearRows.decoder`), never
by a hand-kept order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any, Callable, Sequence

from domain.facility import places_in_force
from projections.budget import BudgetMonth, capacity_days, figures_of
from service.db import month_column

LEVELS = "citizens_by_level"
"""The year row's column of citizens by level at each month end."""


def whole(value: Decimal, places: int) -> int:
    """An amount with at most `places` decimals as a whole number of 10^-places (øre for
    money), exactly; more decimals are refused."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimals")
    return int(scaled)


@lru_cache(maxsize=4096)
def levels_json(citizens_by_level: tuple[tuple[str, int], ...]) -> str:
    """Citizens by level as the row's JSON (few distinct values: kept once each)."""
    return json.dumps(dict(citizens_by_level), sort_keys=True, separators=(",", ":"))


_json_document = json.JSONDecoder().raw_decode


def _levels(text: str) -> list[tuple[tuple[str, int], ...] | None]:
    """The citizens by level of twelve months as stored: a JSON list of objects with their
    keys sorted (`levels_json`), so the items come in the order of
    `BudgetMonth.citizens_by_level`, null for a month without figures. The JSON is the
    projection's own, without whitespace: read by the decoder's `raw_decode`, without
    `json.loads`' checks around it."""
    return [None if by_level is None else tuple(by_level.items()) for by_level in _json_document(text)[0]]


def named(columns: Sequence[str], *names: str) -> Callable[[Sequence[Any]], Any]:
    """The named columns of a row whose columns are `columns` (a result's keys), by positions
    found once (cheaper than a `Row`'s attributes, docs/adr/0036)."""
    return itemgetter(*(list(columns).index(name) for name in names))


MONTHS = range(1, 13)


class YearRows:
    """A facility-year's figures, twelve months (`month_type`, by default `BudgetMonth`, or
    None for a month without figures), as the value columns of its row, and back: for each
    month, one column per summed figure the type declares, in its order (`month_column`), then
    the citizens by level of the twelve months (a JSON list, null for a month without
    figures, whose figure columns hold 0)."""

    def __init__(self, month_type: type = BudgetMonth) -> None:
        self.month_type = month_type
        self.figures = figures_of(month_type)
        names = [figure.name for figure in self.figures]
        if [f.name for f in fields(month_type)] != [*names, LEVELS]:  # made by position: `decoder`
            raise TypeError(f"{month_type.__name__} must declare its summed figures, then {LEVELS}")
        self.figure_columns: tuple[str, ...] = tuple(month_column(month, name) for month in MONTHS for name in names)
        self.columns: tuple[str, ...] = (*self.figure_columns, LEVELS)
        """The row's columns after its key and recorded_from/recorded_to (the table's order)."""
        self._values = attrgetter(*names)
        self._places = tuple(figure.kind.places for figure in self.figures)
        self._zeros = (0,) * len(names)

    def encode(self, months: Sequence[Any]) -> tuple[Any, ...]:
        """The twelve months' figures in the order of `columns`, as stored."""
        values: list[Any] = []
        levels = []
        for month in months:
            if month is None:
                values.extend(self._zeros)
                levels.append("null")
                continue
            values.extend(whole(value, places) if places else value
                          for value, places in zip(self._values(month), self._places))
            levels.append(levels_json(month.citizens_by_level))
        return (*values, f"[{','.join(levels)}]")

    def decoder(self, columns: Sequence[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """Decodes rows whose columns are `columns` (a result's keys: any order, any other
        columns beside) into their twelve months, with the positions of the figures found once."""
        take = named(columns, *self.figure_columns)
        at = list(columns).index(LEVELS)
        places, month_type, count = self._places, self.month_type, len(self._places)

        def decode(row: Sequence[Any]) -> tuple[Any, ...]:
            values = take(row)
            months = []
            for i, by_level in enumerate(_levels(row[at])):
                if by_level is None:
                    months.append(None)
                    continue
                part = values[i * count:(i + 1) * count]
                months.append(month_type(*(Decimal(v).scaleb(-n) if n else v for v, n in zip(part, places)),
                                         by_level))
            return tuple(months)

        return decode


YEAR_ROWS = YearRows()
"""The rows of `rm_facility_years`."""


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


@dataclass(frozen=True)
class RatesFact:
    """A year's service rates as their fact row holds them (`projections.projector.rates_fact`):
    enough to price the year's days where no month row does, beyond the horizon
    (docs/adr/0040)."""

    year: int
    levels: tuple[tuple[int, Decimal], ...]
    revisions: tuple[tuple[int, date, Decimal], ...]
    """(level, effective date, daily rate) of the revisions in force, in recording order."""

    @classmethod
    def of(cls, year: int, value: dict[str, Any]) -> "RatesFact":
        return cls(year, tuple((int(level), Decimal(rate)) for level, rate in value["levels"].items()),
                   tuple((level, date.fromisoformat(day), Decimal(rate)) for level, day, rate in value["revisions"]))

    def rate_on(self, level: int, day: date) -> Decimal:
        """Servicetakst of `level` on `day`, as `TariffSchedule.rate_on` finds it: the latest
        revision effective on or before the day (then the latest recorded), else the
        published rate."""
        rate = dict(self.levels)[level]
        candidates = [r for r in self.revisions if r[0] == level and r[1] <= day]
        if candidates:
            rate = sorted(candidates, key=itemgetter(1))[-1][2]  # stable: the latest recorded last
        return rate

    def revision_days(self) -> list[date]:
        return [day for _, day, _ in self.revisions]


def rates_of(schedule: RatesFact | None) -> Callable[[int, date], Decimal | None]:
    """The rate of a level on a day of the schedule's year (None: no schedule prices it),
    remembered: a read asks the same few hundred days of every stay."""
    remembered: dict[tuple[int, date], Decimal | None] = {}

    def rate_of(level: int, day: date) -> Decimal | None:
        key = (level, day)
        if key not in remembered:
            remembered[key] = None if schedule is None or day.year != schedule.year else schedule.rate_on(level, day)
        return remembered[key]

    return rate_of
