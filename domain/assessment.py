"""The døgnskema (24-hour assessment) and its hours per day (domain §4.1).

An assessment is either a døgnskema, `entries: [{theme, slot, kind, minutes}]`, or, for data
migrated from the old model, `hours_per_day` alone. Hours per day = sum of minutes / 60,
kept exactly (rounded half-up to 2 decimals only to store and show it).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.errors import InvalidValue
from domain.values import ØRE, hours

THEMES = (
    "egenomsorg",
    "praktiske_opgaver",
    "samfundsliv",
    "kommunikation",
    "mobilitet",
    "relationer",
    "mentale_funktioner",
    "sundhedsforhold",
    "fysiske_funktioner",
    "sociale_forhold",
)
"""The VUM 2.0 themes."""
SLOTS = ("morning", "daytime", "evening", "night")
"""morning 06-10, daytime 10-16, evening 16-22, night 22-06."""
KINDS = ("direct", "indirect")
"""direct: time with the citizen (ATA); indirect: planning, documentation, coordination."""
MINUTES_PER_DAY = 24 * 60


def normalise_assessment(assessment: dict[str, Any], field: str = "assessment") -> dict[str, Any]:
    """Check an assessment and return it in its stored form (minutes as ints, hours as str)."""
    if not isinstance(assessment, dict):
        raise InvalidValue("invalid_assessment", "must be an object", field)
    has_entries = "entries" in assessment
    has_hours = "hours_per_day" in assessment
    if has_entries == has_hours:
        raise InvalidValue(
            "invalid_assessment",
            "give either a døgnskema as `entries` or `hours_per_day`, not both or neither",
            field,
        )
    if has_hours:
        value = hours(assessment["hours_per_day"], f"{field}.hours_per_day")
        if not Decimal(0) <= value <= 24:
            raise InvalidValue(
                "hours_out_of_range", "hours per day must be from 0 to 24", f"{field}.hours_per_day"
            )
        return {"hours_per_day": str(value)}
    entries = assessment["entries"]
    if not isinstance(entries, list) or not entries:
        raise InvalidValue("invalid_assessment", "entries must be a non-empty list", f"{field}.entries")
    normalised = []
    for i, item in enumerate(entries):
        where = f"{field}.entries[{i}]"
        if not isinstance(item, dict):
            raise InvalidValue("invalid_assessment", "must be an object", where)
        if item.get("theme") not in THEMES:
            raise InvalidValue("unknown_theme", f"theme must be one of {', '.join(THEMES)}", f"{where}.theme")
        if item.get("slot") not in SLOTS:
            raise InvalidValue("unknown_slot", f"slot must be one of {', '.join(SLOTS)}", f"{where}.slot")
        if item.get("kind") not in KINDS:
            raise InvalidValue("unknown_kind", "kind must be direct or indirect", f"{where}.kind")
        minutes = item.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= MINUTES_PER_DAY:
            raise InvalidValue("invalid_minutes", f"minutes must be a whole number from 1 to {MINUTES_PER_DAY}",
                               f"{where}.minutes")
        normalised.append(
            {"theme": item["theme"], "slot": item["slot"], "kind": item["kind"], "minutes": minutes}
        )
    total = sum(e["minutes"] for e in normalised)
    if total > MINUTES_PER_DAY:
        raise InvalidValue(
            "minutes_exceed_day", f"the døgnskema sums to {total} minutes, more than a day (1440)", f"{field}.entries"
        )
    return {"entries": normalised}


def minutes_per_day(assessment: dict[str, Any]) -> Decimal:
    """Exact minutes per day of a normalised assessment (the level is classified on these)."""
    if "hours_per_day" in assessment:
        return Decimal(assessment["hours_per_day"]) * 60
    return Decimal(sum(e["minutes"] for e in assessment["entries"]))


def hours_per_day(assessment: dict[str, Any]) -> Decimal:
    """Hours per day: sum of minutes / 60, shown with 2 decimals (half-up)."""
    return (minutes_per_day(assessment) / Decimal(60)).quantize(ØRE, rounding=ROUND_HALF_UP)
