"""What a buying municipality sees (docs/adr/0026): the stays it pays for, and for one citizen
the support it pays for, as of any point.

Scope is the rule of this module: a buyer sees a stay only during the days its municipality
is the stay's paying municipality, and only present days (the run-off after a move-out is an
internal budget rule, never paid by a buyer, domain §4.7). A citizen it never paid for reads
exactly as a citizen the ledger does not know (`NotPaidFor`, one message for both), so a buyer
cannot learn whether anyone else's citizen exists.

The figures come from the ledger's own paths, never computed a second time: the stays of a
year and their amounts from the statement lines (`StatementReads`, what
`/v1/statements/...` reads), the periods of level and rate from the citizen's conditions by
`stay_periods` over the stay rows (what `/v1/citizens/{ref}` shows), the døgnskemaer and what
changed between them by projections/assessments.py (what the citizen page shows).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.errors import NotFound
from domain.values import ZERO
from projections.assessments import AssessmentRecord, stay_assessments
from projections.periods import Period, stay_periods
from projections.statements import StatementPeriod, line_amount
from projections.stays import StayRecord
from service.ledger import BudgetLedger
from service.read_models import StatementReads, citizen_at
from service.schedule_rates import ScheduleRates


class NotPaidFor(NotFound):
    """A citizen the municipality never paid for, or one the ledger does not know: one answer."""

    def __init__(self, municipality: str, ref: str) -> None:
        super().__init__("citizen_not_paid_for", f"no citizen with this reference whose stay {municipality} pays "
                         "for, as of the read's point", "ref")


@dataclass(frozen=True)
class PaidStay:
    """A run of days of one stay that the municipality pays for, within the read's year."""

    citizen_ref: str
    facility: str
    stay_id: str
    paid_from: date
    paid_to: date
    level: int | None
    special_tariff: str | None


@dataclass(frozen=True)
class PaidPeriod:
    """A period of level (or special tariff) and service rate that the municipality pays for."""

    stay_id: str
    facility: str
    start: date
    end: date | None
    level: int | None
    hours_per_day: Decimal
    special_tariff: str | None
    service_rate: Decimal | None


@dataclass(frozen=True)
class Support:
    citizen_ref: str
    municipality: str
    position: int
    periods: tuple[PaidPeriod, ...]
    assessments: tuple[AssessmentRecord, ...]
    """Each in force on a paid day; `change` is None for the first of a stay shown (the one
    before it fell on days not paid for, and is not compared)."""


# The stays of a year ---------------------------------------------------------------------


def paid_stays(ledger: BudgetLedger, municipality: str, year: int, position: int) -> list[PaidStay]:
    """Every run of days the municipality pays for in `year`, one row per run of a stay, from
    the statement lines of the year's months (a stay it stops and starts paying for again has
    two rows). The level and special tariff are those of the run's last day."""
    reads = StatementReads(ledger)
    runs: dict[str, list[list[Any]]] = {}
    facilities: dict[str, str] = {}
    for month in range(1, 13):
        for line in reads.lines(municipality, year, month, position):
            facilities[line.stay_id] = line.facility
            stay_runs = runs.setdefault(line.stay_id, [])
            for period in sorted(line.periods, key=lambda p: p.start):
                if stay_runs and stay_runs[-1][1] + timedelta(days=1) == period.start:
                    stay_runs[-1][1], stay_runs[-1][2] = period.end, period.level
                else:
                    stay_runs.append([period.start, period.end, period.level])
    refs = reads.citizen_refs(list(runs))
    rows = [PaidStay(refs.get(stay, ""), facilities[stay], stay, start, end, *_level_of(key))
            for stay, stay_runs in runs.items() for start, end, key in stay_runs]
    return sorted(rows, key=lambda r: (r.citizen_ref, r.paid_from, r.stay_id))


def _level_of(key: str) -> tuple[int | None, str | None]:
    """A statement period's level key ("3", or a special tariff's code "S1") as level and
    special tariff: under a special tariff the level does not price the day."""
    return (int(key), None) if key.isdigit() else (None, key)


@dataclass(frozen=True)
class MonthToDate:
    amount: Decimal
    level: int | None
    special_tariff: str | None
    """The level (or special tariff) on the day (of its last paid day before it)."""


def month_to_date(ledger: BudgetLedger, municipality: str, day: date, position: int) -> dict[str, MonthToDate]:
    """By stay: the amount of the day's month from its first day to `day`, the statement's
    periods cut at `day` and charged by the statement's own rule (`line_amount`)."""
    reads = StatementReads(ledger)
    found: dict[str, MonthToDate] = {}
    for line in reads.lines(municipality, day.year, day.month, position):
        basistakst = reads.basistakst(line.facility, day.year, position) or ZERO
        cut = [StatementPeriod(p.start, min(p.end, day), p.level, p.service_rate)
               for p in line.periods if p.start <= day]
        if cut:
            found[line.stay_id] = MonthToDate(line_amount(cut, basistakst), *_level_of(cut[-1].level))
    return found


# One citizen's support -------------------------------------------------------------------


def support(ledger: BudgetLedger, municipality: str, ref: str, position: int) -> Support:
    """The periods the municipality pays for of the citizen's stays, and each døgnskema in
    force on any of those days, with what changed from the one before it (NotPaidFor when there
    are none, also for a citizen the ledger does not know as of the position), as of
    `position`, a position the projections have reached: the stays from the stay rows, the
    døgnskemaer from the citizen's stored events."""
    rates = ScheduleRates(ledger, position)
    try:
        citizen = citizen_at(ledger, ref, position)
    except NotFound:
        raise NotPaidFor(municipality, ref) from None
    recorded = citizen.recorded_assessments()
    periods: list[PaidPeriod] = []
    assessments: list[AssessmentRecord] = []
    for stay in citizen.stays:
        paid = [p for p in _present_periods(stay, rates) if p.condition.paying_municipality == municipality]
        if not paid:
            continue
        periods += [PaidPeriod(stay.stay_id, stay.facility, p.start, p.end, p.condition.level,
                               p.condition.hours_per_day, p.condition.special_tariff, p.service_rate) for p in paid]
        assessments += _assessments_paid(stay_assessments(stay, recorded), paid)
    if not periods:
        raise NotPaidFor(municipality, ref)
    return Support(citizen.citizen_ref, municipality, position, tuple(periods), tuple(assessments))


def _present_periods(stay: StayRecord, rates: ScheduleRates) -> list[Period]:
    """The stay's periods over its present days, as `/v1/citizens/{ref}` computes them (an open
    stay to the end of the year of today or of its last condition, the last period open)."""
    conditions = list(stay.conditions)
    last = max([BudgetLedger.today(), *[start for start, _ in conditions]])
    until = date(last.year, 12, 31)
    years = range(stay.move_in.year, (stay.move_out or until).year + 1)
    return stay_periods(conditions, stay.move_out, until, rates.rate_of, rates.revision_days(years))


def _assessments_paid(records: list[AssessmentRecord], paid: list[Period]) -> list[AssessmentRecord]:
    """The stay's assessments (projections/assessments.py, as the citizen page shows them) in
    force on a paid day; the first of them keeps no comparison, since the one before it was in
    force only on days not paid for."""
    shown: list[AssessmentRecord] = []
    for i, record in enumerate(records):
        end = records[i + 1].effective_date - timedelta(days=1) if i + 1 < len(records) else None
        if not any(_overlaps(record.effective_date, end, p.start, p.end) for p in paid):
            continue
        if record.change is not None and (not shown or shown[-1].event_id != record.change.previous_event_id):
            record = replace(record, change=None)
        shown.append(record)
    return shown


def _overlaps(start: date, end: date | None, other_start: date, other_end: date | None) -> bool:
    return (other_end is None or start <= other_end) and (end is None or other_start <= end)
