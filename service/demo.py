"""A demo municipality shaped like the source documents (../shared/seeds/): twelve facilities in
Grenaa, Auning, Ørum and Allingåbro with 154 places, about 45 of them sold to neighbouring
municipalities; tariff schedules 2025-2027 with 8 levels and 2 special tariffs; frame budgets
in the model's cost lines; two years of stays with reassessments, special tariffs, changes of
paying municipality and move-outs; retroactive corrections; 2025 closed with annual accounts;
2026 (the transition year) with baselines and a 50 % phase-in.

The same seed always gives the same municipality. It is loaded through the product's own
import path (`ledger import`), then a few corrections are made through the use cases.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterator

from service.commands.declarations import Reassess, Retract

FACILITIES = [
    ("GRE-STJERNEN", "Bostedet Stjernen", "botilbud", "Grenaa", 18),
    ("GRE-KYSTEN", "Kystvejen", "botilbud", "Grenaa", 16),
    ("GRE-HAVEN", "Bofællesskabet Haven", "bofaellesskab", "Grenaa", 10),
    ("GRE-MOELLEN", "Møllegården", "botilbud", "Grenaa", 14),
    ("AUN-ENGEN", "Engbo", "botilbud", "Auning", 15),
    ("AUN-SKOVEN", "Skovbrynet", "bofaellesskab", "Auning", 8),
    ("AUN-GAARDEN", "Auning Gård", "botilbud", "Auning", 12),
    ("OER-LINDEN", "Lindehuset", "botilbud", "Ørum", 14),
    ("OER-BAKKEN", "Bakkely", "bofaellesskab", "Ørum", 9),
    ("ALL-FJORDEN", "Fjordbo", "botilbud", "Allingåbro", 16),
    ("ALL-STATIONEN", "Stationsvej", "bofaellesskab", "Allingåbro", 10),
    ("ALL-AAEN", "Åbrinken", "botilbud", "Allingåbro", 12),
]
BUYERS = ["751", "730", "791", "710", "706"]  # Aarhus, Randers, Viborg, Favrskov, Syddjurs
SPANS = [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14), (14, 18)]
RATES = [Decimal(r) for r in ("620.00", "1290.00", "2050.00", "2780.00", "3480.00", "4190.00", "4900.00", "5720.00")]
HOURS = ["1.25", "2.5", "3.75", "4.5", "5.25", "6.5", "7.75", "8.5", "9.25", "10.5", "11.75", "12.5", "13.25",
         "15.5", "17"]
THEMES = ["egenomsorg", "praktiske_opgaver", "samfundsliv", "kommunikation", "mentale_funktioner",
          "sundhedsforhold"]
SLOTS = ["morning", "daytime", "evening", "night"]


def schedule(year: int) -> dict[str, Any]:
    factor = Decimal("1.03") ** (year - 2025)
    return {"command": "tariff-schedule", "year": year, "hourly_rate": str((Decimal("418.00") * factor).quantize(Decimal("0.01"))),
            "runoff_months": 1,
            "levels": [{"level": i + 1, "min_hours": str(lo), "max_hours": str(hi),
                        "daily_rate": str((rate * factor).quantize(Decimal("0.01")))}
                       for i, ((lo, hi), rate) in enumerate(zip(SPANS, RATES))],
            "special_tariffs": [{"code": "S1", "name": "Særtakst 1"}, {"code": "S2", "name": "Særtakst 2"}],
            "reason": f"Takster {year}, byrådets beslutning"}


def frame(code: str, places: int, year: int, rng: random.Random) -> dict[str, Any]:
    base = Decimal(places) * Decimal(rng.randint(330, 380)) * 1000 * Decimal("1.03") ** (year - 2025)
    shares = {"ledelse_administration": "0.22", "bygninger_drift": "0.18", "servicepersonale": "0.08",
              "nattevagt": "0.30", "kompetenceudvikling": "0.04", "tilsyn": "0.02", "afskrivninger": "0.06",
              "sundhed_tvaergaaende": "0.04", "moeder_netvaerk": "0.03", "amr_tr": "0.01", "other": "0.02"}
    lines = [{"category": c, "amount": str((base * Decimal(s)).quantize(Decimal("0.01")))} for c, s in shares.items()]
    return {"command": "frame-budget", "code": code, "year": year, "budgeted_places": places,
            "planned_occupancy_pct": "95", "lines": lines, "reason": f"Rammebudget {year}"}


def døgnskema(hours: str, rng: random.Random) -> dict[str, Any]:
    minutes = int(Decimal(hours) * 60)
    entries, left = [], minutes
    while left > 0:
        part = min(left, rng.choice([15, 30, 45, 60, 90]))
        entries.append({"theme": rng.choice(THEMES), "slot": rng.choice(SLOTS),
                        "kind": rng.choice(["direct", "direct", "indirect"]), "minutes": part})
        left -= part
    return {"entries": entries}


def commands(seed: int = 707) -> Iterator[dict[str, Any]]:
    """The demo municipality as import commands, in recording order."""
    rng = random.Random(seed)
    for code, name, kind, area, places in FACILITIES:
        yield {"command": "register-facility", "code": code, "name": name, "kind": kind, "area": area,
               "places": places, "effective_date": "2025-01-01"}
    for year in (2025, 2026, 2027):
        yield schedule(year)
    for year in (2025, 2026, 2027):
        for code, _, _, _, places in FACILITIES:
            yield frame(code, places, year, rng)
    yield {"command": "revision", "year": 2026, "level": 8, "daily_rate": "6050.00", "effective_date": "2026-07-01",
           "reason": "Ny overenskomst for nattevagter"}
    sold_left = 45
    number = 0
    for code, _, _, _, places in FACILITIES:
        for _ in range(places):
            number += 1
            ref = f"BOR-{number:04d}"
            payer = "707"
            if sold_left and rng.random() < 0.42:
                payer, sold_left = rng.choice(BUYERS), sold_left - 1
            move_in = date(2025, 1, 1) + timedelta(days=rng.randint(0, 120))
            hours = rng.choice(HOURS)
            body: dict[str, Any] = {"command": "move-in", "citizen_ref": ref, "facility": code,
                                    "effective_date": move_in.isoformat(), "paying_municipality": payer,
                                    "assessment": døgnskema(hours, rng), "case_ref": f"27.12.04-G01-{number}-25"}
            yield body
            day = move_in
            for _ in range(rng.randint(0, 3)):
                day += timedelta(days=rng.randint(60, 240))
                if day > date(2026, 11, 1):
                    break
                hours = rng.choice(HOURS + ["19"]) if rng.random() < 0.1 else rng.choice(HOURS)
                change: dict[str, Any] = {"command": "reassessment", "citizen_ref": ref,
                                          "effective_date": day.isoformat(), "assessment": døgnskema(hours, rng),
                                          "reason": "Revurdering efter VUM 2.0"}
                if hours == "19":
                    change["special_tariff"] = {"code": rng.choice(["S1", "S2"]),
                                                "daily_rate": f"{rng.randint(6500, 9000)}.00"}
                    change["reason"] = "Støttebehov ud over niveau 8: særtakst"
                yield change
            if payer != "707" and rng.random() < 0.1:
                day += timedelta(days=rng.randint(10, 60))
                if day < date(2026, 11, 1):
                    yield {"command": "paying-municipality", "citizen_ref": ref, "effective_date": day.isoformat(),
                           "paying_municipality": rng.choice(BUYERS), "reason": "Ny handlekommune"}
            if rng.random() < 0.18:
                out = day + timedelta(days=rng.randint(20, 200))
                if out < date(2026, 11, 15):
                    yield {"command": "move-out", "citizen_ref": ref, "effective_date": out.isoformat(),
                           "kind": rng.choice(["moved", "moved", "deceased", "transferred"])}
    for code, _, _, _, places in FACILITIES:
        yield {"command": "accounts", "code": code, "year": 2025,
               "actual_costs": f"{places * rng.randint(1380, 1520)}000.00", "reason": "Årsregnskab 2025"}
        yield {"command": "baseline", "code": code, "year": 2026, "baseline_budget": f"{places * 1400}000.00",
               "phase_in_pct": "50"}


def lines(seed: int = 707) -> list[str]:
    return [json.dumps(c, ensure_ascii=False) for c in commands(seed)]


def corrections(ledger: Any, actor: Any) -> int:
    """A few corrections, as finance and case workers make them: a wrong reassessment
    retracted and recorded again, and a late retroactive reassessment. Returns how many."""
    made = 0
    for ref in ("BOR-0003", "BOR-0040", "BOR-0101"):
        try:
            citizen = ledger.citizen(ref)
        except Exception:  # noqa: BLE001 - the seed may not have made this citizen
            continue
        stay = citizen.active_stays[-1]
        reassessments = [f for f in stay.active_facts() if f["type"] == "CitizenReassessed"]
        if reassessments:
            ledger.handle(Retract(event_id=reassessments[-1]["event_id"], reason="Forkert døgnskema registreret"),
                          actor)
            made += 1
        day = stay.move_in + timedelta(days=30)
        if stay.move_out is None or day <= stay.move_out:
            ledger.handle(Reassess(citizen_ref=ref, effective_date=day, assessment={"hours_per_day": "6.5"},
                                   reason="Sen revurdering med tilbagevirkende kraft"), actor)
            made += 1
    return made
