"""The central budget model (domain §4.6): every facility for a year or a month, with key
figures, sold places and, for a year with a baseline, the phase-in of the transition, as of a
recorded position (the API, the UI's overview and `ledger export central` read it here).

Amounts are rounded to øre per facility, and the `totals` row sums the rounded amounts (the
figures a reader adds up are the figures shown)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from projections.budget import (
    MonthFigures,
    YearFigures,
    average_support_hours,
    month_end,
    occupancy_pct,
    phased_budget,
    share_pct,
    sold_income,
    sum_months,
)
from projections.capacity import over_capacity
from service.facts import FacilityFact
from service.ledger import BudgetLedger
from service.queries.values import Figure, Money, ore
from service.read_models import BudgetReads


@dataclass(frozen=True)
class PhaseIn:
    """Model vs baseline, and the phased budget = baseline + phase_in_pct % of the difference
    (all None for a period without a baseline)."""

    baseline: Money | None = None
    difference: Money | None = None
    phased: Money | None = None


@dataclass(frozen=True)
class CentralRow:
    """One facility's period: its figures and the period's months over capacity."""

    facility: str
    name: str
    area: str
    kind: str
    places: int
    """At the period's last day."""
    frame: Money
    activity: Money
    total: Money
    basistakst: Money
    present_days: int
    funded_days: int
    capacity_days: int
    occupancy_pct: Figure
    citizens_by_level: dict[str, int]
    """At the period's last day."""
    sold_days: int
    sold_share_pct: Figure
    sold_income: Money
    avg_support_hours: Figure
    baseline: Money | None
    difference: Money | None
    phased: Money | None
    over_capacity_months: tuple[int, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class CentralTotals:
    """The facilities summed (an amount no facility has is None)."""

    places: int
    frame: Money | None
    activity: Money | None
    total: Money | None
    present_days: int
    funded_days: int
    capacity_days: int
    occupancy_pct: Figure
    citizens_by_level: dict[str, int]
    sold_days: int
    sold_share_pct: Figure
    sold_income: Money | None
    avg_support_hours: Figure
    baseline: Money | None
    difference: Money | None
    phased: Money | None


@dataclass(frozen=True)
class CentralModel:
    year: int
    month: int | None
    """None: the whole year."""
    as_of_position: int
    facilities: tuple[CentralRow, ...]
    totals: CentralTotals
    warnings: tuple[str, ...]
    """Every facility's warnings, each prefixed with its code."""


def period_of(figures: YearFigures, month: int | None) -> MonthFigures:
    if month is None:
        return figures.totals()
    return sum_months([figures.months[month - 1]], month=month, levels_of=figures.months[month - 1])


def phase_in(total: Decimal, baseline: dict[str, Any] | None) -> PhaseIn:
    """Model vs baseline, and the phased budget = baseline + phase_in_pct % of the difference."""
    if baseline is None:
        return PhaseIn()
    amount, pct = Decimal(baseline["baseline_budget"]), Decimal(baseline["phase_in_pct"])
    return PhaseIn(ore(amount), ore(total - amount), ore(phased_budget(total, amount, pct)))


def facility_row(fact: FacilityFact, figures: YearFigures, year: int, month: int | None,
                 baseline: dict[str, Any] | None) -> tuple[CentralRow, MonthFigures]:
    period = period_of(figures, month)
    stays = period.stays
    phased = phase_in(period.total, baseline if month is None else None)
    over = over_capacity(figures.months if month is None else [figures.months[month - 1]])
    row = CentralRow(
        facility=fact.code, name=fact.name, area=fact.area, kind=fact.kind,
        places=fact.places_on(month_end(date(year, month or 12, 1))),
        frame=ore(period.frame), activity=ore(period.activity), total=ore(period.total),
        basistakst=ore(figures.basistakst),
        present_days=stays.present_days, funded_days=stays.funded_days, capacity_days=period.capacity_days,
        occupancy_pct=occupancy_pct(stays.present_days, period.capacity_days),
        citizens_by_level=dict(stays.citizens_by_level),
        sold_days=stays.sold_days, sold_share_pct=share_pct(stays.sold_days, stays.present_days),
        sold_income=ore(sold_income(stays.sold_service, stays.sold_days, figures.basistakst)),
        avg_support_hours=average_support_hours(stays.support_hours, stays.present_days),
        baseline=phased.baseline, difference=phased.difference, phased=phased.phased,
        over_capacity_months=tuple(o.month for o in over), warnings=tuple(o.warning(year) for o in over),
    )
    return row, period


def totals_row(rows: list[CentralRow], periods: list[MonthFigures]) -> CentralTotals:
    present = sum(p.present_days for p in periods)
    sold = sum(p.stays.sold_days for p in periods)
    capacity = sum(p.capacity_days for p in periods)
    levels: Counter[str] = Counter()
    for p in periods:
        levels.update(p.citizens_by_level)

    def money_sum(name: str) -> Decimal | None:
        values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return ore(sum(values, Decimal("0.00"))) if values else None

    return CentralTotals(
        places=sum(r.places for r in rows),
        frame=money_sum("frame"), activity=money_sum("activity"), total=money_sum("total"),
        present_days=present, funded_days=sum(p.funded_days for p in periods), capacity_days=capacity,
        occupancy_pct=occupancy_pct(present, capacity),
        citizens_by_level=dict(sorted(levels.items())),
        sold_days=sold, sold_share_pct=share_pct(sold, present),
        sold_income=money_sum("sold_income"),
        avg_support_hours=average_support_hours(sum((p.stays.support_hours for p in periods), Decimal(0)), present),
        baseline=money_sum("baseline"), difference=money_sum("difference"), phased=money_sum("phased"),
    )


def central_model(ledger: BudgetLedger, year: int, month: int | None, position: int) -> CentralModel:
    """The central model as of a recorded position."""
    return central_model_with_years(ledger, year, month, position)[0]


def central_model_with_years(ledger: BudgetLedger, year: int, month: int | None, position: int
                             ) -> tuple[CentralModel, dict[str, tuple[FacilityFact, YearFigures]]]:
    """The central model and the facility years it was made from, by code, read once (the UI
    charts the months from them)."""
    reads = BudgetReads(ledger)
    baselines = reads.baselines(year, position)
    years = reads.all_facility_years(year, position)
    rows, periods, warnings = [], [], []
    for code, (fact, figures) in years.items():
        row, period = facility_row(fact, figures, year, month, baselines.get(code))
        rows.append(row)
        periods.append(period)
        warnings += [f"{code}: {w}" for w in [*figures.warnings, *row.warnings]]
    return CentralModel(year, month, position, tuple(rows), totals_row(rows, periods), tuple(warnings)), years
