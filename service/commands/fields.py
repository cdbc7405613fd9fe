"""The fields of the commands (api.md): their types and bounds, and the parts that several
commands share. Unknown fields are rejected; money is a string with at most 2 decimals; hours
a string or a number.

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
from domain.facility import COST_CATEGORIES, MAX_PLACES
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


class FrameLine(Strict):
    category: Literal[COST_CATEGORIES]  # type: ignore[valid-type]
    amount: Amount


class LevelIn(Strict):
    level: Annotated[StrictInt, Field(ge=1, le=8)]
    min_hours: Hours
    max_hours: Hours
    daily_rate: DailyRate


class SpecialTariffDef(Strict):
    code: Literal["S1", "S2"]
    name: Annotated[str, Field(min_length=1, max_length=100)]


class AssessmentEntry(Strict):
    theme: Literal[THEMES]  # type: ignore[valid-type]
    slot: Literal[SLOTS]  # type: ignore[valid-type]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    minutes: Annotated[StrictInt, Field(ge=1, le=MINUTES_PER_DAY)]


class Assessment(Strict):
    """Either a døgnskema (`entries`) or, for migrated data, `hours_per_day`."""

    entries: Annotated[list[AssessmentEntry], Field(min_length=1)] | None = None
    hours_per_day: Hours | None = None

    def as_domain(self) -> dict:
        """The assessment as the domain reads it (hours as text, so no float reaches it)."""
        data = self.model_dump(exclude_none=True)
        if "hours_per_day" in data:
            data["hours_per_day"] = str(data["hours_per_day"])
        return data


class SpecialTariffGrant(Strict):
    code: Literal["S1", "S2"]
    daily_rate: DailyRate
