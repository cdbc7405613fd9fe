"""What a buying municipality reads (api.md, `buyer`): the stays it pays for in a year and one
citizen's support during the periods it pays, for the `buyer` of that municipality and for
finance, auditor and admin. The reads are service/queries/buyers.py's; a buyer's own scope
is service/access.py's (`check_own_municipality`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from domain import municipalities
from domain.values import FIRST_YEAR, LAST_YEAR, NORDDJURS
from service.access import BUYING_READERS
from service.api.common import Ref
from service.api.deps import Ledger, ReadAt, allow
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.ledger import Actor, BudgetLedger
from service.queries.buyers import buyer_citizen_body, buyer_citizens_body
from service.queries.values import public

router = api_router(tags=["buyers"])
BuyingReader = Annotated[Actor, Depends(allow(*BUYING_READERS))]
Municipality = Annotated[str, Path(
    pattern=municipalities.CODE_PATTERN,
    json_schema_extra={"enum": [code for code in municipalities.CODES if code != NORDDJURS]},
    examples=["751"], description="The buying municipality's code (ASCII digits), one of the register's but 707")]
YearQuery = Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="The year (default: this year)")]


@router.get("/v1/buyers/{municipality}/citizens")
def get_buyer_citizens(municipality: Municipality, ledger: Ledger, actor: BuyingReader, position: ReadAt,
                       year: YearQuery = None) -> dict[str, Any]:
    """The stays the municipality pays for in the year: one row per run of paid days of a stay,
    with the level (or special tariff) of its last day."""
    found = buyer_citizens_body(ledger, actor, municipality, year or BudgetLedger.today().year, position)
    log_citizen_reads(ledger, actor, f"/v1/buyers/{municipality}/citizens", found.citizen_refs())
    return public(found)


@router.get("/v1/buyers/{municipality}/citizens/{ref}")
def get_buyer_citizen(municipality: Municipality, ref: Ref, ledger: Ledger, actor: BuyingReader,
                      position: ReadAt) -> dict[str, Any]:
    """One citizen's support during the periods the municipality pays for them: the periods of
    level and rate, and each døgnskema in force on those days with what changed from the one
    before. 404 for a citizen it never paid for, exactly as for one the ledger does not know."""
    found = buyer_citizen_body(ledger, actor, municipality, ref, position)
    log_citizen_reads(ledger, actor, f"/v1/buyers/{municipality}/citizens/{ref}", [found.citizen_ref])
    return public(found)
