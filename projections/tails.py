"""Open tails: what the stays of a facility fund after the horizon's last day, grouped, so that
a year beyond the horizon is computed from a few groups instead of from every stay
(docs/adr/0042).

A stay's *tail* after a day H is its funded days after H as dated pieces (`TailPiece`): one
piece per condition in force while present (from the day after H, or the condition's date, to
the next condition, the move-out, or open while the stay is), and one piece for the run-off
(the day after the move-out to the funded end, at the condition of the move-out day, not
present: `projections.budget.stay_segments`). A piece keeps only what prices and counts its
days (domain §4.3-4.5, §4.9): the level or the special tariff's own rate, the level key (S1
and S2 apart, for the citizens by level at month end), the paying municipality of a present
piece (a day is sold when it is not 707; the what-if sums revenue by payer), present or
run-off. The assessed hours per day go beside it: they add up (support hours = hours × present
days).

A facility's tail is its stays' pieces grouped: piece → (citizens, the sum of their hours per
day). Many stays share a piece (every open stay on level 3 paid by Norddjurs shares
`(H + 1 day, open, "3", 3, -, "707", present)`), so a facility's tail is a few groups.

`tail_months(groups, rate_of, rate_changes, year)` gives the facility's `BudgetMonth`s of any
year after H's year: the same sums as adding `stay_months(stay, rate_of, rate_changes,
until=31 December, since=1 January)` of each of the stays (the property test holds it so).
`tail_day_groups` gives the same year's present days by what prices them, as
`projections.regulation.day_groups` of each stay's segments would (the what-if of a year beyond
the horizon).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Collection, Iterable, Mapping

from domain.values import NORDDJURS, ZERO
from projections.budget import BudgetMonth, StayFacts, add_run, level_counts, level_key, month_end, zero_figures
from projections.periods import RateOf
from projections.regulation import DayGroup

ONE_DAY = timedelta(days=1)
OPEN_END = date(9999, 12, 31)
"""The last day of an open piece as stored (a key column cannot be NULL)."""

Group = tuple[int, Decimal]
"""(citizens, the sum of their hours per day)"""
Groups = Mapping["TailPiece", Group]


@dataclass(frozen=True, order=True)
class TailPiece:
    """A run of funded days after the horizon with one price, level key, payer and
    presence; `last` None while the stay is open. A special tariff's piece has its own rate
    and no level (the level does not price it); a level's piece has no special rate. A run-off
    piece has no payer (""): its days are neither sold nor charged."""

    first: date
    last: date | None
    level_key: str
    level: int | None
    special_rate: Decimal | None
    payer: str
    present: bool

    @property
    def special(self) -> bool:
        return not self.level_key.isdigit() and self.level_key != "None"

    @property
    def sold(self) -> bool:
        """A present day paid by another municipality than 707 (domain §4.5)."""
        return self.present and self.payer != NORDDJURS

    def columns(self) -> tuple[Any, ...]:
        """The piece as its stored key: days as dates (open: `OPEN_END`), the level (0: none)
        and the special rate in whole øre (0: none; a special rate is at least 0.01)."""
        rate = 0 if self.special_rate is None else int(self.special_rate.scaleb(2))
        return (self.first, OPEN_END if self.last is None else self.last, self.level_key,
                0 if self.level is None else self.level, rate, self.payer, self.present)

    @classmethod
    def of_columns(cls, first: date, last: date, key: str, level: int, special_rate: int, payer: str,
                   present: Any) -> "TailPiece":
        return cls(first, None if last == OPEN_END else last, key, level or None,
                   None if not special_rate else Decimal(special_rate).scaleb(-2), payer, bool(present))


def stay_tail(stay: StayFacts, after: date | None) -> list[tuple[TailPiece, Decimal]]:
    """The stay's funded days after `after` (None: all of them) as pieces, each with the hours
    per day of its citizen (0 on the run-off, which counts no support hours)."""
    start = stay.move_in if after is None else max(stay.move_in, after + ONE_DAY)
    move_out, conditions = stay.move_out, stay.conditions
    pieces: list[tuple[TailPiece, Decimal]] = []
    if move_out is None or start <= move_out:
        for i, (since, condition) in enumerate(conditions):
            first = max(since, start)
            ends = [d for d in (conditions[i + 1][0] - ONE_DAY if i + 1 < len(conditions) else None, move_out)
                    if d is not None]
            last = min(ends) if ends else None
            if last is not None and last < first:
                continue
            pieces.append((_piece(first, last, condition, present=True), condition.hours_per_day))
    funded = stay.funded_until
    if move_out is not None and funded is not None and funded > move_out:
        first = max(move_out + ONE_DAY, start)
        if first <= funded:
            pieces.append((_piece(first, funded, stay.condition_on(move_out), present=False), ZERO))
    return pieces


def _piece(first: date, last: date | None, condition: Any, present: bool) -> TailPiece:
    special = condition.special_tariff is not None
    return TailPiece(first, last, level_key(condition), None if special else condition.level,
                     condition.special_rate if special else None,
                     sys.intern(condition.paying_municipality) if present else "", present)


def add_tail(groups: dict[TailPiece, Group], pieces: Iterable[tuple[TailPiece, Decimal]], sign: int = 1
             ) -> set[TailPiece]:
    """Add (sign 1) or take away (-1) a stay's pieces to a facility's groups; a group left with
    no citizen goes. Returns the pieces whose group changed."""
    changed = set()
    for piece, hours in pieces:
        citizens, total = groups.get(piece, (0, ZERO))
        citizens, total = citizens + sign, total + sign * hours
        if citizens == 0 and not total:
            groups.pop(piece, None)
        else:
            groups[piece] = (citizens, total)
        changed.add(piece)
    return changed


def tail_groups(stays: Iterable[StayFacts], after: date | None) -> dict[str, dict[TailPiece, Group]]:
    """Every facility's tail after `after`, from its stays."""
    tails: dict[str, dict[TailPiece, Group]] = {}
    for stay in stays:
        pieces = stay_tail(stay, after)
        if pieces:
            add_tail(tails.setdefault(stay.facility, {}), pieces)
    return tails


# Pricing a year ----------------------------------------------------------------------------

Unit = tuple[tuple[int, int, Decimal, int, bool], ...]
"""A piece's months in one year, for one citizen: (month, days, activity, unpriced days, the
piece holds the month's last day)."""


def piece_months(piece: TailPiece, rate_of: RateOf, rate_changes: Collection[date], year: int) -> Unit:
    """What one citizen on `piece` adds to each month of `year`: its days split at month starts
    and rate changes, each run priced at its first day's rate (as `stay_segments` prices)."""
    first = max(piece.first, date(year, 1, 1))
    last = min(piece.last or OPEN_END, date(year, 12, 31))
    if last < first:
        return ()
    months = []
    changes = sorted(d for d in rate_changes if first < d <= last)
    month_start = first
    while month_start <= last:
        month_last = min(month_end(month_start), last)
        days = unpriced = 0
        activity = ZERO
        starts = [month_start, *(d for d in changes if month_start < d <= month_last)]
        for i, start in enumerate(starts):
            stop = starts[i + 1] - ONE_DAY if i + 1 < len(starts) else month_last
            run = (stop - start).days + 1
            rate = _rate(piece, start, rate_of)
            days += run
            if rate is None:
                unpriced += run
            else:
                activity += rate * run
        months.append((month_start.month, days, activity, unpriced, month_last == month_end(month_start)))
        month_start = month_last + ONE_DAY
    return tuple(months)


def _rate(piece: TailPiece, day: date, rate_of: RateOf) -> Decimal | None:
    if piece.special:
        return piece.special_rate
    if piece.level is None:
        return None
    return rate_of(piece.level, day)


class TailSums:
    """A facility's stay figures of each month of `year` (a year after the tail's day) as its
    groups are added (sign 1) or taken away (-1): what one group adds is linear in its
    citizens and hours, so a read that follows a tail through its versions (explain) changes
    the sums by the groups that changed only. `units` keeps each piece's months between
    calls with the same `rate_of` and `rate_changes` (a read of many facilities prices a
    shared piece once)."""

    def __init__(self, rate_of: RateOf, rate_changes: Collection[date], year: int,
                 units: dict[tuple[TailPiece, int], Unit] | None = None) -> None:
        self.rate_of, self.rate_changes, self.year = rate_of, rate_changes, year
        self.units = {} if units is None else units
        self.sums = [zero_figures() for _ in range(13)]
        self.levels: list[dict[str, int]] = [{} for _ in range(13)]

    @classmethod
    def of(cls, groups: Groups, rate_of: RateOf, rate_changes: Collection[date], year: int,
           units: dict[tuple[TailPiece, int], Unit] | None = None) -> "TailSums":
        """The sums of every group of a facility's tail."""
        sums = cls(rate_of, rate_changes, year, units)
        for piece, group in groups.items():
            sums.add(piece, group)
        return sums

    def add(self, piece: TailPiece, group: Group, sign: int = 1) -> None:
        unit = self.units.get((piece, self.year))
        if unit is None:
            unit = self.units[(piece, self.year)] = piece_months(piece, self.rate_of, self.rate_changes, self.year)
        citizens, hours = group
        citizens, hours = sign * citizens, sign * hours
        present, sold, key = piece.present, piece.sold, piece.level_key
        for month, days, activity, unpriced, at_end in unit:
            add_run(self.sums[month], days * citizens, activity * citizens, unpriced * citizens, present, sold,
                    hours * days)
            if present and at_end:
                by_level = self.levels[month]
                by_level[key] = by_level.get(key, 0) + citizens

    def months(self) -> dict[int, BudgetMonth]:
        months = {}
        for month in range(1, 13):
            sums = self.sums[month]
            if not sums["funded_days"]:
                continue  # no funded day: nothing to count
            figures = BudgetMonth(**sums, citizens_by_level=level_counts(self.levels[month].items()))
            if not figures.is_empty:
                months[month] = figures
        return months


def tail_months(groups: Groups, rate_of: RateOf, rate_changes: Collection[date], year: int,
                units: dict[tuple[TailPiece, int], Unit] | None = None) -> dict[int, BudgetMonth]:
    """A facility's stay figures of each month of `year` (a year after the tail's day) from its
    groups (`TailSums`)."""
    return TailSums.of(groups, rate_of, rate_changes, year, units).months()


def tail_day_groups(groups: Groups, rate_of: RateOf, rate_changes: Collection[date], year: int) -> Counter[DayGroup]:
    """A facility's present days of `year` (a year after the tail's day) by what prices them,
    from its groups: each present piece's days split at the rate changes, each run at its first
    day's rate, times its citizens (the sums of `projections.regulation.day_groups` of each
    stay's segments)."""
    found: Counter[DayGroup] = Counter()
    start_of_year, end_of_year = date(year, 1, 1), date(year, 12, 31)
    for piece, (citizens, _) in groups.items():
        if not piece.present or not citizens:
            continue
        first, last = max(piece.first, start_of_year), min(piece.last or OPEN_END, end_of_year)
        if last < first:
            continue
        special = piece.level_key if piece.special else ""
        level = 0 if special or piece.level is None else piece.level
        starts = [first, *sorted(d for d in rate_changes if first < d <= last)]
        for i, start in enumerate(starts):
            stop = starts[i + 1] - ONE_DAY if i + 1 < len(starts) else last
            rate = _rate(piece, start, rate_of)
            found[year, piece.payer, level, special, ZERO if rate is None else rate] += ((stop - start).days + 1) * citizens
    return found
