"""Request and response bodies (api.md). Unknown fields are rejected; money is a string
with at most 2 decimals (responses always show exactly 2); hours a string or a number.

The bounds of domain §3 are stated here, so that the OpenAPI schema shows them, and checked
again by the domain (so an import and the API refuse the same values): references
`[A-Za-z0-9._-]` (stored upper-cased), years 2000-2099, effective dates 2000-01-01 to
2099-12-31, daily rates 0.01-100 000.00, other amounts at most 10 000 000 000.00 in absolute
value, places 1-10 000, percentages, minutes 1-1 440 and hours at most 24."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Callable, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from domain import municipalities
from domain.assessment import KINDS, MINUTES_PER_DAY, SLOTS, THEMES
from domain.facility import COST_CATEGORIES, KINDS as FACILITY_KINDS, MAX_PLACES
from domain.values import (
    FIRST_DAY,
    FIRST_YEAR,
    LAST_DAY,
    LAST_YEAR,
    MAX_AMOUNT,
    MAX_DAILY_RATE,
    MAX_HOURS_PER_DAY,
    REFERENCE_PATTERN,
)


def _within(low: Decimal, high: Decimal, what: str) -> Callable[[object], object]:
    """A check that a decimal string (or number) lies in [low, high]; the value is kept as it
    came (the domain makes the `Decimal`)."""

    def check(value: object) -> object:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{what} must be a number") from None
        if not number.is_finite() or not low <= number <= high:
            raise ValueError(f"{what} must be from {low} to {high}")
        return value

    return check


DailyRate = Annotated[
    str, Field(pattern=r"^\d{1,6}(\.\d{1,2})?$", examples=["1234.50"],
               description=f"Kroner as a string with at most 2 decimals, from 0.01 to {MAX_DAILY_RATE}"),
    AfterValidator(_within(Decimal("0.01"), MAX_DAILY_RATE, "a daily rate")),
]
Amount = Annotated[
    str, Field(pattern=r"^-?\d{1,11}(\.\d{1,2})?$", examples=["1234.50"],
               description=f"Kroner as a string with at most 2 decimals, at most {MAX_AMOUNT} in absolute value"),
    AfterValidator(_within(-MAX_AMOUNT, MAX_AMOUNT, "an amount")),
]
NonNegativeAmount = Annotated[
    str, Field(pattern=r"^\d{1,11}(\.\d{1,2})?$", examples=["1234.50"],
               description=f"Kroner as a string with at most 2 decimals, from 0 to {MAX_AMOUNT}"),
    AfterValidator(_within(Decimal(0), MAX_AMOUNT, "an amount")),
]
Hours = Annotated[StrictStr | StrictInt | StrictFloat,
                  Field(examples=["5.5"], description=f"Hours, up to 2 decimals, from 0 to {MAX_HOURS_PER_DAY}"),
                  AfterValidator(_within(Decimal(0), MAX_HOURS_PER_DAY, "hours per day"))]
PhaseInPercent = Annotated[StrictStr | StrictInt,
                           Field(examples=["100"], description="A percentage from 0 to 100, up to 2 decimals"),
                           AfterValidator(_within(Decimal(0), Decimal(100), "phase_in_pct"))]
OccupancyPercent = Annotated[StrictStr | StrictInt,
                             Field(examples=["100"], description="A percentage from 1 to 100, up to 2 decimals"),
                             AfterValidator(_within(Decimal(1), Decimal(100), "planned_occupancy_pct"))]
Places = Annotated[StrictInt, Field(ge=1, le=MAX_PLACES, description=f"Places, 1 to {MAX_PLACES}")]
EffectiveDate = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY,
                                      description=f"A day from {FIRST_DAY} to {LAST_DAY}")]
Reference = Annotated[str, Field(pattern=REFERENCE_PATTERN, min_length=1, max_length=64, examples=["GRENAA-BO"],
                                 description="ASCII letters, digits, '.', '_' and '-'; stored upper-cased")]
Reason = Annotated[str | None, Field(max_length=1000, description="Free text; no personal data (no CPR number)")]
CaseRef = Annotated[str | None, Field(max_length=100, description="Journal number; no CPR number")]
Municipality = Annotated[str, Field(
    pattern=municipalities.CODE_PATTERN, examples=["751"], json_schema_extra={"enum": list(municipalities.CODES)},
    description="A municipality's code, one of the 98 of the register (ASCII digits; 707 is Norddjurs); three "
                "digits outside it are refused as unknown_municipality")]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FacilityCreate(Strict):
    code: Reference
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal[FACILITY_KINDS]  # type: ignore[valid-type]
    area: Annotated[str, Field(min_length=1, max_length=100)]
    places: Places
    effective_date: EffectiveDate | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class CapacityCreate(Strict):
    effective_date: EffectiveDate
    places: Places
    reason: Reason = None
    case_ref: CaseRef = None


class FrameLine(Strict):
    category: Literal[COST_CATEGORIES]  # type: ignore[valid-type]
    amount: Amount


class FrameBudgetPut(Strict):
    budgeted_places: Places
    planned_occupancy_pct: OccupancyPercent
    lines: Annotated[list[FrameLine], Field(min_length=1)]
    reason: Reason = None
    case_ref: CaseRef = None


class AccountsCreate(Strict):
    actual_costs: NonNegativeAmount
    reason: Reason = None
    case_ref: CaseRef = None


class BaselinePut(Strict):
    baseline_budget: NonNegativeAmount
    phase_in_pct: PhaseInPercent
    reason: Reason = None
    case_ref: CaseRef = None


class LevelIn(Strict):
    level: Annotated[StrictInt, Field(ge=1, le=8)]
    min_hours: Hours
    max_hours: Hours
    daily_rate: DailyRate


class SpecialTariffDef(Strict):
    code: Literal["S1", "S2"]
    name: Annotated[str, Field(min_length=1, max_length=100)]


class SchedulePut(Strict):
    levels: Annotated[list[LevelIn], Field(min_length=8, max_length=8)]
    special_tariffs: list[SpecialTariffDef] = []
    hourly_rate: DailyRate
    runoff_months: Annotated[StrictInt, Field(ge=0, le=12)] = 1
    reason: Reason = None
    case_ref: CaseRef = None


class SpecialTariffDraft(SpecialTariffDef):
    daily_rate: DailyRate | None = Field(
        None, description="What-if only: the draft's daily rate for every day on this special tariff (omitted: each "
                          "citizen keeps the rate granted)")


class WhatIfPut(SchedulePut):
    """A draft schedule for the what-if: a schedule (as PUT tariff-schedules), whose special
    tariffs may carry a draft daily rate."""

    special_tariffs: list[SpecialTariffDraft] = []


class RevisionCreate(Strict):
    effective_date: EffectiveDate
    level: Annotated[StrictInt, Field(ge=1, le=8)]
    daily_rate: DailyRate
    reason: Reason = None
    case_ref: CaseRef = None


class AssessmentEntry(Strict):
    theme: Literal[THEMES]  # type: ignore[valid-type]
    slot: Literal[SLOTS]  # type: ignore[valid-type]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    minutes: Annotated[StrictInt, Field(ge=1, le=MINUTES_PER_DAY)]


class Assessment(Strict):
    """Either a døgnskema (`entries`) or, for migrated data, `hours_per_day`."""

    entries: Annotated[list[AssessmentEntry], Field(min_length=1)] | None = None
    hours_per_day: Hours | None = None


class SpecialTariffGrant(Strict):
    code: Literal["S1", "S2"]
    daily_rate: DailyRate


class MoveInCreate(Strict):
    facility: Reference
    effective_date: EffectiveDate
    paying_municipality: Municipality
    assessment: Assessment
    special_tariff: SpecialTariffGrant | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class ReassessmentCreate(Strict):
    effective_date: EffectiveDate
    assessment: Assessment
    special_tariff: SpecialTariffGrant | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class SpecialTariffCreate(Strict):
    effective_date: EffectiveDate
    code: Literal["S1", "S2"]
    daily_rate: DailyRate
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    case_ref: CaseRef = None


class PayingMunicipalityCreate(Strict):
    effective_date: EffectiveDate
    paying_municipality: Municipality
    reason: Reason = None
    case_ref: CaseRef = None


class MoveOutCreate(Strict):
    effective_date: EffectiveDate
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
