"""Activity budget, facility budget and key figures of a facility-year (domain §4.3-4.6),
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
  hourly rate (2 decimals); FTE = staff hours / (1924 / 12) for a month, / 1924 for a year;
- sold days are present days paid by a municipality other than 707 (Norddjurs); sold income is
  what those days are charged: days × (basistakst + service rate);
- support hours: the assessed hours per day, summed over present days (their average per
  present day shows the service level of a facility).

A stay is computed period by period, not day by day: a period is a run of days in one month
over which level, payer, rate and presence stay the same (a new period starts on a
condition's date, on the first of a month, on a rate revision's date, and the day after the
move-out), so the cost is the number of periods, not the number of days.
"""

from __future__ import annotations

import calendar
import sys
from dataclasses import dataclass, field, fields
from enum import Enum
from functools import lru_cache
from operator import add, attrgetter, sub
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Collection, Iterable

from domain.citizen import Condition
from domain.values import NORDDJURS, ZERO, round_money
from projections.frame import basistakst, frame_total, monthly_frames
from projections.periods import RateOf, service_rate

ANNUAL_HOURS = Decimal(1924)
Month = tuple[int, int]
"""(year, month)"""


@dataclass(frozen=True)
class StayFacts:
    """What the budget needs of one stay: its days and its conditions by date."""

    citizen_ref: str
    move_in: date
    move_out: date | None
    conditions: tuple[tuple[date, Condition], ...]
    runoff_months: int = 1
    facility: str = ""
    stay_id: str = ""

    def condition_on(self, day: date) -> Condition:
        found = self.conditions[0][1]
        for start, condition in self.conditions:
            if start > day:
                break
            found = condition
        return found

    @property
    def ever_sold(self) -> bool:
        """True when some condition has another municipality than Norddjurs paying."""
        return any(c.paying_municipality != NORDDJURS for _, c in self.conditions)

    @property
    def funded_until(self) -> date | None:
        """The last funded day: None while the stay is open."""
        if self.move_out is None:
            return None
        return month_end(self.move_out, self.runoff_months)

    def first_difference(self, other: "StayFacts") -> date:
        """The first day on which the two versions of one stay may count differently."""
        if self.move_in != other.move_in:
            return min(self.move_in, other.move_in)
        days = []
        for mine, theirs in zip(self.conditions, other.conditions):
            if mine != theirs:
                days.append(min(mine[0], theirs[0]))
                break
        else:
            longer = self.conditions if len(self.conditions) > len(other.conditions) else other.conditions
            if len(self.conditions) != len(other.conditions):
                days.append(longer[min(len(self.conditions), len(other.conditions))][0])
        if (self.move_out, self.runoff_months) != (other.move_out, other.runoff_months):
            outs = [d for d in (self.move_out, other.move_out) if d is not None]
            days.append(min(outs) if outs else self.move_in)
        return min(days, default=self.move_in)

    def has_level_between(self, levels: Collection[int], first: date, last: date) -> bool:
        """True when a condition in force on some day of [first, last] is priced at one of
        the `levels` (not at a special tariff): a change of those levels' rates reaches it."""
        conditions = self.conditions
        for i, (start, condition) in enumerate(conditions):
            ends_before = i + 1 < len(conditions) and conditions[i + 1][0] <= first
            if start <= last and not ends_before and condition.special_tariff is None \
                    and condition.level in levels:
                return True
        return False

    def touches(self, first: date, last: date) -> bool:
        """True when a funded day of the stay falls in [first, last]."""
        end = self.funded_until
        return self.move_in <= last and (end is None or end >= first)


def month_end(day: date, months_later: int = 0) -> date:
    return _last_day_of(day.year * 12 + day.month - 1 + months_later)


@lru_cache(maxsize=4096)
def _last_day_of(index: int) -> date:
    """The last day of the month `index` (year × 12 + month - 1)."""
    year, month = divmod(index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


class Kind(Enum):
    """What a summed figure counts: how it adds up, and how a read-model row stores it.

    A figure with decimals keeps exactly two (øre, hundredths of an hour) and is stored as the
    whole number of hundredths; a count is stored as it is."""

    MONEY = "money"
    """Kroner with two decimals (Decimal), stored as whole øre."""
    COUNT = "count"
    """Whole days (int), stored as they are."""
    HOURS = "hours"
    """Hours with two decimals (Decimal), stored as whole hundredths of an hour."""

    @property
    def zero(self) -> Decimal | int:
        return 0 if self is Kind.COUNT else ZERO

    @property
    def places(self) -> int:
        """Decimal places kept: the row stores value × 10^places as a whole number."""
        return 0 if self is Kind.COUNT else 2


def figure(kind: Kind) -> Any:
    """A summed figure of `StayFigures`: a dataclass field starting at the kind's zero."""
    return field(default=kind.zero, metadata={"kind": kind})


@dataclass(frozen=True, slots=True)
class StayFigures:
    """The figures that add up from stays to facility-months: the one declaration of them.

    Each field is one figure with its `Kind`; `FIGURES` reads them in this order, and the
    year rows' columns, their encoding and decoding (service/db.py, service/facts.py) and
    every sum below follow it, so a new figure is a new field here and its rule in
    `stay_months` (docs/adr/0036, 0039)."""

    activity: Decimal = figure(Kind.MONEY)
    present_days: int = figure(Kind.COUNT)
    funded_days: int = figure(Kind.COUNT)
    unpriced_days: int = figure(Kind.COUNT)
    """Funded days of a year without a tariff schedule (counted at 0.00)."""
    sold_days: int = figure(Kind.COUNT)
    sold_service: Decimal = figure(Kind.MONEY)
    """Service rates of the sold days."""
    present_service: Decimal = figure(Kind.MONEY)
    """Service rates of the present days (what the days are charged, less basistakst)."""
    support_hours: Decimal = figure(Kind.HOURS)

    def summed(self) -> tuple[Any, ...]:
        """The figures in the order of `FIGURES`."""
        return _summed(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Figure:
    """One summed figure as declared in `StayFigures`."""

    name: str
    kind: Kind


def figures_of(declaration: type) -> tuple[Figure, ...]:
    """The summed figures a dataclass declares (its fields made by `figure`), in their order."""
    return tuple(Figure(f.name, f.metadata["kind"]) for f in fields(declaration) if "kind" in f.metadata)


FIGURES: tuple[Figure, ...] = figures_of(StayFigures)
"""The summed figures, in the order of `StayFigures`' fields."""
_NAMES = tuple(f.name for f in FIGURES)
_ZEROS: tuple[Any, ...] = tuple(f.kind.zero for f in FIGURES)
_ZERO_FIGURES: dict[str, Any] = dict(zip(_NAMES, _ZEROS))
_summed = attrgetter(*_NAMES)


@dataclass(frozen=True, slots=True)
class StayMonth(StayFigures):
    """What one stay adds to one facility-month."""

    level_at_end: str | None = None
    """The level (or special tariff) at month end, when present then."""


class NetMonth:
    """Signed stay figures of one facility-month added up as they come: what `BudgetMonth.net`
    gives for all of them at once, without holding them."""

    __slots__ = ("sums", "levels")

    def __init__(self) -> None:
        self.sums: list[Any] = list(_ZEROS)
        self.levels: dict[str, int] = {}

    def add(self, figures: StayMonth, sign: int) -> None:
        self.sums = list(map(add if sign == 1 else sub, self.sums, _summed(figures)))
        if figures.level_at_end is not None:
            self.levels[figures.level_at_end] = self.levels.get(figures.level_at_end, 0) + sign

    def result(self) -> tuple[list[Any], dict[str, int]] | None:
        """The sums and the citizens by level they change (None when nothing changes)."""
        levels = {k: n for k, n in self.levels.items() if n}
        if not levels and not any(self.sums):
            return None
        return self.sums, levels


@dataclass(frozen=True, slots=True)
class BudgetMonth(StayFigures):
    """The stay-driven figures of one facility-month: the sum of its stays' `StayMonth`s."""

    citizens_by_level: tuple[tuple[str, int], ...] = ()

    def plus(self, other: StayMonth, sign: int = 1) -> "BudgetMonth":
        net = BudgetMonth.net([(other, sign)])
        return self if net is None else self.add(net)

    @staticmethod
    def net(parts: Iterable[tuple[StayMonth, int]]) -> tuple[list[Any], dict[str, int]] | None:
        """The sum of signed stay figures (None when it is zero: nothing changes)."""
        total = NetMonth()
        for figures, sign in parts:
            total.add(figures, sign)
        return total.result()

    def add(self, net: tuple[list[Any], dict[str, int]]) -> "BudgetMonth":
        sums, levels = net
        by_level = self.citizens_by_level
        if levels:
            counts = dict(by_level)
            for key, n in levels.items():
                counts[key] = counts.get(key, 0) + n
            by_level = level_counts(counts.items())
        return BudgetMonth(*map(add, _summed(self), sums), by_level)

    @property
    def is_empty(self) -> bool:
        return not self.citizens_by_level and not any(_summed(self))

    def shared(self) -> "BudgetMonth":
        """The same month with its citizens by level made of shared pairs (`level_counts`),
        for a month held long."""
        return BudgetMonth(*_summed(self), level_counts(self.citizens_by_level))


def level_key(condition: Condition) -> str:
    """The key a citizen is counted under at month end: the special tariff's code, else the
    level; one string per key (interned), as months held by the thousand repeat them."""
    return sys.intern(condition.special_tariff or str(condition.level))


def level_counts(counts: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Citizens by level as `BudgetMonth.citizens_by_level` holds them: sorted by key, without
    zeros, each (key, count) pair shared with the equal pairs of other months (`_level_count`)."""
    return tuple(_level_count(key, n) for key, n in sorted(counts) if n)


@lru_cache(maxsize=4096)
def _level_count(key: str, n: int) -> tuple[str, int]:
    return sys.intern(key), n


@dataclass(frozen=True)
class Segment:
    """A run of a stay's funded days within one month over which level, payer, rate and
    presence stay the same."""

    start: date
    end: date
    condition: Condition
    rate: Decimal | None
    present: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def stay_segments(
    stay: StayFacts, rate_of: RateOf, rate_changes: Collection[date] = (), until: date | None = None,
    since: date | None = None,
) -> list[Segment]:
    """The stay's funded days up to `until` (inclusive; an open stay needs one), as segments;
    with `since` (the first of a month), only those from that day on."""
    last = stay.funded_until
    if until is not None:
        last = until if last is None else min(last, until)
    if last is None:
        raise ValueError("an open stay needs an end to compute to")
    first = stay.move_in if since is None else max(stay.move_in, since)
    if last < first:
        return []
    starts = {first} | {start for start, _ in stay.conditions if first < start <= last}
    starts |= {d for d in rate_changes if first < d <= last}
    if stay.move_out is not None and first <= stay.move_out < last:
        starts.add(stay.move_out + timedelta(days=1))
    index, last_index = first.year * 12 + first.month, last.year * 12 + last.month - 1
    while index <= last_index:  # the first of every month after the first one
        starts.add(date(index // 12, index % 12 + 1, 1))
        index += 1
    boundaries = sorted(starts)
    segments = []
    one_day = timedelta(days=1)
    move_out = stay.move_out
    conditions, in_force, count = stay.conditions, 0, len(stay.conditions)
    for i, start in enumerate(boundaries):
        stop = boundaries[i + 1] - one_day if i + 1 < len(boundaries) else last
        present = move_out is None or start <= move_out
        day = start if present else move_out
        # The days only grow (after the move-out they stay on it): the condition in force
        # moves forward, as `StayFacts.condition_on` would find it.
        while in_force + 1 < count and conditions[in_force + 1][0] <= day:  # type: ignore[operator]
            in_force += 1
        condition = conditions[in_force][1]
        segments.append(Segment(start, stop, condition, service_rate(condition, start, rate_of), present))
    return segments


def stay_months(
    stay: StayFacts, rate_of: RateOf, rate_changes: Collection[date] = (), until: date | None = None,
    since: date | None = None,
) -> dict[Month, StayMonth]:
    """What the stay adds to each month, over its funded days up to `until` (inclusive; an
    open stay needs one); with `since` (the first of a month), the months from it on."""
    return months_of_segments(stay_segments(stay, rate_of, rate_changes, until, since))


def months_of_segments(segments: Iterable[Segment]) -> dict[Month, StayMonth]:
    """What a stay's segments (`stay_segments`) add to each month."""
    sums: dict[Month, dict[str, Any]] = {}
    at_end: dict[Month, str | None] = {}
    for segment in segments:
        days, rate, condition = segment.days, segment.rate, segment.condition
        key = (segment.start.year, segment.start.month)
        # Segments end at month ends or at boundaries, so a month's last segment holds its
        # last day: the level at month end when the citizen is still present then.
        at_end[key] = level_key(condition) if segment.present else None
        month = sums.get(key)
        if month is None:
            month = sums[key] = zero_figures()
        add_run(month, days, ZERO if rate is None else rate * days, days if rate is None else 0, segment.present,
                condition.paying_municipality != NORDDJURS, condition.hours_per_day * days)
    # A copy of _ZERO_FIGURES keeps the figures in the order of StayMonth's fields.
    return {key: StayMonth(*month.values(), at_end[key]) for key, month in sums.items()}


def zero_figures() -> dict[str, Any]:
    """Every summed figure at its kind's zero, by name, in the order of `StayFigures`."""
    return _ZERO_FIGURES.copy()


def add_run(month: dict[str, Any], funded: int, amount: Decimal, unpriced: int, present: bool, sold: bool,
            support: Decimal) -> None:
    """Add to a month's figures (`zero_figures`) what a run of funded days adds: the one rule of
    each summed figure. `funded` days cost `amount` in service rates, `unpriced` of them have
    no schedule; when the citizens are `present`, the days, the service and the `support`
    hours count as present, and as sold when another municipality than Norddjurs pays."""
    month["activity"] += amount
    month["funded_days"] += funded
    month["unpriced_days"] += unpriced
    if present:
        month["present_days"] += funded
        month["present_service"] += amount
        month["support_hours"] += support
        if sold:
            month["sold_days"] += funded
            month["sold_service"] += amount


# Figures of a facility-year -----------------------------------------------------------------


@dataclass
class MonthFigures:
    month: int
    frame: Decimal = ZERO
    capacity_days: int = 0
    stays: BudgetMonth = field(default_factory=BudgetMonth)

    @property
    def activity(self) -> Decimal:
        return self.stays.activity

    @property
    def present_days(self) -> int:
        return self.stays.present_days

    @property
    def funded_days(self) -> int:
        return self.stays.funded_days

    @property
    def citizens_by_level(self) -> dict[str, int]:
        return dict(self.stays.citizens_by_level)

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
    has_frame: bool = True

    def totals(self) -> MonthFigures:
        return sum_months(self.months, month=0, levels_of=self.months[-1])


def sum_months(months: list[MonthFigures], month: int, levels_of: MonthFigures) -> MonthFigures:
    """The months added up; citizens by level are those at the end of `levels_of` (a count of
    citizens at a day, not a sum over the months)."""
    sums: list[Any] = list(_ZEROS)
    for figures in months:
        sums = list(map(add, sums, _summed(figures.stays)))
    stays = BudgetMonth(*sums, citizens_by_level=levels_of.stays.citizens_by_level)
    return MonthFigures(month=month, frame=sum((m.frame for m in months), ZERO),
                        capacity_days=sum(m.capacity_days for m in months), stays=stays)


def occupancy_pct(present_days: int, capacity_days: int) -> Decimal:
    if capacity_days == 0:
        return Decimal("0.0")
    return (Decimal(present_days) * 100 / capacity_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def share_pct(part: int, whole: int) -> Decimal:
    """A share in % with 1 decimal (0.0 of nothing)."""
    return occupancy_pct(part, whole)


def staff_hours(activity: Decimal, hourly_rate: Decimal | None) -> Decimal:
    if not hourly_rate:
        return ZERO
    return round_money(activity / hourly_rate)


def fte(hours: Decimal, months: int = 1) -> Decimal:
    """FTE funded: staff hours / (1924 / 12) per month, / 1924 for a year."""
    return round_money(hours / (ANNUAL_HOURS * months / 12))


def average_support_hours(support_hours: Decimal, present_days: int) -> Decimal:
    """Average assessed support hours per present day (2 decimals, half-up)."""
    if present_days == 0:
        return ZERO
    return round_money(support_hours / present_days)


def sold_income(sold_service: Decimal, sold_days: int, rate: Decimal) -> Decimal:
    """What the sold days are charged: days × basistakst + their service rates."""
    return sold_service + rate * sold_days


def phased_budget(model: Decimal, baseline: Decimal, phase_in_pct: Decimal) -> Decimal:
    """Indfasning (domain §4.6): baseline + phase_in_pct % of (model − baseline), rounded to øre."""
    return round_money(baseline + phase_in_pct / 100 * (model - baseline))


def capacity_days(year: int, places_on: Callable[[date], int], change_days: Collection[date] | None = None
                  ) -> list[int]:
    """Capacity days of each month: the places in force on each day, summed.

    With `change_days` (every day on which the places may change) the places are looked up
    once per run of equal days instead of once per day."""
    totals = [0] * 12
    first = date(year, 1, 1)
    if change_days is not None and not any(first < d <= date(year, 12, 31) for d in change_days):
        places = places_on(first)  # the same every day of the year
        return [places * calendar.monthrange(year, month)[1] for month in range(1, 13)]
    if change_days is None:
        day = date(year, 1, 1)
        while day.year == year:
            totals[day.month - 1] += places_on(day)
            day += timedelta(days=1)
        return totals
    for month in range(1, 13):
        first, last = date(year, month, 1), month_end(date(year, month, 1))
        starts = sorted({first} | {d for d in change_days if first < d <= last})
        for i, start in enumerate(starts):
            stop = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else last
            totals[month - 1] += places_on(start) * ((stop - start).days + 1)
    return totals


def year_warnings(year: int, has_frame: bool, has_schedule: bool, unpriced_years: Collection[int] = ()) -> list[str]:
    warnings = set()
    if not has_frame:
        warnings.add(f"no frame budget for {year}: frame and basistakst are 0.00")
    if not has_schedule:
        warnings.add(f"no tariff schedule for {year}: its days count 0.00")
    warnings |= {f"no tariff schedule for {y}: its days count 0.00" for y in unpriced_years}
    return sorted(warnings)


def assemble_year(
    year: int, frame: dict | None, capacity: list[int], stays: dict[int, BudgetMonth], hourly_rate: Decimal | None,
) -> YearFigures:
    """A facility-year from its frame, its capacity days and its stays' figures by month."""
    months = [MonthFigures(month=m, capacity_days=capacity[m - 1], stays=stays.get(m, BudgetMonth()))
              for m in range(1, 13)]
    rate = ZERO
    if frame is not None:
        total = frame_total(frame["lines"])
        for month, amount in zip(months, monthly_frames(total)):
            month.frame = amount
        rate = basistakst(total, frame["budgeted_places"], frame["planned_occupancy_pct"], year)
    unpriced = [year] if any(m.stays.unpriced_days for m in months) else []
    warnings = year_warnings(year, frame is not None, hourly_rate is not None, unpriced)
    return YearFigures(year, months, rate, hourly_rate, warnings, has_frame=frame is not None)


def facility_year(
    year: int,
    frame: dict | None,
    places_on: Callable[[date], int],
    stays: list[StayFacts],
    rate_of: RateOf,
    hourly_rate: Decimal | None,
    rate_changes: Collection[date] = (),
) -> YearFigures:
    """The twelve months of a facility's budget in `year`, straight from its stays."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    by_month: dict[int, BudgetMonth] = {}
    for stay in stays:
        if not stay.touches(first, last):
            continue
        for (y, m), figures in stay_months(stay, rate_of, rate_changes, until=last).items():
            if y == year:
                by_month[m] = by_month.get(m, BudgetMonth()).plus(figures)
    return assemble_year(year, frame, capacity_days(year, places_on), by_month, hourly_rate)
