"""The audit trail and the log of who read citizen rows (auditors and finance)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from sqlalchemy import select

from domain.values import REFERENCE_PATTERN, check_reference
from service.api.deps import AsOf, Instant, Ledger, ProjectionStatusDep, allow
from service.api.routing import api_router
from service.audit import EVENT_TYPES, AuditQuery, AuditTrail, log_citizen_reads
from service.db import citizen_reads, utc
from service.ledger import Actor, Timeline
from service.queries.positions import checked_instant

router = api_router(tags=["audit"])
AuditReader = Annotated[Actor, Depends(allow("finance", "auditor"))]
Auditor = Annotated[Actor, Depends(allow("auditor"))]
Ref = Annotated[str | None, Query(min_length=1, max_length=64, pattern=REFERENCE_PATTERN)]


def _resource(path: str, **parsed: object) -> str:
    """The read as its citizen reads are logged: the path and the parameters it was read with,
    parsed and canonical (an instant in ISO 8601, a reference upper-cased), never the raw query,
    which may carry anything (an unknown parameter is ignored by the read, and would be stored)."""
    query = {name: value.isoformat() if isinstance(value, datetime) else value
             for name, value in parsed.items() if value is not None}
    return path + "?" + urlencode(query, safe=":")


def _instant(name: str, value: datetime | None) -> datetime | None:
    """An instant within the bounds of domain.md §3, or None."""
    return None if value is None else checked_instant(name, value)


@router.get("/v1/audit")
def get_audit(
    request: Request, ledger: Ledger, actor: AuditReader, position: AsOf, status: ProjectionStatusDep,
    facility: Ref = None, citizen: Ref = None,
    start: Annotated[Instant | None, Query(alias="from", description="Recorded at or after this instant")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="Recorded at or before this instant")] = None,
    after_position: Annotated[int, Query(ge=0, le=2**63 - 1, description="Page: events after this position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[Literal[EVENT_TYPES] | None, Query(description="Only events of this type")] = None,  # type: ignore[valid-type]
    recorded_by: Annotated[str | None, Query(alias="actor", min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$",
                                             description="Only events recorded by this actor")] = None,
) -> dict[str, Any]:
    """Events in recording order with every field of domain §3 (effective date, recorded time,
    position, actor, reason, case_ref, the event's own fields) and, for a retracted event,
    who retracted it, why and when; filtered by facility, citizen, time window and position,
    paged by `after_position` (`next_after_position` continues), and by `type` and `actor`
    (the web UI's "Hændelser" page filters the same way). An event that changed the
    budget of a closed facility-year is flagged in `post_closing`."""
    if citizen is not None:
        citizen = check_reference(citizen, "citizen")
    if facility is not None:
        facility = check_reference(facility, "facility")
    timeline = Timeline(ledger.engine)
    after = after_position
    if (start := _instant("from", start)) is not None:
        after = max(after, timeline.position_before(start))
    bounds = [p for p in (position, timeline.position_at(end) if _instant("to", end) else None) if p is not None]
    until = min(bounds) if bounds else None
    status.wait(timeline.max_position() if until is None else until, ledger.settings.read_wait_seconds)
    events, next_after = AuditTrail(ledger).entries(AuditQuery(facility, citizen, after, until, limit, type,
                                                                          recorded_by))
    given = request.query_params
    resource = _resource(request.url.path, facility=facility, citizen=citizen, type=type, actor=recorded_by,
                         **{"from": start, "to": end},
                         after_position=after_position if "after_position" in given else None,
                         limit=limit if "limit" in given else None,
                         as_of_position=position if {"as_of", "as_of_position"} & set(given) else None)
    log_citizen_reads(ledger, actor, resource, (e["citizen_ref"] for e in events))
    return {"events": events, "next_after_position": next_after, "as_of_position": until}


@router.get("/v1/audit/citizen-reads")
def get_citizen_reads(
    ledger: Ledger, actor: Auditor, citizen: Ref = None, reader: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f]+$")] = None,
    after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Who read which citizen's rows, through which resource, and when (auditors only); a
    `buyer`'s reads name its paying municipality (`municipality`, null for other roles)."""
    statement = select(citizen_reads).where(citizen_reads.c.id > after_id)
    if citizen is not None:
        citizen = check_reference(citizen, "citizen")
        statement = statement.where(citizen_reads.c.citizen_ref == citizen)
    if reader is not None:
        statement = statement.where(citizen_reads.c.reader == reader)
    with ledger.engine.connect() as connection:
        rows = connection.execute(statement.order_by(citizen_reads.c.id).limit(limit)).all()
    return {"reads": [{"id": r.id, "read_at": utc(r.read_at).isoformat(), "reader": r.reader, "role": r.role,
                       "resource": r.resource, "citizen_ref": r.citizen_ref, "municipality": r.municipality} for r in rows],
            "next_after_id": rows[-1].id if len(rows) == limit else None}
