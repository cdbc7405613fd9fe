"""Danish presentation of the ledger's figures in the web UI.

Numbers as a Danish reader writes them: thousands separated by a dot, decimals by a comma
(1.234.567,89), rounded half up as the domain rounds; money with two decimals (øre) in
tables and as whole kroner on chart axes; dates as 23.11.2026; instants in Copenhagen
time. The API's money strings are parsed as `Decimal`, never as floats. Labels for the
domain's codes (roles, event types, move-out kinds) live here too, so every template says
the same thing; those a spreadsheet shows too (months, facility kinds) are `service.danish`'s.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from domain.municipalities import label as municipality
from service.danish import MONTHS, facility_kind

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_DANISH = str.maketrans({",": ".", ".": ","})

MONTHS_SHORT = tuple(m[:3] for m in MONTHS)
ROLES = {"admin": "administrator", "finance": "økonomi", "caseworker": "sagsbehandler", "auditor": "revisor",
         "buyer": "køberkommune"}
EVENT_TYPES = {
    "FacilityRegistered": "Tilbud oprettet",
    "CapacityChanged": "Pladsantal ændret",
    "FrameBudgetSet": "Rammebudget fastsat",
    "BaselineSet": "Baseline fastsat",
    "AnnualAccountsRecorded": "Årsregnskab registreret",
    "TariffSchedulePublished": "Takster offentliggjort",
    "TariffRateRevised": "Takst reguleret",
    "CitizenMovedIn": "Indflytning",
    "CitizenReassessed": "Revurdering",
    "SpecialTariffGranted": "Særtakst bevilget",
    "PayingMunicipalityChanged": "Ny betalingskommune",
    "CitizenMovedOut": "Fraflytning",
    "EntryRetracted": "Tilbagekaldelse",
}
MOVE_OUT_KINDS = {"moved": "fraflyttet", "deceased": "død", "transferred": "overflyttet"}


def number(value: Decimal | int | str | None, decimals: int = 0) -> str:
    """1234567.891 -> '1.234.567,89' (with decimals=2); None -> '–'. Rounded half up, the
    domain's rounding (domain/values.py `round_money`): 1234.50 as whole kroner is 1.235."""
    if value is None or value == "":
        return "–"
    amount = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{amount:,.{decimals}f}".translate(_DANISH)


def kroner(value: Decimal | int | str | None) -> str:
    """Money with øre: '1.234.567,89'."""
    return number(value, 2)


def whole_kroner(value: Decimal | int | str | None) -> str:
    """Money rounded to whole kroner with its unit: '1.234.568 kr.'."""
    return "–" if value is None else f"{number(value, 0)} kr."


def signed_kroner(value: Decimal | int | str | None) -> str:
    """A change of money with its sign: '+1.234,50' or '−1.234,50'."""
    if value is None:
        return "–"
    amount = Decimal(value)
    text = kroner(abs(amount))
    return f"+{text}" if amount > 0 else (f"−{text}" if amount < 0 else text)


def pct(value: Decimal | str | None) -> str:
    """A percentage with one decimal: '88,9 %'."""
    return "–" if value is None else f"{number(value, 1)} %"


def day(value: date | str | None) -> str:
    """'2026-03-10' -> '10.03.2026'."""
    if value is None or value == "":
        return "–"
    parsed = date.fromisoformat(value) if isinstance(value, str) else value
    return parsed.strftime("%d.%m.%Y")


def instant(value: datetime | str | None, seconds: bool = False) -> str:
    """An RFC 3339 instant in Copenhagen time: '23.11.2026 23:22' (with `seconds`: '23:22:05')."""
    if value is None:
        return "–"
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.astimezone(COPENHAGEN).strftime("%d.%m.%Y %H:%M" + (":%S" if seconds else ""))


def month_name(month: int | str | None) -> str:
    if month is None or month in ("", "all"):
        return "hele året"
    return MONTHS[int(month) - 1]


def event_type(name: str) -> str:
    return EVENT_TYPES.get(name, name)


def role(name: str) -> str:
    return ROLES.get(name, name)


FILTERS = {
    "number": number, "kroner": kroner, "whole_kroner": whole_kroner, "signed_kroner": signed_kroner, "pct": pct,
    "day": day, "instant": instant, "month_name": month_name, "event_type": event_type, "role": role,
    "move_out_kind": lambda kind: MOVE_OUT_KINDS.get(kind, kind or ""),
    "facility_kind": facility_kind, "municipality": municipality,
}
"""The template filters, by name."""
