"""The "Opgjort pr." date of a page: which store position it reads as of.

A date means the ledger as it stood at the end of that day in Copenhagen (for today: now);
it is turned into an instant and resolved by the API's own dependencies
(`service.api.deps.as_of_position`, then `read_position`, which waits for the projections),
so a page and the API give the same answer for the same point. A date after today is refused
with a Danish message: a figure as of a day not yet over could still change.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from fastapi import Request

from service.api import deps
from service.ledger import BudgetLedger
from service.ui.formatting import COPENHAGEN, day


class UiProblem(Exception):
    """A page cannot be shown as asked; the message says why, in Danish."""

    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def parse_day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UiProblem(422, f"{field}: «{value}» er ikke en dato; skriv den som ÅÅÅÅ-MM-DD.") from None


def end_of(day_: date, field: str) -> datetime:
    """The instant the day ends in Copenhagen (now, for today); a later day is refused."""
    if day_ > BudgetLedger.today():
        raise UiProblem(422, f"{field} {day(day_)} ligger i fremtiden. Tal opgjort pr. en dag, der ikke er gået "
                             "endnu, kan stadig ændre sig – vælg en dato til og med i dag.")
    ends = datetime.combine(day_ + timedelta(days=1), time(0), COPENHAGEN) - timedelta(microseconds=1)
    return min(ends, datetime.now(timezone.utc))


def store_position(request: Request, as_of: date | None) -> int | None:
    """The store position of the date, as the API resolves `as_of` (None: the latest)."""
    if as_of is None:
        return None
    return deps.as_of_position(request, as_of=end_of(as_of, "Opgjort pr."), as_of_position=None)


def read_position(request: Request, as_of: date | None) -> int:
    """The position a read of the read models is as of, once the projections have reached it."""
    return deps.read_position(request, store_position(request, as_of))
