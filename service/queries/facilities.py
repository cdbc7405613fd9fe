"""Facilities as of any point (the domain's `Facility` as recorded by a store position): the
API's facility reads, the UI's forms and pages read them here."""

from __future__ import annotations

from domain.errors import NotFound
from domain.facility import Facility, facility_id
from service.ledger import BudgetLedger, Timeline


def facility_as_of(ledger: BudgetLedger, code: str, position: int | None) -> Facility:
    """The facility as of `position` (None: the latest); NotFound `unknown_facility` for one not
    registered by then (or never)."""
    version = None
    if position is not None:
        version = Timeline(ledger.engine).version_at(facility_id(code), position)
        if version is None:
            ledger.facility(code)  # 404 when it never existed
            raise NotFound("unknown_facility", f"facility {code} was not registered as of position {position}", "code")
    return ledger.facility(code, version)
