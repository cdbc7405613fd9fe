"""What a buying municipality reads (api.md, `buyer`): the stays it pays for in a year and one
citizen's support during the periods it pays, for the `buyer` of that municipality and for
finance, auditor and admin. A buyer's own scope is checked here (`check_own_municipality`),
the scope of the figures in service/buyers.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import FIRST_YEAR, LAST_YEAR, NORDDJURS, check_municipality
from projections.assessments import AssessmentChange
from service import buyers
from service.api.common import Ref, iso, kr
from service.api.deps import FINANCE_READERS, AsOf, Ledger, ReadAt, allow
from service.api.problems import ApiProblem
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.auth import BUYER
from service.ledger import Actor, BudgetLedger

router = api_router(tags=["buyers"])
BUYING_READERS = (*FINANCE_READERS, BUYER)
"""Who reads a buying municipality's statements and citizens: finance, auditor (admin does
all), and the `buyer` of that municipality only (`check_own_municipality`)."""
BuyingReader = Annotated[Actor, Depends(allow(*BUYING_READERS))]
Municipality = Annotated[str, Path(
    pattern=municipalities.CODE_PATTERN,
    json_schema_extra={"enum": [code for code in municipalities.CODES if code != NORDDJURS]},
    examples=["751"], description="The buying municipality's code (ASCII digits), one of the register's but 707")]
YearQuery = Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="The year (default: this year)")]


def check_buying_municipality(municipality: str) -> str:
    """One of the register's codes (`unknown_municipality` otherwise), not Norddjurs' own."""
    check_municipality(municipality, "municipality")
    if municipality == NORDDJURS:
        raise InvalidValue("not_a_buying_municipality", "707 is Norddjurs itself: statements are for the "
                           "municipalities that buy places", "municipality")
    return municipality


def check_own_municipality(actor: Actor, municipality: str) -> None:
    """A `buyer` reads for its own municipality only (403 otherwise, the same for every other
    code, whatever the ledger holds for it)."""
    if actor.role == BUYER and actor.municipality != municipality:
        raise ApiProblem(403, f"a buyer token reads for its own municipality ({actor.municipality}) only",
                         rule="other_municipality")


@router.get("/v1/buyers/{municipality}/citizens")
def get_buyer_citizens(municipality: Municipality, ledger: Ledger, actor: BuyingReader, position: ReadAt,
                       year: YearQuery = None) -> dict[str, Any]:
    """The stays the municipality pays for in the year: one row per run of paid days of a stay,
    with the level (or special tariff) of its last day."""
    body = buyer_citizens_body(ledger, actor, municipality, year or BudgetLedger.today().year, position)
    refs = [row["citizen_ref"] for row in body["citizens"]]
    log_citizen_reads(ledger, actor, f"/v1/buyers/{municipality}/citizens", refs)
    return body


def buyer_citizens_body(ledger: BudgetLedger, actor: Actor, municipality: str, year: int, position: int
                        ) -> dict[str, Any]:
    """The list of `get_buyer_citizens` (the UI's page shares it); the caller logs the read."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    rows = buyers.paid_stays(ledger, municipality, year, position)
    return {"municipality": municipality, "municipality_name": municipalities.official_name(municipality),
            "year": year, "as_of_position": position,
            "citizens": [{"citizen_ref": r.citizen_ref, "facility": r.facility, "stay_id": r.stay_id,
                          "paid_from": iso(r.paid_from), "paid_to": iso(r.paid_to), "level": r.level,
                          "special_tariff": r.special_tariff} for r in rows]}


@router.get("/v1/buyers/{municipality}/citizens/{ref}")
def get_buyer_citizen(municipality: Municipality, ref: Ref, ledger: Ledger, actor: BuyingReader,
                      position: AsOf) -> dict[str, Any]:
    """One citizen's support during the periods the municipality pays for them: the periods of
    level and rate, and each døgnskema in force on those days with what changed from the one
    before. 404 for a citizen it never paid for, exactly as for one the ledger does not know."""
    body = buyer_citizen_body(ledger, actor, municipality, ref, position)
    log_citizen_reads(ledger, actor, f"/v1/buyers/{municipality}/citizens/{ref}", [body["citizen_ref"]])
    return body


def buyer_citizen_body(ledger: BudgetLedger, actor: Actor, municipality: str, ref: str, position: int | None
                       ) -> dict[str, Any]:
    """The body of `get_buyer_citizen` (the UI's page and the statement document share it)."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    return support_body(buyers.support(ledger, municipality, ref, position))


def support_body(found: buyers.Support) -> dict[str, Any]:
    return {
        "citizen_ref": found.citizen_ref, "municipality": found.municipality,
        "municipality_name": municipalities.official_name(found.municipality), "as_of_position": found.position,
        "periods": [{"stay_id": p.stay_id, "facility": p.facility, "from": iso(p.start), "to": iso(p.end),
                     "level": p.level, "hours_per_day": str(p.hours_per_day), "special_tariff": p.special_tariff,
                     "service_rate": kr(p.service_rate)} for p in found.periods],
        "assessments": [{"stay_id": a.stay_id, "facility": a.facility, "effective_date": iso(a.effective_date),
                         "hours_per_day": str(a.hours_per_day), "level": a.level, "special_tariff": a.special_tariff,
                         "entries": [{"theme": theme, "slot": slot, "kind": kind, "minutes": minutes}
                                     for (theme, slot, kind), minutes in a.cells],
                         "changes": _changes(a.change)}
                        for a in found.assessments],
    }


def _changes(change: AssessmentChange | None) -> dict[str, Any] | None:
    """What changed from the assessment shown before: hours, level and every cell of the
    døgnskema whose minutes differ (`cells_compared` false when either is hours per day alone)."""
    if change is None:
        return None
    return {"previous_effective_date": iso(change.previous_effective_date),
            "hours_per_day_before": str(change.hours_before), "level_before": change.level_before,
            "cells_compared": change.cells_compared,
            "entries": [{"theme": c.theme, "slot": c.slot, "kind": c.kind, "change": c.change,
                         "minutes_before": c.before, "minutes_after": c.after} for c in change.cells]}
