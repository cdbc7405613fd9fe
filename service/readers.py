"""A citizen as of a store position, loaded from its stream at the version recorded at or
before it: the facts of a citizen's stays that the read models do not hold yet (a stay's
move-out kind, the assessment events behind its conditions; docs/adr/0035, "Reads from the
read models only"). A facility's stays and figures come from the read models, a schedule's
rates from the schedule read (service/schedule_rates.py); the aggregate-replay reference the
read models are tested against is tests/reference.py, which no production path calls.
"""

from __future__ import annotations

from domain.citizen import Citizen, citizen_id
from domain.errors import NotFound
from service.ledger import BudgetLedger, Timeline


def citizen_as_of(ledger: BudgetLedger, ref: str, position: int | None) -> Citizen:
    """The citizen as it stood at `position` (None: the latest state); NotFound when it was
    not recorded by then."""
    if position is None:
        return ledger.citizen(ref)
    version = Timeline(ledger.engine).version_at(citizen_id(ref), position)
    if version is None:
        raise NotFound("not_found", f"not recorded as of position {position}")
    return ledger.citizen(ref, version)
