"""A year of some facilities as the read models held it anywhere between two positions.

The row versions a facility-year is computed from (its year rows and frame, the facility,
the schedules and the horizon, and, beyond the horizon, its stay rows) are read once for the
whole window; the figures as of any position in it are then found without asking the store
again. A version counts at position N when recorded_from <= N < recorded_to (or recorded_to is
NULL); the versions of one row never overlap, so the one in force is found by bisection.

One position is a window too (low = high): a read of one facility-year costs two queries (the
facts, then the year rows or, beyond the horizon, the stay rows); a read of every facility
asks the open and the closed versions of each table apart (docs/adr/0015). Explain (every
change between two points) and regulation (every facility as of its own closing) read a wide
window once instead of one facility-year per position.

Beyond the horizon as of N (the projection keeps no year rows of the year), the figures come
from the facilities' open tails at N (their stays' funded days after the horizon, grouped:
docs/adr/0042), not from every stay, priced by the year's rates fact as of N (a level's rate
with its revisions, a special tariff its own rate; no schedule: a level's day counts 0.00),
with the year's frame as of N: what the year rows would hold (docs/adr/0040).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, Iterable, TypeVar

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.engine import Engine

from projections.budget import BudgetMonth, StayFacts, YearFigures, assemble_year
from projections.stays import stay_of
from projections.periods import RateOf
from projections.tails import Group, TailPiece, TailSums, Unit, tail_months
from service.db import rm_facility_years, rm_facts, rm_stays, rm_tail_checkpoints, rm_tails
from service.facts import YEAR_ROWS, FacilityFact, RatesFact, frame_of, named, rates_of
from service.projection import ReadModelsOutdated

T = TypeVar("T")

FEW_FACILITIES = 10
"""A window of this many facilities or fewer reads their versions by the table's key, whatever
the statistics say (`YearWindow._versions`); a regulation of more closed facilities asks as
before (docs/adr/0019)."""


class Versions(Generic[T]):
    """The versions of one row, by the position they were recorded at."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.rows: list[tuple[int | None, T]] = []

    def add(self, recorded_from: int, recorded_to: int | None, value: T) -> None:
        self.starts.append(recorded_from)
        self.rows.append((recorded_to, value))

    def sort(self) -> None:
        if len(self.starts) < 2:  # a read at one position has one version of each row
            return
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        self.starts = [self.starts[i] for i in order]
        self.rows = [self.rows[i] for i in order]

    def at(self, position: int) -> T | None:
        index = bisect_right(self.starts, position) - 1
        if index < 0:
            return None
        recorded_to, value = self.rows[index]
        return value if recorded_to is None or recorded_to > position else None


def _boundaries(versions: Versions[Any], low: int, high: int) -> set[int]:
    """The positions in (low, high] at which a version starts or ends."""
    return {p for start, (end, _) in zip(versions.starts, versions.rows) for p in (start, end)
            if p is not None and low < p <= high}


def _month(months: tuple[Any, ...] | None, month: int) -> Any:
    """A month of a year row's value (None: no row, or no figures that month)."""
    return None if months is None else months[month - 1]


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
            and_(facts.kind == "rates", facts.year == year), facts.kind.in_(("schedule", "horizon"))))
        self.facts = _group(rows, lambda r: (r.kind, r.facility, r.year), lambda r: json.loads(r.value))
        self._years: dict[str, Versions[Any]] | None = None
        self._stays: dict[str, dict[str, Versions[dict[str, Any]]]] | None = None
        self._tails: dict[str, dict[TailPiece, Versions[Group]]] | None = None
        self._point_tails: dict[str, dict[TailPiece, Group]] | None = None
        self._units: dict[int, dict[tuple[TailPiece, int], Unit]] = {}
        """Each tail piece's months, by the version of the year's rates that priced them."""
        self._sweeps: dict[str, _Sweep] = {}
        self._boundaries: dict[str, tuple[list[int], list[TailPiece]]] = {}
        self._facilities: dict[tuple[str, int], Any] = {}
        self._capacity: dict[Any, list[int]] = {}
        self._pricing: dict[int, tuple[RateOf, list[date]]] = {}
        """The rates and revision days of each version of the year's schedule (by the position
        it starts at; -1: no schedule), for the stays' days beyond the horizon."""

    def _versions(self, table: Any, *where: Any) -> list[Any]:
        """The versions of `table` valid somewhere in the window. For every facility at once,
        the open ones and those closed after `low` are asked apart, so that each part finds
        its own partial index instead of the store reading every version of the year and
        filtering (docs/adr/0015); for some facilities, their versions are few.

        For a few (`FEW_FACILITIES`: one facility-year, explain), the table's key (or its
        facility index) finds all of theirs, and "not closed by `low`" is asked as
        COALESCE(recorded_to, low + 1) > low, which no partial index matches, so that the plan
        cannot depend on the statistics. Asked as "recorded_to IS NULL OR recorded_to > low",
        PostgreSQL may OR the two partial indexes instead: for a `low` above the largest
        recorded_to its last ANALYZE saw, it expects no closed version, and then reads every
        version of the year closed since (25 000 rows, up to 650 ms against 0.3 ms by the key,
        at `national` after the corrections: docs/adr/0019)."""
        started = table.c.recorded_from <= self.high
        with self.engine.connect() as connection:
            if self.codes is not None:
                few = len(self.codes) <= FEW_FACILITIES
                window = func.coalesce(table.c.recorded_to, self.low + 1) > self.low if few \
                    else or_(table.c.recorded_to.is_(None), table.c.recorded_to > self.low)
                return connection.execute(select(table).where(started, window, *where)).all()
            open_ = connection.execute(select(table).where(table.c.recorded_to.is_(None), started, *where)).all()
            closed = connection.execute(select(table).where(table.c.recorded_to > self.low, started, *where)).all()
        return open_ + closed

    def _year_versions(self) -> dict[str, Versions[Any]]:
        """The year rows of the year (their twelve months), by facility, read on first need."""
        if self._years is None:
            years = rm_facility_years.c
            rows = self._versions(rm_facility_years, years.year == self.year,
                                  true() if self.codes is None else years.facility.in_(self.codes))
            groups: dict[str, Versions[Any]] = defaultdict(Versions)
            if rows:
                columns = rows[0]._fields
                slot, decode = named(columns, "facility", "recorded_from", "recorded_to"), YEAR_ROWS.decoder(columns)
                for row in rows:
                    facility, recorded_from, recorded_to = slot(row)
                    groups[facility].add(recorded_from, recorded_to, decode(row))
            for versions in groups.values():
                versions.sort()
            self._years = dict(groups)
        return self._years

    def _fact(self, kind: str, facility: str, year: int, position: int) -> Any:
        versions = self.facts.get((kind, facility, year))
        return None if versions is None else versions.at(position)

    def horizon(self, position: int) -> int | None:
        fact = self._fact("horizon", "", 0, position)
        return None if fact is None else fact["year"]

    def beyond(self) -> bool:
        """True when the year is beyond the horizon at some position of the window (the
        horizon rises and is lowered: its versions in the window are each looked at)."""
        versions = self.facts.get(("horizon", "", 0), Versions())
        points = {self.low} | {p for start, (end, _) in zip(versions.starts, versions.rows)
                               for p in (start, end) if p is not None and self.low < p <= self.high}
        return any((horizon := self.horizon(p)) is None or self.year > horizon for p in points)

    def facility(self, code: str, position: int) -> Any:
        """The facility as registered at `position` (a `FacilityFact`), or None."""
        versions = self.facts.get(("facility", code, 0))
        value = None if versions is None else versions.at(position)
        if value is None:
            return None
        key = (code, versions.starts[bisect_right(versions.starts, position) - 1])  # type: ignore[union-attr]
        if key not in self._facilities:
            self._facilities[key] = FacilityFact.of(code, value)
        return self._facilities[key]

    def capacity(self, facility: Any) -> list[int]:
        """The facility's capacity days of each month of the year (computed once per version)."""
        if facility not in self._capacity:
            self._capacity[facility] = facility.capacity_days(self.year)
        return self._capacity[facility]

    def facility_codes(self, position: int) -> list[str]:
        return sorted(facility for (kind, facility, _), versions in self.facts.items()
                      if kind == "facility" and versions.at(position) is not None)

    def figures(self, code: str, position: int) -> YearFigures | None:
        """The facility-year as of `position`; None when the facility was not registered then.
        Its stays' figures come from its year row, or beyond the horizon from its open tail
        priced by the year's rates then (docs/adr/0040, 0042); its frame and schedule from
        their facts."""
        facility = self.facility(code, position)
        if facility is None:
            return None
        horizon = self.horizon(position)
        beyond = horizon is None or self.year > horizon
        months = self._beyond_horizon_months(code, position) if beyond else self._months_at(code, position)
        frame = frame_of(self._fact("frame", code, self.year, position))
        schedule = self._fact("schedule", "", self.year, position)
        return assemble_year(self.year, frame, self.capacity(facility), months,
                             None if schedule is None else Decimal(schedule["hourly_rate"]))

    def _months_at(self, code: str, position: int) -> dict[int, BudgetMonth]:
        """The facility's months as of `position` from its year row (a month without figures has none)."""
        versions = self._year_versions().get(code)
        value = None if versions is None else versions.at(position)
        return {} if value is None else {month: figures for month, figures in enumerate(value, 1)
                                         if figures is not None}

    def changes(self, code: str, month: int | None, beyond: bool) -> list[int]:
        """The positions in (low, high] at which a figure `figures` reads for the facility may have
        changed: a version of its year row or of its frame starts or ends there (of the year
        row, for `month`, only where that month's figures differ on its two sides: the row
        holds every month). With `beyond` (the year was beyond the horizon at some point of
        the window), also a version of its open tail, of the schedules (their rates and run-offs), of the horizon or of
        its registration. Every such version is in the window (it is valid somewhere in it),
        so no query is needed. The caller compares the figure at each candidate and keeps
        those where it moved."""
        year = self._year_versions().get(code, Versions())
        groups: list[Versions[Any]] = [self.facts.get(("frame", code, self.year), Versions())]
        if beyond:
            groups += [versions for (kind, facility, _), versions in self.facts.items()
                       if kind in ("schedule", "rates", "horizon") or (kind == "facility" and facility == code)]
            groups += self._tail_versions().get(code, {}).values()
        found = {p for versions in groups for start, (end, _) in zip(versions.starts, versions.rows)
                 for p in (start, end) if p is not None and self.low < p <= self.high}
        return sorted(found | {p for p in _boundaries(year, self.low, self.high)
                               if month is None or _month(year.at(p), month) != _month(year.at(p - 1), month)})

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

    def rates(self, position: int) -> RatesFact | None:
        """The year's service rates as of `position` (None: no schedule is published)."""
        value = self._fact("rates", "", self.year, position)
        if value is None:
            if self._fact("schedule", "", self.year, position) is not None:
                raise ReadModelsOutdated(f"the read models hold no rates of the {self.year} schedule "
                                         "(docs/adr/0040): run ledger rebuild")
            return None
        return RatesFact.of(self.year, value)

    def _price_key(self, position: int) -> int:
        """Which version of the year's rates prices its days at `position` (the position it
        starts at; -1: none), its rates and revision days kept in `_pricing`."""
        versions = self.facts.get(("rates", "", self.year))
        value = None if versions is None else versions.at(position)
        key = -1 if value is None else versions.starts[bisect_right(versions.starts, position) - 1]  # type: ignore[union-attr]
        if key not in self._pricing:
            rates = self.rates(position)
            self._pricing[key] = (rates_of(rates), [] if rates is None else rates.revision_days())
        return key

    def pricing(self, position: int) -> tuple[RateOf, list[date]]:
        """The rate of a level on a day of the year as of `position` and the days on which a
        revision takes effect: how the stays' days beyond the horizon are priced."""
        return self._pricing[self._price_key(position)]

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

    def _beyond_horizon_months(self, code: str, position: int) -> dict[int, BudgetMonth]:
        """The facility's stay figures of the year from its open tail at `position`, priced by
        the year's rates as of `position` (`pricing`), a special tariff at its own rate.

        Reading the tail's versions (every read but one of every facility at one point), the
        sums at the last position asked are kept per facility: at a later position priced by
        the same rates, only the groups with a version starting or ending in between are taken
        away and added again (explain asks the positions in order)."""
        key = self._price_key(position)
        rate_of, revisions = self._pricing[key]
        if self.codes is None and self.low == self.high:
            return tail_months(self.tail(code, position), rate_of, revisions, self.year,
                               self._units.setdefault(key, {}))
        sweep = self._sweeps.get(code)
        if sweep is None or sweep.key != key or position < sweep.position:
            groups = self.tail(code, position)
            sums = TailSums.of(groups, rate_of, revisions, self.year, self._units.setdefault(key, {}))
            sweep = self._sweeps[code] = _Sweep(key, position, groups, sums)
        else:
            versions = self._tail_versions().get(code, {})
            points, pieces = self._tail_boundaries(code)
            for piece in {pieces[i] for i in range(bisect_right(points, sweep.position), bisect_right(points, position))}:
                before, now = sweep.groups.get(piece), versions[piece].at(position)
                if before == now:
                    continue
                if before is not None:
                    sweep.sums.add(piece, before, -1)
                    del sweep.groups[piece]
                if now is not None:
                    sweep.sums.add(piece, now)
                    sweep.groups[piece] = now
            sweep.position = position
        return sweep.sums.months()

    def _tail_boundaries(self, code: str) -> tuple[list[int], list[TailPiece]]:
        """The positions at which a version of one of the facility's tail groups starts or
        ends, in order, each with its group's piece."""
        if code not in self._boundaries:
            found = sorted((p, i, piece) for i, (piece, versions) in enumerate(self._tail_versions().get(code, {}).items())
                           for start, (end, _) in zip(versions.starts, versions.rows) for p in (start, end)
                           if p is not None)
            self._boundaries[code] = ([p for p, _, _ in found], [piece for _, _, piece in found])
        return self._boundaries[code]

    # Open tails (docs/adr/0042) -------------------------------------------------------------

    def tail(self, code: str, position: int) -> dict[TailPiece, Group]:
        """The facility's open tail at `position`: its groups of funded days after the horizon."""
        if self.codes is None and self.low == self.high:
            return self._tails_at_point().get(code, {})
        found = {}
        for key, versions in self._tail_versions().get(code, {}).items():
            value = versions.at(position)
            if value is not None:
                found[key] = value
        return found

    def tails(self, position: int) -> dict[str, dict[TailPiece, Group]]:
        """Every open tail of the window's facilities at `position`."""
        if self.codes is None and self.low == self.high:
            return self._tails_at_point()
        return {code: tail for code in self._tail_versions() if (tail := self.tail(code, position))}

    def _tail_versions(self) -> dict[str, dict[TailPiece, Versions[Group]]]:
        """The tail versions of the window's facilities, by facility and group, read on first need."""
        if self._tails is None:
            tails = rm_tails.c
            rows = self._versions(rm_tails, true() if self.codes is None else tails.facility.in_(self.codes))
            groups: dict[str, dict[TailPiece, Versions[Group]]] = defaultdict(dict)
            for row in rows:
                facility, piece, value = _tail_row(row)
                groups[facility].setdefault(piece, Versions()).add(row.recorded_from, row.recorded_to, value)
            for by_piece in groups.values():
                for versions in by_piece.values():
                    versions.sort()
            self._tails = dict(groups)
        return self._tails

    def _tails_at_point(self) -> dict[str, dict[TailPiece, Group]]:
        """Every facility's tail at the window's one position N: the latest checkpoint at or
        before N (C), less the groups whose version valid at C ended by N, plus the versions
        begun after C still valid at N (at most `CHECKPOINT_EVERY` positions' worth), instead
        of every version ever closed after N."""
        if self._point_tails is None:
            position, tails, points = self.high, rm_tails.c, rm_tail_checkpoints.c
            keys = [tails.facility, *(tails[name] for name in TAIL_GROUP)]
            with self.engine.connect() as connection:
                at = connection.execute(select(func.max(points.position)).where(points.position <= position)).scalar()
                base = 0 if at is None else at
                kept = connection.execute(select(points.facility, *(points[name] for name in TAIL_GROUP),
                                                 points.citizens, points.hours).where(points.position == at)).all() \
                    if at is not None else []
                ended = connection.execute(select(*keys).where(
                    tails.recorded_to > base, tails.recorded_to <= position, tails.recorded_from <= base)).all()
                begun = connection.execute(select(*keys, tails.citizens, tails.hours).where(
                    tails.recorded_from > base, tails.recorded_from <= position,
                    or_(tails.recorded_to.is_(None), tails.recorded_to > position))).all()
            state = {tuple(row[:8]): row[8:] for row in kept}
            for row in ended:
                state.pop(tuple(row), None)
            state.update((tuple(row[:8]), row[8:]) for row in begun)
            found: dict[str, dict[TailPiece, Group]] = defaultdict(dict)
            for (facility, *group), (citizens, hours) in state.items():
                found[facility][TailPiece.of_columns(*group)] = (citizens, Decimal(hours).scaleb(-2))
            self._point_tails = dict(found)
        return self._point_tails


@dataclass
class _Sweep:
    """A facility's open tail as last read (`YearWindow._beyond_horizon_months`): the rates'
    version that priced it, the position, its groups then and their sums."""

    key: int
    position: int
    groups: dict[TailPiece, Group]
    sums: TailSums


TAIL_GROUP = ("first_day", "last_day", "level_key", "level", "special_rate", "payer", "present")
"""A tail group's key columns after the facility, in the order of `TailPiece.columns`."""


def _tail_row(row: Any) -> tuple[str, TailPiece, Group]:
    """A tail row (or checkpoint row) as its facility, its group's piece, and citizens and hours."""
    piece = TailPiece.of_columns(row.first_day, row.last_day, row.level_key, row.level, row.special_rate, row.payer,
                                 row.present)
    return row.facility, piece, (row.citizens, Decimal(row.hours).scaleb(-2))
