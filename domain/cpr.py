"""The one guard against CPR numbers (domain §4.10): used for every text the ledger stores.

A CPR number is DDMMYY-XXXX: a birth date and a four-digit serial. The guard refuses a text
that holds one in any written form, and nothing else:

1. Digits are normalised first: NFKC (full-width digits and punctuation become ASCII), then
   every Unicode decimal digit (Arabic-Indic `٠`-`٩`, Devanagari, ...) becomes its ASCII digit.
2. Canonical UUIDs (8-4-4-4-12 hexadecimal digits, e.g. an event id quoted in a reason) are
   set aside: their groups are hexadecimal, not a date and a serial. So are instants written
   with a date and a fraction of a second (`2026-12-06T11:28:02.164895`, a `recorded_at` the
   ledger answers): their minutes, seconds and microseconds are no DD, MM and YYXXXX.
3. The text is read as chains of digit groups joined by separators: whitespace (any Unicode
   space), `-`, `.`, `/`, `:`, `_`, every Unicode dash (category Pd), the minus sign, and
   invisible format characters (zero-width space, soft hyphen). Anything else (a letter, a
   comma, a plus) ends a chain.
4. Any run of consecutive groups of a chain that holds exactly ten digits is a candidate if
   it is split only where DDMMYY-XXXX can be split, after DD, DDMM or DDMMYY:
   `0101901234`, `010190-1234`, `01.01.90-1234`, `0101 90 1234`, `01-01-90-1234`. A run split
   anywhere else is not: `15-01-2024 10:30` (split after 8 digits), `+45 20 12 34 56`
   (after 8), a UUID's groups of 8-4-4-4-12. A longer run of digits is not either: eleven
   digits in a row are no CPR number.
5. A candidate is a CPR number when its DDMMYY is a date, with the century the serial gives
   it (python-stdnum's `stdnum.dk.cpr`: `290200-4xxx` is 2000-02-29, `290200-1xxx` no date).
   Ten digits whose first six are not a date (an account or a journal number) are not one.
   Whether the date is past or future does not matter: the guard does not read the clock.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError

from domain.errors import InvalidValue

_UUID = re.compile(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)
_INSTANT = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[.,][0-9]+")
_SEPARATORS = frozenset(" -./:_\u2212\u2796\ufe63\uff0d")
_DATE_CUTS = frozenset({2, 4, 6})
DIGITS = 10
_ASCII_DIGITS = "0123456789"


def normalise_digits(text: str) -> str:
    """The text with every Unicode decimal digit (after NFKC) written as an ASCII digit."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, None) is not None else ch
        for ch in text
    )


def _is_separator(ch: str) -> bool:
    return ch in _SEPARATORS or ch.isspace() or unicodedata.category(ch) in ("Pd", "Zs", "Cf")


def _chains(text: str) -> list[list[str]]:
    """The digit groups of the text, in chains of groups joined by separators."""
    chains: list[list[str]] = []
    groups: list[str] = []
    digits = ""
    for ch in text + "\x00":
        if "0" <= ch <= "9":
            digits += ch
            continue
        if digits:
            groups.append(digits)
            digits = ""
        if not _is_separator(ch):
            if groups:
                chains.append(groups)
            groups = []
    return chains


def _candidates(groups: list[str]) -> list[str]:
    found = []
    for first in range(len(groups)):
        digits, cuts = "", set()
        for group in groups[first:]:
            if digits:
                cuts.add(len(digits))
            digits += group
            if len(digits) >= DIGITS:
                break
        if len(digits) == DIGITS and cuts <= _DATE_CUTS:
            found.append(digits)
    return found


def _has_birth_date(candidate: str) -> bool:
    number = stdnum_cpr.compact(candidate)
    if len(number) != DIGITS or not number.isdigit():
        return False
    try:
        stdnum_cpr.get_birth_date(number)
    except ValidationError:
        return False
    return True


def looks_like_cpr(text: str) -> bool:
    """True when the text holds a CPR number in any written form (see the module's rules).
    ASCII text is its own normal form, so one with fewer than ten digits holds no candidate
    (rule 4) and is answered without reading it further; so is one with fewer than ten left
    once its UUIDs and instants are set aside."""
    if text.isascii() and (len(text) < DIGITS or sum(map(text.count, _ASCII_DIGITS)) < DIGITS):
        return False
    normalised = _INSTANT.sub("#", _UUID.sub("#", text if text.isascii() else normalise_digits(text)))
    if normalised.isascii() and sum(map(normalised.count, _ASCII_DIGITS)) < DIGITS:
        return False  # e.g. a UUID alone (an Idempotency-Key), set aside by rule 2
    return any(_has_birth_date(c) for groups in _chains(normalised) for c in _candidates(groups))


def check_no_cpr(text: str | None, field: str) -> None:
    """Refuse (422 `cpr_number_refused`) a text that holds a CPR number."""
    if text and looks_like_cpr(text):
        raise InvalidValue(
            "cpr_number_refused",
            "holds a value shaped like a CPR number; the ledger stores no CPR numbers "
            "(use the case system's pseudonymous reference)",
            field,
        )
