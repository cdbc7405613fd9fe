"""Request and response bodies (api.md). Unknown fields are rejected; money is a string
with at most 2 decimals (responses always show exactly 2); hours a string or a number."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from domain import municipalities
from domain.assessment import KINDS, SLOTS, THEMES
from domain.facility import COST_CATEGORIES, KINDS as FACILITY_KINDS

Money = Annotated[
    str, Field(pattern=r"^-?\d{1,13}(\.\d{1,2})?$", examples=["1234.50"],
               description="Kroner as a string with at most 2 decimals")
]
Hours = Annotated[StrictStr | StrictInt | StrictFloat, Field(examples=["5.5"], description="Hours, up to 2 decimals")]
Percent = Annotated[StrictStr | StrictInt, Field(examples=["100"], description="A percentage, up to 2 decimals")]
Reason = Annotated[str | None, Field(max_length=1000, description="Free text; no personal data")]
CaseRef = Annotated[str | None, Field(max_length=100, description="Journal number")]
Municipality = Annotated[str, Field(
    pattern=municipalities.CODE_PATTERN, examples=["751"], json_schema_extra={"enum": list(municipalities.CODES)},
    description="A municipality's code, one of the 98 of the register (ASCII digits; 707 is Norddjurs); three "
                "digits outside it are refused as unknown_municipality")]
Year = Annotated[int, Field(ge=2000, le=2100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FacilityCreate(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64, examples=["GRENAA-BO"])]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal[FACILITY_KINDS]  # type: ignore[valid-type]
    area: Annotated[str, Field(min_length=1, max_length=100)]
    places: Annotated[StrictInt, Field(gt=0)]
    effective_date: date | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class CapacityCreate(Strict):
    effective_date: date
    places: Annotated[StrictInt, Field(gt=0)]
    reason: Reason = None
    case_ref: CaseRef = None


class FrameLine(Strict):
    category: Literal[COST_CATEGORIES]  # type: ignore[valid-type]
    amount: Money


class FrameBudgetPut(Strict):
    budgeted_places: Annotated[StrictInt, Field(gt=0)]
    planned_occupancy_pct: Percent
    lines: Annotated[list[FrameLine], Field(min_length=1)]
    reason: Reason = None
    case_ref: CaseRef = None


class AccountsCreate(Strict):
    actual_costs: Money
    reason: Reason = None
    case_ref: CaseRef = None


class BaselinePut(Strict):
    baseline_budget: Money
    phase_in_pct: Percent
    reason: Reason = None
    case_ref: CaseRef = None


class LevelIn(Strict):
    level: Annotated[StrictInt, Field(ge=1, le=8)]
    min_hours: Hours
    max_hours: Hours
    daily_rate: Money


class SpecialTariffDef(Strict):
    code: Literal["S1", "S2"]
    name: Annotated[str, Field(min_length=1, max_length=100)]


class SchedulePut(Strict):
    levels: Annotated[list[LevelIn], Field(min_length=8, max_length=8)]
    special_tariffs: list[SpecialTariffDef] = []
    hourly_rate: Money
    runoff_months: Annotated[StrictInt, Field(ge=0, le=12)] = 1
    reason: Reason = None
    case_ref: CaseRef = None


class RevisionCreate(Strict):
    effective_date: date
    level: Annotated[StrictInt, Field(ge=1, le=8)]
    daily_rate: Money
    reason: Reason = None
    case_ref: CaseRef = None


class AssessmentEntry(Strict):
    theme: Literal[THEMES]  # type: ignore[valid-type]
    slot: Literal[SLOTS]  # type: ignore[valid-type]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    minutes: Annotated[StrictInt, Field(gt=0, le=1440)]


class Assessment(Strict):
    """Either a døgnskema (`entries`) or, for migrated data, `hours_per_day`."""

    entries: Annotated[list[AssessmentEntry], Field(min_length=1)] | None = None
    hours_per_day: Hours | None = None


class SpecialTariffGrant(Strict):
    code: Literal["S1", "S2"]
    daily_rate: Money


class MoveInCreate(Strict):
    facility: Annotated[str, Field(min_length=1, max_length=64)]
    effective_date: date
    paying_municipality: Municipality
    assessment: Assessment
    special_tariff: SpecialTariffGrant | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class ReassessmentCreate(Strict):
    effective_date: date
    assessment: Assessment
    special_tariff: SpecialTariffGrant | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class SpecialTariffCreate(Strict):
    effective_date: date
    code: Literal["S1", "S2"]
    daily_rate: Money
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    case_ref: CaseRef = None


class PayingMunicipalityCreate(Strict):
    effective_date: date
    paying_municipality: Municipality
    reason: Reason = None
    case_ref: CaseRef = None


class MoveOutCreate(Strict):
    effective_date: date
    kind: Literal["moved", "deceased", "transferred"]
    reason: Reason = None
    case_ref: CaseRef = None


class RetractionCreate(Strict):
    event_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                                   description="The id of the event to retract")]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    case_ref: CaseRef = None


class CommandPublic(BaseModel):
    event_id: str
    event_ids: list[str]
    position: int
    recorded_at: str
    hours_per_day: str | None = None
    level: int | None = None
    special_tariff: str | None = None


def assessment_dict(assessment: Assessment) -> dict:
    """The assessment as the domain reads it (hours as text, so no float reaches it)."""
    data = assessment.model_dump(exclude_none=True)
    if "hours_per_day" in data:
        data["hours_per_day"] = str(data["hours_per_day"])
    return data
