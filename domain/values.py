"""Shared values: money (kroner and øre), hours, percentages, codes and event metadata.

Money is always `Decimal`, made through `money()`; a binary float is refused everywhere
("never use floating-point in an accounting system"). Rounding is half-up to øre, and only
where a rule says so (`round_money`).

No personal data: a citizen is known only by the case system's pseudonymous `citizen_ref`;
a CPR number in any written form in a reference or free text is refused (domain §4.10; the
guard and its exact rules are in domain/cpr.py).

Identifiers and bounds (domain §3): a citizen_ref or facility code is canonical, ASCII
`[A-Z0-9._-]`, 1-64 characters, starting with a letter or digit, stored and compared
upper-cased (`canonical_reference`); years 2000-2099, effective dates within them; daily
rates 0.01-100 000.00; other amounts at most 10 000 000 000.00 in absolute value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain import municipalities
from domain.cpr import check_no_cpr, looks_like_cpr
from domain.errors import InvalidValue

__all__ = ["check_no_cpr", "looks_like_cpr"]

ØRE = Decimal("0.01")
ZERO = Decimal("0.00")
NORDDJURS = "707"
"""The municipality that runs the facilities; any other paying municipality is a sold place."""

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A citizen_ref or a facility code as a client may send it: 1-64 ASCII letters, digits and
`. _ -`, starting with a letter or digit (any case: it is stored upper-cased)."""
_REFERENCE = re.compile(REFERENCE_PATTERN)
CANONICAL_REFERENCE_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,63}$"
"""A reference as the ledger stores and compares it: `REFERENCE_PATTERN`, upper-cased."""
FIRST_YEAR, LAST_YEAR = 2000, 2099
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
MAX_DAILY_RATE = Decimal("100000.00")
"""Daily rates (levels, special tariffs, revisions) and the hourly rate: 0.01 to this."""
MAX_AMOUNT = Decimal("10000000000.00")
"""Frame lines, baselines and actual costs: at most this in absolute value."""
MAX_HOURS_PER_DAY = Decimal(24)


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


def canonical_reference(text: object, field: str) -> str:
    """A citizen_ref or facility code in its canonical form: upper-cased ASCII `[A-Z0-9._-]`,
    1-64 characters, starting with a letter or digit, and no CPR number. The one gate every
    entry (API body and path, import, UI) passes, so `bor-0002` and `BOR-0002` are one
    citizen; a character a URL path cannot carry as itself (`/`, `:`, a space, anything not
    ASCII) is refused rather than stored where no route could reach it."""
    if not isinstance(text, str) or not text.isascii() or not _REFERENCE.match(text):
        raise InvalidValue(
            "invalid_reference",
            "must be 1-64 ASCII letters, digits, '.', '_' and '-', starting with a letter or digit "
            "(stored upper-cased)",
            field,
        )
    check_no_cpr(text, field)
    return text.upper()


def check_reference(text: object, field: str) -> str:
    """The canonical form of a reference (see `canonical_reference`)."""
    return canonical_reference(text, field)


def check_amount(number: Decimal, field: str, *, allow_negative: bool = False) -> Decimal:
    """An amount of a frame line, baseline or accounts: ≥ 0 (unless `allow_negative`, the
    regulation line) and at most 10 000 000 000.00 kr. in absolute value."""
    if not allow_negative:
        check_not_negative(number, field)
    if abs(number) > MAX_AMOUNT:
        raise InvalidValue("amount_out_of_range",
                           f"must be at most {MAX_AMOUNT} kr. in absolute value, got {number}", field)
    return number


def check_daily_rate(number: Decimal, field: str) -> Decimal:
    """A daily (or hourly) rate: from 0.01 to 100 000.00 kr. (0 or less: `must_be_positive`)."""
    check_positive(number, field)
    if number > MAX_DAILY_RATE:
        raise InvalidValue("rate_out_of_range", f"must be from 0.01 to {MAX_DAILY_RATE} kr., got {number}", field)
    return number


def check_percent(number: Decimal, field: str, low: int, high: int = 100) -> Decimal:
    if not low <= number <= high:
        raise InvalidValue("percent_out_of_range", f"must be from {low} to {high} %, got {number}", field)
    return number


def check_municipality(code: str, field: str = "paying_municipality") -> str:
    """One of the 98 codes of the municipality register, in ASCII digits (`municipalities.check`):
    `invalid_municipality` for a value that is not three ASCII digits, `unknown_municipality`
    for three digits no municipality has."""
    return municipalities.check(code, field)


def check_year(year: object, field: str = "year") -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidValue("invalid_year", f"must be a year from {FIRST_YEAR} to {LAST_YEAR}", field)
    return year


def check_effective_date(day: object, field: str = "effective_date") -> date:
    if not isinstance(day, date) or not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidValue("date_out_of_range", f"must be a date from {FIRST_DAY} to {LAST_DAY}", field)
    return day


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

    @classmethod
    def new(cls, event_id: str, effective_date: date, actor: str, reason: str | None = None,
            case_ref: str | None = None, *, date_of_a_stored_event: bool = False) -> "Meta":
        """The metadata of an event about to be decided: the effective date within the ledger's
        years, no CPR number in the reason, case_ref or actor, an actor. (Decoding a stored event
        builds `Meta` directly: what is stored is never judged again by later rules; so a
        retraction, which takes its target's date, may keep a date stored before the bounds.)"""
        if not date_of_a_stored_event:
            check_effective_date(effective_date)
        check_no_cpr(reason, "reason")
        check_no_cpr(case_ref, "case_ref")
        if not actor:
            raise InvalidValue("actor_required", "every event records its actor", "actor")
        check_no_cpr(actor, "actor")
        return cls(event_id, effective_date, actor, reason, case_ref)

    def require_reason(self) -> None:
        if not (self.reason and self.reason.strip()):
            raise InvalidValue("reason_required", "a reason is required for this event", "reason")
