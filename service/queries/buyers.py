"""What a buying municipality reads (api.md, `buyer`): the stays it pays for in a year and one
citizen's support during the periods it pays. The municipality is one of the register's and
not Norddjurs (`check_buying_municipality`); a `buyer` reads for its own municipality only
(service/access.py `check_own_municipality`); the figures' scope is service/buyers.py's. The
caller logs the citizens read under its own resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import Field

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import NORDDJURS, check_municipality
from projections.assessments import AssessmentChange
from service import buyers
from service.access import check_own_municipality
from service.ledger import Actor, BudgetLedger
from service.queries.values import Figure, Money


def check_buying_municipality(municipality: str) -> str:
    """One of the register's codes (`unknown_municipality` otherwise), not Norddjurs' own."""
    check_municipality(municipality, "municipality")
    if municipality == NORDDJURS:
        raise InvalidValue("not_a_buying_municipality", "707 is Norddjurs itself: statements are for the "
                           "municipalities that buy places", "municipality")
    return municipality


@dataclass(frozen=True)
class BuyerCitizens:
    """The stays a municipality pays for in a year: one row per run of paid days of a stay,
    with the level (or special tariff) of its last day."""

    municipality: str
    municipality_name: str | None
    year: int
    as_of_position: int
    citizens: tuple[buyers.PaidStay, ...]

    def citizen_refs(self) -> list[str | None]:
        return [row.citizen_ref for row in self.citizens]


@dataclass(frozen=True)
class SupportPeriod:
    """A run of paid days of one level (or special tariff) and service rate."""

    stay_id: str
    facility: str
    start: Annotated[date, Field(serialization_alias="from")]
    end: Annotated[date | None, Field(serialization_alias="to")]
    level: int | None
    hours_per_day: Figure
    special_tariff: str | None
    service_rate: Money | None


@dataclass(frozen=True)
class SchemaEntry:
    """A cell of a døgnskema: minutes of a theme in a time slot, direct or indirect."""

    theme: str
    slot: str
    kind: str
    minutes: int


@dataclass(frozen=True)
class SchemaEntryChange:
    theme: str
    slot: str
    kind: str
    change: str
    """added, removed or changed."""
    minutes_before: int
    minutes_after: int


@dataclass(frozen=True)
class AssessmentChanges:
    """What changed from the assessment shown before: hours, level and every cell of the
    døgnskema whose minutes differ (`cells_compared` false when either is hours per day alone)."""

    previous_effective_date: date
    hours_per_day_before: Figure
    level_before: int | None
    cells_compared: bool
    entries: tuple[SchemaEntryChange, ...]


@dataclass(frozen=True)
class SupportedAssessment:
    """A døgnskema in force on paid days."""

    stay_id: str
    facility: str
    effective_date: date
    hours_per_day: Figure
    level: int | None
    special_tariff: str | None
    entries: tuple[SchemaEntry, ...]
    changes: AssessmentChanges | None


@dataclass(frozen=True)
class CitizenSupport:
    """A citizen's support during the periods a municipality pays for them."""

    citizen_ref: str
    municipality: str
    municipality_name: str | None
    as_of_position: int
    periods: tuple[SupportPeriod, ...]
    assessments: tuple[SupportedAssessment, ...]


def buyer_citizens_body(ledger: BudgetLedger, actor: Actor, municipality: str, year: int, position: int
                        ) -> BuyerCitizens:
    """The stays the municipality pays for in the year, for `actor` (a buyer of another
    municipality is refused); the caller logs the read."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    return BuyerCitizens(municipality, municipalities.official_name(municipality), year, position,
                         tuple(buyers.paid_stays(ledger, municipality, year, position)))


def buyer_citizen_body(ledger: BudgetLedger, actor: Actor, municipality: str, ref: str, position: int
                       ) -> CitizenSupport:
    """One citizen's support during the periods the municipality pays for them (NotFound for a
    citizen it never paid for, exactly as for one the ledger does not know); the caller logs
    the read."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    return support_of(buyers.support(ledger, municipality, ref, position))


def support_of(found: buyers.Support) -> CitizenSupport:
    return CitizenSupport(
        found.citizen_ref, found.municipality, municipalities.official_name(found.municipality), found.position,
        tuple(SupportPeriod(p.stay_id, p.facility, p.start, p.end, p.level, p.hours_per_day, p.special_tariff,
                            p.service_rate) for p in found.periods),
        tuple(SupportedAssessment(a.stay_id, a.facility, a.effective_date, a.hours_per_day, a.level, a.special_tariff,
                                  tuple(SchemaEntry(theme, slot, kind, minutes)
                                        for (theme, slot, kind), minutes in a.cells),
                                  _changes(a.change))
              for a in found.assessments))


def _changes(change: AssessmentChange | None) -> AssessmentChanges | None:
    if change is None:
        return None
    return AssessmentChanges(change.previous_effective_date, change.hours_before, change.level_before,
                             change.cells_compared,
                             tuple(SchemaEntryChange(c.theme, c.slot, c.kind, c.change, c.before, c.after)
                                   for c in change.cells))
