"""Citizens: their stays and events as of any point (their commands are
service/api/commands.py's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from service.api.common import Ref
from service.api.deps import AsOf, Ledger, ReadAt, Reader
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.read_models import known_citizen
from service.queries.citizens import citizen_body
from service.queries.values import public

router = api_router(tags=["citizens"])


def recorded_citizen(ref: Ref, ledger: Ledger) -> str:
    """404 for a citizen the ledger never recorded, answered from the store's index before the
    read waits for the projections (so it is a 404 even while they lag)."""
    return known_citizen(ledger, ref)


Recorded = Annotated[str, Depends(recorded_citizen)]


@router.get("/v1/citizens/{ref}")
def get_citizen(ref: Ref, ledger: Ledger, actor: Reader, _recorded: Recorded, position: AsOf, read_at: ReadAt) -> dict[str, Any]:
    """As of the named point (`as_of_position` in the body; null for the latest), read from
    the read models once the projections have reached it (503 when they lag)."""
    found = citizen_body(ref, ledger, position, read_at)
    log_citizen_reads(ledger, actor, f"/v1/citizens/{ref}", [found.citizen_ref])
    return public(found)
