"""The "Opgjort pr." point of a page: which store position it reads as of.

The field takes a date, a date and time, or a store position (`PointInTime`; links that step
through the history carry `as_of_position`, as the API's reads do):

- a date (2026-03-01) means the ledger as it stood at the end of that day in Copenhagen (for
  today: now);
- a date and time (2026-03-01 14:05, seconds and an offset optional; without an offset it is
  Copenhagen time) means the ledger as it stood at that instant;
- a whole number (or `#1234`, `position 1234`) is a store position.

A date or time is turned into an instant and resolved as the API resolves one
(service/queries/positions.py: `position_as_of`, then `consistent_position`, which waits for
the projections), so a page and the API give the same answer for the same point. A point after now is refused
with a Danish message: a figure as of a time not yet passed could still change; so is a
position the store has not reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from fastapi import Request

from service.ledger import BudgetLedger, Timeline
from service.queries import positions
from service.ui.formatting import COPENHAGEN, day, instant


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


@dataclass(frozen=True)
class PointInTime:
    """What "Opgjort pr." names: exactly one of a day, an instant or a store position."""

    text: str
    """As the form shows it again (and the menu's links carry it)."""
    day: date | None = None
    instant: datetime | None = None
    position: int | None = None

    def label(self) -> str:
        if self.position is not None:
            return f"position {self.position}"
        if self.instant is not None:
            return self.instant.astimezone(COPENHAGEN).strftime("%d.%m.%Y %H:%M:%S")
        return day(self.day)


_POSITION = re.compile(r"(?:#|position\s*)?([0-9]{1,30})", re.IGNORECASE | re.ASCII)
_MOMENT = re.compile(r"(?a)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
FIELD = "Opgjort pr."
MAX_POSITION = 2**63 - 1


def parse_as_of(value: str | None, as_of_position: str | None = None, field: str = FIELD) -> PointInTime | None:
    """The point a page is asked for (None: the latest), or a Danish UiProblem naming `field`
    and saying how to write it. `as_of_position` (from a step link) is a position; both at once
    are refused."""
    value = (value or "").strip()
    if as_of_position not in (None, ""):
        if value and value != as_of_position.strip():
            raise UiProblem(422, f"{field}: angiv enten en dato/et tidspunkt eller en position, ikke begge.")
        value = as_of_position.strip()
        if not (value.isdigit() and value.isascii()):
            raise UiProblem(422, f"{field}: positionen «{value}» er ikke et helt tal (0 eller derover).")
    if not value:
        return None
    if found := _POSITION.fullmatch(value):
        position = int(found.group(1))
        if position > MAX_POSITION:
            raise UiProblem(422, f"{field}: positionen {position} er for stor.")
        return PointInTime(str(position), position=position)
    if _MOMENT.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=COPENHAGEN)
            return PointInTime(value, instant=checked_moment(moment, field))
    try:
        return PointInTime(value, day=date.fromisoformat(value))
    except ValueError:
        raise UiProblem(422, f"{field}: «{value}» er ikke en dato, et tidspunkt eller en position. Skriv en dato "
                             "som ÅÅÅÅ-MM-DD, et tidspunkt som ÅÅÅÅ-MM-DD TT:MM eller en position som et helt tal."
                        ) from None


def checked_moment(moment: datetime, field: str = FIELD) -> datetime:
    """An instant from 2000-01-01 up to now, or a Danish UiProblem."""
    if moment > datetime.now(timezone.utc) + positions.FUTURE_TOLERANCE:
        raise UiProblem(422, f"{field} {instant(moment)} ligger i fremtiden. Tal opgjort pr. et tidspunkt, der ikke er "
                             "kommet endnu, kan stadig ændre sig – vælg et tidspunkt til og med nu.")
    if moment < positions.EARLIEST_INSTANT:
        raise UiProblem(422, f"{field} {instant(moment)} ligger før 2000; ledgeren indeholder intet så tidligt.")
    return moment


def store_position(request: Request, as_of: date | PointInTime | None, field: str = FIELD) -> int | None:
    """The store position of the point, as the API resolves `as_of` or `as_of_position`
    (None: the latest)."""
    if as_of is None:
        return None
    if isinstance(as_of, date):
        return _position_of(request, as_of=end_of(as_of, field), as_of_position=None)
    if as_of.position is not None:
        try:
            return _position_of(request, as_of=None, as_of_position=as_of.position)
        except positions.PositionNotReached:
            latest = Timeline(request.app.state.ledger.engine).max_position()
            raise UiProblem(422, f"{field}: position {as_of.position} er ikke registreret endnu; ledgeren er nået "
                                 f"til position {latest}.") from None
    if as_of.instant is not None:
        return _position_of(request, as_of=as_of.instant, as_of_position=None)
    assert as_of.day is not None
    return _position_of(request, as_of=end_of(as_of.day, field), as_of_position=None)


def _position_of(request: Request, as_of: datetime | None, as_of_position: int | None) -> int | None:
    """`positions.position_as_of` with the app's store and wait (in this thread: pages run in threads)."""
    return positions.position_as_of(Timeline(request.app.state.ledger.engine), as_of, as_of_position,
                                    request.app.state.settings.future_position_wait_seconds)


def read_position(request: Request, as_of: date | PointInTime | None) -> int:
    """The position a read of the read models is as of, once the projections have reached it."""
    return positions.consistent_position(request.app.state.ledger, request.app.state.projections,
                                         store_position(request, as_of), request.app.state.settings.read_wait_seconds)


def as_of_text(as_of: str | None, as_of_position: str | None) -> str:
    """What the form's "Opgjort pr." field shows again: the position of a step link, else the text."""
    return (as_of_position or "").strip() or (as_of or "").strip()


def as_of_label(text: str | None) -> str:
    """The form's "Opgjort pr." value in words ("i dag" when empty); as written when unreadable."""
    try:
        point = parse_as_of(text)
    except UiProblem:
        return text or ""
    return "i dag" if point is None else point.label()
