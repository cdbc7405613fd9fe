"""How a read's typed result is written as a body (api.md): money as a string with exactly two
decimals (øre), a ratio or hours as its Decimal's text, a day in ISO 8601; None stays None.
A result declares its fields with these types (`Money`, `Figure`), and `public` writes it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import PlainSerializer, TypeAdapter

from domain.values import ØRE


def kr(amount: Decimal | None) -> str | None:
    """Money as a string with exactly 2 decimals."""
    return None if amount is None else str(Decimal(amount).quantize(ØRE))


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def ore(amount: Decimal) -> Decimal:
    """An amount rounded to øre, as a read shows it (and sums it: a total is the sum of the
    amounts shown)."""
    return Decimal(amount).quantize(ØRE)


Money = Annotated[Decimal, PlainSerializer(kr, return_type=str)]
"""An amount in kroner; written with exactly two decimals."""
Figure = Annotated[Decimal, PlainSerializer(str, return_type=str)]
"""A ratio, a percentage or hours; written as computed (`str` of the Decimal)."""


def public(result: Any) -> dict[str, Any]:
    """A query's typed result (a frozen dataclass) as the JSON body the API answers with and
    the exports render: fields in their declared order, under their serialization aliases,
    money and figures as strings, days in ISO 8601, tuples as lists."""
    return _adapter(type(result)).dump_python(result, mode="json", by_alias=True)


@cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    return TypeAdapter(kind)
