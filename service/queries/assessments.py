"""Assessments (døgnskemaer): what one would give before it is recorded, and a citizen's
recorded ones with what changed from one to the next.

The preview classifies exactly as a move-in or reassessment does (service/ledger.py): the
schedule in force on the effective date (`BudgetLedger.schedule_in_force`) and
`Classification.of`, the domain's one function for hours per day and level; so the figure a
page shows before saving is the figure the ledger records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.assessment import minutes_per_day
from domain.citizen import Classification
from projections.assessments import AssessmentRecord, assessment_history
from service.commands.fields import Assessment
from service.ledger import BudgetLedger
from service.read_models import citizen_at


@dataclass(frozen=True)
class SpecialTariffOffer:
    code: str
    name: str


@dataclass(frozen=True)
class AssessmentPreview:
    """What an assessment taking effect on `effective_date` would be classified as now."""

    effective_date: date
    schedule_year: int
    minutes_per_day: Decimal
    hours_per_day: Decimal
    level: int | None
    """None: at or above level 8's maximum, so a special tariff must price the days."""
    level_min_hours: Decimal | None
    level_max_hours: Decimal | None
    level_daily_rate: Decimal | None
    """The level's service rate on the effective date (revisions counted)."""
    special_tariffs: tuple[SpecialTariffOffer, ...]
    """The special tariffs the schedule offers."""

    @property
    def needs_special_tariff(self) -> bool:
        return self.level is None


def preview_assessment(ledger: BudgetLedger, assessment: Assessment, effective_date: date) -> AssessmentPreview:
    """Hours per day and level of `assessment` under the schedule in force on `effective_date`
    (the latest recorded state, as a command decides); raises the domain's errors, e.g.
    no_tariff_schedule for a year without a published schedule."""
    schedule = ledger.schedule_in_force(effective_date)
    classification = Classification.of(assessment.as_domain(), schedule)
    level = next((l for l in schedule.levels if l.level == classification.level), None)
    offers = tuple(SpecialTariffOffer(s["code"], s["name"])
                   for s in (schedule.current or {}).get("special_tariffs", ()))
    return AssessmentPreview(
        effective_date=effective_date, schedule_year=schedule.year,
        minutes_per_day=minutes_per_day(classification.assessment), hours_per_day=classification.hours_per_day,
        level=classification.level,
        level_min_hours=level.min_hours if level else None, level_max_hours=level.max_hours if level else None,
        level_daily_rate=schedule.rate_on(level.level, effective_date) if level else None,
        special_tariffs=offers,
    )


@dataclass(frozen=True)
class CitizenAssessments:
    """A citizen's assessments in force, stay by stay, as of a store position."""

    citizen_ref: str
    position: int
    """The read position (one the projections have reached)."""
    assessments: tuple[AssessmentRecord, ...]

    def latest_in(self, stay_id: str) -> AssessmentRecord | None:
        """The stay's assessment in force from the latest effective date."""
        return next((a for a in reversed(self.assessments) if a.stay_id == stay_id), None)


def citizen_assessments(ledger: BudgetLedger, citizen_ref: str, position: int) -> CitizenAssessments:
    """A citizen's assessments with what changed from each one before (projections/assessments.py),
    as of `position`, a position the projections have reached (the stay rows hold the
    assessments in force, the store's events what each recorded); NotFound for a citizen not
    recorded by then. The caller logs the read."""
    citizen = citizen_at(ledger, citizen_ref, position)
    history = assessment_history(citizen.stays, citizen.recorded_assessments())
    return CitizenAssessments(citizen.citizen_ref, position, tuple(history))
