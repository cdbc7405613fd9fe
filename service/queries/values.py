"""How a read writes its values in a body: money as a string with exactly two decimals (øre),
a day as ISO 8601 (api.md); None stays None."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.values import ØRE


def kr(amount: Decimal | None) -> str | None:
    """Money as a string with exactly 2 decimals."""
    return None if amount is None else str(Decimal(amount).quantize(ØRE))


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
