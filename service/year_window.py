"""A year of some facilities as the read models held it anywhere between two positions.

The row versions a facility-year is computed from (its month rows and frame, the facility,
the schedules and the horizon, and, beyond the horizon, its stay rows) are read once for the
whole window; the figures as of any position in it are then found without asking the store
again. A version counts at position N when recorded_from <= N < recorded_to (or recorded_to is
NULL); the versions of one row never overlap, so the one in force is found by bisection.

One position is a window too (low = high): a single read costs two queries (the facts, then
the month rows or, beyond the horizon, the stay rows). Explain (every change between two points) and regulation (every facility as of
its own closing) read a wide window once instead of one facility-year per position.

Beyond the horizon as of N (no frame or schedule reaches the year), the figures are the stays'
days, unpriced but for special tariffs, with no frame (docs/adr/0014).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Generic, Iterable, TypeVar

from sqlalchemy import and_, or_, select, true
from sqlalchemy.engine import Engine

from projections.budget import BudgetMonth, Month, StayFacts, StayMonth, YearFigures, assemble_year, stay_months
from projections.stays import stay_of
from service.db import rm_budget_months, rm_facts, rm_stays

T = TypeVar("T")


def unpriced(level: int, day: date) -> None:
    """No schedule prices a day beyond the horizon."""
    return None


class Versions(Generic[T]):
    """The versions of one row, by the position they were recorded at."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.rows: list[tuple[int | None, T]] = []

    def add(self, recorded_from: int, recorded_to: int | None, value: T) -> None:
        self.starts.append(recorded_from)
        self.rows.append((recorded_to, value))

    def sort(self) -> None:
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        self.starts = [self.starts[i] for i in order]
        self.rows = [self.rows[i] for i in order]

    def at(self, position: int) -> T | None:
        index = bisect_right(self.starts, position) - 1
        if index < 0:
            return None
        recorded_to, value = self.rows[index]
        return value if recorded_to is None or recorded_to > position else None


def _group(rows: Iterable[Any], key: Any, value: Any) -> dict[Any, Versions[Any]]:
    groups: dict[Any, Versions[Any]] = defaultdict(Versions)
    for row in rows:
        groups[key(row)].add(row.recorded_from, row.recorded_to, value(row))
    for versions in groups.values():
        versions.sort()
    return dict(groups)


class YearWindow:
    """`year` of the facilities `codes` (None: every facility) between positions `low` and
    `high` (inclusive)."""

    def __init__(self, engine: Engine, year: int, low: int, high: int, codes: list[str] | None = None) -> None:
        self.engine, self.year, self.low, self.high, self.codes = engine, year, low, high, codes
        facts = rm_facts.c
        mine = true() if codes is None else facts.facility.in_(codes)
        rows = self._versions(rm_facts, or_(
            and_(facts.kind == "facility", mine), and_(facts.kind == "frame", facts.year == year, mine),
            facts.kind.in_(("schedule", "horizon"))))
        self.facts = _group(rows, lambda r: (r.kind, r.facility, r.year), lambda r: json.loads(r.value))
        self._months: dict[Any, Versions[Any]] | None = None
        self._stays: dict[str, dict[str, Versions[dict[str, Any]]]] | None = None
        self._computed: dict[tuple[str, int, int], dict[Month, StayMonth]] = {}
        self._sums: dict[str, tuple[dict[str, tuple[str, int, int]], dict[int, BudgetMonth]]] = {}

    def _versions(self, table: Any, *where: Any) -> list[Any]:
        """The versions of `table` valid somewhere in the window. For every facility at once,
        the open ones and those closed after `low` are asked apart, so that each part finds
        its own partial index instead of the store reading every version of the year and
        filtering (docs/adr/0015); for some facilities, their versions are few."""
        started = table.c.recorded_from <= self.high
        with self.engine.connect() as connection:
            if self.codes is not None:
                window = or_(table.c.recorded_to.is_(None), table.c.recorded_to > self.low)
                return connection.execute(select(table).where(started, window, *where)).all()
            open_ = connection.execute(select(table).where(table.c.recorded_to.is_(None), started, *where)).all()
            closed = connection.execute(select(table).where(table.c.recorded_to > self.low, started, *where)).all()
        return open_ + closed

    def _month_versions(self) -> dict[Any, Versions[Any]]:
        """The month rows of the year, by facility and month, read on first need."""
        if self._months is None:
            from service.read_models import budget_month

            months = rm_budget_months.c
            rows = self._versions(rm_budget_months, months.year == self.year,
                                  true() if self.codes is None else months.facility.in_(self.codes))
            self._months = _group(rows, lambda r: (r.facility, r.month), budget_month)
        return self._months

    def _fact(self, kind: str, facility: str, year: int, position: int) -> Any:
        versions = self.facts.get((kind, facility, year))
        return None if versions is None else versions.at(position)

    def horizon(self, position: int) -> int | None:
        fact = self._fact("horizon", "", 0, position)
        return None if fact is None else fact["year"]

    def facility(self, code: str, position: int) -> Any:
        """The facility as registered at `position` (a `FacilityFact`), or None."""
        from service.read_models import FacilityFact

        value = self._fact("facility", code, 0, position)
        return None if value is None else FacilityFact.of(code, value)

    def facility_codes(self, position: int) -> list[str]:
        return sorted(facility for (kind, facility, _), versions in self.facts.items()
                      if kind == "facility" and versions.at(position) is not None)

    def figures(self, code: str, position: int) -> YearFigures | None:
        """The facility-year as of `position`; None when the facility was not registered then."""
        facility = self.facility(code, position)
        if facility is None:
            return None
        horizon = self.horizon(position)
        if horizon is None or self.year > horizon:
            return self._beyond_horizon(facility, position)
        from service.read_models import frame_of

        frame = frame_of(self._fact("frame", code, self.year, position))
        schedule = self._fact("schedule", "", self.year, position)
        months = {}
        for month in range(1, 13):
            versions = self._month_versions().get((code, month))
            value = None if versions is None else versions.at(position)
            if value is not None:
                months[month] = value
        return assemble_year(self.year, frame, facility.capacity_days(self.year), months,
                             None if schedule is None else Decimal(schedule["hourly_rate"]))

    # Beyond the horizon --------------------------------------------------------------------

    def _stay_versions(self) -> dict[str, dict[str, Versions[dict[str, Any]]]]:
        """The stay rows that may fund a day of the year (a run-off is at most 12 months), by
        facility and stay, read on first need."""
        if self._stays is None:
            stays = rm_stays.c
            rows = self._versions(rm_stays, stays.move_in <= date(self.year, 12, 31),
                                  or_(stays.move_out.is_(None), stays.move_out >= date(self.year - 1, 1, 1)),
                                  true() if self.codes is None else stays.facility.in_(self.codes))
            by_facility: dict[str, list[Any]] = defaultdict(list)
            for row in rows:
                by_facility[row.facility].append(row)
            self._stays = {code: _group(found, lambda r: r.stay_id, lambda r: json.loads(r.value))
                           for code, found in by_facility.items()}
        return self._stays

    def stay_facilities(self) -> list[str]:
        return sorted(self._stay_versions())

    def _runoff(self, value: dict[str, Any], position: int) -> int:
        if value["move_out"] is None:
            return 1
        schedule = self._fact("schedule", "", int(value["move_out"][:4]), position)
        return 1 if schedule is None else schedule["runoff_months"]

    def stays(self, code: str, position: int, since: date | None = None) -> list[StayFacts]:
        """The facility's stays as of `position`; with `since`, without the conditions
        superseded before it (`stay_of`)."""
        found = []
        for stay_id, versions in sorted(self._stay_versions().get(code, {}).items()):
            value = versions.at(position)
            if value is not None:
                found.append(stay_of(stay_id, value, self._runoff(value, position), since))
        return found

    def _beyond_horizon(self, facility: Any, position: int) -> YearFigures:
        """The stays' months of the year, added up. Consecutive reads of one window (explain
        walks its candidates in order) differ by a stay version or two: the sums of the last
        read are kept, and only the versions that changed are taken away and added."""
        first, last = date(self.year, 1, 1), date(self.year, 12, 31)
        keys: dict[str, tuple[str, int, int]] = {}
        for stay_id, versions in self._stay_versions().get(facility.code, {}).items():
            index = bisect_right(versions.starts, position) - 1
            value = versions.at(position)
            if value is None:
                continue
            runoff = self._runoff(value, position)
            key = keys[stay_id] = (stay_id, versions.starts[index], runoff)
            if key not in self._computed:  # a stay version's months are computed once per window
                stay = stay_of(stay_id, value, runoff)
                self._computed[key] = stay_months(stay, unpriced, until=last, since=first) \
                    if stay.touches(first, last) else {}
        before, sums = self._sums.get(facility.code, ({}, {}))
        by_month = dict(sums)
        for stay_id, key in before.items():
            if keys.get(stay_id) != key:
                for (_, month), figures in self._computed[key].items():
                    by_month[month] = by_month[month].plus(figures, -1)
        for stay_id, key in keys.items():
            if before.get(stay_id) != key:
                for (_, month), figures in self._computed[key].items():
                    by_month[month] = by_month.get(month, BudgetMonth()).plus(figures)
        self._sums[facility.code] = (keys, by_month)
        return assemble_year(self.year, None, facility.capacity_days(self.year), by_month, None)
