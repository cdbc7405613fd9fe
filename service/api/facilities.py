"""Facilities as of any point: places, frame budgets, baselines and annual accounts (their
commands are service/api/commands.py's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from domain.errors import NotFound
from domain.facility import Facility
from domain.values import FIRST_YEAR, LAST_YEAR
from projections.frame import basistakst, frame_total, monthly_frames
from service.api.common import Code, iso, kr
from service.api.deps import AsOf, Ledger, ReadAt, Reader
from service.api.routing import api_router
from service.queries.facilities import facility_as_of
from service.queries.regulation import regulation_of
from service.queries.values import public

router = api_router(tags=["facilities"])
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


def facility_public(f: Facility) -> dict[str, Any]:
    return {
        "code": f.code, "name": f.name, "kind": f.kind, "area": f.area, "places": f.places,
        "registered_on": iso(f.registered_on),
        "capacity_changes": [
            {"event_id": c["event_id"], "effective_date": iso(c["effective_date"]), "places": c["places"]}
            for c in f.capacity_changes if c["active"]
        ],
        "frame_budget_years": sorted({b["year"] for b in f.frame_budgets if b["active"]}),
        "closed_years": sorted({a["year"] for a in f.accounts if a["active"]}),
    }


@router.get("/v1/facilities")
def list_facilities(ledger: Ledger, actor: Reader, position: AsOf) -> dict[str, Any]:
    facilities = []
    for code in ledger.facility_codes():
        try:
            facilities.append(facility_public(facility_as_of(ledger, code, position)))
        except NotFound:  # registered after the as-of point
            continue
    return {"facilities": facilities}


@router.get("/v1/facilities/{code}")
def get_facility(code: Code, ledger: Ledger, actor: Reader, position: AsOf) -> dict[str, Any]:
    return facility_public(facility_as_of(ledger, code, position))


@router.get("/v1/facilities/{code}/frame-budgets/{year}")
def get_frame_budget(code: Code, year: Year, ledger: Ledger, actor: Reader, position: ReadAt) -> dict[str, Any]:
    """The frame budget of a year: its lines, `total`, `basistakst` and monthly frames, and
    `regulation`: the regulation of the year whose result enters this year's tariff
    (domain §4.9), with whether this frame carries its line (`applied`)."""
    facility = facility_as_of(ledger, code, position)
    frame = facility.frame_budget(year)
    if frame is None:
        raise NotFound("no_frame_budget", f"{code} has no frame budget for {year}", "year")
    total = frame_total(frame["lines"])
    regulation = regulation_of(ledger, code, year, position)
    return {
        "facility": code, "year": year, "event_id": frame["event_id"],
        "budgeted_places": frame["budgeted_places"],
        "planned_occupancy_pct": str(frame["planned_occupancy_pct"]),
        "lines": [{"category": line["category"], "amount": kr(line["amount"])} for line in frame["lines"]],
        "total": kr(total),
        "basistakst": kr(basistakst(total, frame["budgeted_places"], frame["planned_occupancy_pct"], year)),
        "monthly": [kr(m) for m in monthly_frames(total)],
        "regulation": None if regulation is None else public(regulation),
    }
