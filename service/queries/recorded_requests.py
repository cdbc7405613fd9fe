"""A command's request as the store answered it under an idempotency key: what the key was
bound to, the events it recorded, and when (`idempotency_keys`, written in the command's own
transaction). The web UI reads it to tell that a form rendered anew repeats one recorded a
moment ago (service/ui/recent_forms.py, docs/adr/0044)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.db import idempotency_keys, utc
from service.ledger import BudgetLedger


@dataclass(frozen=True)
class RecordedRequest:
    """The request an idempotency key answered: its fingerprint (method, path, canonical body,
    hashed), the events it recorded and when the store recorded them."""

    fingerprint: str
    event_ids: tuple[str, ...]
    recorded_at: datetime


def recorded_request(ledger: BudgetLedger, principal: str, key_hash: str) -> RecordedRequest | None:
    """The request `principal` sent under the key whose SHA-256 is `key_hash`; None: none."""
    with ledger.engine.connect() as connection:
        row = connection.execute(select(idempotency_keys.c.fingerprint, idempotency_keys.c.response,
                                        idempotency_keys.c.created_at)
                                 .where(idempotency_keys.c.principal == principal,
                                        idempotency_keys.c.key == key_hash)).first()
    if row is None:
        return None
    return RecordedRequest(row.fingerprint, tuple(json.loads(row.response).get("event_ids", ())), utc(row.created_at))
