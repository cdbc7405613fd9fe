"""Facilities as of any point: places, frame budgets, baselines and annual accounts (their
commands are service/api/commands.py's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from domain.facility import Facility
from domain.values import FIRST_YEAR, LAST_YEAR
from service.api.common import Code, iso
from service.api.deps import AsOf, Ledger, ReadAt, Reader
from service.api.routing import api_router
from service.queries.facilities import facilities_as_of, facility_as_of, frame_budget
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
    return {"facilities": [facility_public(facility) for facility in facilities_as_of(ledger, position)]}


@router.get("/v1/facilities/{code}")
def get_facility(code: Code, ledger: Ledger, actor: Reader, position: AsOf) -> dict[str, Any]:
    return facility_public(facility_as_of(ledger, code, position))


@router.get("/v1/facilities/{code}/frame-budgets/{year}")
def get_frame_budget(code: Code, year: Year, ledger: Ledger, actor: Reader, position: ReadAt) -> dict[str, Any]:
    """The frame budget of a year: its lines, `total`, `basistakst` and monthly frames, and
    `regulation`: the regulation of the year whose result enters this year's tariff
    (domain §4.9), with whether this frame carries its line (`applied`)."""
    return public(frame_budget(ledger, code, year, position))
