"""The budget pages: the central overview, a facility's year, and "Hvorfor ændrede det sig?".

Each page reads what the API endpoint of the same figures reads, through the same queries
(service/queries/: `central_model`, `facility_budget`, `budget_explanation`), as of the page's
"Opgjort pr." date, and admits the same roles (every reader). The charts are the monthly budget with the frame
(ramme) under the activity (aktivitet), drawn as inline SVG.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from domain.values import check_reference
from projections.budget import YearFigures, level_key
from projections.capacity import OverCapacity
from service.audit import log_citizen_reads
from service.export import LEVELS
from service.ledger import BudgetLedger
from service.read_models import BudgetReads, StatementReads
from service.event_history import FacilityYear, MunicipalityYear
from service.queries.budgets import facility_budget
from service.queries.central import central_model_with_years
from service.queries.explain import budget_explanation
from service.queries.values import public
from service.ui.asof import PointInTime, UiProblem, as_of_text, parse_as_of, read_position, store_position
from service.ui.auth import UiReader
from service.ui.charts import Series, stacked_bars
from service.ui.form_pages import facility_events
from service.ui.formatting import MONTHS, MONTHS_SHORT, month_name
from service.ui.history_pages import step_bar
from service.ui.render import facility_names, ledger_of, page, parse_month, parse_year

router = APIRouter(include_in_schema=False)


def monthly_chart(title: str, frames: list[Decimal], activities: list[Decimal], year: int,
                  highlight: int | None = None) -> Any:
    return stacked_bars(
        MONTHS_SHORT,
        [Series("Ramme", "frame", tuple(frames)), Series("Aktivitet", "activity", tuple(activities))],
        title=title, descriptions=[f"{name.capitalize()} {year}" for name in MONTHS],
        highlight=None if highlight is None else highlight - 1)


def municipality_chart(years: dict[str, tuple[Any, YearFigures]], year: int, highlight: int | None) -> Any:
    """The whole municipality's budget month by month: every facility's frame and activity summed."""
    frames = [sum((f.months[m].frame for _, f in years.values()), Decimal(0)) for m in range(12)]
    activities = [sum((f.months[m].activity for _, f in years.values()), Decimal(0)) for m in range(12)]
    return monthly_chart(f"Budget pr. måned {year}, hele kommunen", frames, activities, year, highlight)


@router.get("/ui")
@router.get("/ui/oversigt")
def overview(request: Request, actor: UiReader, year: str | None = None, month: str | None = None,
             as_of: str | None = None, as_of_position: str | None = None) -> Response:
    form = {"year": year or str(BudgetLedger.today().year), "month": month or "",
            "as_of": as_of_text(as_of, as_of_position)}

    def build() -> dict[str, Any]:
        year_, month_ = parse_year(year, BudgetLedger.today().year), parse_month(month)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        ledger = ledger_of(request)
        model, years = central_model_with_years(ledger, year_, month_, position)
        body = public(model)
        chart = municipality_chart(years, year_, month_)
        over = {f"{row.facility}: {w}" for row in model.facilities for w in row.warnings}
        return {"central": body, "chart": chart, "levels": LEVELS, "period": month_name(month_),
                "history": step_bar(request, MunicipalityYear(year_), position, "/ui/oversigt", year=year_,
                                    month=month_),
                "has_baseline": model.totals.baseline is not None,
                "warnings": [w for w in model.warnings if w not in over],
                "over_capacity": [row for row in body["facilities"] if row["over_capacity_months"]]}

    return page(request, actor, "overview.html", form, build)


def stays_in_year(ledger: BudgetLedger, code: str, year: int, position: int) -> list[dict[str, Any]]:
    """The facility's stays that touch the year, with the level and payer at the year's end
    (or at the move-out): the stay rows as of `position` (a read position), each named by its
    citizen through its move-in's event (`StatementReads.citizen_refs`)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    stays = [stay for stay in BudgetReads(ledger).stays(position, year, code).get(code, [])
             if stay.move_in <= last and (stay.move_out is None or stay.move_out >= first)]
    refs = StatementReads(ledger).citizen_refs([stay.stay_id for stay in stays])
    rows = []
    for stay in stays:
        condition = stay.condition_on(min(last, stay.move_out or last))
        rows.append({"citizen_ref": refs[stay.stay_id], "move_in": stay.move_in, "move_out": stay.move_out,
                     "level": level_key(condition), "hours_per_day": condition.hours_per_day,
                     "paying_municipality": condition.paying_municipality})
    return sorted(rows, key=lambda row: (row["move_in"], row["citizen_ref"]))


@router.get("/ui/tilbud/{code:path}")
def facility(request: Request, code: str, actor: UiReader, year: str | None = None, as_of: str | None = None,
             as_of_position: str | None = None) -> Response:
    form = {"year": year or str(BudgetLedger.today().year), "as_of": as_of_text(as_of, as_of_position), "code": code}

    def build() -> dict[str, Any]:
        nonlocal code
        code = check_reference(code, "code")
        year_ = parse_year(year, BudgetLedger.today().year)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        ledger = ledger_of(request)
        found = facility_budget(ledger, code, year_, position)
        fact = BudgetReads(ledger).facility(code, position)
        stays = stays_in_year(ledger, code, year_, position)
        log_citizen_reads(ledger, actor, f"/ui/tilbud/{code}", (s["citizen_ref"] for s in stays))
        chart = monthly_chart(f"Budget pr. måned {year_}, {fact.name}",
                              [m.frame for m in found.months], [m.activity for m in found.months], year_)
        budget = public(found)
        over = [m for m in budget["months"] if m["over_capacity"]]
        shown = {OverCapacity(m.month, m.present_days, m.capacity_days).warning(year_)
                 for m in found.months if m.over_capacity}
        return {"budget": budget, "facility": fact, "chart": chart, "stays": stays, "levels": LEVELS,
                "events": facility_events(ledger, code, position),
                "history": step_bar(request, FacilityYear(code, year_), position, f"/ui/tilbud/{quote(code, safe='')}",
                                    year=year_),
                "places": fact.places_on(date(year_, 12, 31)), "over_capacity": over,
                "warnings": [w for w in found.warnings if w not in shown]}

    return page(request, actor, "facility.html", form, build)


@router.get("/ui/forklar")
def explain(request: Request, actor: UiReader, facility: str | None = None, year: str | None = None,
            month: str | None = None, fra: str | None = None, til: str | None = None) -> Response:
    """Why a facility's budget for a month (or the year) changed between two points, each a
    date, a date and time, or a store position (as "Opgjort pr.")."""
    today = BudgetLedger.today()
    form = {"facility": facility or "", "year": year or str(today.year), "month": month or "",
            "fra": fra or "", "til": til or today.isoformat(), "facilities": {}}

    def build() -> dict[str, Any]:
        nonlocal facility
        ledger = ledger_of(request)
        form["facilities"] = facility_names(ledger, read_position(request, None))
        if not facility:
            return {"explained": None}
        facility = check_reference(facility, "facility")
        year_, month_ = parse_year(year, today.year), parse_month(month)
        start, end = parse_as_of(fra, field="Fra"), parse_as_of(til, field="Til") or PointInTime("", day=today)
        first = 0 if start is None else store_position(request, start, "Fra")
        last = store_position(request, end, "Til")
        if first is not None and last is not None and first > last:
            raise UiProblem(422, "Fra-datoen ligger efter til-datoen. Vælg en fra-dato før til-datoen.")
        explained = budget_explanation(
            facility, year_, ledger, "all" if month_ is None else str(month_), request.app.state.projections,
            from_position=first, to_position=last)
        log_citizen_reads(ledger, actor, "/ui/forklar", explained.citizen_refs())
        history = step_bar(request, FacilityYear(facility, year_), last, "/ui/forklar", at="til", facility=facility,
                           year=year_, month=month_ or "", fra=fra or "")
        return {"explained": public(explained), "period": month_name(month_), "year_": year_, "history": history,
                "name": form["facilities"].get(facility, facility)}

    return page(request, actor, "explain.html", form, build)
