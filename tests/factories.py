"""Test data in one place: random references, the worked example's schedule, bodies."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from domain.values import Meta

SPANS = [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14), (14, 18)]
RATES_2026 = ["600.00", "1250.00", "2000.00", "2700.00", "3400.00", "4100.00", "4800.00", "5600.00"]


def ref(prefix: str = "C") -> str:
    """A fresh reference in its canonical (upper-cased) form, as the ledger stores it."""
    return f"{prefix}-{secrets.token_hex(4)}".upper()


def meta(day: date | str, reason: str | None = None, actor: str = "tester", case_ref: str | None = None) -> Meta:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return Meta(str(uuid.uuid4()), day, actor, reason, case_ref)


def levels(rates: list[str] = RATES_2026, factor: Decimal = Decimal(1)) -> list[dict[str, Any]]:
    return [
        {"level": i + 1, "min_hours": str(low), "max_hours": str(high),
         "daily_rate": str((Decimal(rate) * factor).quantize(Decimal("0.01")))}
        for i, ((low, high), rate) in enumerate(zip(SPANS, rates))
    ]


SPECIAL_TARIFFS = [{"code": "S1", "name": "Særtakst 1"}, {"code": "S2", "name": "Særtakst 2"}]


def schedule_body(factor: Decimal = Decimal(1), hourly_rate: str = "420.00") -> dict[str, Any]:
    return {"levels": levels(factor=factor), "special_tariffs": SPECIAL_TARIFFS, "hourly_rate": hourly_rate,
            "runoff_months": 1}


def facility_body(code: str | None = None, places: int = 10) -> dict[str, Any]:
    return {"code": code or ref("F"), "name": "Grenaa Bo", "kind": "botilbud", "area": "Grenaa", "places": places}


def frame_body() -> dict[str, Any]:
    return {
        "budgeted_places": 10, "planned_occupancy_pct": "100",
        "lines": [
            {"category": "ledelse_administration", "amount": "1200000.00"},
            {"category": "bygninger_drift", "amount": "800000.00"},
            {"category": "nattevagt", "amount": "1650000.00"},
        ],
        "reason": "Budget 2026",
    }


def move_in_body(facility: str, day: str = "2026-03-10", hours: str = "4.5", payer: str = "707", **extra: Any) -> dict:
    return {"facility": facility, "effective_date": day, "paying_municipality": payer,
            "assessment": {"hours_per_day": hours}, **extra}


def døgnskema(minutes: int) -> dict[str, Any]:
    """A døgnskema summing to `minutes`, spread over themes, slots and both kinds."""
    first = minutes // 2
    return {"entries": [
        {"theme": "egenomsorg", "slot": "morning", "kind": "direct", "minutes": first},
        {"theme": "praktiske_opgaver", "slot": "evening", "kind": "indirect", "minutes": minutes - first},
    ]}
