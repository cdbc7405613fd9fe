"""Retractions (EntryRetracted): a wrong event stops counting; nothing is deleted.

caseworker retracts citizen events, finance the rest (facilities, schedules), admin all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from domain.citizen import Citizen
from domain.facility import Facility
from domain.tariff_schedule import TariffSchedule
from service.api.common import COMMAND_RESPONSES, written
from service.api.deps import IdempotencyKey, Ledger, allow
from service.api.schemas import CommandPublic, RetractionCreate
from service.api.routing import api_router
from service.ledger import Actor

router = api_router(tags=["retractions"])
Retractor = Annotated[Actor, Depends(allow("caseworker", "finance"))]
RETRACTABLE_BY_ROLE = {
    "admin": (Facility, TariffSchedule, Citizen),
    "finance": (Facility, TariffSchedule),
    "caseworker": (Citizen,),
}


@router.post("/v1/retractions", status_code=201, response_model=CommandPublic, responses=COMMAND_RESPONSES)
def retract(body: RetractionCreate, ledger: Ledger, actor: Retractor, idem: IdempotencyKey):
    return written(ledger.retract(body.event_id, body.reason, actor, body.case_ref, idem,
                                  allowed=RETRACTABLE_BY_ROLE[actor.role]))
