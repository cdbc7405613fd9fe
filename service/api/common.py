"""Small helpers shared by the routers: command responses and money/date formatting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

from domain.values import ØRE
from service.ledger import Recorded

COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An idempotent replay: the first response, nothing more recorded"},
    401: {"description": "No valid token"},
    403: {"description": "The role may not do this"},
    404: {"description": "Unknown resource"},
    409: {"description": "A domain rule or a reused Idempotency-Key; the rule is named"},
    422: {"description": "Invalid input; the fields are named"},
}


def written(recorded: Recorded) -> JSONResponse:
    return JSONResponse(recorded.body, status_code=200 if recorded.replayed else 201)


def kr(amount: Decimal | None) -> str | None:
    """Money as a string with exactly 2 decimals."""
    return None if amount is None else str(Decimal(amount).quantize(ØRE))


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
