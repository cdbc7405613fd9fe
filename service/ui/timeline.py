"""A citizen's events in words (the timeline page): what each event says, and for a retracted
event who retracted it, when and why. The events are the API's (GET /v1/citizens/{ref}), so
the page shows exactly what the ledger holds; nothing here changes a figure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.ui.formatting import MOVE_OUT_KINDS, day, event_type, facility_kind, kroner, municipality, number


def level_text(details: dict[str, Any]) -> str:
    hours = details.get("hours_per_day")
    hours_text = f" ({number(hours, 2)} timer/døgn)" if hours is not None else ""
    if details.get("special_tariff"):
        special = details["special_tariff"]
        code = special.get("code") if isinstance(special, dict) else special
        return f"særtakst {code}{hours_text}"
    if details.get("level") is not None:
        return f"niveau {details['level']}{hours_text}"
    return hours_text.strip(" ()")


def summary(event: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    """One line saying what the event records."""
    details, kind = event.get("details") or {}, event["type"]
    if kind == "CitizenMovedIn":
        return (f"Ind i {details.get('facility')}, betalingskommune {municipality(details.get('paying_municipality'))}, "
                f"{level_text(details)}")
    if kind == "CitizenReassessed":
        return f"Nyt døgnskema: {level_text(details)}"
    if kind == "SpecialTariffGranted":
        return f"Særtakst {details.get('code')}: {kroner(details.get('daily_rate'))} kr. pr. døgn"
    if kind == "PayingMunicipalityChanged":
        return f"Betalingskommune {municipality(details.get('paying_municipality'))}"
    if kind == "CitizenMovedOut":
        return f"Ud ({MOVE_OUT_KINDS.get(details.get('kind', ''), details.get('kind'))})"
    if kind == "EntryRetracted":
        target = by_id.get(details.get("retracted_event_id", ""))
        if target is None:
            return "Tilbagekalder en hændelse"
        return f"Tilbagekalder «{event_type(target['type'])}» med virkning {day(target['effective_date'])}"
    return facts_summary(kind, {**details, "year": details.get("year") or event.get("year")})


def facts_summary(kind: str, details: dict[str, Any]) -> str:
    """One line saying what a facility's or a tariff schedule's event records."""
    if kind == "FacilityRegistered":
        return f"{details.get('name')} ({facility_kind(details.get('kind'))}, {details.get('area')}), " \
               f"{details.get('places')} pladser"
    if kind == "CapacityChanged":
        return f"{details.get('places')} pladser"
    if kind == "FrameBudgetSet":
        total = sum((Decimal(str(line.get("amount", 0))) for line in details.get("lines") or []), Decimal(0))
        return (f"Ramme {details.get('year')}: {kroner(total)} kr., {details.get('budgeted_places')} pladser, "
                f"belægning {number(details.get('planned_occupancy_pct'), 2)} %")
    if kind == "BaselineSet":
        return (f"Udgangsbudget {details.get('year')}: {kroner(details.get('baseline_budget'))} kr., "
                f"indfasning {number(details.get('phase_in_pct'), 2)} %")
    if kind == "AnnualAccountsRecorded":
        return f"Regnskab {details.get('year')}: {kroner(details.get('actual_costs'))} kr. (året lukket)"
    if kind == "TariffSchedulePublished":
        return f"Takstblad {details.get('year') or ''}: timepris {kroner(details.get('hourly_rate'))} kr."
    if kind == "TariffRateRevised":
        return f"Niveau {details.get('level')}: {kroner(details.get('daily_rate'))} kr. pr. døgn"
    return ", ".join(f"{k}: {v}" for k, v in details.items() if not isinstance(v, (dict, list)))


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events in recording order, each with its summary."""
    by_id = {e["event_id"]: e for e in events}
    return [{**e, "summary": summary(e, by_id)} for e in sorted(events, key=lambda e: e["position"])]
