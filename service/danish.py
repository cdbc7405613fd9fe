"""Danish names for the ledger's codes that the web UI and the spreadsheets both show, kept
once so that a page and a file say the same thing."""

from __future__ import annotations

MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
          "november", "december")
FACILITY_KINDS = {"botilbud": "Botilbud", "bofaellesskab": "Bofællesskab"}
"""A facility's kind (domain/facility.py KINDS) as a Danish reader names it."""


def facility_kind(kind: str | None) -> str | None:
    """'bofaellesskab' -> 'Bofællesskab' (an unknown kind as it is)."""
    return None if kind is None else FACILITY_KINDS.get(kind, kind)
THEMES = {"egenomsorg": "Egenomsorg", "praktiske_opgaver": "Praktiske opgaver", "samfundsliv": "Samfundsliv",
          "kommunikation": "Kommunikation", "mobilitet": "Mobilitet", "relationer": "Relationer",
          "mentale_funktioner": "Mentale funktioner", "sundhedsforhold": "Sundhedsforhold",
          "fysiske_funktioner": "Fysiske funktioner", "sociale_forhold": "Sociale forhold"}
"""The VUM 2.0 themes of a døgnskema (domain/assessment.py THEMES) as a Danish reader names them."""
SLOTS = {"morning": "Morgen (06-10)", "daytime": "Dag (10-16)", "evening": "Aften (16-22)", "night": "Nat (22-06)"}
KINDS = {"direct": "direkte", "indirect": "indirekte"}


COST_CATEGORIES = {
    "ledelse_administration": "Ledelse og administration",
    "bygninger_drift": "Bygninger og drift",
    "servicepersonale": "Servicepersonale",
    "nattevagt": "Nattevagt",
    "kompetenceudvikling": "Kompetenceudvikling",
    "tilsyn": "Tilsyn",
    "afskrivninger": "Afskrivninger",
    "sundhed_tvaergaaende": "Sundhed, tværgående",
    "moeder_netvaerk": "Møder og netværk",
    "amr_tr": "AMR og TR",
    "regulation": "Regulering",
    "other": "Andet",
}
"""A frame budget line's cost category (domain/facility.py COST_CATEGORIES) in Danish."""

FIELD_LABELS = {
    "code": "Tilbud",
    "name": "Navn",
    "kind": "Type",
    "area": "Område",
    "places": "Antal pladser",
    "effective_date": "Virkningsdato",
    "reason": "Begrundelse",
    "case_ref": "Sagsnummer",
    "year": "År",
    "budgeted_places": "Budgetterede pladser",
    "planned_occupancy_pct": "Planlagt belægning (%)",
    "lines": "Budgetlinjer",
    "lines.category": "Omkostningskategori",
    "lines.amount": "Beløb (kr.)",
    "actual_costs": "Faktiske udgifter (kr.)",
    "baseline_budget": "Udgangsbudget (kr.)",
    "phase_in_pct": "Indfasning (%)",
    "levels": "Niveauer",
    "level": "Niveau",
    "levels.level": "Niveau",
    "levels.min_hours": "Fra timer pr. døgn",
    "levels.max_hours": "Til timer pr. døgn",
    "levels.daily_rate": "Takst (kr. pr. døgn)",
    "special_tariffs": "Særtakster",
    "special_tariffs.code": "Særtakst",
    "special_tariffs.name": "Navn",
    "hourly_rate": "Timepris (kr.)",
    "runoff_months": "Udløbsmåneder efter fraflytning",
    "daily_rate": "Takst (kr. pr. døgn)",
    "citizen_ref": "Borgerreference",
    "facility": "Tilbud",
    "paying_municipality": "Betalingskommune",
    "assessment": "Vurdering",
    "assessment.hours_per_day": "Timer pr. døgn",
    "special_tariff": "Særtakst",
    "special_tariff.code": "Særtakst",
    "special_tariff.daily_rate": "Særtakst (kr. pr. døgn)",
    "event_id": "Hændelse",
    "register-facility:code": "Ny tilbudskode",
    "special-tariff:code": "Særtakst",
    "move-out:kind": "Fraflytningsårsag",
    "register-facility:kind": "Tilbudstype",
}
"""The Danish label of each field of the commands (service/commands/declarations.py), by its
name or its path in a nested field (`lines.amount`); `<command>:<field>` where one command
means something else by the name."""


def field_label(command: str, path: str) -> str:
    """The label of a field (`lines.0.amount` is `lines.amount`'s), the field's own name if none."""
    plain = ".".join(part for part in path.split(".") if not part.isdigit())
    return FIELD_LABELS.get(f"{command}:{plain}") or FIELD_LABELS.get(plain) or FIELD_LABELS.get(
        plain.rsplit(".", 1)[-1], plain)
