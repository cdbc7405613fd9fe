"""Citizens: their stays and events as of any point (their commands are
service/api/commands.py's)."""

from __future__ import annotations

from typing import Any

from service.api.common import Ref
from service.api.deps import AsOf, Ledger, ReadAt, Reader
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.queries.citizens import citizen_body
from service.queries.values import public

router = api_router(tags=["citizens"])


@router.get("/v1/citizens/{ref}")
def get_citizen(ref: Ref, ledger: Ledger, actor: Reader, position: AsOf, read_at: ReadAt) -> dict[str, Any]:
    """As of the named point (`as_of_position` in the body; null for the latest), read from
    the read models once the projections have reached it (503 when they lag)."""
    found = citizen_body(ref, ledger, position, read_at)
    log_citizen_reads(ledger, actor, f"/v1/citizens/{ref}", [found.citizen_ref])
    return public(found)
