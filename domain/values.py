"""Shared values: money (kroner and øre), hours, percentages, codes and event metadata.

Money is always `Decimal`, made through `money()`; a binary float is refused everywhere
("never use floating-point in an accounting system"). Rounding is half-up to øre, and only
where a rule says so (`round_money`).

No personal data: a citizen is known only by the case system's pseudonymous `citizen_ref`;
anything shaped like a CPR number (`DDMMYY-XXXX` or ten digits) in a reference or free text
is refused (domain §4.10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain import municipalities
from domain.errors import InvalidValue

ØRE = Decimal("0.01")
ZERO = Decimal("0.00")
NORDDJURS = "707"
"""The municipality that runs the facilities; any other paying municipality is a sold place."""

_CPR_SHAPE = re.compile(r"\d{6}-\d{4}|\d{10}")
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
"""A pseudonymous reference or a facility code: 1-64 letters, digits and . _ : / -"""
_REFERENCE = re.compile(REFERENCE_PATTERN)


def _to_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise InvalidValue("decimal_not_float", "must be a decimal string, not a float", field)
    if isinstance(value, (Decimal, int)):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidValue("not_a_number", f"{value!r} is not a number", field) from None
    else:
        raise InvalidValue("not_a_number", f"{value!r} is not a number", field)
    if not number.is_finite():
        raise InvalidValue("not_a_number", f"{value!r} is not a finite number", field)
    return number


def _at_most_two_places(number: Decimal, field: str, what: str) -> Decimal:
    if number.adjusted() > 14:
        raise InvalidValue("number_too_large", f"{what} must be below 10^15, got {number}", field)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidValue(
            "too_many_decimals", f"{what} takes at most 2 decimals, got {number}", field
        )
    return number.quantize(ØRE)


def money(value: object, field: str = "amount") -> Decimal:
    """Kroner as an exact `Decimal` with 2 places; at most 2 decimals are accepted."""
    return _at_most_two_places(_to_decimal(value, field), field, "an amount")


def hours(value: object, field: str = "hours_per_day") -> Decimal:
    """Hours as an exact `Decimal` with 2 places; at most 2 decimals are accepted."""
    return _at_most_two_places(_to_decimal(value, field), field, "hours")


def percent(value: object, field: str) -> Decimal:
    """A percentage with at most 2 decimals."""
    return _at_most_two_places(_to_decimal(value, field), field, "a percentage")


def round_money(value: Decimal) -> Decimal:
    """Round half-up to øre: the only rounding of money, used where a rule says so."""
    return value.quantize(ØRE, rounding=ROUND_HALF_UP)


def check_positive(number: Decimal | int, field: str) -> None:
    if number <= 0:
        raise InvalidValue("must_be_positive", f"must be greater than 0, got {number}", field)


def check_not_negative(number: Decimal | int, field: str) -> None:
    if number < 0:
        raise InvalidValue("must_not_be_negative", f"must be 0 or more, got {number}", field)


def looks_like_cpr(text: str) -> bool:
    """True when the text holds a CPR-shaped value: DDMMYY-XXXX or ten digits in a row."""
    return bool(_CPR_SHAPE.search(text))


def check_no_cpr(text: str | None, field: str) -> None:
    if text and looks_like_cpr(text):
        raise InvalidValue(
            "cpr_number_refused",
            "holds a value shaped like a CPR number; the ledger stores no CPR numbers "
            "(use the case system's pseudonymous reference)",
            field,
        )


def check_reference(text: str, field: str) -> str:
    """A pseudonymous reference (citizen_ref, facility code): 1-64 letters, digits, ._:/-."""
    if not isinstance(text, str) or not _REFERENCE.match(text):
        raise InvalidValue(
            "invalid_reference",
            "must be 1-64 characters of letters, digits and . _ : / - (starting with a "
            "letter or digit)",
            field,
        )
    check_no_cpr(text, field)
    return text


def check_municipality(code: str, field: str = "paying_municipality") -> str:
    """One of the 98 codes of the municipality register, in ASCII digits (`municipalities.check`):
    `invalid_municipality` for a value that is not three ASCII digits, `unknown_municipality`
    for three digits no municipality has."""
    return municipalities.check(code, field)


def check_year(year: int, field: str = "year") -> int:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidValue("invalid_year", "must be a year from 2000 to 2100", field)
    return year


def check_in_year(day: date, year: int, field: str = "effective_date") -> None:
    if day.year != year:
        raise InvalidValue("date_outside_year", f"must be a date in {year}, got {day}", field)


@dataclass(frozen=True)
class Meta:
    """What every event carries besides its own fields (domain §3).

    `event_id` is the event's stable identifier (a UUID made when the command is decided);
    the store adds the recorded time and the position.
    """

    event_id: str
    effective_date: date
    actor: str
    reason: str | None = None
    case_ref: str | None = None

    def __post_init__(self) -> None:
        check_no_cpr(self.reason, "reason")
        check_no_cpr(self.case_ref, "case_ref")
        if not self.actor:
            raise InvalidValue("actor_required", "every event records its actor", "actor")

    def require_reason(self) -> None:
        if not (self.reason and self.reason.strip()):
            raise InvalidValue("reason_required", "a reason is required for this event", "reason")
