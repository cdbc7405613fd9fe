"""What a buying municipality reads (api.md, `buyer`): the stays it pays for in a year and one
citizen's support during the periods it pays. The municipality is one of the register's and
not Norddjurs (`check_buying_municipality`); a `buyer` reads for its own municipality only
(service/access.py `check_own_municipality`); the figures' scope is service/buyers.py's. The
caller logs the citizens read under its own resource."""

from __future__ import annotations

from typing import Any

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import NORDDJURS, check_municipality
from projections.assessments import AssessmentChange
from service import buyers
from service.access import check_own_municipality
from service.ledger import Actor, BudgetLedger
from service.queries.values import iso, kr


def check_buying_municipality(municipality: str) -> str:
    """One of the register's codes (`unknown_municipality` otherwise), not Norddjurs' own."""
    check_municipality(municipality, "municipality")
    if municipality == NORDDJURS:
        raise InvalidValue("not_a_buying_municipality", "707 is Norddjurs itself: statements are for the "
                           "municipalities that buy places", "municipality")
    return municipality


def buyer_citizens_body(ledger: BudgetLedger, actor: Actor, municipality: str, year: int, position: int
                        ) -> dict[str, Any]:
    """The stays the municipality pays for in the year: one row per run of paid days of a stay,
    with the level (or special tariff) of its last day."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    rows = buyers.paid_stays(ledger, municipality, year, position)
    return {"municipality": municipality, "municipality_name": municipalities.official_name(municipality),
            "year": year, "as_of_position": position,
            "citizens": [{"citizen_ref": r.citizen_ref, "facility": r.facility, "stay_id": r.stay_id,
                          "paid_from": iso(r.paid_from), "paid_to": iso(r.paid_to), "level": r.level,
                          "special_tariff": r.special_tariff} for r in rows]}


def buyer_citizen_body(ledger: BudgetLedger, actor: Actor, municipality: str, ref: str, position: int | None
                       ) -> dict[str, Any]:
    """One citizen's support during the periods the municipality pays for them (NotFound for a
    citizen it never paid for, exactly as for one the ledger does not know)."""
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
