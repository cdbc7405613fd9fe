"""The central budget model (domain §4.6): every facility for a year or a month, with key
figures, sold places and, for a year with a baseline, the phase-in of the transition, as of a
recorded position (the API, the UI's overview and `ledger export central` read it here)."""

from __future__ import annotations

from collections import Counter
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
from service.queries.values import kr
from service.read_models import BudgetReads


def period_of(figures: YearFigures, month: int | None) -> MonthFigures:
    if month is None:
        return figures.totals()
    return sum_months([figures.months[month - 1]], month=month, levels_of=figures.months[month - 1])


def phase_in(total: Decimal, baseline: dict[str, Any] | None) -> dict[str, str | None]:
    """Model vs baseline, and the phased budget = baseline + phase_in_pct % of the difference."""
    if baseline is None:
        return {"baseline": None, "difference": None, "phased": None}
    amount, pct = Decimal(baseline["baseline_budget"]), Decimal(baseline["phase_in_pct"])
    return {"baseline": kr(amount), "difference": kr(total - amount), "phased": kr(phased_budget(total, amount, pct))}


def facility_row(fact: FacilityFact, figures: YearFigures, year: int, month: int | None,
                 baseline: dict[str, Any] | None) -> tuple[dict[str, Any], MonthFigures]:
    period = period_of(figures, month)
    stays = period.stays
    places = fact.places_on(month_end(date(year, month or 12, 1)))
    row = {
        "facility": fact.code, "name": fact.name, "area": fact.area, "kind": fact.kind, "places": places,
        "frame": kr(period.frame), "activity": kr(period.activity), "total": kr(period.total),
        "basistakst": kr(figures.basistakst),
        "present_days": stays.present_days, "funded_days": stays.funded_days, "capacity_days": period.capacity_days,
        "occupancy_pct": str(occupancy_pct(stays.present_days, period.capacity_days)),
        "citizens_by_level": dict(stays.citizens_by_level),
        "sold_days": stays.sold_days, "sold_share_pct": str(share_pct(stays.sold_days, stays.present_days)),
        "sold_income": kr(sold_income(stays.sold_service, stays.sold_days, figures.basistakst)),
        "avg_support_hours": str(average_support_hours(stays.support_hours, stays.present_days)),
        **phase_in(period.total, baseline if month is None else None),
    }
    over = over_capacity(figures.months if month is None else [figures.months[month - 1]])
    row["over_capacity_months"] = [o.month for o in over]
    row["warnings"] = [o.warning(year) for o in over]
    return row, period


def totals_row(rows: list[dict[str, Any]], periods: list[MonthFigures]) -> dict[str, Any]:
    present = sum(p.present_days for p in periods)
    sold = sum(p.stays.sold_days for p in periods)
    capacity = sum(p.capacity_days for p in periods)
    levels: Counter[str] = Counter()
    for p in periods:
        levels.update(p.citizens_by_level)

    def money_sum(name: str) -> str | None:
        values = [Decimal(r[name]) for r in rows if r[name] is not None]
        return kr(sum(values, Decimal("0.00"))) if values else None

    return {
        "places": sum(r["places"] for r in rows),
        "frame": money_sum("frame"), "activity": money_sum("activity"), "total": money_sum("total"),
        "present_days": present, "funded_days": sum(p.funded_days for p in periods), "capacity_days": capacity,
        "occupancy_pct": str(occupancy_pct(present, capacity)),
        "citizens_by_level": dict(sorted(levels.items())),
        "sold_days": sold, "sold_share_pct": str(share_pct(sold, present)),
        "sold_income": money_sum("sold_income"),
        "avg_support_hours": str(average_support_hours(sum((p.stays.support_hours for p in periods), Decimal(0)),
                                                       present)),
        "baseline": money_sum("baseline"), "difference": money_sum("difference"), "phased": money_sum("phased"),
    }


def central_model(ledger: BudgetLedger, year: int, month: int | None, position: int) -> dict[str, Any]:
    """The central model's body as of a recorded position."""
    return central_model_with_years(ledger, year, month, position)[0]


def central_model_with_years(ledger: BudgetLedger, year: int, month: int | None, position: int
                             ) -> tuple[dict[str, Any], dict[str, tuple[FacilityFact, YearFigures]]]:
    """The central model's body and the facility years it was made from, by code, read once
    (the UI charts the months from them)."""
    reads = BudgetReads(ledger)
    baselines = reads.baselines(year, position)
    years = reads.all_facility_years(year, position)
    rows, periods, warnings = [], [], []
    for code, (fact, figures) in years.items():
        row, period = facility_row(fact, figures, year, month, baselines.get(code))
        rows.append(row)
        periods.append(period)
        warnings += [f"{code}: {w}" for w in figures.warnings + row["warnings"]]
    return {"year": year, "month": month, "as_of_position": position, "facilities": rows,
            "totals": totals_row(rows, periods), "warnings": warnings}, years
